"""Scores against scikit-learn, alignment, relation recovery, bicluster consensus, oracle."""

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from _memory import CAN_MEASURE, peak_during
from _planted import dense_planted as planted
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from fastbip import _small
from fastbip.metrics import (
    adjusted_mutual_info,
    adjusted_rand,
    align,
    consensus_score,
    contingency,
    normalized_mutual_info,
    relation_recovery,
    score_labels,
)


def noisy(rng, true, k_found, keep):
    """Found labels: the truth for a share `keep`, random (including -1) otherwise."""
    f = rng.integers(-1, k_found, true.size)
    return np.where(rng.random(true.size) < keep, true % k_found, f)


def sklearn_scores(t, f, average_method="arithmetic"):
    return {
        "ari": skm.adjusted_rand_score(t, f),
        "ami": skm.adjusted_mutual_info_score(t, f, average_method=average_method),
        "nmi": skm.normalized_mutual_info_score(t, f, average_method=average_method),
    }


@pytest.mark.parametrize(
    ("n", "kt", "kf", "keep"),
    [
        (10, 2, 3, 0.5),
        (200, 4, 4, 0.7),
        (3000, 7, 12, 0.3),
        (20000, 20, 15, 0.5),
        (500, 5, 5, 1.0),
        (400, 3, 300, 0.0),
    ],
)
@pytest.mark.parametrize("average_method", ["arithmetic", "geometric", "min", "max"])
def test_scores_equal_sklearn(n, kt, kf, keep, average_method):
    rng = np.random.default_rng(n + kf)
    t = rng.integers(0, kt, n)
    f = noisy(rng, t, kf, keep)
    got = score_labels(t, f, average_method=average_method)
    ref = sklearn_scores(t, f, average_method)
    for key in got:
        assert abs(got[key] - ref[key]) <= 1e-12, (key, got[key], ref[key])


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    kt=st.integers(1, 6),
    kf=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_scores_equal_sklearn(n, kt, kf, seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, kt, n)
    f = rng.integers(-1, kf, n)
    got = score_labels(t, f)
    ref = sklearn_scores(t, f)
    for key in got:
        assert abs(got[key] - ref[key]) <= 1e-12, (key, got[key], ref[key])


def test_special_cases_equal_sklearn():
    cases = [
        ([0, 0, 0], [1, 1, 1]),  # one cluster each: perfect
        ([0, 0, 1, 1], [0, 0, 0, 0]),  # one found cluster
        ([0, 1, 2, 3], [0, 0, 0, 0]),
        ([0, 0, 1, 1], [1, 1, 0, 0]),  # relabelled perfect
        ([0, 0, 1, 1], [0, 1, 0, 1]),  # ARI -0.5
        ([5, 5, 9, 9, 9], [-1, -1, 3, 3, 3]),  # -1 in found is one cluster
        ([7], [2]),
    ]
    for t, f in cases:
        got = score_labels(t, f)
        ref = sklearn_scores(t, f)
        for key in got:
            assert abs(got[key] - ref[key]) <= 1e-12, (t, f, key, got[key], ref[key])
    assert adjusted_rand([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)


def test_unassigned_rule():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 4, 500)
    f = noisy(rng, t, 4, 0.6)
    # true -1: those samples are left out
    t2 = t.copy()
    t2[:50] = -1
    got = score_labels(t2, f)
    ref = sklearn_scores(t[50:], f[50:])
    for key in got:
        assert abs(got[key] - ref[key]) <= 1e-12
    # found -1 is one extra cluster: leaving samples unassigned lowers the score
    f_perfect = t.copy()
    f_unassigned = t.copy()
    f_unassigned[:100] = -1
    assert score_labels(t, f_perfect)["ari"] == 1.0
    assert score_labels(t, f_unassigned)["ari"] < 0.9
    assert adjusted_rand(t, f_unassigned) == pytest.approx(
        skm.adjusted_rand_score(t, f_unassigned), abs=1e-12
    )
    assert normalized_mutual_info(t, f) == pytest.approx(
        skm.normalized_mutual_info_score(t, f), abs=1e-12
    )
    assert adjusted_mutual_info(t, f) == pytest.approx(
        skm.adjusted_mutual_info_score(t, f), abs=1e-12
    )


