"""Numba kernels that check the structure of arrays before other kernels trust it.

Each check reads every entry once and returns a status code and the position of the first
offending entry, so that the calling module (``fastbip._validation``) can raise an error
that names the input, what was expected and what was found. Nothing here raises.

Small inputs (``fastbip._small.SMALL``) take the numpy twins in ``fastbip/_small.py``
instead, so a small first run compiles none of these.

Cache and threads: serial (``cache=True, nogil=True``). A check is one branch-light pass
over ``indptr`` and ``indices``, bounded by memory bandwidth; on two cores a parallel
variant gained too little to pay for its compile time.
"""

import numpy as np
from numba import njit

# status codes of _csr_structure_status
CSR_OK = 0
CSR_FIRST_NOT_ZERO = 1
CSR_DECREASING = 2
CSR_LAST_NOT_NNZ = 3
CSR_INDEX_NEGATIVE = 4
CSR_INDEX_TOO_LARGE = 5
CSR_UNSORTED = 6
CSR_DUPLICATE = 7


@njit(cache=True, nogil=True)
def _indptr_status(indptr, nnz):
    """First defect of CSR row pointers, or ``(CSR_OK, -1)``: O(n_rows), no index is read.

    indptr : int32 or int64 (n_rows + 1,), size >= 1.
    nnz : int, the number of stored entries (the length of ``indices`` and ``data``).
    Returns (status, position) with status ``CSR_FIRST_NOT_ZERO``, ``CSR_DECREASING`` or
    ``CSR_LAST_NOT_NNZ`` and the offending position in ``indptr``. When OK, every row's
    entries ``indptr[i]:indptr[i + 1]`` lie inside ``[0, nnz)``.
    """
    n_rows = indptr.size - 1
    if indptr[0] != 0:
        return CSR_FIRST_NOT_ZERO, 0
    for i in range(n_rows):
        if indptr[i + 1] < indptr[i]:
            return CSR_DECREASING, i + 1
    if indptr[n_rows] != nnz:
        return CSR_LAST_NOT_NNZ, n_rows
    return CSR_OK, -1


@njit(cache=True, nogil=True)
def _csr_structure_status(indptr, indices, n_cols, check_sorted):
    """First defect of a CSR structure, or ``(CSR_OK, -1)``.

    indptr : int32 or int64 (n_rows + 1,), n_rows >= 0 (size >= 1).
    indices : int32 or int64 (nnz,), any values.
    n_cols : int, the number of columns.
    check_sorted : bool, also require strictly increasing column indices inside each row
        (canonical CSR: sorted, no duplicates).
    Returns (status, position): status is one of the ``CSR_*`` codes; position is the
    offending index into ``indptr`` (codes 1-3) or ``indices`` (codes 4-7), -1 when OK.
    Entries are read only within ``[0, min(indptr[-1], nnz))``, and only once ``indptr`` is
    known to be monotone and within ``indices``.
    """
    n_rows = indptr.size - 1
    nnz = indices.size
    status, pos = _indptr_status(indptr, nnz)
    if status != CSR_OK:
        return status, pos
    # the range of the indices as a branch-free min/max reduction (vectorised), and a
    # second pass to find the first offender only when the range is wrong
    lo = indices[0] if nnz else 0
    hi = lo
    for p in range(nnz):
        x = indices[p]
        lo = min(lo, x)
        hi = max(hi, x)
    if lo < 0 or hi >= n_cols:
        for p in range(nnz):
            if indices[p] < 0:
                return CSR_INDEX_NEGATIVE, p
            if indices[p] >= n_cols:
                return CSR_INDEX_TOO_LARGE, p
    if check_sorted:
        for i in range(n_rows):
            for p in range(indptr[i] + 1, indptr[i + 1]):
                if indices[p] < indices[p - 1]:
                    return CSR_UNSORTED, p
                if indices[p] == indices[p - 1]:
                    return CSR_DUPLICATE, p
    return CSR_OK, -1


@njit(cache=True, nogil=True)
def _offsets_status(offsets, n_entries, n_times):
    """First defect of event offsets, or ``(0, -1)``.

    offsets : int64 (any size), the start of each entry's events in a times array.
    n_entries : int, the number of entries the offsets must describe (size n_entries + 1).
    n_times : int, the length of the times array.
    Returns (status, position): 1 wrong size (position -1), 2 first offset not 0, 3 a
    decrease at position p, 4 last offset not n_times; (0, -1) when the offsets are monotone
    from 0 to n_times.
    """
    if offsets.size != n_entries + 1:
        return 1, -1
    if offsets[0] != 0:
        return 2, 0
    for p in range(n_entries):
        if offsets[p + 1] < offsets[p]:
            return 3, p + 1
    if offsets[n_entries] != n_times:
        return 4, n_entries
    return 0, -1


@njit(cache=True, nogil=True)
def _min_max_int(a):
    """(min, max) of a non-empty int array ``a`` (any integer dtype, 1-D) as int64."""
    lo = np.int64(a[0])
    hi = lo
    for v in a:
        x = np.int64(v)
        if x < lo:
            lo = x
        elif x > hi:
            hi = x
    return lo, hi


@njit(cache=True, nogil=True)
def _offsets_counts_status(offsets, data):
    """First entry whose number of events differs from its count, or -1.

    offsets : int64 (nnz + 1,), already checked monotone (``_offsets_status``).
    data : any numeric dtype (nnz,), the stored counts.
    Returns the first e with ``offsets[e + 1] - offsets[e] != data[e]``, or -1.
    """
    for e in range(data.size):
        if offsets[e + 1] - offsets[e] != data[e]:
            return e
    return -1
