"""The numpy twins of fastbip._small against the kernels they stand in for on small inputs.

Integer results and statuses must be equal; the block-model twins must be bit-identical
(their float sums run in the kernels' order), the block sums within rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from fastbip import _small
from fastbip._kernels import blocks as kb
from fastbip._kernels import dcsbm as kd
from fastbip._kernels import linkage as kl
from fastbip._kernels import metrics as km
from fastbip._kernels import validate as kv


def _csr(rng, n, m, density, dtype=np.int32):
    M = sp.random(n, m, density=density, format="csr", random_state=rng, dtype=np.float64)
    M.data = rng.integers(1, 5, M.nnz).astype(dtype)
    return M


def test_status_codes_agree_with_the_kernel_module():
    assert (_small._FIRST_NOT_ZERO, _small._DECREASING, _small._LAST_NOT_NNZ) == (
        kv.CSR_FIRST_NOT_ZERO,
        kv.CSR_DECREASING,
        kv.CSR_LAST_NOT_NNZ,
    )
    assert (_small._INDEX_NEGATIVE, _small._INDEX_TOO_LARGE) == (
        kv.CSR_INDEX_NEGATIVE,
        kv.CSR_INDEX_TOO_LARGE,
    )
    assert (_small._UNSORTED, _small._DUPLICATE) == (kv.CSR_UNSORTED, kv.CSR_DUPLICATE)


def _broken_structures(rng):
    """(indptr, indices, n_cols) with every kind of defect, and valid ones."""
    M = sp.random(30, 20, density=0.3, format="csr", random_state=rng)
    M.sort_indices()
    ip, ix = M.indptr.astype(np.int64), M.indices.astype(np.int64)
    cases = [(ip, ix, 20), (ip, ix, 5)]
    bad = ip.copy()
    bad[0] = 1
    cases.append((bad, ix, 20))
    bad = ip.copy()
    bad[7] = bad[8] + 1
    cases.append((bad, ix, 20))
    cases.append((ip, ix[:-1], 20))  # last pointer != nnz
    for p, v in ((3, -2), (11, 20), (40, 19), (41, 0)):
        bad = ix.copy()
        bad[p] = v
        cases.append((ip, bad, 20))
    row = int(np.flatnonzero(np.diff(ip) >= 3)[0])
    bad = ix.copy()
    p = int(ip[row]) + 1
    bad[p] = bad[p - 1]  # a duplicate
    cases.append((ip, bad, 20))
    bad = ix.copy()
    bad[p], bad[p + 1] = bad[p + 1], bad[p]  # out of order
    cases.append((ip, bad, 20))
    return cases


@pytest.mark.parametrize("check_sorted", [False, True])
def test_csr_statuses_equal_the_kernels(check_sorted):
    rng = np.random.default_rng(0)
    seen = set()
    for ip, ix, n_cols in _broken_structures(rng):
        got = _small.csr_structure_status(ip, ix, n_cols, check_sorted)
        assert got == tuple(kv._csr_structure_status(ip, ix, n_cols, check_sorted))
        assert _small.indptr_status(ip, ix.size) == tuple(kv._indptr_status(ip, ix.size))
        seen.add(got[0])
    assert seen >= ({0, 1, 2, 3, 4, 5, 6, 7} if check_sorted else {0, 1, 2, 3, 4, 5})


def test_label_codes_and_all_ones_equal_the_kernels():
    rng = np.random.default_rng(1)
    for dtype, k in ((np.int8, 100), (np.int64, 7), (np.int32, 300)):
        labels = rng.integers(-1, k, 500).astype(dtype)
        labels[::7] = -1
        code = np.uint8 if k < 255 else np.uint16
        a, b = np.empty(500, code), np.empty(500, code)
        _small.label_codes(labels, k, a)
        kb._label_codes(labels, k, b)
        np.testing.assert_array_equal(a, b)
        assert a.max() == k  # -1 became the unassigned code
    for data in (np.ones(9, np.int32), np.array([1, 1, 2], np.int64), np.ones(0, np.uint8)):
        assert _small.all_ones(data) == kb._all_ones(data)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.float64])
def test_block_sums_equal_the_kernel(dtype):
    rng = np.random.default_rng(2)
    M = _csr(rng, 200, 90, 0.1, dtype)
    if dtype == np.float64:
        M.data = rng.gamma(0.5, 2.0, M.nnz)
    ka, kc = 5, 4
    row_codes = rng.integers(0, ka + 1, 200).astype(np.uint8)
    col_codes = np.append(rng.integers(0, kc + 1, 90), kc + 1).astype(np.uint8)
    indices = M.indices.view(np.uint32).copy()
    indices[[3, 17]] = [90, 2**32 - 1]  # out of range: the guard column
    cells = (ka + 1) * (kc + 2)
    acc = np.int64 if dtype != np.float64 else np.float64
    for data in (None, M.data):
        out = np.zeros((1, 2, cells), acc if data is not None else np.int64)
        bounds = np.array([0, 200], np.int64)
        ip = M.indptr.view(np.uint32)
        kb._block_sums_csr(ip, indices, data, row_codes, col_codes, ka, kc, bounds, out)
        got = _small.block_sums(ip, indices, data, row_codes, col_codes, kc, cells)
        want = out.sum(axis=(0, 1))
        assert got.dtype == want.dtype
        if got.dtype == np.float64:
            np.testing.assert_allclose(got, want, rtol=1e-12)
        else:
            np.testing.assert_array_equal(got, want)
        assert got.reshape(ka + 1, kc + 2)[:, kc + 1].sum() > 0  # the guard caught them


def test_block_sums_leave_huge_integers_to_the_kernel():
    data = np.array([2**52, 2**52], dtype=np.int64)
    ip = np.array([0, 2], np.uint64)
    got = _small.block_sums(
        ip, np.zeros(2, np.uint64), data, np.zeros(1, np.uint8), np.array([0, 2], np.uint8), 1, 6
    )
    assert got is None


@pytest.mark.parametrize("unassigned_col", [-1, 3])
def test_contingency_equals_the_kernel(unassigned_col):
    rng = np.random.default_rng(3)
    t = rng.integers(-1, 5, 1000).astype(np.int16)
    f = rng.integers(-1, 3, 1000).astype(np.int64)
    kf = 4 if unassigned_col == 3 else 3
    got = _small.contingency_dense(t, f, 5, kf, unassigned_col)
    want = km._contingency_table_dense(t, f, 5, kf, unassigned_col)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def _dcsbm_case(seed):
    rng = np.random.default_rng(seed)
    M = sp.random(300, 120, density=0.08, format="csr", random_state=rng)
    M.data = rng.gamma(0.7, 2.0, M.nnz)
    M.indptr[150:] = M.indptr[150]  # an empty tail of rows: the fallback label
    M = sp.csr_matrix((M.data[: M.indptr[-1]], M.indices[: M.indptr[-1]], M.indptr), M.shape)
    col_labels = rng.integers(-1, 4, 120).astype(np.int64)
    return rng, M, col_labels


@pytest.mark.parametrize("seed", [4, 5])
def test_block_model_twins_are_bit_identical(seed):
    rng, M, col_labels = _dcsbm_case(seed)
    args = (M.indptr, M.indices, M.data, col_labels)
    prof = _small.row_profile(*args, 4)
    assert prof.tobytes() == kd._row_profile_csr_serial(*args, 4).tobytes()
    log_p = np.log(rng.dirichlet(np.ones(4), size=3))
    lab, C = _small.hard_assign_rows(*args, log_p, 2, n_chunks=kd.N_CHUNKS)
    lab_k, C_k = kd._hard_assign_rows_csr_serial(*args, log_p, 2)
    np.testing.assert_array_equal(lab, lab_k)
    assert (lab[150:] == 2).all() and len(set(lab[:150])) > 1
    assert C.tobytes() == C_k.tobytes()
    w, mass, prior = rng.gamma(1.0, 1.0, 300), rng.gamma(2.0, 1.0, 3), np.log([0.2, 0.3, 0.5])
    X = np.ascontiguousarray(prof[:, :3])
    log_w = np.ascontiguousarray(log_p[:, :3].T)
    got = _small.oracle_assign(X, log_w, w, mass, prior)
    np.testing.assert_array_equal(got, kd._oracle_assign_dense_serial(X, log_w, w, mass, prior))


@pytest.mark.parametrize("method", [0, 1, 2, 3])
def test_nn_chain_twin_is_bit_identical(method):
    rng = np.random.default_rng(6)
    X = np.round(rng.normal(size=(150, 2)), 1)  # rounded: ties in the distances
    w = rng.integers(1, 9, 150).astype(np.float64)
    D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    if method == 0:
        D = D**2 * 2.0 * np.outer(w, w) / np.add.outer(w, w)
    got = _small.nn_chain_linkage(D.copy(), w, method)
    want = kl._nn_chain_linkage_dense(D.copy(), w, method)
    for g, k in zip(got, want, strict=True):
        assert g.tobytes() == k.tobytes()
    a, b, h = want
    order = np.argsort(h, kind="stable").astype(np.int64)
    for n_clusters in (1, 4, 150):
        labels = _small.flat_labels_from_merges(a, b, order, 150, n_clusters)
        assert labels.max() == n_clusters - 1 and labels[0] == 0
        # numbered by first appearance
        _, first = np.unique(labels, return_index=True)
        assert (np.diff(first) > 0).all()


def test_emi_full_sum_agrees_with_the_kernel_and_gives_way_when_long():
    from scipy.special import gammaln

    rng = np.random.default_rng(7)
    for n_a, n_b in ((2, 3), (4, 4), (7, 5)):
        a = rng.integers(1, 400, n_a)
        b = rng.multinomial(int(a.sum()) - n_b, np.ones(n_b) / n_b) + 1
        n = int(a.sum())
        args = (a, b, n, gammaln(a + 1.0), gammaln(b + 1.0), gammaln(n - a + 1.0))
        args += (gammaln(n - b + 1.0), float(gammaln(n + 1.0)))
        got = _small.expected_mutual_information(*args)
        want = km._expected_mutual_information(*args)
        assert got is not None and got > 0
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    big = np.array([300_000, 300_000])
    n = int(big.sum())
    args = (big, big, n, gammaln(big + 1.0), gammaln(big + 1.0), gammaln(n - big + 1.0))
    args += (gammaln(n - big + 1.0), float(gammaln(n + 1.0)))
    assert _small.expected_mutual_information(*args) is None
