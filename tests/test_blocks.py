"""Block counts: the numba kernels against their scipy twins, and the input checks."""

from types import SimpleNamespace

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from fastbip.blocks import (
    EncodedLabels,
    block_counts,
    block_counts_windows,
    encode_labels,
    soft_block_counts,
)
from tests._reference import block_counts_ref, block_counts_windows_ref


def random_csr(rng, n, m, density, dtype=np.int64, empty_rows=0, empty_cols=0):
    M = sp.random(n, m, density=density, format="csr", random_state=rng)
    if np.issubdtype(dtype, np.integer):
        M.data = rng.integers(1, 6, M.nnz).astype(dtype)
    elif dtype == np.bool_:
        M.data = np.ones(M.nnz, dtype=bool)
    else:
        M.data = rng.gamma(1.0, 2.0, M.nnz).astype(dtype)
    M = M.tolil()
    if empty_rows:
        M[:empty_rows, :] = 0
    if empty_cols:
        M[:, :empty_cols] = 0
    M = M.tocsr()
    M.eliminate_zeros()
    return M


def labels(rng, n, k, unassigned=0.0):
    lab = rng.integers(0, k, n)
    if unassigned:
        lab[rng.random(n) < unassigned] = -1
    return lab


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64, np.float32, np.bool_])
@pytest.mark.parametrize("weighted", [True, False])
def test_matches_scipy_twin(dtype, weighted):
    rng = np.random.default_rng(1)
    M = random_csr(rng, 300, 200, 0.05, dtype, empty_rows=7, empty_cols=5)
    a, b = labels(rng, 300, 6, 0.1), labels(rng, 200, 4, 0.1)
    got = block_counts(M, a, b, 6, 4, weighted=weighted)
    ref = block_counts_ref(M, a, b, 6, 4, weighted=weighted)
    integer = not weighted or dtype in (np.int32, np.int64, np.bool_)
    assert got.shape == (6, 4)
    if integer:
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, ref)
    else:
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, ref, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_all_ones_data_takes_count_path_and_agrees():
    rng = np.random.default_rng(2)
    M = random_csr(rng, 100, 80, 0.1, np.int32)
    M.data[:] = 1
    a, b = labels(rng, 100, 3), labels(rng, 80, 5)
    np.testing.assert_array_equal(block_counts(M, a, b), block_counts_ref(M, a, b, 3, 5))
    np.testing.assert_array_equal(
        block_counts(M, a, b, weighted=False), block_counts(M, a, b, weighted=True)
    )


def test_k_inferred_single_cluster_and_empty_clusters():
    rng = np.random.default_rng(3)
    M = random_csr(rng, 50, 40, 0.2)
    a = np.zeros(50, dtype=np.int64)
    b = labels(rng, 40, 3)
    C = block_counts(M, a, b)
    assert C.shape == (1, int(b.max()) + 1)
    assert C.sum() == M.sum()
    # clusters beyond the largest label are empty rows and columns
    C2 = block_counts(M, a, b, 4, 7)
    assert C2.shape == (4, 7)
    np.testing.assert_array_equal(C2[:1, : C.shape[1]], C)
    assert C2[1:].sum() == 0 and C2[:, C.shape[1] :].sum() == 0


def test_all_unassigned_and_empty_matrix():
    M = sp.csr_matrix((5, 4), dtype=np.int64)
    assert block_counts(M, np.full(5, -1), np.full(4, -1)).shape == (0, 0)
    C = block_counts(M, np.arange(5) % 2, np.arange(4) % 3)
    assert C.shape == (2, 3) and C.sum() == 0
    rng = np.random.default_rng(4)
    M = random_csr(rng, 30, 20, 0.3)
    C = block_counts(M, np.full(30, -1), labels(rng, 20, 2), 3, 2)
    assert C.shape == (3, 2) and C.sum() == 0


