"""Malformed CSR structures are refused at the boundary, before any kernel reads them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import fastbip
from fastbip._validation import check_csr_structure


def _raw(indptr, indices, shape=(2, 3), data=None):
    indptr = np.asarray(indptr, dtype=np.int32)
    indices = np.asarray(indices, dtype=np.int32)
    if data is None:
        data = np.ones(indices.size)
    M = sp.csr_matrix(shape)
    M.indptr, M.indices, M.data = indptr, indices, np.asarray(data)
    return M


BAD = [
    (
        "negative column",
        _raw([0, 2, 3], [0, -1, 1]),
        r"indices must be >= 0; got indices\[1\] = -1",
    ),
    ("column past the end", _raw([0, 2, 3], [0, 5, 1]), r"< n_items = 3; got indices\[1\] = 5"),
    ("decreasing indptr", _raw([0, 3, 2], [0, 1, 1]), r"non-decreasing; got indptr\[2\] = 2"),
    ("indptr not from 0", _raw([1, 2, 3], [0, 1, 1]), r"start at 0; got indptr\[0\] = 1"),
    ("indptr short of nnz", _raw([0, 1, 2], [0, 1, 1]), r"end at nnz = 3"),
    ("indptr past nnz", _raw([0, 2, 9], [0, 1, 1]), r"end at nnz = 3"),
    ("indptr wrong length", _raw([0, 3], [0, 1, 1]), r"n_people \+ 1 = 3 entries"),
    ("data shorter", _raw([0, 2, 3], [0, 1, 1], data=[1.0, 2.0]), r"same length"),
    ("huge column", _raw([0, 1, 1], [2**31 - 1]), r"got indices\[0\] = 2147483647"),
]


@pytest.mark.parametrize("case, M, match", BAD, ids=[b[0] for b in BAD])
def test_structure_check_names_the_defect(case, M, match):
    with pytest.raises(ValueError, match="M is not a valid CSR matrix|M.indptr|M.data") as e:
        check_csr_structure(M)
    assert e.match(match)


@pytest.mark.parametrize("case, M, match", BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize(
    "call",
    [
        lambda M: fastbip.block_counts(M, [0, 1], [0, 0, 1]),
        lambda M: fastbip.estimate_omega(M, [0, 1], [0, 0, 1]),
        lambda M: fastbip.algorithms.get("dcsbm", n_row_clusters=1, n_col_clusters=1).fit(M),
    ],
    ids=["block_counts", "estimate_omega", "dcsbm"],
)
def test_public_functions_refuse_malformed_csr(call, case, M, match):
    with pytest.raises(ValueError, match=match):
        call(M)


def test_canonical_check_finds_unsorted_and_repeated_columns():
    with pytest.raises(ValueError, match=r"sorted inside each row; indices\[1\] = 0"):
        check_csr_structure(_raw([0, 2, 3], [1, 0, 1]), canonical=True)
    with pytest.raises(ValueError, match=r"must not repeat inside a row; indices\[1\] = 1"):
        check_csr_structure(_raw([0, 2, 3], [1, 1, 1]), canonical=True)
    check_csr_structure(_raw([0, 2, 3], [1, 0, 1]))  # order is not required by default


def test_valid_structures_pass():
    check_csr_structure(sp.csr_matrix((0, 5)))
    check_csr_structure(sp.random(30, 20, density=0.2, format="csr", random_state=0))
    check_csr_structure(_raw([0, 0, 0], []), canonical=True)


# --------------------------------------------------------------------------- fused check


def test_block_counts_checks_indices_inside_the_kernel_not_in_a_separate_pass(monkeypatch):
    import fastbip._kernels.validate as kv
    from fastbip import _small

    calls = []

    def counting(real):
        def check(*args):
            calls.append(args)
            return real(*args)

        return check

    # the kernel, and its numpy twin that small inputs take
    monkeypatch.setattr(kv, "_csr_structure_status", counting(kv._csr_structure_status))
    monkeypatch.setattr(_small, "csr_structure_status", counting(_small.csr_structure_status))
    M = sp.random(40, 30, density=0.3, format="csr", random_state=1)
    fastbip.block_counts(M, np.arange(40) % 3, np.arange(30) % 2)
    assert calls == []  # the valid matrix went through the indptr pre-pass only
    bad = M.copy()
    bad.indices = bad.indices.copy()
    bad.indices[7] = 30
    with pytest.raises(ValueError, match=r"got indices\[7\] = 30"):
        fastbip.block_counts(bad, np.arange(40) % 3, np.arange(30) % 2)
    assert len(calls) == 1  # the message comes from the full check, run on failure only


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64, np.bool_])
@pytest.mark.parametrize("where", [0, 17, -1])
def test_every_bad_index_is_caught_by_the_fused_check(weighted, dtype, where):
    M = sp.random(50, 20, density=0.3, format="csr", random_state=2, dtype=np.float64)
    M.data = np.ceil(M.data * 3).astype(dtype)
    rows = np.arange(50) % 4
    rows[M.indptr.searchsorted(np.arange(M.nnz)[where], side="right") - 1] = -1  # unassigned
    for value in (20, -1, 2**31 - 1):
        bad = M.copy()
        bad.indices = bad.indices.copy()
        bad.indices[where] = value
        with pytest.raises(ValueError, match=r"M is not a valid CSR matrix: column indices"):
            fastbip.block_counts(bad, rows, np.arange(20) % 3, weighted=weighted)


def test_fused_check_leaves_results_exact():
    M = sp.random(200, 90, density=0.1, format="csr", random_state=3)
    M.data = np.ceil(M.data * 5).astype(np.int64)
    a, b = np.arange(200) % 7 - 1, np.arange(90) % 5 - 1  # some unassigned on both sides
    dense = M.toarray()
    ref = np.zeros((6, 4), dtype=np.int64)
    for i, j in zip(*np.nonzero(dense), strict=True):
        if a[i] >= 0 and b[j] >= 0:
            ref[a[i], b[j]] += dense[i, j]
    np.testing.assert_array_equal(fastbip.block_counts(M, a, b, 6, 4), ref)


def test_guard_code_fits_when_k_fills_the_code_dtype():
    # K_B = 255: the guard code 256 no longer fits uint8 codes
    M = sp.random(30, 300, density=0.1, format="csr", random_state=4)
    b = np.arange(300) % 255
    got = fastbip.block_counts(M, np.zeros(30, int), b, 1, 255)
    ref = np.bincount(b[M.indices], weights=M.data, minlength=255)
    np.testing.assert_allclose(got[0], ref)


# --------------------------------------------------------------------------- other formats


def test_csc_and_coo_are_checked_before_scipy_converts_them():
    M = sp.random(6, 5, density=0.5, format="csr", random_state=0)
    c = M.tocsc()
    c.indices = c.indices.copy()
    c.indices[0] = 6
    with pytest.raises(ValueError, match=r"not a valid CSC matrix: row indices must be < n_people"):
        fastbip.block_counts(c, np.zeros(6, int), np.zeros(5, int))
    o = M.tocoo()
    o.col = o.col.copy()
    o.col[1] = 5
    with pytest.raises(ValueError, match=r"not a valid COO matrix: column indices"):
        fastbip.block_counts(o, np.zeros(6, int), np.zeros(5, int))


def test_indptr_only_check_skips_the_indices():
    M = _raw([0, 2, 3], [0, 5, 1])
    check_csr_structure(M, indices=False)  # the indices are the caller's kernel's to check
    with pytest.raises(ValueError, match="non-decreasing"):
        check_csr_structure(_raw([0, 3, 2], [0, 1, 1]), indices=False)


# --------------------------------------------------------------------------- event offsets


@pytest.mark.parametrize(
    ("offsets", "n_times", "exc", "match"),
    [
        (
            [0, 2, 9],
            5,
            ValueError,
            r"end at len\(times\) = 5; got events.offsets\[2\] = 9 at the end",
        ),
        ([0, 10**12, 5], 5, ValueError, r"never decrease.*; got events.offsets\[2\] = 5 <"),
        ([1, 2, 5], 5, ValueError, r"must start at 0"),
        ([0, 5], 5, ValueError, r"must have nnz \+ 1 = 3 entries"),
        ([0.0, 2.0, 5.0], 5, TypeError, r"must hold integers"),
        (
            np.array([0, 2**63 + 5, 5], dtype=np.uint64),
            5,
            ValueError,
            r"got a value 9223372036854775813",
        ),
    ],
)
def test_check_offsets_names_the_defect(offsets, n_times, exc, match):
    from fastbip._validation import check_offsets

    with pytest.raises(exc, match=match):
        check_offsets(np.asarray(offsets), 2, n_times)


def test_check_offsets_accepts_and_converts():
    from fastbip._validation import check_offsets

    out = check_offsets(np.array([0, 0, 3], dtype=np.int32), 2, 3)
    assert out.dtype == np.int64 and out.tolist() == [0, 0, 3]
