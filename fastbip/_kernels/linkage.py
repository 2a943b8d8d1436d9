"""Hierarchical linkage of weighted points by the nearest-neighbour chain (numba).

Arrays in, arrays out; the caller (``fastbip.algorithms.features.weighted_linkage_labels``)
validates and converts once. Method codes: 0 ward, 1 average, 2 complete, 3 single.

Threads and cache: a serial kernel (``@njit(cache=True, nogil=True)``): the chain is
sequential by nature and its O(m^2) work on at most a few thousand micro-clusters is small;
``nogil`` lets callers run several linkages in threads. It compiles one specialisation
(float64 distances); up to ``fastbip._small.SMALL_LINKAGE`` points its numpy twin runs
instead, and the flat labels are the connected components of the lowest merges (scipy).
"""

import numpy as np
from numba import njit

WARD, AVERAGE, COMPLETE, SINGLE = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def _nn_chain_linkage_dense(D, sizes, method):
    """Nearest-neighbour-chain agglomeration of ``m`` weighted clusters.

    Parameters
    ----------
    D : float64 (m, m), C-contiguous, symmetric, overwritten.
        Initial dissimilarities. For ward (method 0) the *squared* Ward distance
        ``2 n_a n_b / (n_a + n_b) * ||c_a - c_b||^2``; for the others the Euclidean
        distance between the centres. The diagonal is ignored.
    sizes : float64 (m,), all > 0. Initial cluster sizes (weights); used by ward and
        average (Lance-Williams with initial sizes), ignored by complete and single.
    method : int in {0, 1, 2, 3}.

    Returns
    -------
    a, b : int64 (m - 1,). The slots merged at each step (``a < b``; the merged cluster keeps
        slot ``a``). Steps are in chain order, not sorted by height.
    heights : float64 (m - 1,). The merge distances (square root taken for ward, so heights
        are on scipy's scale when all sizes are 1).

    Preconditions: m >= 1, the linkage is reducible (all four are), no NaN in ``D``.
    """
    m = D.shape[0]
    size = sizes.copy()
    active = np.ones(m, dtype=np.bool_)
    chain = np.empty(m, dtype=np.int64)
    out_a = np.empty(max(m - 1, 0), dtype=np.int64)
    out_b = np.empty(max(m - 1, 0), dtype=np.int64)
    heights = np.empty(max(m - 1, 0), dtype=np.float64)
    chain_len = 0
    for step in range(m - 1):
        if chain_len == 0:
            for i in range(m):
                if active[i]:
                    chain[0] = i
                    chain_len = 1
                    break
        x = chain[chain_len - 1]
        y = -1
        while True:
            x = chain[chain_len - 1]
            if chain_len > 1:
                y = chain[chain_len - 2]
                current = D[x, y]
            else:
                y = -1
                current = np.inf
            for i in range(m):
                if active[i] and i != x:
                    d = D[x, i]
                    if d < current:
                        current = d
                        y = i
            if chain_len > 1 and y == chain[chain_len - 2]:
                break
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        if x > y:
            x, y = y, x
        dxy = D[x, y]
        nx = size[x]
        ny = size[y]
        out_a[step] = x
        out_b[step] = y
        heights[step] = np.sqrt(dxy) if method == WARD else dxy
        for k in range(m):
            if not active[k] or k == x or k == y:
                continue
            dxk = D[x, k]
            dyk = D[y, k]
            if method == WARD:
                nk = size[k]
                new = ((nx + nk) * dxk + (ny + nk) * dyk - nk * dxy) / (nx + ny + nk)
            elif method == AVERAGE:
                new = (nx * dxk + ny * dyk) / (nx + ny)
            elif method == COMPLETE:
                new = max(dxk, dyk)
            else:
                new = min(dxk, dyk)
            D[x, k] = new
            D[k, x] = new
        active[y] = False
        size[x] = nx + ny
    return out_a, out_b, heights
