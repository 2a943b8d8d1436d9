"""A catalogue of bad inputs across specs, matrices, labels, truths, events and numerical edges.

Each row of ``BAD`` is (id, call, exception, pattern): the call must raise that exception
with a message matching the pattern, which names the input. ``WARN`` lists inputs that are
legitimate but meaningless: they must warn, naming the input. ``EDGES`` are numerical edges
that must give the right answer (compared with a plain numpy computation). The property
tests at the end feed random malformed CSR structures to every public function that takes a
purchase matrix: every outcome is a result or a ValueError/TypeError naming the input.
"""

from __future__ import annotations

import copy
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

import fastbip
from fastbip import algorithms
from fastbip.generate import Events
from fastbip.spec import Spec, SpecError

# --------------------------------------------------------------------------- fixtures


def _matrix(n=30, m=20, seed=0):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(0.4, size=(n, m))
    return sp.csr_matrix(dense.astype(np.int64))


M = _matrix()
A_LAB = np.arange(30) % 3
B_LAB = np.arange(20) % 2
TRUTH = SimpleNamespace(
    omega=np.array([[5.0, 1.0], [1.0, 5.0], [2.0, 2.0]]),
    theta=np.full(30, 0.1),
    phi=np.full(20, 0.5),
    people_labels=A_LAB,
    item_labels=B_LAB,
)
SPEC = fastbip.default_spec(n_people=60, n_items=40).to_dict()


def _raw(indptr, indices, shape, data=None):
    """A CSR matrix around arrays as given (scipy checks none of them)."""
    out = sp.csr_matrix(shape)
    out.indptr = np.asarray(indptr, dtype=np.int32)
    out.indices = np.asarray(indices, dtype=np.int32)
    out.data = np.ones(out.indices.size) if data is None else np.asarray(data)
    return out


def _with(M0, **arrays):
    out = M0.copy()
    for k, v in arrays.items():
        setattr(out, k, np.asarray(v, dtype=getattr(out, k).dtype))
    return out


def _spec(path, value):
    """The test spec with one field replaced (``path`` like ``people.clusters.0.share``)."""
    d = copy.deepcopy(SPEC)
    *head, last = path.split(".")
    node = d
    for p in head:
        node = node[int(p)] if p.isdigit() else node[p]
    node[int(last) if last.isdigit() else last] = value
    return lambda: Spec.from_dict(d)


def _shares(*shares):
    d = copy.deepcopy(SPEC)
    for c, s in zip(d["people"]["clusters"], shares, strict=True):
        c["share"] = s
    return d


def _events(offsets, times):
    return Events(np.asarray(offsets), np.asarray(times, dtype=np.float64))


def _csc_bad():
    c = M.tocsc()
    c.indices = c.indices.copy()
    c.indices[3] = 10**6
    return c


def _coo_bad():
    c = M.tocoo()
    c.row = c.row.copy()
    c.row[0] = -4
    return c


NEG = _with(M, data=np.where(np.arange(M.nnz) == 2, -3, M.data))
NAN = _with(M.astype(np.float64), data=np.where(np.arange(M.nnz) == 1, np.nan, M.data))
INF = _with(M.astype(np.float64), data=np.where(np.arange(M.nnz) == 1, np.inf, M.data))
BAD_COL = _with(M, indices=np.where(np.arange(M.nnz) == 5, 999, M.indices))
NEG_COL = _with(M, indices=np.where(np.arange(M.nnz) == 5, -1, M.indices))
EV = _events(np.r_[0, np.cumsum(M.data)], np.linspace(0, 1, int(M.data.sum()), endpoint=False))

bc = fastbip.block_counts
eo = fastbip.estimate_omega
rr = fastbip.relation_recovery
bcw = fastbip.block_counts_windows


def _dcsbm(X, **kw):
    return algorithms.get("dcsbm", n_row_clusters=2, n_col_clusters=2, random_state=0, **kw).fit(X)


# --------------------------------------------------------------------------- the table

