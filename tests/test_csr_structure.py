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