def test_large_labels_take_the_sparse_path():
    # label values far beyond the sample size: compressed with np.unique, sparse table
    rng = np.random.default_rng(2)
    t = rng.integers(0, 5, 2000) * 10**9
    f = rng.integers(0, 1500, 2000) * 7919
    got = score_labels(t, f)
    ref = sklearn_scores(t, f)
    for key in got:
        assert abs(got[key] - ref[key]) <= 1e-12


@pytest.mark.slow
def test_ami_at_a_million_equals_sklearn():
    rng = np.random.default_rng(3)
    n = 1_000_000
    t = rng.integers(0, 10, n)
    f = noisy(rng, t, 8, 0.2)
    assert adjusted_mutual_info(t, f) == pytest.approx(
        skm.adjusted_mutual_info_score(t, f), abs=1e-12
    )


def test_contingency_table():
    t = np.array([0, 0, 1, 2, 2, 2, -1, 1])
    f = np.array([1, 1, 0, 0, 2, -1, 0, 3])
    C = contingency(t, f)
    assert sp.issparse(C) and C.shape == (3, 4) and C.dtype == np.int64
    expect = np.zeros((3, 4), dtype=np.int64)
    for a, b in zip(t, f, strict=True):
        if a >= 0 and b >= 0:
            expect[a, b] += 1
    np.testing.assert_array_equal(C.toarray(), expect)
    big = contingency(np.array([0, 10**7]), np.array([3, 10**6]))
    assert big.shape == (10**7 + 1, 10**6 + 1) and big.nnz == 2


def test_align_permutation_and_unequal_k():
    rng = np.random.default_rng(4)
    t = rng.integers(0, 4, 400)
    perm = np.array([2, 0, 3, 1])
    mapping = align(t, perm[t])
    np.testing.assert_array_equal(mapping[perm[t]], t)
    # more found clusters: one true cluster split in two, the extra one gets label 4
    f = t.copy()
    f[(t == 1) & (rng.random(400) < 0.3)] = 4
    mapping = align(t, f)
    assert sorted(mapping.tolist()) == [0, 1, 2, 3, 4]
    assert mapping[4] == 4 and mapping[1] == 1
    # fewer found clusters: every found cluster matched to a distinct true one
    g = np.minimum(t, 1)
    mapping = align(t, g)
    assert mapping.shape == (2,) and len(set(mapping.tolist())) == 2
    assert mapping[0] == 0


def test_relation_recovery():
    rng = np.random.default_rng(5)
    omega = np.array([[3000.0, 300, 100], [200, 2500, 400]])
    ds = planted(rng, 300, 200, omega)
    a, b = ds.truth.people_labels, ds.truth.item_labels
    M = ds.purchases
    perfect = relation_recovery(ds.truth, M, a, b)
    # only Poisson noise separates the true-label counts from omega
    assert 0.97 < perfect <= 1.0
    # relabelled clusters are aligned back: same score
    assert relation_recovery(ds.truth, M, np.array([1, 0])[a], np.array([2, 0, 1])[b]) == (
        pytest.approx(perfect, abs=1e-12)
    )
    # random labels recover the block marginals only
    rand = relation_recovery(ds.truth, M, rng.integers(0, 2, 300), rng.integers(0, 3, 200))
    assert rand < perfect - 0.2
    # extra found clusters take mass where omega has none: lower score, still defined
    split = b.copy()
    split[(b == 0) & (rng.random(200) < 0.5)] = 3
    assert relation_recovery(ds.truth, M, a, split) < perfect - 0.05
    # by hand: 1 - TV of the normalised tables
    C = np.zeros((2, 3))
    np.add.at(C, (a[M.tocoo().row], b[M.tocoo().col]), M.tocoo().data)
    by_hand = 1 - 0.5 * np.abs(omega / omega.sum() - C / C.sum()).sum()
    assert perfect == pytest.approx(by_hand, abs=1e-12)