BAD = [
    # --- specs -----------------------------------------------------------------------------
    ("spec-share-1e308", lambda: Spec.from_dict(_shares(1e308, 1e308, 1, 1)), SpecError,
     r"people\.clusters\[\d\]\.share .*finite"),
    ("spec-share-negative", _spec("people.clusters.0.share", -1), SpecError,
     r"people\.clusters\[0\]\.share must be > 0"),
    ("spec-share-zero", _spec("people.clusters.1.share", 0), SpecError,
     r"people\.clusters\[1\]\.share must be > 0"),
    ("spec-share-nan", _spec("people.clusters.1.share", float("nan")), SpecError,
     r"people\.clusters\[1\]\.share"),
    ("spec-share-string", _spec("items.clusters.0.share", "half"), SpecError,
     r"items\.clusters\[0\]\.share"),
    ("spec-n-zero", _spec("people.n", 0), SpecError, r"people\.n must be >= 1"),
    ("spec-n-float", _spec("items.n", 2.5), SpecError, r"items\.n must be an integer"),
    ("spec-n-bool", _spec("items.n", True), SpecError, r"items\.n must be an integer"),
    ("spec-more-clusters-than-n", _spec("items.n", 2), SpecError,
     r"items\.clusters must number at most n = 2"),
    ("spec-unknown-key", _spec("people.colour", "red"), SpecError, r"people.*colour"),
    ("spec-mean-purchases-negative", _spec("relation.mean_purchases", -5), SpecError,
     r"relation\.mean_purchases must be > 0"),
    ("spec-mean-purchases-inf", _spec("relation.mean_purchases", float("inf")), SpecError,
     r"relation\.mean_purchases"),
    ("spec-clusters-empty", _spec("people.clusters", []), SpecError, r"people\.clusters"),
    ("spec-people-not-table", _spec("people", 7), SpecError, r"people must be a table"),
    ("spec-huge-n", lambda: fastbip.generate(_spec("people.n", 10**12)()), MemoryError,
     r"people\.n = 1,000,000,000,000 .* GiB of memory .* this machine has"),
    ("spec-not-a-spec", lambda: fastbip.generate({"people": {}}), TypeError,
     r"spec must be a fastbip Spec"),
    # --- matrices --------------------------------------------------------------------------
    ("matrix-string", lambda: bc("M", A_LAB, B_LAB), TypeError, r"M must be a scipy.sparse"),
    ("matrix-3d", lambda: bc(np.zeros((2, 2, 2)), [0, 0], [0, 0]), ValueError, r"M must be 2-D"),
    ("matrix-complex", lambda: bc(M.astype(complex), A_LAB, B_LAB), TypeError,
     r"M must hold real numbers"),
    ("matrix-objects", lambda: bc(np.array([["a", "b"]], dtype=object), [0], [0, 0]),
     TypeError, r"M must hold numbers"),
    ("matrix-bad-column", lambda: bc(BAD_COL, A_LAB, B_LAB), ValueError,
     r"M is not a valid CSR matrix: column indices must be < n_items = 20; got indices\[5\]"),
    ("matrix-negative-column", lambda: bc(NEG_COL, A_LAB, B_LAB), ValueError,
     r"M is not a valid CSR matrix: column indices must be >= 0; got indices\[5\] = -1"),
    ("matrix-bad-column-unweighted", lambda: bc(BAD_COL, A_LAB, B_LAB, weighted=False),
     ValueError, r"M is not a valid CSR matrix: .* indices\[5\] = 999"),
    ("matrix-bad-column-unassigned-row",
     lambda: bc(BAD_COL, np.full(30, -1), B_LAB, 3, 2), ValueError,
     r"M is not a valid CSR matrix: .* indices\[5\] = 999"),
    ("matrix-bad-column-windows", lambda: bcw(BAD_COL, EV, A_LAB, B_LAB, [0, 0.5, 1]),
     ValueError, r"M is not a valid CSR matrix"),
    ("matrix-csc-bad-row", lambda: bc(_csc_bad(), A_LAB, B_LAB), ValueError,
     r"M is not a valid CSC matrix: row indices must be < n_people = 30"),
    ("matrix-coo-bad-row", lambda: bc(_coo_bad(), A_LAB, B_LAB), ValueError,
     r"M is not a valid COO matrix: row indices must be in \[0, 30\); got -4"),
    ("omega-nan", lambda: eo(NAN, A_LAB, B_LAB), ValueError, r"M must be finite"),
    ("omega-inf", lambda: eo(INF, A_LAB, B_LAB), ValueError, r"M must be finite"),
    ("omega-negative", lambda: eo(NEG, A_LAB, B_LAB), ValueError, r"M must be non-negative"),
    ("omega-empty-rows", lambda: eo(sp.csr_matrix((0, 4)), [], [0, 0, 1, 1]), ValueError,
     r"M must have at least one row and one column; got shape \(0, 4\)"),
    ("recovery-negative-purchases", lambda: rr(TRUTH, NEG, A_LAB, B_LAB), ValueError,
     r"M must be non-negative"),
    ("recovery-nan-purchases", lambda: rr(TRUTH, NAN, A_LAB, B_LAB), ValueError,
     r"M must be finite"),
    ("dcsbm-negative", lambda: _dcsbm(NEG), ValueError, r"M must be non-negative"),
    ("dcsbm-nan", lambda: _dcsbm(NAN), ValueError, r"M must be finite"),
    ("dcsbm-bad-column", lambda: _dcsbm(BAD_COL), ValueError, r"M is not a valid CSR matrix"),
    ("select-k-bad-column", lambda: fastbip.select_k(BAD_COL, [1, 2], [1]), ValueError,
     r"M is not a valid CSR matrix"),
    ("windows-not-csr", lambda: bcw(M.tocsc(), EV, A_LAB, B_LAB, [0, 1]), TypeError,
     r"M must be the scipy.sparse CSR matrix the events are aligned with"),
    # --- labels ----------------------------------------------------------------------------
    ("label-stray-1e9", lambda: bc(M, np.r_[A_LAB[:-1], 10**9], B_LAB), ValueError,
     r"row_labels holds a label 1000000000, .* Pass n_clusters"),
    ("label-above-given-k", lambda: bc(M, np.r_[A_LAB[:-1], 10**9], B_LAB, 3), ValueError,
     r"row_labels must be < n_clusters=3; got a label 1000000000"),
    ("label-column-above-k", lambda: bc(M, A_LAB, np.r_[B_LAB[:-1], 7], 3, 2), ValueError,
     r"column_labels must be < n_clusters=2; got a label 7"),
    ("label-below-minus-1", lambda: bc(M, np.r_[A_LAB[:-1], -2], B_LAB), ValueError,
     r"row_labels must be >= -1"),
    ("label-fraction", lambda: bc(M, A_LAB + 0.5, B_LAB), TypeError,
     r"row_labels must hold integer labels"),
    ("label-nan", lambda: bc(M, np.r_[A_LAB[:-1], np.nan], B_LAB), TypeError,
     r"row_labels must hold integer labels"),
    ("label-strings", lambda: bc(M, A_LAB.astype(str), B_LAB), TypeError,
     r"row_labels must hold integer labels"),
    ("label-wrong-length", lambda: bc(M, A_LAB[:-1], B_LAB), ValueError,
     r"row_labels must have one label per row of M \(n_rows=30\); got 29"),
    ("label-2d", lambda: bc(M, np.zeros((30, 2)), B_LAB), ValueError,
     r"row_labels must be a 1-D array .* soft_block_counts"),
    ("label-k-negative", lambda: bc(M, A_LAB, B_LAB, -1), ValueError,
     r"n_clusters for row_labels must be >= 0"),
    ("label-k-float", lambda: bc(M, A_LAB, B_LAB, 2.5), TypeError,
     r"n_clusters for row_labels must be an integer"),
    ("label-k-2-32", lambda: bc(M, A_LAB, B_LAB, 2**32), ValueError,
     r"n_clusters for row_labels must be < 2\*\*32 - 1"),
    ("encode-k-mismatch", lambda: bc(M, fastbip.encode_labels(A_LAB, 3), B_LAB, 4), ValueError,
     r"row_labels was encoded with n_clusters=3"),
    ("omega-label-stray", lambda: eo(M, A_LAB, np.r_[B_LAB[:-1], 10**7]), ValueError,
     r"column_labels holds a label 10000000"),
    ("recovery-label-length", lambda: rr(TRUTH, M, A_LAB[:5], B_LAB), ValueError,
     r"row_labels|true and found"),
    ("label-k-explicit-huge", lambda: bc(M, A_LAB, B_LAB, 10**9, 10**4), ValueError,
     r"n_row_clusters=1000000000 x n_col_clusters=10000 .* GiB"),
    ("soft-bad-column", lambda: fastbip.soft_block_counts(BAD_COL, A_LAB, B_LAB), ValueError,
     r"M is not a valid CSR matrix"),
    ("soft-memberships-nan", lambda: fastbip.soft_block_counts(M, np.full((30, 2), np.nan),
                                                               B_LAB), ValueError,
     r"row_memberships must hold finite memberships"),
    # --- block tables ----------------------------------------------------------------------
    ("stats-negative", lambda: fastbip.block_stats(np.array([[1, -2], [3, 4]])), ValueError,
     r"C must hold finite, non-negative counts"),
    ("stats-nan", lambda: fastbip.block_stats(np.array([[1, np.nan], [3, 4]])), ValueError,
     r"C must hold finite, non-negative counts"),
    ("stats-1d", lambda: fastbip.block_stats(np.ones(3)), ValueError,
     r"C must be a 2-D table of block counts"),
    ("stats-strings", lambda: fastbip.block_stats(np.array([["a"]])), TypeError,
     r"C must hold numbers"),
    # --- truth -----------------------------------------------------------------------------
    ("truth-negative-omega",
     lambda: rr(SimpleNamespace(**{**vars(TRUTH), "omega": -TRUTH.omega}), M, A_LAB, B_LAB),
     ValueError, r"truth\.omega must hold finite, non-negative"),
    ("truth-nan-omega",
     lambda: rr(SimpleNamespace(**{**vars(TRUTH), "omega": TRUTH.omega * np.nan}), M, A_LAB,
                B_LAB), ValueError, r"truth\.omega must hold finite"),
    ("truth-zero-omega",
     lambda: rr(SimpleNamespace(**{**vars(TRUTH), "omega": 0 * TRUTH.omega}), M, A_LAB, B_LAB),
     ValueError, r"truth\.omega must be a non-zero"),
    ("truth-1d-omega",
     lambda: rr(SimpleNamespace(**{**vars(TRUTH), "omega": np.ones(3)}), M, A_LAB, B_LAB),
     ValueError, r"truth\.omega must be a K_A x K_B matrix"),
    ("truth-label-above-k",
     lambda: rr(SimpleNamespace(**{**vars(TRUTH), "people_labels": A_LAB + 1}), M, A_LAB, B_LAB),
     ValueError, r"truth\.people_labels must be < n_clusters=3"),
    ("truth-missing-phi",
     lambda: rr(SimpleNamespace(omega=TRUTH.omega, theta=TRUTH.theta, people_labels=A_LAB,
                                item_labels=B_LAB), M, A_LAB, B_LAB),
     TypeError, r"truth must have an 'phi' attribute"),
    ("truth-theta-length",
     lambda: rr(SimpleNamespace(**{**vars(TRUTH), "theta": np.ones(4)}), M, A_LAB, B_LAB),
     ValueError, r"truth\.theta and truth\.people_labels must be 1-D of the same length"),
    ("truth-negative-phi",
     lambda: rr(SimpleNamespace(**{**vars(TRUTH), "phi": -TRUTH.phi}), M, A_LAB, B_LAB),
     ValueError, r"truth\.phi must be finite and >= 0"),
    # --- events ----------------------------------------------------------------------------
    ("events-past-times", lambda: _events(np.r_[0, np.cumsum(M.data)] + 0, EV.times[:5])
     .window(M, 0, 1), ValueError,
     r"events\.offsets must start at 0, never decrease and end at len\(times\) = 5; got"),
    ("events-offsets-1e12",
     lambda: _events(np.r_[0, np.full(M.nnz, 10**12)], EV.times).window(M, 0, 1), ValueError,
     r"events\.offsets must .*end at len\(times\) = \d+; got events\.offsets\[\d+\] = \d+"),
    ("events-decreasing",
     lambda: _events(np.r_[0, 5, 3, np.cumsum(M.data)[2:]], EV.times).window(M, 0, 1),
     ValueError, r"events\.offsets must .*never decrease.*; got events\.offsets\[2\] = 3 <"),
    ("events-not-from-0", lambda: _events(np.r_[1, np.cumsum(M.data)], EV.times)
     .window(M, 0, 1), ValueError, r"events\.offsets must start at 0"),
    ("events-wrong-length", lambda: EV.window(M[:10], 0, 1), ValueError,
     r"M has \d+ entries but the events describe"),
    ("events-float-offsets", lambda: _events(EV.offsets.astype(float), EV.times)
     .window(M, 0, 1), TypeError, r"events\.offsets must hold integers"),
    ("events-nan-start", lambda: EV.window(M, float("nan"), 1), ValueError,
     r"end must be >= start, neither NaN"),
    ("events-string-end", lambda: EV.window(M, 0, "1"), TypeError, r"end must be a number"),
    ("windows-offsets-past", lambda: bcw(M, _events(np.r_[0, np.cumsum(M.data)], EV.times[:3]),
                                         A_LAB, B_LAB, [0, 1]),
     ValueError, r"events\.offsets must .*end at len\(times\) = 3; got"),
    ("windows-edges-decreasing", lambda: bcw(M, EV, A_LAB, B_LAB, [0, 1, 0.5]), ValueError,
     r"edges must be finite and strictly increasing"),
    ("windows-no-times", lambda: bcw(M, SimpleNamespace(offsets=EV.offsets), A_LAB, B_LAB,
                                     [0, 1]), TypeError, r"events must have an 'times'"),
    # --- features --------------------------------------------------------------------------
    ("features-inf-array",
     lambda: algorithms.get("kmeans", n_clusters=2).fit(np.r_[np.ones((4, 2)), [[np.inf, 0]]]),
     ValueError, r"X contains infinity"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "exc", "match"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_naming_it(case, call, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(exc, match=match):
            call()


def test_the_catalogue_has_unique_ids():
    ids = [b[0] for b in BAD]
    assert len(ids) == len(set(ids))


def _features_inf_population():
    ds = fastbip.generate(fastbip.default_spec(n_people=40, n_items=30), rng=0)
    ds.people.columns["income"][3] = np.inf
    return algorithms.get("kmeans", n_clusters=2).fit(ds.people)


def test_infinite_population_features_are_refused_naming_x_and_the_column():
    with pytest.raises(ValueError, match=r"X \(the features of people\): people\.columns"):
        _features_inf_population()


# --------------------------------------------------------------------------- warnings


def _empty_planted_cluster():
    d = _shares(1, 1, 0.05, 1)
    d["people"]["n"] = 10
    return fastbip.generate(Spec.from_dict(d), rng=0)


WARN = [
    ("dcsbm-all-zero", lambda: _dcsbm(sp.csr_matrix((10, 8))),
     r"M has no purchases .* meaningless"),
    ("dcsbm-explicit-zeros", lambda: _dcsbm(_with(M, data=np.zeros(M.nnz, np.int64))),
     r"M has no purchases"),
    ("generate-empty-cluster", _empty_planted_cluster,
     r"people\.clusters\[2\] \('professionals'\) has share 0\.05 .* gets no member"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "match"), WARN, ids=[w[0] for w in WARN])
def test_meaningless_input_warns_naming_it(case, call, match):
    with pytest.warns(UserWarning, match=match):
        call()


def test_study_asks_only_for_the_clusters_with_members():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ds = _empty_planted_cluster()
    assert np.unique(ds.truth.people_labels).size == 3
    with pytest.warns(UserWarning, match=r"only 3 of the 4 planted people-clusters"):
        res = fastbip.run_study(ds, ["kmeans"], oracle=False)
    frame = [e for e in res.entries if e.side == "people"]
    assert [e.k_asked for e in frame] == [3]


# --------------------------------------------------------------------------- right answers


def _reference(Mx, a, b, ka, kb):
    """Z_A^T M Z_B with dense one-hot memberships, in int64 or float64."""
    dense = Mx.toarray()
    za = np.zeros((Mx.shape[0], ka), dtype=dense.dtype)
    zb = np.zeros((Mx.shape[1], kb), dtype=dense.dtype)
    za[np.flatnonzero(a >= 0), a[a >= 0]] = 1
    zb[np.flatnonzero(b >= 0), b[b >= 0]] = 1
    return za.T @ dense @ zb


_BIG32 = sp.csr_matrix(np.array([[2**31 - 1, 2**31 - 1], [2**31 - 1, 1]], dtype=np.int32))
_BIG64 = sp.csr_matrix(np.array([[2**40, 3], [2**33, 2**31 + 5]], dtype=np.int64))

EDGES = [
    ("k-1", M, np.zeros(30, int), np.zeros(20, int), 1, 1),
    ("one-row", _matrix(1, 20), np.zeros(1, int), B_LAB, 1, 2),
    ("one-column", _matrix(30, 1), A_LAB, np.zeros(1, int), 3, 1),
    ("counts-near-2-31-int32", _BIG32, np.array([0, 0]), np.array([0, 0]), 1, 1),
    ("counts-above-2-31-int64", _BIG64, np.array([0, 1]), np.array([0, 0]), 2, 1),
    ("empty-0-by-n", sp.csr_matrix((0, 5), dtype=np.int64), np.zeros(0, int), np.zeros(5, int),
     0, 1),
    ("empty-n-by-0", sp.csr_matrix((4, 0), dtype=np.int64), np.zeros(4, int), np.zeros(0, int),
     1, 0),
    ("all-unassigned", M, np.full(30, -1), B_LAB, 3, 2),
    ("duplicates", _raw([0, 3, 3], [1, 1, 0], (2, 2), data=[1, 2, 4]), np.array([0, 1]),
     np.array([0, 1]), 2, 2),
    ("unsorted-row", _raw([0, 3, 3], [1, 0, 2], (2, 3), data=[1, 2, 4]), np.array([0, 0]),
     np.array([0, 1, 1]), 1, 2),
]  # fmt: skip


@pytest.mark.parametrize(("case", "Mx", "a", "b", "ka", "kb"), EDGES, ids=[e[0] for e in EDGES])
def test_numerical_edges_give_the_right_counts(case, Mx, a, b, ka, kb):
    got = fastbip.block_counts(Mx, a, b, ka, kb)
    assert got.shape == (ka, kb)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, _reference(Mx.astype(np.int64), a, b, ka, kb))
    unweighted = fastbip.block_counts(Mx, a, b, ka, kb, weighted=False)
    ones = Mx.copy()
    ones.data = np.ones_like(ones.data)
    np.testing.assert_array_equal(unweighted, _reference(ones.astype(np.int64), a, b, ka, kb))


def test_duplicate_entries_give_the_canonical_log_likelihood():
    dup = _raw([0, 3, 4], [1, 1, 0, 1], (2, 2), data=[1.0, 2.0, 4.0, 1.0])
    canon = dup.copy()
    canon.sum_duplicates()
    a, b = np.array([0, 1]), np.array([0, 1])
    got, ref = fastbip.estimate_omega(dup, a, b), fastbip.estimate_omega(canon, a, b)
    assert canon.nnz == 3 and dup.nnz == 4
    assert got.log_likelihood == pytest.approx(ref.log_likelihood, rel=1e-12)
    np.testing.assert_array_equal(got.omega, ref.omega)


def test_windows_of_a_valid_dataset_still_sum_to_the_purchases():
    win = [EV.window(M, lo, hi) for lo, hi in ((0, 0.3), (0.3, 0.7), (0.7, 1.0))]
    total = win[0] + win[1] + win[2]
    np.testing.assert_array_equal(total.toarray(), M.toarray())


# --------------------------------------------------------------------------- property tests

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def malformed_csr(draw):
    """A CSR matrix around random arrays: any indptr, indices and data, any shape."""
    n = draw(st.integers(0, 6))
    m = draw(st.integers(0, 6))
    nnz = draw(st.integers(0, 12))
    big = st.integers(-(2**31), 2**31 - 1)
    small = st.integers(-3, 14)
    ints = st.one_of(small, big) if draw(st.booleans()) else small
    indptr = draw(st.lists(ints, min_size=n + 1, max_size=n + 1))
    if draw(st.booleans()):  # often a plausible indptr, to reach the index checks
        cuts = sorted(draw(st.lists(st.integers(0, nnz), min_size=n, max_size=n)))
        indptr = [0, *cuts[: max(n - 1, 0)], nnz][: n + 1] if n else [0]
        if draw(st.booleans()):
            indptr[-1] = draw(ints)
    indices = draw(st.lists(ints, min_size=nnz, max_size=nnz))
    n_data = nnz if draw(st.booleans()) else draw(st.integers(0, 12))
    vals = st.one_of(
        st.integers(-2, 5), st.sampled_from([0, 1, 2**31 - 1, float("nan"), float("inf")])
    )
    data = np.asarray(draw(st.lists(vals, min_size=n_data, max_size=n_data)), dtype=np.float64)
    if draw(st.booleans()):
        data = np.nan_to_num(data, nan=1.0, posinf=1.0).astype(np.int64)
    out = sp.csr_matrix((n, m), dtype=data.dtype)
    out.indptr = np.asarray(indptr, dtype=np.int64 if draw(st.booleans()) else np.int32)
    out.indices = np.asarray(indices, dtype=out.indptr.dtype)
    out.data = data
    return out


def _labels(n, k):
    return np.arange(n) % max(k, 1)


def _calls(X):
    n, m = X.shape
    a, b = _labels(n, 2), _labels(m, 2)
    truth = SimpleNamespace(
        omega=np.ones((2, 2)),
        theta=np.ones(n),
        phi=np.ones(m),
        people_labels=a,
        item_labels=b,
    )
    nnz = X.indices.shape[0]
    ev = Events(np.arange(nnz + 1, dtype=np.int64), np.linspace(0, 1, nnz, endpoint=False))
    calls = {
        "block_counts": lambda: fastbip.block_counts(X, a, b, 2, 2),
        "block_counts_unweighted": lambda: fastbip.block_counts(X, a, b, 2, 2, weighted=False),
        "soft_block_counts": lambda: fastbip.soft_block_counts(X, a, b, 2, 2),
        "block_counts_windows": lambda: fastbip.block_counts_windows(X, ev, a, b, [0, 0.5, 1]),
        "window": lambda: ev.window(X, 0, 0.5),
        "block_stats": lambda: fastbip.block_stats(fastbip.block_counts(X, a, b, 2, 2)),
        "estimate_omega": lambda: fastbip.estimate_omega(X, a, b, 2, 2),
        "relation_recovery": lambda: fastbip.relation_recovery(truth, X, a, b),
        "select_k": lambda: fastbip.select_k(X, [1, 2], [1], n_init=1, random_state=0),
    }
    for name in algorithms.names("purchases"):
        calls[name] = lambda name=name: algorithms.get(
            name, n_row_clusters=1, n_col_clusters=1, random_state=0
        ).fit(X)
    return calls


# every call's allowed outcome: a result, or one of these naming the input
_NAMES = (
    r"\bM\b|k_range_rows|k_range_cols|row_labels|column_labels|events|truth|labels|"
    r"n_row_clusters|n_col_clusters|C\b"
)


OUTCOMES: dict[str, int] = {}


def _check_outcome(name, call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except (ValueError, TypeError) as exc:
        import re

        assert re.search(_NAMES, str(exc)), f"{name}: {type(exc).__name__}: {exc}"
        OUTCOMES["refused"] = OUTCOMES.get("refused", 0) + 1
    else:
        OUTCOMES["result"] = OUTCOMES.get("result", 0) + 1


def _estimator_kwargs_ok(name):
    try:
        algorithms.get(name, n_row_clusters=1, n_col_clusters=1, random_state=0)
    except Exception:  # an optional dependency missing, or other parameter names
        return False
    return True


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(X=malformed_csr())
def test_malformed_csr_is_a_result_or_an_error_naming_the_input(X):
    for name, call in _calls(X).items():
        if name in algorithms.names("purchases") and not _estimator_kwargs_ok(name):
            continue
        _check_outcome(name, call)


def test_the_property_test_saw_both_outcomes():
    """Runs after the property test (file order): both results and refusals occurred."""
    if not OUTCOMES:
        pytest.skip("the property test did not run in this session")
    assert OUTCOMES.get("result", 0) > 0
    assert OUTCOMES.get("refused", 0) > 0