def test_other_formats_unsorted_and_duplicates():
    rng = np.random.default_rng(5)
    rows = rng.integers(0, 40, 500)
    cols = rng.integers(0, 30, 500)
    vals = rng.integers(1, 4, 500)
    coo = sp.coo_matrix((vals, (rows, cols)), shape=(40, 30))
    a, b = labels(rng, 40, 4, 0.1), labels(rng, 30, 3, 0.1)
    ref = block_counts_ref(coo.tocsr(), a, b, 4, 3)
    for M in (coo, coo.tocsc(), coo.toarray(), sp.csr_array(coo)):
        np.testing.assert_array_equal(block_counts(M, a, b, 4, 3), ref)
    # CSR with unsorted indices and duplicate entries, read in place
    perm = rng.permutation(500)
    order = np.argsort(rows[perm], kind="stable")
    r, c, v = rows[perm][order], cols[perm][order], vals[perm][order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=40))])
    raw = sp.csr_matrix((v, c, indptr), shape=(40, 30))
    assert not raw.has_canonical_format
    np.testing.assert_array_equal(block_counts(raw, a, b, 4, 3), ref)


def test_int64_indptr_and_many_chunks():
    # enough entries for several nnz-balanced chunks (2**18 entries each)
    rng = np.random.default_rng(6)
    n, m, nnz = 3000, 2000, 900_000
    rows = np.sort(rng.integers(0, n, nnz))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
    indices = rng.integers(0, m, nnz).astype(np.int64)
    data = rng.integers(1, 3, nnz).astype(np.int32)
    M = sp.csr_matrix((data, indices, indptr), shape=(n, m))
    a, b = labels(rng, n, 300, 0.05), labels(rng, m, 260, 0.05)
    ref = block_counts_ref(M, a, b, 300, 260)
    np.testing.assert_array_equal(block_counts(M, a, b, 300, 260), ref)
    np.testing.assert_array_equal(
        block_counts(M, a, b, 300, 260, weighted=False),
        block_counts_ref(M, a, b, 300, 260, weighted=False),
    )


def test_float_sums_identical_whatever_the_thread_count():
    rng = np.random.default_rng(7)
    n, m, nnz = 2000, 1000, 700_000
    rows = np.sort(rng.integers(0, n, nnz))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    M = sp.csr_matrix((rng.gamma(0.5, 3.0, nnz), rng.integers(0, m, nnz), indptr), (n, m))
    a, b = labels(rng, n, 9), labels(rng, m, 7)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = block_counts(M, a, b)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = block_counts(M, a, b)
    finally:
        numba.set_num_threads(before)
    assert one.tobytes() == many.tobytes()
    np.testing.assert_allclose(one, block_counts_ref(M, a, b, 9, 7), rtol=1e-10)


def test_encoded_labels_reused_and_narrow():
    rng = np.random.default_rng(8)
    M = random_csr(rng, 60, 50, 0.2)
    a, b = labels(rng, 60, 5, 0.2), labels(rng, 50, 3)
    ea, eb = encode_labels(a, 5), encode_labels(b)
    assert isinstance(ea, EncodedLabels) and ea.codes.dtype == np.uint8
    assert eb.n_clusters == int(b.max()) + 1
    np.testing.assert_array_equal(ea.labels(), a)
    np.testing.assert_array_equal(block_counts(M, ea, eb), block_counts(M, a, b, 5))
    assert encode_labels(np.arange(300)).codes.dtype == np.uint16
    assert encode_labels(np.array([0, 70000]), 70001).codes.dtype == np.uint32
    # 255 clusters still fit uint8 (255 is the unassigned code)
    assert encode_labels(np.array([254, -1]), 255).codes.dtype == np.uint8
    assert encode_labels(np.array([255])).codes.dtype == np.uint16
    assert encode_labels(np.array([1.0, 2.0, -1.0])).n_clusters == 3


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 30),
    m=st.integers(1, 30),
    ka=st.integers(1, 5),
    kb=st.integers(1, 5),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
    weighted=st.booleans(),
)
def test_property_matches_twin(n, m, ka, kb, density, seed, weighted):
    rng = np.random.default_rng(seed)
    M = sp.random(n, m, density=density, format="csr", random_state=rng)
    M.data = rng.integers(1, 9, M.nnz)
    a = rng.integers(-1, ka, n)
    b = rng.integers(-1, kb, m)
    got = block_counts(M, a, b, ka, kb, weighted=weighted)
    np.testing.assert_array_equal(got, block_counts_ref(M, a, b, ka, kb, weighted=weighted))


# --- time windows ----------------------------------------------------------------------------


def random_events(rng, M, t_max=10.0):
    counts = M.data.astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    times = rng.uniform(-1.0, t_max + 1.0, offsets[-1])
    return SimpleNamespace(offsets=offsets, times=times)