def onehot_rows(labels, k):
    return np.arange(k)[:, None] == np.asarray(labels)[None, :]


def test_consensus_score_equals_sklearn():
    rng = np.random.default_rng(6)
    for k_true, k_found, keep in [(3, 3, 0.7), (4, 2, 0.5), (2, 5, 0.9), (3, 3, 1.0)]:
        tr, tc = rng.integers(0, k_true, 80), rng.integers(0, k_true, 60)
        fr = np.where(rng.random(80) < keep, tr % k_found, rng.integers(0, k_found, 80))
        fc = np.where(rng.random(60) < keep, tc % k_found, rng.integers(0, k_found, 60))
        a = (onehot_rows(tr, k_true), onehot_rows(tc, k_true))
        b = (onehot_rows(fr, k_found), onehot_rows(fc, k_found))
        ref = skm.consensus_score(a, b)
        assert consensus_score(tr, tc, fr, fc) == pytest.approx(ref, abs=1e-12)
        assert consensus_score(*a, *b) == pytest.approx(ref, abs=1e-12)
    assert consensus_score([0, 1, 1], [1, 0], [1, 0, 0], [0, 1]) == pytest.approx(1.0)


_DS = planted(np.random.default_rng(8), 20, 10, np.array([[50.0, 5], [5, 50]]))
_ZERO = SimpleNamespace(**{**vars(_DS.truth), "omega": np.zeros((2, 2))})


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: score_labels([0, 1], [0, 1, 1]),
            ValueError,
            "true and found must have the same length",
        ),
        (lambda: score_labels([0, 1], [0, -3]), ValueError, "found must be >= -1"),
        (lambda: score_labels([0.5, 1.0], [0, 1]), TypeError, "true must hold integer labels"),
        (lambda: score_labels([[0, 1]], [0, 1]), ValueError, "true must be a 1-D array"),
        (lambda: score_labels([-1, -1], [0, 1]), ValueError, "no sample has a true label"),
        (
            lambda: score_labels([0, 1], [0, 1], average_method="median"),
            ValueError,
            "average_method must be one of",
        ),
        (
            lambda: consensus_score(
                np.ones((2, 3), bool), np.ones((3, 3), bool), [0, 0, 1], [0, 1, 1]
            ),
            ValueError,
            "row and column indicators must describe the same",
        ),
        (
            lambda: consensus_score([0, 1], [0, 1], [0, 1, 1], [0, 1]),
            ValueError,
            "must cover the same rows and columns",
        ),
        (
            lambda: relation_recovery(
                object(), _DS.purchases, np.zeros(20, int), np.zeros(10, int)
            ),
            TypeError,
            "truth must have an 'omega' attribute",
        ),
        (
            lambda: relation_recovery(_ZERO, _DS.purchases, np.zeros(20, int), np.zeros(10, int)),
            ValueError,
            "truth.omega must be a non-zero K_A x K_B matrix",
        ),
        (
            lambda: relation_recovery(_DS.truth, _DS.purchases, np.zeros(20, int), np.full(10, -2)),
            ValueError,
            r"column_labels must be >= -1",
        ),
        (
            lambda: consensus_score([0, 1], np.ones((2, 2), bool), [0, 1], [0, 1]),
            ValueError,
            "true: give either two label vectors or two 2-D",
        ),
    ],
)
def test_metric_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_relation_recovery_takes_a_dataset_and_the_old_keyword():
    a, b = _DS.truth.people_labels, _DS.truth.item_labels
    want = relation_recovery(_DS.truth, _DS.purchases, a, b)
    assert relation_recovery(_DS, _DS.purchases, a, b) == want
    assert relation_recovery(_DS.truth, _DS.purchases, a, column_labels=b) == want
    with pytest.warns(DeprecationWarning, match="col_labels= is deprecated; use column_labels="):
        assert relation_recovery(_DS.truth, _DS.purchases, a, col_labels=b) == want


