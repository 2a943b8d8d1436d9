"""Numba kernels of the purchase generator: row-parallel, written straight into CSR.

Rows are cut into fixed blocks of ``block_size`` rows; block ``b`` draws from its own
counter-based stream (``random.py``), so the output is bit-identical for any number of
threads. Pass 1 (``row_counts_poisson``) draws each row's number of purchases; pass 2 runs
in waves of consecutive blocks: ``fill_wave_csr`` draws, radix-sorts and merges each row's
items into a staging buffer, ``commit_wave_csr`` copies the staged rows to their final CSR
offsets. ``exact_cluster_counts`` replaces pass 1 for the exact-totals model.

Cache and threads:

* ``row_counts_poisson``, ``fill_wave_csr``, ``commit_wave_csr``: ``parallel=True`` over row
  blocks (the work is O(purchases) and independent per block; ``fill_wave_csr`` uses one
  scratch row per pool thread, indexed by ``numba.get_thread_id()``, and the caller sets
  the parallel chunk size to 1 so that uneven blocks balance). They are cached
  (``cache=True``): the compiled code does not depend on the thread count, and
  ``tests/test_purchases.py::test_bit_identical_across_thread_counts`` loads the same cache
  under 1 and several threads and checks the results are equal.
* ``exact_cluster_counts``: serial (``cache=True, nogil=True``): one stream per block pair,
  each pair's draws depend on the previous ones through the shared output table.
* The inline helpers of ``random.py`` and ``sampling.py`` are compiled into these kernels;
  numba's cache is keyed on this file only, so clear the cache after changing them.

Nothing here validates its input: the caller (``fastbip.generate.purchases``) guarantees
every precondition stated in the docstrings.
"""

import math

import numpy as np
from numba import get_thread_id, njit, prange

from ._serial import serial_twin
from .random import (
    _LOW32,
    _S32,
    STREAM_COUNTS,
    STREAM_EXACT,
    STREAM_ITEMS,
    _block_state,
    _uniform,
)
from .sampling import _alias_draw, _poisson


@njit(parallel=True, cache=True)
def row_counts_poisson(theta, people_labels, factor, block_size, key, draw_off, first_block):
    """Pass 1: each row's number of draws, Poisson(theta[i] * factor[people_labels[i]]).

    theta: float64 (n,), >= 0, finite. people_labels: int32 (n,) in [0, K_A). factor:
    float64 (K_A,), >= 0, finite. block_size: int > 0. key: uint64. Writes row i's count
    to draw_off[i + 1] (int64 (n + 1,)) and returns the largest count. Row block b (rows
    [b*block_size, (b+1)*block_size)) uses the stream of block first_block + b (the rows
    may be a slice of a larger matrix), so the result does not depend on the number of
    threads.
    """
    n = theta.size
    nb = (n + block_size - 1) // block_size
    top = np.zeros(nb, np.int64)
    for b in prange(nb):
        s = _block_state(key, first_block + b, STREAM_COUNTS)
        r1 = min(n, (b + 1) * block_size)
        mx = 0
        for i in range(np.uint64(b * block_size), np.uint64(r1)):
            s, c = _poisson(s, theta[i] * factor[np.uint64(people_labels[i])])
            draw_off[i + np.uint64(1)] = c
            mx = max(mx, c)
        top[b] = mx
    mx = 0
    for b in range(nb):  # a loop, not top.max(): array reductions take seconds to compile
        mx = max(mx, top[b])
    return mx


@njit(cache=True, nogil=True)
def exact_cluster_counts(totals, people_starts, people_table, n, key):
    """Exact block totals: allocate totals[k, l] draws over the people of cluster k.

    totals: int64 (K_A, K_B), >= 0. people_starts: int64 (K_A + 1,), nondecreasing, and
    people_table: uint32 (n, 4): the alias tables of theta over each people-cluster
    (``build_alias_tables`` with ids = people sorted by cluster, one group per cluster;
    group k in rows [people_starts[k], people_starts[k + 1])). n: number of people.
    key: uint64. Returns int32 (n, K_B): how many of row i's draws fall in item-cluster l
    (each entry must fit in int32). One serial stream per block pair (k, l), stream number
    k * K_B + l; O(sum of totals).
    """
    ka, kb = totals.shape
    out = np.zeros((n, kb), np.int32)
    for k in range(ka):
        a = people_starts[k]
        size = people_starts[k + 1] - a
        for l in range(kb):
            t = totals[k, l]
            if t == 0 or size == 0:
                continue
            s = _block_state(key, k * kb + l, STREAM_EXACT)
            for _ in range(t):
                s, i = _alias_draw(s, a, size, people_table)
                out[i, l] += 1
    return out