@pytest.mark.parametrize(
    "edges",
    [
        np.linspace(0, 10, 6),  # few windows: counted
        np.array([0.0, 0.5, 3.0, 3.1, 9.0]),
        np.linspace(0, 10, 101),  # many uniform windows: divided, then corrected
        np.r_[0.0, np.cumsum(np.random.default_rng(0).uniform(0.01, 0.2, 99))],  # searched
    ],
    ids=["uniform-5", "uneven-4", "uniform-100", "uneven-99"],
)
def test_windows_match_twin(edges):
    rng = np.random.default_rng(9)
    M = random_csr(rng, 120, 90, 0.08, np.int32, empty_rows=3)
    ev = random_events(rng, M)
    ev.times[:5] = edges[1]  # exactly on a boundary: belongs to the window it opens
    a, b = labels(rng, 120, 4, 0.1), labels(rng, 90, 3, 0.1)
    got = block_counts_windows(M, ev, a, b, edges, 4, 3)
    ref = block_counts_windows_ref(M, ev.offsets, ev.times, a, b, edges, 4, 3)
    assert got.shape == (len(edges) - 1, 4, 3) and got.dtype == np.int64
    np.testing.assert_array_equal(got, ref)


def test_windows_sum_to_block_counts_when_covering_all_times():
    rng = np.random.default_rng(10)
    M = random_csr(rng, 80, 70, 0.1, np.int64)
    ev = random_events(rng, M)
    a, b = labels(rng, 80, 3), labels(rng, 70, 2)
    W = block_counts_windows(M, ev, a, b, [-5.0, 0.0, 2.5, 20.0])
    np.testing.assert_array_equal(W.sum(axis=0), block_counts(M, a, b))


def test_windows_many_chunks():
    rng = np.random.default_rng(11)
    n, m, nnz = 2000, 500, 600_000
    rows = np.sort(rng.integers(0, n, nnz))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    M = sp.csr_matrix((np.ones(nnz, dtype=np.int32), rng.integers(0, m, nnz), indptr), (n, m))
    ev = random_events(rng, M)
    a, b = labels(rng, n, 5), labels(rng, m, 4)
    edges = np.linspace(0, 10, 13)
    np.testing.assert_array_equal(
        block_counts_windows(M, ev, a, b, edges, 5, 4),
        block_counts_windows_ref(M, ev.offsets, ev.times, a, b, edges, 5, 4),
    )


# --- soft memberships ------------------------------------------------------------------------


def test_soft_counts_match_dense_product_and_hard_labels():
    rng = np.random.default_rng(12)
    M = random_csr(rng, 70, 60, 0.15, np.int64)
    za = rng.dirichlet(np.ones(4), 70)
    zb = rng.dirichlet(np.ones(3), 60)
    got = soft_block_counts(M, za, zb)
    np.testing.assert_allclose(got, za.T @ M.toarray() @ zb, rtol=1e-12)
    # one-hot memberships give the hard counts; a label vector may stand for one side
    a, b = labels(rng, 70, 4), labels(rng, 60, 3)
    np.testing.assert_allclose(
        soft_block_counts(M, np.eye(4)[a], b, n_col_clusters=3), block_counts(M, a, b, 4, 3)
    )
    unweighted = soft_block_counts(M, za, zb, weighted=False)
    np.testing.assert_allclose(unweighted, za.T @ (M.toarray() > 0) @ zb, rtol=1e-12)


# --- errors ----------------------------------------------------------------------------------


_RNG = np.random.default_rng(13)
_M = random_csr(_RNG, 10, 8, 0.3)
_A, _B = labels(_RNG, 10, 2), labels(_RNG, 8, 2)
_EV = random_events(_RNG, _M)
_BAD_END = _EV.offsets.copy()
_BAD_END[-1] += 1