@pytest.mark.skipif(not CAN_MEASURE, reason="needs Linux's peak-RSS reset")
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_scores_need_no_memory_beyond_the_labels(dtype):
    """ARI, AMI and NMI of 10^7 labels (K = 10, some found -1): the peak resident memory
    during score_labels, above that before it, stays under a tenth of one label array (the
    contingency table is K x K; no sort, no inverse, no int64 copy of int32 labels); the
    scores equal scikit-learn's on a slice."""
    rng = np.random.default_rng(9)
    n = 10**7
    true = rng.integers(0, 10, n).astype(dtype)
    found = np.where(rng.random(n) < 0.5, true, rng.integers(-1, 10, n).astype(dtype))
    # compiled outside the figure: a warm-up above _small.SMALL takes the kernels' path
    warm = _small.SMALL + 1
    score_labels(true[:warm], found[:warm])
    got, peak = peak_during(lambda: score_labels(true, found))
    assert peak < 0.1 * true.nbytes, (peak, true.nbytes)
    part = score_labels(true[:20_000], found[:20_000])
    assert abs(part["ari"] - skm.adjusted_rand_score(true[:20_000], found[:20_000])) < 1e-12
    assert 0.2 < got["ari"] < 0.4  # half the labels kept, the rest uniform


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_sparse_table_with_unassigned_equals_sklearn(dtype):
    """Many clusters on both sides (a table too large to be dense), -1 on both sides: the
    scores equal scikit-learn's under the module's rule, the contingency table the dense
    count."""
    rng = np.random.default_rng(4)
    n = 3000
    t = rng.integers(-1, 1400, n).astype(dtype)
    f = np.where(rng.random(n) < 0.5, t, rng.integers(-1, 1300, n)).astype(dtype)
    keep = t >= 0
    ref = sklearn_scores(t[keep], f[keep])
    got = score_labels(t, f)
    for key in got:
        assert abs(got[key] - ref[key]) <= 1e-12, key
    C = contingency(t, f)
    expect = np.zeros(C.shape, dtype=np.int64)
    both = keep & (f >= 0)
    np.add.at(expect, (t[both], f[both]), 1)
    np.testing.assert_array_equal(C.toarray(), expect)


def test_huge_label_values_do_not_overflow_the_keys():
    rng = np.random.default_rng(5)
    t = rng.integers(0, 1200, 2500) * 10**12
    f = np.where(rng.random(2500) < 0.2, -1, rng.integers(0, 1100, 2500) * 10**10)
    got = score_labels(t, f)
    ref = sklearn_scores(t, f)
    for key in got:
        assert abs(got[key] - ref[key]) <= 1e-12, key


def test_nmi_chance_is_the_mean_nmi_of_random_labels_with_those_sizes():
    """The expected NMI under the permutation model (EMI over the normaliser) against the
    mean NMI of 300 seeded permutations of the found labels: within 4 standard errors; it
    grows with the number of clusters (NMI is not adjusted for chance), 0 for one cluster."""
    rng = np.random.default_rng(3)
    t = rng.integers(0, 4, 400)
    for k in (3, 12):
        f = rng.integers(0, k, 400)
        want = score_labels(t, f, chance=True)["nmi_chance"]
        sims = [score_labels(t, rng.permutation(f))["nmi"] for _ in range(300)]
        assert abs(np.mean(sims) - want) < 4 * np.std(sims) / np.sqrt(300) + 1e-12
        assert "nmi_chance" not in score_labels(t, f)
    small = score_labels(t, rng.integers(0, 3, 400), chance=True)["nmi_chance"]
    large = score_labels(t, rng.integers(0, 40, 400), chance=True)["nmi_chance"]
    assert 0 < small < large
    assert score_labels(t, np.zeros(400, dtype=int), chance=True)["nmi_chance"] == 0.0
