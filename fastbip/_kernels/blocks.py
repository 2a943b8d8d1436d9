"""Block-count kernels: one pass over a CSR matrix, counts per (row cluster, column cluster).

Conventions shared by every kernel here:

- Labels arrive as *codes*: an unsigned array (uint8, uint16 or uint32) where the values
  ``0 .. K-1`` are clusters and the value ``K`` means "unassigned". The accumulators therefore
  have ``K_A + 1`` rows and ``K_B + 1`` columns and the caller drops the last row and column;
  no branch is needed for unassigned columns.
- ``indptr`` and ``indices`` arrive as unsigned views (``uint32`` or ``uint64``) of the CSR
  arrays. Unsigned subscripts spare numba the negative-index wraparound test on every access.
- Work is split into ``n_chunks`` row ranges ``bounds[c] .. bounds[c + 1]`` that hold about the
  same number of entries. Each chunk owns private accumulators, so the result does not depend
  on the number of threads, and the caller sums the partial tables in a fixed order.
- Two interleaved accumulators per chunk break the store-to-load dependency when consecutive
  entries fall in the same cell.

Nothing is validated here: the caller (``fastbip.blocks``) checks shapes, ranges and dtypes.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def _encode_labels(labels, n_clusters, out):
    """Write label codes and return the smallest and largest label seen.

    labels: 1-D integer array (any signed or unsigned width), length n.
    n_clusters: int K; negative labels are written as K ("unassigned").
    out: 1-D unsigned array of length n, wide enough to hold K.
    Returns (min_label, max_label) as int64 (0, -1 when n == 0); the caller rejects
    labels < -1 or >= K after the call.
    """
    n = labels.shape[0]
    lo = np.int64(0)
    hi = np.int64(-1)
    if n > 0:
        lo = np.int64(labels[0])
        hi = np.int64(labels[0])
    k = n_clusters
    for i in range(np.uint64(n)):
        v = np.int64(labels[i])
        if v < lo:
            lo = v
        if v > hi:
            hi = v
        if v < 0:
            out[i] = k
        else:
            out[i] = v
    return lo, hi


@njit(cache=True, nogil=True)
def _all_ones(data):
    """True when every value of the 1-D array ``data`` equals one (stops at the first other)."""
    for e in range(np.uint64(data.shape[0])):
        if data[e] != 1:
            return False
    return True


@njit(parallel=True, nogil=True, cache=True)
def _block_counts_csr(indptr, indices, row_codes, col_codes, n_row, n_col, bounds, out):
    """Count stored entries per (row cluster, column cluster).

    indptr: uint32 or uint64, (n_rows + 1,), CSR row pointers.
    indices: uint32 or uint64, (nnz,), CSR column indices, each < len(col_codes).
    row_codes: uint8/16/32, (n_rows,), values in 0..n_row (n_row = unassigned).
    col_codes: uint8/16/32, (n_cols,), values in 0..n_col (n_col = unassigned).
    bounds: int64, (n_chunks + 1,), increasing row boundaries, bounds[0] = 0,
        bounds[-1] = n_rows.
    out: int64, (n_chunks, 2, (n_row + 1) * (n_col + 1)), zero-filled; written in place.
    The count table is out.sum(axis=(0, 1)).reshape(n_row + 1, n_col + 1)[:n_row, :n_col].
    """
    n_chunks = bounds.shape[0] - 1
    stride = np.uint64(n_col + 1)
    skip = np.uint64(n_row)
    one = np.uint64(1)
    two = np.uint64(2)
    for c in prange(n_chunks):
        acc0 = np.zeros(out.shape[2], dtype=out.dtype)
        acc1 = np.zeros(out.shape[2], dtype=out.dtype)
        for i in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            rc = np.uint64(row_codes[i])
            if rc == skip:
                continue
            base = rc * stride
            k = np.uint64(indptr[i])
            end = np.uint64(indptr[i + one])
            while k + one < end:
                acc0[base + np.uint64(col_codes[indices[k]])] += 1
                acc1[base + np.uint64(col_codes[indices[k + one]])] += 1
                k += two
            if k < end:
                acc0[base + np.uint64(col_codes[indices[k]])] += 1
        out[c, 0, :] = acc0
        out[c, 1, :] = acc1


@njit(parallel=True, nogil=True, cache=True)
def _block_sums_csr(indptr, indices, data, row_codes, col_codes, n_row, n_col, bounds, out):
    """Sum stored values per (row cluster, column cluster).

    Same arguments as ``_block_counts_csr`` plus
    data: (nnz,) numeric values of the CSR matrix.
    out: int64 (integer data) or float64, (n_chunks, 2, (n_row + 1) * (n_col + 1)),
        zero-filled; written in place.
    Integer sums are exact (no overflow below 2**63); float sums are accumulated in a fixed
    order for a given ``bounds``, hence identical whatever the thread count.
    """
    n_chunks = bounds.shape[0] - 1
    stride = np.uint64(n_col + 1)
    skip = np.uint64(n_row)
    one = np.uint64(1)
    two = np.uint64(2)
    for c in prange(n_chunks):
        acc0 = np.zeros(out.shape[2], dtype=out.dtype)
        acc1 = np.zeros(out.shape[2], dtype=out.dtype)
        for i in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            rc = np.uint64(row_codes[i])
            if rc == skip:
                continue
            base = rc * stride
            k = np.uint64(indptr[i])
            end = np.uint64(indptr[i + one])
            while k + one < end:
                acc0[base + np.uint64(col_codes[indices[k]])] += data[k]
                acc1[base + np.uint64(col_codes[indices[k + one]])] += data[k + one]
                k += two
            if k < end:
                acc0[base + np.uint64(col_codes[indices[k]])] += data[k]
        out[c, 0, :] = acc0
        out[c, 1, :] = acc1


@njit(parallel=True, nogil=True, cache=True)
def _block_counts_windows_csr(
    indptr,
    indices,
    offsets,
    times,
    row_codes,
    col_codes,
    n_row,
    n_col,
    edges,
    uniform,
    bounds,
    out,
):
    """Count events per (time window, row cluster, column cluster) in one pass.

    indptr, indices, row_codes, col_codes, n_row, n_col, bounds: as in ``_block_counts_csr``.
    offsets: uint64, (nnz + 1,), non-decreasing; the events of stored entry e are
        times[offsets[e]:offsets[e + 1]].
    times: float64, (offsets[-1],).
    edges: float64, (T + 1,), strictly increasing; window t is [edges[t], edges[t + 1]).
        Events outside [edges[0], edges[T]) and NaN times are not counted.
    uniform: bool, True when the edges are (nearly) equally spaced. The window of a time is
        found by counting the edges at or below it when T <= 64; else, with uniform edges, by
        one division corrected against the edges (the same result as a search); else by a
        binary search.
    out: int64, (n_chunks, T * (n_row + 1) * (n_col + 1)), zero-filled; written in place.
    The table is out.sum(axis=0).reshape(T, n_row + 1, n_col + 1)[:, :n_row, :n_col].
    """
    n_chunks = bounds.shape[0] - 1
    n_windows = edges.shape[0] - 1
    stride = np.uint64(n_col + 1)
    plane = np.uint64((n_row + 1) * (n_col + 1))
    skip = np.uint64(n_row)
    lo_edge = edges[0]
    hi_edge = edges[n_windows]
    scale = n_windows / (hi_edge - lo_edge)
    last = np.int64(n_windows - 1)
    one = np.uint64(1)
    for c in prange(n_chunks):
        acc = np.zeros(out.shape[1], dtype=np.int64)
        for i in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            rc = np.uint64(row_codes[i])
            if rc == skip:
                continue
            base = rc * stride
            for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + one])):
                cell = base + np.uint64(col_codes[indices[k]])
                for q in range(np.uint64(offsets[k]), np.uint64(offsets[k + one])):
                    t = times[q]
                    if not (t >= lo_edge and t < hi_edge):
                        continue
                    if n_windows <= 64:
                        # largest w with edges[w] <= t, by counting (no branch to mispredict)
                        w = np.int64(0)
                        for j in range(1, n_windows):
                            w += np.int64(edges[j] <= t)
                    elif uniform:
                        # one division, then corrected against the edges themselves
                        w = np.int64((t - lo_edge) * scale)
                        w = min(max(w, np.int64(0)), last)
                        while w > 0 and t < edges[w]:
                            w -= 1
                        while w < last and t >= edges[w + 1]:
                            w += 1
                    else:
                        # largest w with edges[w] <= t, binary search
                        w = np.int64(0)
                        n = np.int64(n_windows)
                        while n > 1:
                            half = n >> 1
                            if edges[w + half] <= t:
                                w += half
                            n -= half
                    acc[np.uint64(w) * plane + cell] += 1
        out[c, :] = acc
