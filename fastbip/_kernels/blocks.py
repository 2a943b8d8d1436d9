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

Cache and threads
-----------------
- Every kernel is compiled with ``cache=True``: the first call of a session is the user's wait
  (about a second per kernel and specialisation, against milliseconds from the cache). The
  callers convert once so that few specialisations exist: codes in three widths, indices in
  two, data as None (counting), uint8, int32, int64, float32 or float64.
- The three counting kernels are ``parallel=True`` and cached as well. This is safe here: the
  compiled code asks numba's thread pool for its size at run time (``prange`` over a fixed
  number of chunks), nothing thread-count dependent is baked into the cache, and the chunk
  layout (``bounds``) is chosen by the caller from the data alone. ``tests/test_blocks.py``
  compares one thread with many in the same process, loading the cached code.
- ``_label_codes`` and ``_all_ones`` are serial (``nogil=True``): one cheap pass over an array
  of length n or nnz, which threads would not speed up against their start cost.

Small inputs (``fastbip._small.SMALL``) take the numpy twins in ``fastbip/_small.py``
instead, so a small first run compiles none of ``_block_sums_csr``, ``_label_codes`` or
``_all_ones``.

Nothing is validated here beyond what a kernel reads anyway: the caller
(``fastbip.blocks.counts``) checks shapes, ranges and dtypes and guarantees the preconditions
stated in each docstring. The one exception is ``_block_sums_csr``, which clamps every column
index as it reads it and counts the out-of-range ones in a guard column (a separate check would
read every index a second time).
"""

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def _label_codes(labels, n_clusters, out):
    """Write the code of every label: the label itself, or ``n_clusters`` for -1.

    labels: any integer dtype, (n,), contiguous; values in -1 .. n_clusters - 1 (checked by
        the caller).
    n_clusters: int K >= 0.
    out: uint8, uint16 or uint32, (n,), wide enough to hold K; written in place.
    """
    k = n_clusters
    for i in range(np.uint64(labels.shape[0])):
        v = labels[i]
        if v < 0:
            out[i] = k
        else:
            out[i] = v


@njit(cache=True, nogil=True)
def _all_ones(data):
    """True when every value of ``data`` equals one (stops at the first other).

    data: uint8, int32 or int64, (nnz,). Lets integer data that are all ones take the
    counting path (no data read per entry).
    """
    for e in range(np.uint64(data.shape[0])):
        if data[e] != 1:
            return False
    return True


@njit(parallel=True, nogil=True, cache=True)
def _block_sums_csr(indptr, indices, data, row_codes, col_codes, n_row, n_col, bounds, out):
    """Sum the stored values (or count the stored entries) per (row cluster, column cluster),
    with a guard column that catches every column index out of range.

    indptr: uint32 or uint64, (n_rows + 1,), non-decreasing CSR row pointers,
        indptr[0] = 0, indptr[-1] = nnz (checked by the caller: an O(n_rows) pass).
    indices: uint32 or uint64, (nnz,), CSR column indices, any values. Each is clamped to
        len(col_codes) - 1 before its code is read (an unsigned view turns a negative index
        into a huge one, so one ``min`` covers both ends, and no branch is taken).
    data: uint8, int32, int64, float32 or float64, (nnz,), the stored values (float32 is
        summed in float64); or None to count the stored entries (numba compiles a separate
        specialisation without the data reads, so counting costs no more than a kernel of its
        own: measured with ``benchmarks/bench_blocks.py``).
    row_codes: uint8/16/32, (n_rows,), values in 0..n_row (n_row = unassigned).
    col_codes: uint8/16/32, (n_cols + 1,), values in 0..n_col (n_col = unassigned) for the
        n_cols columns, then the guard code n_col + 1 in the last place: an index past the
        last column lands there.
    n_row, n_col: int, the numbers of clusters K_A and K_B.
    bounds: int64, (n_chunks + 1,), non-decreasing row boundaries, bounds[0] = 0,
        bounds[-1] = n_rows.
    out: int64 (counting, integer data) or float64, (n_chunks, 2, (n_row + 1) * (n_col + 2)),
        zero-filled; written in place.
    The table is out.sum(axis=(0, 1)).reshape(n_row + 1, n_col + 2)[:n_row, :n_col]; its
    column n_col + 1 (over all rows, unassigned ones included) holds the entries whose index
    is out of range: when counting, any such entry makes it non-zero. Bad entries never
    reach the table. Integer sums are exact (no overflow below 2**63); float sums are
    accumulated in a fixed order for a given ``bounds``, hence identical whatever the thread
    count.
    """
    n_chunks = bounds.shape[0] - 1
    stride = np.uint64(n_col + 2)
    one = np.uint64(1)
    two = np.uint64(2)
    last = np.uint64(col_codes.shape[0] - 1)
    for c in prange(n_chunks):
        acc0 = np.zeros(out.shape[2], dtype=out.dtype)
        acc1 = np.zeros(out.shape[2], dtype=out.dtype)
        for i in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            # unassigned rows are counted into row n_row, which the caller drops: their
            # indices are checked like the others
            base = np.uint64(row_codes[i]) * stride
            k = np.uint64(indptr[i])
            end = np.uint64(indptr[i + one])
            if data is None:
                while k + one < end:
                    acc0[base + np.uint64(col_codes[min(np.uint64(indices[k]), last)])] += 1
                    acc1[base + np.uint64(col_codes[min(np.uint64(indices[k + one]), last)])] += 1
                    k += two
                if k < end:
                    acc0[base + np.uint64(col_codes[min(np.uint64(indices[k]), last)])] += 1
            else:
                while k + one < end:
                    j0 = min(np.uint64(indices[k]), last)
                    j1 = min(np.uint64(indices[k + one]), last)
                    acc0[base + np.uint64(col_codes[j0])] += data[k]
                    acc1[base + np.uint64(col_codes[j1])] += data[k + one]
                    k += two
                if k < end:
                    acc0[base + np.uint64(col_codes[min(np.uint64(indices[k]), last)])] += data[k]
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

    indptr, indices, row_codes, n_row, n_col, bounds: as in ``_block_sums_csr``, with
        column indices checked by the caller (each < len(col_codes)).
    col_codes: uint8/16/32, (n_cols,), values in 0..n_col (n_col = unassigned).
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
