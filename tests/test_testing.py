"""Tests for fastbip.testing: planted data, assert_recovers, the check battery, strategies."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings

import fastbip
from fastbip.algorithms.cocluster import SVDKMeans
from fastbip.algorithms.dcsbm import DCSBM
from fastbip.spec import Spec, SpecError, planted_spec
from fastbip.testing import (
    CHECKS,
    assert_recovers,
    check_coclusterer,
    expected_oracle_ari,
    parametrize_with_checks,
    planted,
)
from fastbip.testing import checks as C
from fastbip.testing.asserts import fresh, set_n_clusters
from fastbip.testing.strategies import labelings, purchase_matrices, specs

# ----------------------------------------------------------------------------- planted


def test_planted_is_cached_by_normalised_arguments():
    a = planted(300, 100, snr=3)
    assert planted(300, 100, snr=3.0) is a
    assert planted(n_people=300, n_items=100, k_people=3, k_items=3, snr=3) is a
    assert planted(300, 100, snr=4) is not a
    assert planted(300, 100, snr=3, seed=1) is not a
    assert planted(300, 100, mixing=0.5) is not planted(300, 100, mixing=0.6)


def test_planted_arrays_are_read_only_and_usable():
    ds = planted(300, 100, 2, 2, mixing=0.2, features=True)
    arrays = [ds.purchases.data, ds.purchases.indices, ds.purchases.indptr]
    arrays += [ds.truth.omega, ds.truth.theta, ds.truth.people_labels, ds.people.columns["x"]]
    for arr in arrays:
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = arr[0]
    # fastbip's estimators, scores and oracle read read-only arrays
    for est in (DCSBM(2, 2, random_state=0), SVDKMeans(2, 2, random_state=0)):
        est.fit(ds.purchases)
        assert fastbip.score_labels(ds.truth.people_labels, est.row_labels_)["ari"] > 0.8
    assert expected_oracle_ari(ds)["people"] > 0.8


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"snr": 3, "mixing": 0.5}, ValueError, "either snr or mixing"),
        ({"n_people": 0}, ValueError, "n_people must be >= 1"),
        ({"n_people": 10.0}, TypeError, "n_people must be an integer"),
        ({"k_people": 20, "n_people": 10}, ValueError, "k_people must be between 1 and n_people"),
        ({"mixing": 1.5}, ValueError, "mixing must be in"),
        ({"snr": -1}, ValueError, "snr must be > 0"),
        ({"features": 1}, TypeError, "features must be True or False"),
        ({"snr": 1e6}, SpecError, "cannot be reached"),
    ],
)
def test_planted_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        planted(**kwargs)


def test_expected_oracle_ari_is_the_oracle_scored():
    ds = planted(300, 100, snr=4)
    got = expected_oracle_ari(ds)
    want = fastbip.score_labels(ds.truth.item_labels, fastbip.oracle_labels(ds, "items"))["ari"]
    assert got["items"] == want
    assert 0 < got["people"] < 1
    got["items"] = -1.0  # the cache hands out copies
    assert expected_oracle_ari(ds)["items"] == want


# ----------------------------------------------------------------------------- planted_spec


@pytest.mark.parametrize("target", [1.5, 3.0, 6.0, 12.0])
def test_planted_spec_snr_is_hit_within_one_percent(target):
    spec = planted_spec(1000, 300, 3, 3, snr=target, seed=2)
    assert 0 < spec.relation.mixing < 1
    assert fastbip.snr(fastbip.generate(spec).truth) == pytest.approx(target, rel=0.01)


def test_planted_spec_refuses_an_unreachable_snr_and_names_the_maximum():
    top = fastbip.snr(fastbip.generate(planted_spec(500, 200, 3, 3, mixing=0.0)).truth)
    with pytest.raises(SpecError, match="cannot be reached") as info:
        planted_spec(500, 200, 3, 3, snr=top * 1.05)
    stated = float(re.search(r"is ([0-9.e+]+);", str(info.value)).group(1))
    assert stated == pytest.approx(top, rel=1e-5)
    assert planted_spec(500, 200, 3, 3, snr=top).relation.mixing == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"snr": 2.0, "mixing": 0.1}, "either mixing or snr"),
        ({"snr": 0.0}, "snr must be a finite number > 0"),
        ({"snr": "3"}, "snr must be a number"),
        ({"snr": 1.0, "k_items": 1}, "single cluster"),
    ],
)
def test_planted_spec_snr_errors(kwargs, match):
    args = {"n_people": 100, "n_items": 50, "k_people": 3, "k_items": 3, **kwargs}
    with pytest.raises(SpecError, match=match):
        planted_spec(**args)


# ----------------------------------------------------------------------------- assert_recovers


class RandomLabels:
    """Not a scikit-learn estimator: random labels, whatever the data."""

    def __init__(self, n_row_clusters=None, n_col_clusters=None):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters

    def fit(self, M):
        rng = np.random.default_rng(0)
        self.row_labels_ = rng.integers(0, self.n_row_clusters, M.shape[0])
        self.column_labels_ = rng.integers(0, self.n_col_clusters, M.shape[1])
        return self


def test_assert_recovers_passes_on_dcsbm_and_configures_k():
    ds = planted(600, 200, 2, 2, snr=12)
    scores = assert_recovers(DCSBM(random_state=0), ds, at_least=0.9)  # K set to 2 x 2
    oracle = expected_oracle_ari(ds)
    assert set(scores) == {"people", "items"}
    assert all(scores[s] >= 0.9 * oracle[s] for s in scores)


class TruthTeller:
    """Returns given labels and records the K it was fitted with."""

    seen: list = []

    def __init__(self, labels, n_row_clusters=None, n_col_clusters=None):
        self.labels = labels
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters

    def fit(self, M):
        TruthTeller.seen.append((self.n_row_clusters, self.n_col_clusters))
        self.row_labels_, self.column_labels_ = self.labels
        return self


def test_assert_recovers_sets_an_unset_k_and_keeps_a_chosen_one():
    ds = planted(300, 100, 2, 3, snr=6)
    labels = (ds.truth.people_labels, ds.truth.item_labels)
    TruthTeller.seen.clear()
    assert assert_recovers(TruthTeller(labels), ds, at_least=1.0, of="truth") == {
        "people": 1.0,
        "items": 1.0,
    }
    assert_recovers(TruthTeller(labels, n_row_clusters=5), ds, at_least=1.0, of="truth")
    assert TruthTeller.seen == [(2, 3), (5, 3)]


def test_assert_recovers_keeps_a_k_the_user_chose():
    est = RandomLabels(n_row_clusters=7, n_col_clusters=5)
    ds = planted(300, 100, snr=6)
    with pytest.raises(AssertionError):
        assert_recovers(est, ds, at_least=0.01, of="truth")
    fitted = fresh(est)
    set_n_clusters(fitted, 3, 3, only_unset=True)
    assert (fitted.n_row_clusters, fitted.n_col_clusters) == (7, 5)
    assert est.n_row_clusters == 7 and not hasattr(est, "row_labels_")  # never fitted itself


def test_assert_recovers_fails_with_a_score_table():
    ds = planted(600, 200, snr=12)
    oracle = expected_oracle_ari(ds)
    with pytest.raises(AssertionError) as info:
        assert_recovers(RandomLabels(), ds, at_least=0.5, side="people")
    msg = str(info.value)
    assert re.search(r"side\s+ARI\s+oracle\s+reference\s+needed", msg)
    row = re.search(r"people\s+(-?[0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+FAIL", msg)
    ari, orc, ref, need = map(float, row.groups())
    assert abs(ari) < 0.05
    assert orc == pytest.approx(oracle["people"], abs=5e-4) and ref == orc
    assert need == pytest.approx(0.5 * oracle["people"], abs=1e-3)
    assert "items" not in msg.split("\n", 1)[1]  # only the side asked for
    assert "snr = 12" in msg and "600 people x 200 items" in msg


def test_assert_recovers_of_truth_uses_an_absolute_ari():
    ds = planted(600, 200, snr=3)  # hard: even the oracle is below 0.9
    with pytest.raises(AssertionError, match=r"of='truth'") as info:
        assert_recovers(SVDKMeans(random_state=0), ds, at_least=0.9, of="truth")
    assert re.search(r"people\s+[-0-9.]+\s+[0-9.]+\s+1\.000\s+0\.900\s+FAIL", str(info.value))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"at_least": 0}, ValueError, "at_least must be in"),
        ({"of": "oracle"}, ValueError, "of must be one of"),
        ({"side": "rows"}, ValueError, "side must be one of"),
    ],
)
def test_assert_recovers_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        assert_recovers(SVDKMeans(), planted(300, 100), **kwargs)


# ----------------------------------------------------------------------------- the battery


class ModifiesInput(SVDKMeans):
    def fit(self, M, y=None):
        if sp.issparse(M):
            M.data[:] = np.minimum(M.data, 1)  # "binarise" in place
        return super().fit(M)


class IgnoresRandomState(SVDKMeans):
    def fit(self, M, y=None):
        super().fit(M)
        rng = np.random.default_rng()  # fresh entropy: not random_state
        flip = rng.choice(M.shape[0], 5, replace=False)
        self.row_labels_[flip] = rng.integers(0, self.n_row_clusters, 5)
        return self


class OutOfRange(SVDKMeans):
    def fit(self, M, y=None):
        super().fit(M)
        self.column_labels_ = self.column_labels_ + 1  # 1..K
        return self


class BreaksOnCSC(SVDKMeans):
    def fit(self, M, y=None):
        if sp.issparse(M) and M.format == "csc":
            raise IndexError("index 0 is out of bounds")
        return super().fit(M)


class NotEquivariant(SVDKMeans):
    def fit(self, M, y=None):
        super().fit(M)
        self.row_labels_[: M.shape[0] // 4] = 0  # depends on the row order
        return self


class DividesByZero(SVDKMeans):
    def fit(self, M, y=None):
        if M.shape[0] == 1 or self.n_row_clusters == 1:
            return 1 / 0
        return super().fit(M)


class FloatLabels(SVDKMeans):
    def fit(self, M, y=None):
        super().fit(M)
        self.row_labels_ = self.row_labels_.astype(float)
        return self


@pytest.mark.parametrize(
    "est, check, match",
    [
        (ModifiesInput(), C.check_input_unchanged, "modified the CSR input's data"),
        (IgnoresRandomState(), C.check_random_state, "different row labels"),
        (OutOfRange(), C.check_labels_shape_dtype_range, r"expected labels in \[0, 3\)"),
        (OutOfRange(), C.check_unequal_k, r"in \[0, 2\)"),
        (BreaksOnCSC(), C.check_input_formats, "CSC input raises IndexError"),
        (NotEquivariant(), C.check_row_permutation, "permuting the rows changes the row"),
        (DividesByZero(), C.check_one_row_and_one_cluster, "crashes with ZeroDivisionError"),
        (FloatLabels(), C.check_labels_shape_dtype_range, "expected an integer dtype"),
        (RandomLabels(), C.check_recovery, "on an easy instance"),
        (RandomLabels(), C.check_empty_members, "found with ARI"),
    ],
    ids=lambda x: x.__name__ if callable(x) and not isinstance(x, str) else None,
)
def test_each_check_fails_on_an_estimator_built_to_break_it(est, check, match):
    with pytest.raises(AssertionError, match=match):
        check(est)


def test_check_coclusterer_names_each_failed_check():
    with pytest.raises(AssertionError) as info:
        check_coclusterer(NotEquivariant())
    msg = str(info.value)
    assert re.search(r"failed \d+ of 11 checks", msg)
    assert "check_row_permutation: permuting the rows" in msg
    assert "check_column_permutation" not in msg  # the columns are left alone
    check_coclusterer(SVDKMeans())  # the whole battery passes


@parametrize_with_checks([DCSBM(), SVDKMeans(n_init=2)])
def test_fastbip_estimators_pass_the_battery(estimator, check):
    check(estimator)


def test_parametrize_with_checks_ids():
    mark = parametrize_with_checks([SVDKMeans(n_init=2)])
    assert mark.args[0] == "estimator, check"
    assert [c for _, c in mark.args[1]] == list(CHECKS)
    assert mark.kwargs["ids"][0] == "SVDKMeans(n_init=2)-check_input_formats"


# ----------------------------------------------------------------------------- strategies

_FEW = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same examples on every run
    suppress_health_check=[HealthCheck.too_slow],
)


@_FEW
@given(specs(max_n=30, max_k=3))
def test_specs_are_valid_and_generate(spec):
    assert isinstance(spec, Spec)
    assert 1 <= spec.people.k <= 3 and spec.people.k <= spec.people.n <= 30
    assert 0.0 <= spec.relation.mixing <= 1.0
    ds = fastbip.generate(spec)
    assert ds.purchases.shape == (spec.people.n, spec.items.n)
    assert ds.truth.people_labels.max() < spec.people.k


@_FEW
@given(purchase_matrices(max_rows=12, max_cols=9))
def test_purchase_matrices_are_canonical_counts(M):
    assert sp.issparse(M) and M.format == "csr" and M.has_canonical_format
    assert 1 <= M.shape[0] <= 12 and 1 <= M.shape[1] <= 9
    assert M.dtype == np.int64 and M.nnz >= 1 and (M.data > 0).all()


@_FEW
@given(purchase_matrices(max_rows=8, max_cols=8, empty=False))
def test_purchase_matrices_without_empty_members(M):
    assert (np.diff(M.indptr) > 0).all()
    assert (np.bincount(M.indices, minlength=M.shape[1]) > 0).all()


@_FEW
@given(labelings(20, 4, all_used=True), labelings(15, 3, unassigned=True))
def test_labelings_are_valid(full, partial):
    assert full.shape == (20,) and full.dtype == np.int64
    assert set(full.tolist()) == {0, 1, 2, 3}
    assert partial.shape == (15,) and partial.min() >= -1 and partial.max() <= 2