def _windows(events=_EV, edges=(0, 1), M=_M):
    return lambda: block_counts_windows(M, events, _A, _B, list(edges))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: block_counts(_M, _A[:-1], _B),
            ValueError,
            "row_labels must have one label per row of M",
        ),
        (
            lambda: block_counts(_M, _A, np.zeros(9, dtype=int)),
            ValueError,
            "column_labels must have one label per column of M",
        ),
        (
            lambda: block_counts(_M, np.full(10, 2), _B, 2),
            ValueError,
            r"row_labels must be < n_clusters=2; got a label 2",
        ),
        (
            lambda: block_counts(_M, _A, np.full(8, -2)),
            ValueError,
            r"column_labels must be >= -1 \(-1 = unassigned\); got -2",
        ),
        (
            lambda: block_counts(_M, np.full(10, 0.5), _B),
            TypeError,
            "row_labels must hold integer labels; got dtype float64",
        ),
        (
            lambda: encode_labels(np.zeros((2, 2, 2), dtype=int), name="row_labels"),
            ValueError,
            "row_labels must be a 1-D array",
        ),
        (
            lambda: block_counts(_M, _A, _B, 2.5),
            TypeError,
            "n_clusters for row_labels must be an int",
        ),
        (
            lambda: block_counts(_M, _A, _B, 2, -1),
            ValueError,
            "n_clusters for column_labels must be >= 0",
        ),
        (
            lambda: block_counts(_M, encode_labels(_A, 2), _B, 3),
            ValueError,
            "was encoded with n_clusters=2",
        ),
        (
            lambda: block_counts("M", _A, _B),
            TypeError,
            r"M must be a scipy\.sparse matrix or a 2-D numeric array; got str",
        ),
        (
            lambda: block_counts(np.zeros(10), _A, _B),
            ValueError,
            r"M must be 2-D \(n_people, n_items\); got shape \(10,\)",
        ),
        (
            lambda: block_counts(sp.csr_matrix(np.ones((10, 8), dtype=complex)), _A, _B),
            TypeError,
            "M must hold real numbers",
        ),
        (
            lambda: block_counts(np.array([["a", "b"]] * 10), _A, np.zeros(2, dtype=int)),
            TypeError,
            "M must hold numbers; got dtype <U1",
        ),
        (
            lambda: encode_labels(np.array([0]), 2**32),
            ValueError,
            r"n_clusters for labels must be < 2\*\*32 - 1",
        ),
        (
            lambda: soft_block_counts(_M, np.array([["a", "b"]] * 10), _B),
            TypeError,
            "row_memberships must hold numbers",
        ),
        (
            lambda: soft_block_counts(_M, _A[:-1], np.ones((8, 2))),
            ValueError,
            r"row_memberships must have one label per element",
        ),
        (
            lambda: soft_block_counts(_M, np.ones((9, 2)), _B),
            ValueError,
            "row_memberships must have 10 rows",
        ),
        (
            lambda: soft_block_counts(_M, _A, np.ones((8, 2)), None, 3),
            ValueError,
            "column_memberships has 2 columns but n_clusters=3",
        ),
        (
            lambda: soft_block_counts(_M, np.full((10, 2), np.nan), _B),
            ValueError,
            "row_memberships must hold finite memberships",
        ),
        # soft memberships are soft_block_counts' business: block_counts names the argument
        (
            lambda: block_counts(_M, np.ones((10, 2)) / 2, _B),
            ValueError,
            r"row_labels must be a 1-D array of cluster labels; got a 2-D array of shape "
            r"\(10, 2\): call soft_block_counts",
        ),
        (
            lambda: block_counts(_M, _A, np.ones((8, 2)) / 2),
            ValueError,
            r"column_labels must be a 1-D array .* call soft_block_counts",
        ),
        (
            lambda: block_counts(_M, _A, sp.csr_matrix(np.ones((8, 2)))),
            ValueError,
            r"column_labels must be a 1-D array .* call soft_block_counts",
        ),
        (
            lambda: block_counts(_M, _A, [[0, 1]] * 8),
            ValueError,
            r"column_labels must be a 1-D array .* call soft_block_counts",
        ),
        (
            lambda: block_counts(_M, _A, column_labels=_B, col_labels=_B),
            TypeError,
            "got both col_labels= and column_labels=",
        ),
        (_windows(M=_M.tocoo()), TypeError, "M must be the scipy.sparse CSR matrix"),
        (
            _windows(SimpleNamespace(times=_EV.times)),
            TypeError,
            "events must have an 'offsets' attribute",
        ),
        (
            _windows(SimpleNamespace(offsets=_EV.offsets[1:], times=_EV.times)),
            ValueError,
            "events.offsets must have nnz \\+ 1",
        ),
        (
            _windows(SimpleNamespace(offsets=_BAD_END, times=_EV.times)),
            ValueError,
            "events.offsets must start at 0",
        ),
        (
            _windows(SimpleNamespace(offsets=_EV.offsets.astype(float), times=_EV.times)),
            TypeError,
            "events.offsets must hold integers",
        ),
        (
            _windows(SimpleNamespace(offsets=_EV.offsets, times=_EV.times.astype(str))),
            TypeError,
            "events.times must be a 1-D numeric array",
        ),
        (_windows(edges=(0, 2, 1)), ValueError, "edges must be finite and strictly increasing"),
        (_windows(edges=(0.0,)), ValueError, "edges must be a 1-D array of at least 2"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_soft_memberships_refused_by_block_counts():
    rng = np.random.default_rng(15)
    M = random_csr(rng, 30, 20, 0.3)
    za, zb = rng.dirichlet(np.ones(3), 30), rng.dirichlet(np.ones(2), 20)
    with pytest.raises(ValueError, match="row_labels .* call soft_block_counts"):
        block_counts(M, za, zb)
    # the soft counts stay one call away
    np.testing.assert_allclose(soft_block_counts(M, za, zb), za.T @ M.toarray() @ zb)


def test_col_labels_keyword_is_a_deprecated_alias():
    rng = np.random.default_rng(16)
    M = random_csr(rng, 30, 20, 0.3)
    a, b = labels(rng, 30, 3), labels(rng, 20, 2)
    want = block_counts(M, a, b)
    with pytest.warns(DeprecationWarning, match="col_labels= is deprecated; use column_labels="):
        np.testing.assert_array_equal(block_counts(M, a, col_labels=b), want)
    np.testing.assert_array_equal(block_counts(M, a, column_labels=b), want)
    with pytest.warns(DeprecationWarning, match="col_memberships= is deprecated"):
        soft_block_counts(M, a, col_memberships=b)


# --- values and indices read in place ---------------------------------------------------------

_BIG_ROWS, _BIG_COLS, _BIG_PER_ROW = 20_000, 10_000, 250  # 5 * 10^6 entries


def _big_csr(dtype, indptr_dtype, indices_dtype):
    rng = np.random.default_rng(11)
    nnz = _BIG_ROWS * _BIG_PER_ROW
    indptr = (np.arange(_BIG_ROWS + 1) * _BIG_PER_ROW).astype(indptr_dtype)
    indices = rng.integers(0, _BIG_COLS, nnz).astype(indices_dtype)
    data = (rng.integers(1, 5, nnz) * 0.5).astype(dtype)  # halves: float32 sums are exact
    M = sp.csr_matrix((data, indices, indptr), shape=(_BIG_ROWS, _BIG_COLS))
    M.indptr, M.indices = indptr, indices  # scipy may narrow int64 row pointers: keep them
    return M


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float64])
@pytest.mark.parametrize(
    "index_dtypes", [(np.int32, np.int32), (np.int64, np.int32), (np.int64, np.int64)]
)
def test_values_and_indices_are_not_copied(dtype, index_dtypes):
    """float32 / int32 values and either index width reach the kernel without a copy: what
    block_counts allocates stays under 1% of the values' bytes (tracemalloc sees numpy's
    allocations; the kernel's accumulators are a few cells), and the table equals the one of
    the values converted to float64 / int64."""
    import tracemalloc

    if dtype == np.int32:  # integer data that are not all ones take the summing path
        M = _big_csr(np.float64, *index_dtypes)
        M.data = (M.data * 2).astype(np.int32)
    else:
        M = _big_csr(dtype, *index_dtypes)
    assert (M.indptr.dtype, M.indices.dtype) == index_dtypes
    rng = np.random.default_rng(12)
    a = encode_labels(labels(rng, _BIG_ROWS, 7, 0.05), 7)
    b = encode_labels(labels(rng, _BIG_COLS, 5, 0.05), 5)
    block_counts(M, a, b)  # compile outside the measurement
    tracemalloc.start()
    try:
        got = block_counts(M, a, b)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.01 * M.data.nbytes, (peak, M.data.nbytes)
    wide = M.astype(np.float64 if dtype != np.int32 else np.int64)
    np.testing.assert_array_equal(got, block_counts(wide, a, b))
    assert got.dtype == (np.int64 if dtype == np.int32 else np.float64)