@njit(parallel=True, cache=True)
def fill_wave_csr(
    b0,
    b1,
    block_size,
    draw_off,
    people_labels,
    ctab,
    itab_start,
    itab,
    cluster_counts,
    aff_x,
    aff_y,
    aff_w,
    key,
    digit_bits,
    n_pass,
    binary,
    chunk_draws,
    scratch,
    st_idx,
    st_cnt,
    indptr,
    first_block,
):
    """Pass 2 for the row blocks [b0, b1) (one "wave"): draw, sort, merge into staging.

    Block b draws from the stream of block first_block + b of ``key`` (uint64, the seed's
    key; see ``row_counts_poisson``).

    draw_off: int64 (n + 1,), the cumsum of the draws per row (pass 1). Row i's staging
    region is [draw_off[i] - w, draw_off[i + 1] - w) with
    w = draw_off[b0 * block_size]. people_labels: int32 (n,). ctab: uint32 (K_A * K_B, 4)
    alias tables of the item-cluster choice, one group of K_B rows per people-cluster
    (ids = cluster number). itab: uint32 (m, 4) alias tables of the items of each
    item-cluster (ids = global item ids), group l in rows [itab_start[l], itab_start[l+1]);
    itab_start int64 (K_B + 1,). cluster_counts: int32 (n, K_B) for exact totals (then
    draws of row i == cluster_counts[i].sum()), or shape (0, 0) to draw the cluster of each draw.
    aff_x float64 (p, n), aff_y float64 (p, m), aff_w float64 (p,) = 1 / (2 scale^2): each
    draw is kept with probability exp(-sum_q aff_w[q] (x - y)^2) (p may be 0).
    digit_bits, n_pass: radix digits covering the item ids (ids < 2**32). binary: store 1
    instead of the count. chunk_draws: rows are sorted in chunks of at most this many
    draws (or one row). scratch: uint64 (threads, 2 * S), S >= max(chunk_draws, the
    draws of any row), one row per thread of the pool (working memory only: the result
    does not depend on it). st_idx (int32 or int64), st_cnt (int32): staging, at least
    the wave's draws long.
    Writes indptr[i + 1] (indptr: int32 or int64 (n + 1,)) = the number of distinct
    items of row i, left at the start of row i's staging region in increasing order with
    their counts (``commit_wave_csr`` turns these into offsets).
    """
    n = draw_off.size - 1
    base = draw_off[b0 * block_size]
    exact = cluster_counts.shape[0] > 0
    kb = itab_start.size - 1
    n_aff = aff_w.size
    nbuck = 1 << digit_bits
    dmask = np.uint64(nbuck - 1)
    half = scratch.shape[1] // 2
    for b in prange(b0, b1):
        r0 = b * block_size
        r1 = min(n, r0 + block_size)
        s = _block_state(key, first_block + b, STREAM_ITEMS)
        row = scratch[get_thread_id()]
        hist = np.empty(nbuck, np.int64)
        cur = np.empty(r1 - r0, np.int64)
        last = np.empty(r1 - r0, np.int64)
        # the block's rows in chunks of about chunk_draws draws (sorting in cache); the
        # random stream runs on through the block, so the chunking does not change results
        c0 = r0
        while c0 < r1:
            c1 = c0 + 1
            while c1 < r1 and draw_off[c1 + 1] - draw_off[c0] <= chunk_draws:
                c1 += 1
            src = row[:half]
            dst = row[half:]
            pos = 0
            # 1. draw: key = (row in chunk << 32) | item
            for i in range(c0, c1):
                rowkey = np.uint64(i - c0) << _S32
                k = people_labels[i]
                if exact:
                    for l in range(kb):
                        a = itab_start[l]
                        size = itab_start[l + 1] - a
                        for _ in range(cluster_counts[i, l]):
                            s, j = _alias_draw(s, a, size, itab)
                            src[np.uint64(pos)] = rowkey | np.uint64(j)
                            pos += 1
                else:
                    for _ in range(draw_off[i + 1] - draw_off[i]):
                        s, l = _alias_draw(s, k * kb, kb, ctab)
                        a = itab_start[l]
                        size = itab_start[l + 1] - a
                        s, j = _alias_draw(s, a, size, itab)
                        if n_aff > 0:
                            e = 0.0
                            for q in range(n_aff):
                                d = aff_x[q, i] - aff_y[q, j]
                                e += aff_w[q] * d * d
                            s, u = _uniform(s)
                            if u >= math.exp(-e):
                                continue
                        src[np.uint64(pos)] = rowkey | np.uint64(j)
                        pos += 1
            total = pos
            # 2. LSD radix sort of the chunk's keys by item, digit by digit (stable)
            for q in range(n_pass):
                shift = np.uint64(q * digit_bits)
                for d in range(nbuck):
                    hist[d] = 0
                for t in range(total):
                    hist[(src[t] >> shift) & dmask] += 1
                acc = 0
                for d in range(nbuck):
                    c = hist[d]
                    hist[d] = acc
                    acc += c
                for t in range(total):
                    e = src[t]
                    d = (e >> shift) & dmask
                    dst[np.uint64(hist[d])] = e
                    hist[d] += 1
                tmp = src
                src = dst
                dst = tmp
            # 3. stable scatter by row into the staging rows, merging repeats on the way
            for i in range(c0, c1):
                cur[i - r0] = draw_off[i] - base
                last[i - r0] = -1
            first = np.uint64(c0 - r0)
            for t in range(total):
                e = src[t]
                lr = (e >> _S32) + first
                j = np.int64(e & _LOW32)
                c = np.uint64(cur[lr])
                if last[lr] == j:
                    if not binary:
                        st_cnt[c - 1] += 1
                else:
                    st_idx[c] = j
                    st_cnt[c] = 1
                    cur[lr] = np.int64(c) + 1
                    last[lr] = j
            c0 = c1
        for i in range(r0, r1):
            indptr[i + 1] = cur[i - r0] - (draw_off[i] - base)


