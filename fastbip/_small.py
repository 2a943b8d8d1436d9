"""numpy twins of kernels, for inputs small enough that numpy is as fast as compiled code.

The first call of a kernel in a session compiles it (a few tenths of a second to a few
seconds each, or loads it from numba's cache); on the demo's sizes (10^3-10^5 entries) one
numpy pass takes well under a millisecond. The callers therefore take these twins below
:data:`SMALL` elements and the kernel above it, so a small first run compiles none of
these kernels while large inputs keep them (parallel, O(1) extra memory).

Each twin returns what its kernel returns on the same preconditions (the docstrings of
:mod:`fastbip._kernels`): the same status codes and first offending positions, the same
integer tables exactly. Float sums are accumulated in entry order (``np.bincount``), a
fixed order for a given input, so they do not depend on the number of threads either; they
may differ from the kernel's chunked order in the last bits, but an input takes the same
path every time (the choice depends on its size only). ``tests/test_small.py`` compares
each twin with its kernel.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SMALL",
    "all_ones",
    "block_sums",
    "contingency_dense",
    "csr_structure_status",
    "indptr_status",
    "flat_labels_from_merges",
    "hard_assign_rows",
    "label_codes",
    "nn_chain_linkage",
    "oracle_assign",
    "row_profile",
]

#: inputs with fewer elements (labels, stored entries, row pointers) than this take numpy
SMALL = 1 << 17

# the status codes of fastbip._kernels.validate (kept equal; tests/test_small.py checks)
_FIRST_NOT_ZERO, _DECREASING, _LAST_NOT_NNZ = 1, 2, 3
_INDEX_NEGATIVE, _INDEX_TOO_LARGE, _UNSORTED, _DUPLICATE = 4, 5, 6, 7


def label_codes(labels: np.ndarray, n_clusters: int, out: np.ndarray) -> None:
    """``_label_codes``: write ``labels`` into ``out``, with ``n_clusters`` for -1."""
    np.copyto(out, labels, casting="unsafe")  # -1 wraps around, then is overwritten
    out[labels < 0] = n_clusters


def all_ones(data: np.ndarray) -> bool:
    """``_all_ones``: True when every value equals one."""
    return bool(np.all(data == 1))


def block_sums(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray | None,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    n_col: int,
    cells: int,
) -> np.ndarray | None:
    """``_block_sums_csr`` with one chunk, summed: the flat table of ``cells`` cells.

    Arguments as for the kernel (``indptr`` non-decreasing, ending at nnz; column indices
    clamped to the guard code). Returns int64 when counting (``data`` None) or for integer
    data, float64 for float data; None when integer sums could leave float64's exact range
    (the caller then runs the kernel).
    """
    last = col_codes.shape[0] - 1
    lengths = np.diff(indptr.astype(np.int64))
    cell = np.repeat(row_codes.astype(np.int64) * (n_col + 2), lengths)
    cell += col_codes[np.minimum(indices, last)]
    if data is None:
        return np.bincount(cell, minlength=cells)
    if data.dtype.kind == "f":
        return np.bincount(cell, weights=data, minlength=cells)
    if data.size and max(-int(data.min()), int(data.max())) * data.size >= 1 << 53:
        return None
    return np.bincount(cell, weights=data, minlength=cells).astype(np.int64)


def contingency_dense(
    true_labels: np.ndarray,
    found_labels: np.ndarray,
    n_true: int,
    n_found: int,
    unassigned_col: int,
) -> np.ndarray:
    """``_contingency_table_dense``: int64 (n_true, n_found) counts of label pairs."""
    t = true_labels.astype(np.int64)
    f = found_labels.astype(np.int64)
    keep = t >= 0
    if unassigned_col < 0:
        keep &= f >= 0
    else:
        f[f < 0] = unassigned_col
    cell = t[keep] * n_found + f[keep]
    return np.bincount(cell, minlength=n_true * n_found).reshape(n_true, n_found)


def indptr_status(indptr: np.ndarray, nnz: int) -> tuple[int, int]:
    """``_indptr_status``: the first defect of CSR row pointers, or (0, -1)."""
    if indptr[0] != 0:
        return _FIRST_NOT_ZERO, 0
    bad = np.flatnonzero(indptr[1:] < indptr[:-1])
    if bad.size:
        return _DECREASING, int(bad[0]) + 1
    if indptr[-1] != nnz:
        return _LAST_NOT_NNZ, indptr.shape[0] - 1
    return 0, -1


def csr_structure_status(
    indptr: np.ndarray, indices: np.ndarray, n_cols: int, check_sorted: bool
) -> tuple[int, int]:
    """``_csr_structure_status``: the first defect of a CSR structure, or (0, -1)."""
    status, pos = indptr_status(indptr, indices.shape[0])
    if status:
        return status, pos
    bad = np.flatnonzero((indices < 0) | (indices >= n_cols))
    if bad.size:
        p = int(bad[0])
        return (_INDEX_NEGATIVE if indices[p] < 0 else _INDEX_TOO_LARGE), p
    if check_sorted and indices.shape[0] > 1:
        # entry p (>= 1) is compared with p - 1 unless it starts a row
        starts = np.zeros(indices.shape[0] + 1, dtype=bool)
        starts[indptr] = True
        bad = np.flatnonzero((indices[1:] <= indices[:-1]) & ~starts[1:-1])
        if bad.size:
            p = int(bad[0]) + 1
            return (_UNSORTED if indices[p] < indices[p - 1] else _DUPLICATE), p
    return 0, -1


# --------------------------------------------------------------- the block-model kernels
# Bit-identical to their kernels: np.bincount adds each cell's terms in entry order, as the
# kernels do, and the per-cluster scores are the same products and sums in the same order.


def row_profile(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    column_labels: np.ndarray,
    k_cols: int,
) -> np.ndarray:
    """``_row_profile_csr``: float64 (n_rows, k_cols) sums of each row by column cluster."""
    n = indptr.shape[0] - 1
    rows, lab, keep = _rows_labels(indptr, indices, column_labels)
    cell = rows[keep] * k_cols + lab[keep]
    return np.bincount(cell, weights=data[keep], minlength=n * k_cols).reshape(n, k_cols)


def _rows_labels(indptr, indices, column_labels):
    """The row and the column label of every stored entry, and which labels are >= 0."""
    n = indptr.shape[0] - 1
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    lab = column_labels[indices].astype(np.int64, copy=False)
    return rows, lab, lab >= 0


def _argmax_scores(n: int, k_rows: int, score) -> np.ndarray:
    """The first k (ties: smallest) with the largest ``score(k)`` (float64 (n,)) per row."""
    best = np.zeros(n, dtype=np.int64)
    best_s = np.full(n, -np.inf)
    for k in range(k_rows):
        s = score(k)
        better = s > best_s
        best[better] = k
        best_s[better] = s[better]
    return best


def hard_assign_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    column_labels: np.ndarray,
    log_p: np.ndarray,
    fallback: int,
    n_chunks: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``_hard_assign_rows_csr`` (``n_chunks``: its ``N_CHUNKS``): (labels, block totals)."""
    n = indptr.shape[0] - 1
    k_rows, k_cols = log_p.shape
    rows, lab, keep = _rows_labels(indptr, indices, column_labels)
    X = np.bincount(
        rows[keep] * k_cols + lab[keep], weights=data[keep], minlength=n * k_cols
    ).reshape(n, k_cols)
    tot = np.bincount(rows[keep], weights=data[keep], minlength=n)

    def score(k):
        s = np.zeros(n)
        for c in range(k_cols):
            s = s + X[:, c] * log_p[k, c]
        return s

    best = _argmax_scores(n, k_rows, score)
    assigned = tot > 0.0
    out = np.where(assigned, best, np.int64(fallback))
    C = np.zeros(k_rows * k_cols)
    if n:
        step = (n + n_chunks - 1) // n_chunks
        base = (np.arange(n, dtype=np.int64) // step * k_rows + best) * k_cols
        cell = (base[assigned, None] + np.arange(k_cols)).ravel()
        acc = np.bincount(cell, weights=X[assigned].ravel(), minlength=n_chunks * k_rows * k_cols)
        for c in range(n_chunks):  # chunk by chunk, as the kernel sums them
            C = C + acc[c * k_rows * k_cols : (c + 1) * k_rows * k_cols]
    return out, C.reshape(k_rows, k_cols)


def oracle_assign(
    X: np.ndarray, log_w: np.ndarray, weight: np.ndarray, mass: np.ndarray, log_prior: np.ndarray
) -> np.ndarray:
    """``_oracle_assign_dense``: int64 (n,) most likely cluster of each row."""
    n, kc = X.shape

    def score(k):
        s = log_prior[k] - weight * mass[k]
        for c in range(kc):
            x = X[:, c]
            s = np.where(x != 0.0, s + x * log_w[k, c], s)
        return s

    return _argmax_scores(n, log_w.shape[0], score)


# --------------------------------------------------------------------------- linkage
#: up to this many points the nearest-neighbour chain runs in numpy (one vectorised row
#: scan per chain step: O(m) numpy calls of O(m) each)
SMALL_LINKAGE = 1 << 10


def nn_chain_linkage(
    D: np.ndarray, sizes: np.ndarray, method: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_nn_chain_linkage_dense``, step for step: (a, b, heights); ``D`` is overwritten.

    The chain's nearest neighbour is the kernel's: the previous link unless a strictly
    closer point exists, else the first closest; the Lance-Williams updates are the same
    float operations in the same order (method 0 ward, 1 average, 2 complete, 3 single).
    """
    m = D.shape[0]
    size = sizes.copy()
    active = np.ones(m, dtype=bool)
    out_a = np.empty(max(m - 1, 0), dtype=np.int64)
    out_b = np.empty(max(m - 1, 0), dtype=np.int64)
    heights = np.empty(max(m - 1, 0), dtype=np.float64)
    chain: list[int] = []
    row = np.empty(m)
    for step in range(m - 1):
        if not chain:
            chain.append(int(np.argmax(active)))
        while True:
            x = chain[-1]
            np.copyto(row, D[x])
            row[~active] = np.inf
            row[x] = np.inf
            y = int(np.argmin(row))
            if len(chain) > 1:
                prev = chain[-2]
                if not row[y] < D[x, prev]:
                    break
            chain.append(y)
        y = chain[-2]
        del chain[-2:]
        if x > y:
            x, y = y, x
        dxy = D[x, y]
        nx, ny = size[x], size[y]
        out_a[step], out_b[step] = x, y
        heights[step] = np.sqrt(dxy) if method == 0 else dxy
        active[y] = False
        ks = np.flatnonzero(active)
        ks = ks[ks != x]
        dxk, dyk = D[x, ks], D[y, ks]
        if method == 0:
            nk = size[ks]
            new = ((nx + nk) * dxk + (ny + nk) * dyk - nk * dxy) / (nx + ny + nk)
        elif method == 1:
            new = (nx * dxk + ny * dyk) / (nx + ny)
        elif method == 2:
            new = np.maximum(dxk, dyk)
        else:
            new = np.minimum(dxk, dyk)
        D[x, ks] = new
        D[ks, x] = new
        size[x] = nx + ny
    return out_a, out_b, heights


def flat_labels_from_merges(
    a: np.ndarray, b: np.ndarray, order: np.ndarray, m: int, n_clusters: int
) -> np.ndarray:
    """Flat labels after the ``m - n_clusters`` lowest merges of a linkage, at any size.

    ``a``, ``b``: int64 (m - 1,) the slots merged at each step (``nn_chain_linkage``);
    ``order``: int64 (m - 1,) the steps sorted by height. Returns int64 (m,) labels in
    ``0 .. n_clusters - 1``, the connected components of those merges numbered by first
    appearance; O(m log m).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    steps = order[: m - n_clusters]
    graph = coo_matrix((np.ones(steps.size), (a[steps], b[steps])), shape=(m, m))
    _, comp = connected_components(graph, directed=False)
    _, first = np.unique(comp, return_index=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[comp]


# --------------------------------------------------------------------------- scores
#: the numpy EMI sums every term (as scikit-learn does) when there are at most this many
SMALL_EMI_TERMS = 1 << 18


def expected_mutual_information(
    a: np.ndarray,
    b: np.ndarray,
    n: int,
    gln_a: np.ndarray,
    gln_b: np.ndarray,
    gln_na: np.ndarray,
    gln_nb: np.ndarray,
    gln_n1: float,
) -> float | None:
    """``_expected_mutual_information`` by the full sum over every cell value, vectorised
    (scikit-learn's formula); None when that sum has more than ``SMALL_EMI_TERMS`` terms
    (the kernel, which stops where the weights fall below exp(-60) of the mode's, serves).
    The two agree up to rounding."""
    from scipy.special import gammaln

    ai = a.astype(np.float64)[:, None]
    bj = b.astype(np.float64)[None, :]
    start = np.maximum(1, a[:, None] - n + b[None, :]).ravel()
    end = np.minimum(a[:, None], b[None, :]).ravel()
    lengths = np.maximum(end - start + 1, 0)
    total = int(lengths.sum())
    if total > SMALL_EMI_TERMS:
        return None
    pair = np.repeat(np.arange(lengths.size), lengths)
    offsets = np.cumsum(lengths) - lengths
    nij = (start[pair] + np.arange(total) - offsets[pair]).astype(np.float64)
    ai = np.broadcast_to(ai, (a.size, b.size)).ravel()[pair]
    bj = np.broadcast_to(bj, (a.size, b.size)).ravel()[pair]
    i, j = pair // b.size, pair % b.size
    nf = float(n)
    term2 = (np.log(nf) + np.log(nij)) - np.log(ai) - np.log(bj)
    gln = (
        (gln_a[i] + gln_b[j] + gln_na[i] + gln_nb[j])
        - (gammaln(nij + 1.0) + gln_n1)
        - gammaln(ai - nij + 1.0)
        - gammaln(bj - nij + 1.0)
        - gammaln(nf - ai - bj + nij + 1.0)
    )
    return float(np.sum(nij / nf * term2 * np.exp(gln)))
