"""Draws from distributions on a counter-based stream: Poisson, and alias tables.

Cache and threads: ``build_alias_tables`` is serial, ``@njit(cache=True, nogil=True)``; it
runs once per call of ``sample_purchases`` on O(n_items + K_A * K_B) entries (or
O(n_people) for the exact model), which is not worth a thread pool. ``_poisson`` and
``_alias_draw`` are ``inline="always"`` helpers compiled into the row-parallel kernels of
``generate.py``. numba's cache is keyed on each kernel's own file: after changing an inline
helper here, clear the cached kernels of ``fastbip/_kernels``.
"""

import math

import numpy as np
from numba import njit

from .random import _LOW32, _S32, _next, _uniform


@njit(inline="always")
def _poisson(s, lam):
    """Poisson draw of mean ``lam`` (float64 >= 0) from state ``s`` (uint64): (state, int64).

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
    alias = np.empty(n, np.int64)
    for t in range(n):  # a loop, not np.arange(n).astype(...): faster to compile
        alias[t] = t
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