@njit(parallel=True, cache=True)
def commit_wave_csr(b0, b1, block_size, draw_off, st_idx, st_cnt, indptr, indices, data):
    """Copy the staged rows of blocks [b0, b1) to their final CSR positions.

    draw_off: int64 (n + 1,), as for ``fill_wave_csr``. st_idx (int32 or int64), st_cnt
    (int32): the staging that ``fill_wave_csr`` filled for the same wave. indptr: int32 or
    int64 (n + 1,), final up to row b0 * block_size and holding, for the wave's rows,
    indptr[i + 1] = the row's number of entries; this turns those into offsets (serial
    prefix sum, O(rows)) and then copies the rows in parallel into indices (indptr's
    dtype) and data (int32), both at least indptr[min(n, b1 * block_size)] long.
    """
    n = draw_off.size - 1
    r_lo = b0 * block_size
    r_hi = min(n, b1 * block_size)
    for i in range(r_lo, r_hi):
        indptr[i + 1] += indptr[i]
    base = draw_off[r_lo]
    for b in prange(b0, b1):
        r0 = b * block_size
        r1 = min(n, r0 + block_size)
        for i in range(r0, r1):
            src = np.uint64(draw_off[i] - base)
            dst = np.uint64(indptr[i])
            for t in range(np.uint64(indptr[i + 1] - indptr[i])):
                indices[dst + t] = st_idx[src + t]
                data[dst + t] = st_cnt[src + t]


# Serial twins (``_serial.py``): the same results, compiled several times faster; the caller
# uses them below ``fastbip.generate.purchases._PARALLEL_MIN_DRAWS`` draws.
row_counts_poisson_serial = serial_twin(row_counts_poisson)
fill_wave_csr_serial = serial_twin(fill_wave_csr)
commit_wave_csr_serial = serial_twin(commit_wave_csr)
