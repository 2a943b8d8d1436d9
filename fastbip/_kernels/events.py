"""Numba kernels of purchase times: the timestamps of every purchase, and time windows.

Cache and threads: both kernels are ``parallel=True`` (row blocks for
``event_times_csr``, rows for ``window_csr``; the work is O(purchases) and independent per
row) and cached (``cache=True``; the compiled code does not depend on the thread count, and
``event_times_csr`` gives each row block its own stream, so the times are the same whatever
the number of threads). ``_uniform`` and ``_block_state`` come inline from ``random.py``;
numba's cache is keyed on this file only, so clear the cache after changing them.

Nothing here validates its input: the callers (``fastbip.generate.events``) do.
"""

import math

import numpy as np
from numba import njit, prange

from ._serial import serial_twin
from .random import STREAM_EVENTS, _block_state, _uniform


@njit(parallel=True, cache=True)
def event_times_csr(
    indptr,
    indices,
    data,
    offsets,
    item_labels,
    cdf,
    guide,
    start,
    step,
    end,
    block_size,
    key,
    first_block,
):
    """Timestamps of every purchase of a CSR matrix, aligned with its entries.

    indptr/indices (int32 or int64)/data (integer): canonical CSR (n rows), data >= 0.
    offsets: int64 (nnz + 1,), the cumsum of data. item_labels: integer (m,) (int32 or
    narrower, or int64) in [0, K). cdf: float64 (K, G + 1), row l nondecreasing from 0 to
    1: the CDF of cluster l's profile at the grid points start + g * step
    (piecewise-constant density inside a cell). guide: int64 (K, U) with guide[l, q] = the
    last cell g with cdf[l, g] <= q / U (where to start the search of a uniform in
    [q / U, (q + 1) / U)). start, step, end: float64, step = (end - start) / G, end the
    period's end (times are kept below it). block_size: int > 0. key: uint64.
    first_block: int >= 0, the stream number of the matrix's first row block (0 for a whole
    matrix; b0 for the rows of blocks b0, ... of a larger one, whose times it then gives).
    Returns float64 (offsets[-1],): the data[e] times of entry e at
    offsets[e]:offsets[e + 1], sorted (sorted uniforms, mapped through the inverse CDF).
    Row block b has its own stream, number first_block + b.
    """
    n = indptr.size - 1
    g = cdf.shape[1] - 1
    nu = guide.shape[1]
    times = np.empty(offsets[-1], np.float64)
    top = np.nextafter(end, -np.inf)
    nb = (n + block_size - 1) // block_size
    for b in prange(nb):
        s = _block_state(key, first_block + b, STREAM_EVENTS)
        r1 = min(n, (b + 1) * block_size)
        for e in range(indptr[b * block_size], indptr[r1]):
            c = np.int64(data[e])
            if c <= 0:
                continue
            lab = item_labels[indices[e]]
            row = cdf[lab]
            o = offsets[e]
            # c sorted uniforms: insertion-sorted draws for small c, else partial sums of
            # c + 1 exponentials divided by their total
            if c <= 16:
                for t in range(c):
                    s, u = _uniform(s)
                    q = t
                    while q > 0 and times[o + q - 1] > u:
                        times[o + q] = times[o + q - 1]
                        q -= 1
                    times[o + q] = u
            else:
                acc = 0.0
                for t in range(c):
                    s, u = _uniform(s)
                    acc += -math.log1p(-u)
                    times[o + t] = acc
                s, u = _uniform(s)
                acc += -math.log1p(-u)
                for t in range(c):
                    times[o + t] /= acc
            for t in range(c):
                v = times[o + t]
                lo = guide[lab, min(np.int64(v * nu), nu - 1)]
                while lo < g - 1 and row[lo + 1] <= v:  # row[lo] <= v < row[lo + 1]
                    lo += 1
                width = row[lo + 1] - row[lo]
                frac = (v - row[lo]) / width if width > 0.0 else 0.5
                x = start + (lo + min(max(frac, 0.0), 1.0)) * step
                times[o + t] = min(x, top)
    return times


@njit(parallel=True, cache=True)
def window_csr(indptr, indices, offsets, times, start, end, out_indptr):
    """The CSR of the events in [start, end): (indices, int32 counts) of the kept entries.

    indptr/indices (int32 or int64): the purchase matrix's CSR structure (n rows);
    offsets: int64 (nnz + 1,), nondecreasing; times: float64 (offsets[-1],), sorted within
    each entry's slice; start, end: float64. Returns indices (indices' dtype) and int32
    counts, both (kept entries,). out_indptr (n + 1,),
    zeros, same dtype as indptr, is filled with the window matrix's row offsets. Entries
    with no event in the window are dropped.
    """
    n = indptr.size - 1
    nnz = indptr[n]
    counts = np.empty(nnz, np.int32)
    for i in prange(n):
        kept = 0
        for e in range(indptr[i], indptr[i + 1]):
            a = offsets[e]
            b = offsets[e + 1]
            if b - a <= 16:
                c = 0
                for t in range(a, b):
                    x = times[t]
                    c += (x >= start) & (x < end)
            else:
                c = np.searchsorted(times[a:b], end, side="left") - np.searchsorted(
                    times[a:b], start, side="left"
                )
            counts[e] = c
            if c > 0:
                kept += 1
        out_indptr[i + 1] = kept
    for i in range(n):
        out_indptr[i + 1] += out_indptr[i]
    out_indices = np.empty(out_indptr[n], indices.dtype)
    out_data = np.empty(out_indptr[n], np.int32)
    for i in prange(n):
        d = out_indptr[i]
        for e in range(indptr[i], indptr[i + 1]):
            if counts[e] > 0:
                out_indices[d] = indices[e]
                out_data[d] = counts[e]
                d += 1
    return out_indices, out_data


# Serial twins (``_serial.py``): the same results, compiled several times faster; the caller
# uses them below ``fastbip.generate.events._PARALLEL_MIN_EVENTS`` events.
event_times_csr_serial = serial_twin(event_times_csr)
window_csr_serial = serial_twin(window_csr)
