"""Kernels on dense point arrays: column standardisation, and the nearest of m centres.

Arrays in, arrays out; the callers (``fastbip.algorithms._base.standardise`` and
``fastbip.algorithms.features``) validate, convert once and run these on large inputs only.

Cache and threads
-----------------
- ``_column_sums`` is serial (``cache=True, nogil=True``): it adds the rows in order, the
  order numpy's ``X.sum(axis=0)`` uses on a C-contiguous array, so a standardisation built
  on it is bit for bit numpy's, and it reads X once at memory speed instead of numpy's
  three-column inner loop.
- ``_grid_candidates`` and ``_nearest_centre_grid`` are ``parallel=True`` and cached: each
  cell and each point writes only its own output, so the result does not depend on the
  number of threads; nothing thread-dependent is compiled in.

The nearest centre is found on a regular grid over the points' bounding box: for each
cell, the centres that can be nearest to some point of the cell (those whose distance to
the cell is at most the smallest distance from the cell's farthest corner to any centre);
each point then compares only those. A point takes the lowest-index centre at the smallest
squared distance ``sum_d (x_d - c_d)^2``, so the answer is exact, not an approximation.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def _column_sums(X, shift, square):
    """Column sums of ``X - shift`` (or of its squares), adding the rows in order.

    X : float64 (n, p), C-contiguous. shift : float64 (p,). square : bool.
    Returns float64 (p,): ``sum_i (X[i] - shift)`` or ``sum_i (X[i] - shift) ** 2``, each
    column summed from row 0 to row n - 1 (numpy's order for ``axis=0`` on C order).
    """
    n, p = X.shape
    s = np.zeros(p)
    for i in range(n):
        for j in range(p):
            z = X[i, j] - shift[j]
            s[j] += z * z if square else z
    return s


@njit(parallel=True, cache=True)
def _cell_numbers(X, lo, width, shape, out):
    """The grid cell of every point (``_grid_candidates`` numbers the cells).

    X : float64 (n, p), C-contiguous; lo, width : float64 (p,); shape : int64 (p,).
    out : int64 (n,), written in place; a point outside the grid's box takes the nearest
    cell (the callers' box holds every point).
    """
    n, p = X.shape
    for i in prange(n):
        cell = 0
        for d in range(p):
            k = np.int64((X[i, d] - lo[d]) / width[d])
            k = min(max(k, 0), shape[d] - 1)
            cell = cell * shape[d] + k
        out[i] = cell


@njit(parallel=True, cache=True)
def _grid_candidates(centres, lo, width, shape, occupied, count_only, start, cand, near):
    """The centres that can be nearest to a point of each occupied grid cell, cell by cell.

    centres : float64 (m, p), m >= 1. lo : float64 (p,), the grid's origin. width : float64
    (p,), > 0, the cells' widths. shape : int64 (p,), >= 1, cells per dimension; cell
    ``(k_0, .., k_{p-1})`` has the flat number ``sum_d k_d * prod_{e > d} shape[e]``.
    occupied : bool (n_cells,); cells not occupied get no candidates. count_only : bool.
    start : int64 (n_cells + 1,). cand : int64 (start[-1],). near : float64 (start[-1],).
    With ``count_only`` writes the number of candidates of cell c into start[c + 1] (the
    caller takes the cumulative sum); else writes cell c's candidates into
    cand[start[c]:start[c + 1]] and their squared distances to the cell into ``near``,
    nearest first. A candidate is a centre whose distance to the cell is at most the
    smallest distance from the cell's farthest corner to any centre. Each cell's box is
    widened by a millionth of its width on every side, so rounding in a point's cell number
    never drops its nearest centre.
    """
    m, p = centres.shape
    n_cells = start.shape[0] - 1
    for c in prange(n_cells):
        if not occupied[c]:
            if count_only:
                start[c + 1] = 0
            continue
        a = np.empty(p)
        b = np.empty(p)
        rest = np.int64(c) + 0  # a copy: the loop index itself must not be overwritten
        for d in range(p - 1, -1, -1):
            k = rest % shape[d]
            rest //= shape[d]
            pad = 1e-6 * width[d]
            a[d] = lo[d] + k * width[d] - pad
            b[d] = lo[d] + (k + 1) * width[d] + pad
        bound = np.inf
        for j in range(m):
            far = 0.0
            for d in range(p):
                u = max(abs(centres[j, d] - a[d]), abs(centres[j, d] - b[d]))
                far += u * u
            bound = min(bound, far)
        q0 = 0 if count_only else start[c]  # counting reads nothing another cell writes
        q = q0
        for j in range(m):
            dist = 0.0
            for d in range(p):
                u = max(max(a[d] - centres[j, d], centres[j, d] - b[d]), 0.0)
                dist += u * u
            if dist <= bound:
                if not count_only:
                    cand[q] = j
                    near[q] = dist
                q += 1
        if count_only:
            start[c + 1] = q - q0
        elif q > q0:
            order = np.argsort(near[q0:q], kind="mergesort")
            cand[q0:q] = cand[q0:q][order]
            near[q0:q] = near[q0:q][order]


@njit(parallel=True, cache=True)
def _nearest_centre_grid(X, centres, cells, start, cand, near, out):
    """Index of the nearest centre of every point (ties: the lowest index).

    X : float64 (n, p), C-contiguous. centres : float64 (m, p). cells : int64 (n,), each
    point's cell (``_cell_numbers``), every point inside its (widened) cell. start, cand,
    near : the candidate lists of ``_grid_candidates``. out : int64 (n,), written in place.
    A point compares its cell's candidates nearest first and stops at the first whose
    distance to the cell exceeds the best distance found.
    """
    n, p = X.shape
    for i in prange(n):
        cell = cells[i]
        best = np.inf
        arg = -1
        for q in range(start[cell], start[cell + 1]):
            if near[q] > best:
                break
            j = cand[q]
            dist = 0.0
            for d in range(p):
                u = X[i, d] - centres[j, d]
                dist += u * u
            if dist < best or (dist == best and j < arg):
                best = dist
                arg = j
        out[i] = arg
