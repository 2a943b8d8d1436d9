"""Numba kernels of the purchase generator: row-parallel, written straight into CSR.

Randomness: a counter-based generator. Each fixed-size block of rows gets its own
SplitMix64 stream, whose start is a hash of a 64-bit key (from ``SeedSequence``), the
block index and a stream number. A block's draws are a pure function of
``(key, block index)``, so the output is bit-identical for any number of threads.

Nothing here validates its input: callers (``fastbip.purchases``) do.
"""

import math

import numpy as np
from numba import get_thread_id, njit, prange

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53

#: stream numbers mixed into each block's seed
STREAM_COUNTS = 1
STREAM_ITEMS = 2
STREAM_EXACT = 3
STREAM_EVENTS = 4


@njit(inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(inline="always")
def _next(s):
    """SplitMix64 step: (uint64 state) -> (new state, uint64 output)."""
    s = s + _GAMMA
    return s, _mix(s)


@njit(inline="always")
def _uniform(s):
    """(state) -> (state, float64 uniform in [0, 1) with 53 random bits)."""
    s, z = _next(s)
    return s, (z >> _S11) * _INV53


@njit(inline="always")
def _block_state(key, block, stream):
    """Start state of the stream of row block ``block`` (int) for stream number ``stream``."""
    h = _mix(key ^ _mix(np.uint64(block) * _GAMMA + np.uint64(stream)))
    return _mix(h + _GAMMA)


@njit(inline="always")
def _poisson(s, lam):
    """(state, float64 mean >= 0) -> (state, int64 Poisson draw).

    Inversion by sequential search for means below 10, Hoermann's PTRS transformed
    rejection for larger means.
    """
    if not lam > 0.0:
        return s, 0
    if lam < 10.0:
        s, u = _uniform(s)
        p = math.exp(-lam)
        f = p
        k = 0
        while u > f and k < 200:
            k += 1
            p = p * lam / k
            f += p
        return s, k
    slam = math.sqrt(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    vr = 0.9277 - 3.6224 / (b - 2.0)
    loglam = 0.0  # the slow path's constants are computed on first use
    invalpha = 0.0
    while True:
        s, u = _uniform(s)
        u = u - 0.5
        s, v = _uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return s, np.int64(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if invalpha == 0.0:
            loglam = math.log(lam)
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
        if math.log(v) + math.log(invalpha) - math.log(
            a / (us * us) + b
        ) <= -lam + k * loglam - math.lgamma(k + 1.0):
            return s, np.int64(k)


@njit(inline="always")
def _alias_draw(s, start, size, table):
    """One draw from the alias table rows ``[start, start + size)``: (state, int64 id).

    table: uint32 (N, 4), row t = (keep threshold, own id, alias id, unused); slot t is
    chosen uniformly (multiply-shift with Lemire's rejection, so exactly uniform), its
    own id kept when the next 32 random bits are below the threshold, else its alias.
    """
    s, z = _next(s)
    prod = (z >> _S32) * np.uint64(size)
    if (prod & _LOW32) < np.uint64(size):  # rare: reject the biased part of the range
        lim = np.uint64((4294967296 - size) % size)
        while (prod & _LOW32) < lim:
            s, z2 = _next(s)
            prod = (z2 >> _S32) * np.uint64(size)
    p = np.uint64(start) + (prod >> _S32)  # unsigned index: no wraparound check
    own = table[p, 1]
    other = table[p, 2]
    return s, np.int64(own if np.uint32(z & _LOW32) < table[p, 0] else other)


@njit(cache=True, nogil=True)
def build_alias_tables(weights, ids, starts, table):
    """Walker/Vose alias tables for consecutive groups of weights, packed for ``_alias_draw``.

    weights: float64 (N,), >= 0, finite. ids: int64 (N,), 0 <= ids < 2**32, the value
    drawn for each entry. starts: int64 (G + 1,), nondecreasing, starts[0] = 0,
    starts[-1] = N; group g holds entries [starts[g], starts[g+1]).
    Fills table, uint32 (N, 4) (allocated by the caller, e.g. on huge pages): row t =
    (threshold, ids[t], ids[alias of t], 0); slot t keeps its own id with probability
    threshold / 2**32. Slots never aliased (probability 1)
    have alias == own id, so they are exact. A group whose weights sum to 0 is uniform.
    """
    n = weights.size
    prob = np.ones(n, np.float64)
    alias = np.arange(n).astype(np.int64)
    small = np.empty(n, np.int64)
    large = np.empty(n, np.int64)
    scaled = np.empty(n, np.float64)
    for g in range(starts.size - 1):
        a = starts[g]
        b = starts[g + 1]
        size = b - a
        if size == 0:
            continue
        tot = 0.0
        for t in range(a, b):
            tot += weights[t]
        if not tot > 0.0:
            continue
        ns = 0
        nl = 0
        for t in range(a, b):
            scaled[t] = weights[t] * size / tot
            if scaled[t] < 1.0:
                small[ns] = t
                ns += 1
            else:
                large[nl] = t
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            sm = small[ns]
            lg = large[nl - 1]
            prob[sm] = scaled[sm]
            alias[sm] = lg
            scaled[lg] = (scaled[lg] + scaled[sm]) - 1.0
            if scaled[lg] < 1.0:
                nl -= 1
                small[ns] = lg
                ns += 1
        for t in range(nl):
            prob[large[t]] = 1.0
        for t in range(ns):
            prob[small[t]] = 1.0
    for t in range(n):
        table[t, 0] = np.uint32(min(math.floor(prob[t] * 4294967296.0), 4294967295.0))
        table[t, 1] = np.uint32(ids[t])
        table[t, 2] = np.uint32(ids[alias[t]])
        table[t, 3] = 0


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
    return top.max() if nb > 0 else 0


@njit(cache=True, nogil=True)
def exact_cluster_counts(totals, people_starts, people_table, n, key):
    """Exact block totals: allocate totals[k, l] draws over the people of cluster k.

    totals: int64 (K_A, K_B) >= 0. people_starts: int64 (K_A + 1,), people_order:
    people_table: alias tables of theta over each people-cluster (``build_alias_tables``
    with ids = people sorted by cluster, groups = clusters). n: number of
    people. Returns int32 (n, K_B): how many of row i's draws fall in item-cluster l.
    One serial stream per block pair (k, l); O(sum of totals).
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
def fill_wave(
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

    Block b draws from the stream of block first_block + b (see ``row_counts_poisson``).

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
    their counts (``commit_wave`` turns these into offsets).
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
                hist[:] = 0
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
def commit_wave(b0, b1, block_size, draw_off, st_idx, st_cnt, indptr, indices, data):
    """Copy the staged rows of blocks [b0, b1) to their final CSR positions.

    indptr (n + 1,) must be final up to row b0*block_size and hold, for the wave's rows,
    indptr[i + 1] = the row's number of entries (``fill_wave``); this turns those into
    offsets (serial prefix sum, O(rows)) and then copies the rows in parallel.
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


@njit(parallel=True, cache=True)
def sample_event_times(
    indptr, indices, data, offsets, item_labels, cdf, guide, start, step, end, block_size, key
):
    """Timestamps of every purchase of a CSR matrix, aligned with its entries.

    indptr/indices/data: canonical CSR (n rows), data >= 0 integers. offsets: int64
    (nnz + 1,), the cumsum of data. item_labels: int64 (m,) in [0, K). cdf: float64
    (K, G + 1), row l nondecreasing from 0 to 1: the CDF of cluster l's profile at the
    grid points start + g * step (piecewise-constant density inside a cell). guide: int64
    (K, U) with guide[l, q] = the last cell g with cdf[l, g] <= q / U (where to start the
    search of a uniform in [q / U, (q + 1) / U)). end: the
    period's end (times are kept below it). Returns float64 (offsets[-1],): the data[e]
    times of entry e at offsets[e]:offsets[e + 1], sorted (sorted uniforms, mapped through
    the inverse CDF). Row block b has its own stream.
    """
    n = indptr.size - 1
    g = cdf.shape[1] - 1
    nu = guide.shape[1]
    times = np.empty(offsets[-1], np.float64)
    top = np.nextafter(end, -np.inf)
    nb = (n + block_size - 1) // block_size
    for b in prange(nb):
        s = _block_state(key, b, STREAM_EVENTS)
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
def window_counts(offsets, times, start, end):
    """Number of times in [start, end) per entry: int32 (offsets.size - 1,).

    offsets: int64 (nnz + 1,), times: float64, sorted within each entry's slice.
    """
    nnz = offsets.size - 1
    out = np.empty(nnz, np.int32)
    for e in prange(nnz):
        a = offsets[e]
        b = offsets[e + 1]
        out[e] = np.searchsorted(times[a:b], end, side="left") - np.searchsorted(
            times[a:b], start, side="left"
        )
    return out


@njit(parallel=True, cache=True)
def window_matrix(indptr, indices, offsets, times, start, end, out_indptr):
    """The CSR of the events in [start, end): (indices, int32 counts) of the kept entries.

    indptr/indices: the purchase matrix's CSR structure (n rows); offsets: int64
    (nnz + 1,), times: float64 sorted within each entry's slice. out_indptr (n + 1,),
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
