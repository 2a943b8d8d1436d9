"""Block analytics: counts between clusters, the null model, the estimated relation, the SNR.

For people labels ``a`` (``K_A`` clusters) and item labels ``b`` (``K_B`` clusters), the block
counts are ``C = Z_A^T M Z_B``: ``C[k, l]`` is the number (or total weight) of purchases between
people-cluster ``k`` and item-cluster ``l``. Label ``-1`` means "unassigned": its rows or
columns are left out of every count.

Public functions
----------------
- :func:`encode_labels` -- convert labels once to the narrow codes the kernels read.
- :func:`block_counts` -- ``C`` by a parallel numba kernel (hard labels) or by sparse-dense
  products (soft memberships, see :func:`soft_block_counts`).
- :func:`block_counts_windows` -- ``C`` per time window from the purchase events, one pass.
- :func:`block_stats` -- expected counts under independence, lift, residuals, chi-square and
  G tests, per-cell p-values with a multiple-testing correction.
- :func:`estimate_omega` -- maximum-likelihood ``omega``, ``theta``, ``phi`` of the
  degree-corrected Poisson model under any labels, and the profile log-likelihood.
- :func:`snr` -- the planted structure's signal-to-noise ratio (1 = detection threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fastbip._kernels.blocks import (
    _all_ones,
    _block_counts_csr,
    _block_counts_windows_csr,
    _block_sums_csr,
    _encode_labels,
)
from fastbip._validation import as_purchases

__all__ = [
    "BlockStats",
    "EncodedLabels",
    "OmegaEstimate",
    "block_counts",
    "block_counts_windows",
    "block_stats",
    "encode_labels",
    "estimate_omega",
    "snr",
    "snr_matrix",
    "soft_block_counts",
]

# Entries per chunk below which a chunk is not worth a task, the most chunks, and the most
# accumulator cells all chunks together may hold. None of these depend on the thread count,
# so float sums are bit-identical whatever the number of threads.
_CHUNK_MIN_NNZ = 1 << 18
_MAX_CHUNKS = 64
_MAX_ACC_CELLS = 1 << 22


# --------------------------------------------------------------------------------------------
# input conversion
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodedLabels:
    """Labels converted once to the codes the block kernels read.

    Attributes
    ----------
    codes : ndarray of uint8, uint16 or uint32, shape (n,)
        ``codes[i]`` is the cluster of element ``i`` or ``n_clusters`` when it is unassigned.
    n_clusters : int
        Number of clusters ``K``.

    Build it with :func:`encode_labels` and pass it to :func:`block_counts` in place of a label
    array to skip the conversion on repeated calls. The codes are a private copy: later changes
    to the original labels are not seen.
    """

    codes: np.ndarray
    n_clusters: int

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def labels(self) -> np.ndarray:
        """The labels back as int64, with -1 for unassigned."""
        out = self.codes.astype(np.int64)
        out[out == self.n_clusters] = -1
        return out


def _code_dtype(n_clusters: int) -> type:
    # the value n_clusters itself must fit (it marks "unassigned")
    if n_clusters < (1 << 8):
        return np.uint8
    if n_clusters < (1 << 16):
        return np.uint16
    return np.uint32


def encode_labels(labels, n_clusters: int | None = None, *, name: str = "labels") -> EncodedLabels:
    """Validate labels and convert them to the narrowest unsigned codes, in one pass.

    Parameters
    ----------
    labels : array-like of int, shape (n,), or EncodedLabels
        Cluster of each element, ``-1`` for unassigned.
    n_clusters : int, optional
        Number of clusters ``K``; every label must be ``< K``. Default: ``max(labels) + 1``
        (0 when all labels are -1 or there are none).
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    EncodedLabels
    """
    if isinstance(labels, EncodedLabels):
        if n_clusters is not None and int(n_clusters) != labels.n_clusters:
            raise ValueError(
                f"{name} was encoded with n_clusters={labels.n_clusters}; got "
                f"n_clusters={n_clusters}"
            )
        return labels
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of cluster labels; got shape {arr.shape}")
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        if arr.size and np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        elif arr.size:
            raise TypeError(f"{name} must hold integers; got dtype {arr.dtype}")
        else:
            arr = arr.astype(np.int64)
    if n_clusters is None:
        k = int(arr.max()) + 1 if arr.size else 0
        k = max(k, 0)
    else:
        if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)):
            raise TypeError(f"n_clusters for {name} must be an int; got {n_clusters!r}")
        k = int(n_clusters)
        if k < 0:
            raise ValueError(f"n_clusters for {name} must be >= 0; got {k}")
    if k >= (1 << 32) - 1:
        raise ValueError(f"n_clusters for {name} must be < 2**32 - 1; got {k}")
    codes = np.empty(arr.shape[0], dtype=_code_dtype(k))
    lo, hi = _encode_labels(np.ascontiguousarray(arr), k, codes)
    if arr.size and lo < -1:
        raise ValueError(f"{name} must be >= -1 (-1 = unassigned); got {int(lo)}")
    if arr.size and hi >= k:
        raise ValueError(f"{name} must be < n_clusters={k}; got label {int(hi)}")
    return EncodedLabels(codes, k)


def _unsigned(a: np.ndarray) -> np.ndarray:
    """Zero-copy unsigned view of a non-negative int32/int64 index array."""
    a = np.ascontiguousarray(a)
    if a.dtype == np.int32:
        return a.view(np.uint32)
    if a.dtype == np.int64:
        return a.view(np.uint64)
    return a.astype(np.uint64)


def _chunk_bounds(indptr: np.ndarray, cells: int) -> np.ndarray:
    """Row boundaries of nnz-balanced chunks; the layout depends on the data only."""
    n_rows = indptr.shape[0] - 1
    nnz = int(indptr[-1])
    n_chunks = min(_MAX_CHUNKS, max(1, nnz // _CHUNK_MIN_NNZ), max(1, _MAX_ACC_CELLS // cells))
    n_chunks = max(1, min(n_chunks, n_rows))
    targets = (np.arange(n_chunks + 1, dtype=np.float64) * (nnz / n_chunks)).astype(np.int64)
    bounds = np.searchsorted(indptr, targets, side="left").astype(np.int64)
    bounds[0] = 0
    bounds[-1] = n_rows
    return np.maximum.accumulate(bounds)


def _prepare(M, row_labels, col_labels, n_row_clusters, n_col_clusters):
    M = as_purchases(M, canonical=False)
    n_rows, n_cols = M.shape
    rows = encode_labels(row_labels, n_row_clusters, name="row_labels")
    cols = encode_labels(col_labels, n_col_clusters, name="col_labels")
    if len(rows) != n_rows:
        raise ValueError(
            f"row_labels must have one label per row of M (n_rows={n_rows}); got {len(rows)}"
        )
    if len(cols) != n_cols:
        raise ValueError(
            f"col_labels must have one label per column of M (n_cols={n_cols}); got {len(cols)}"
        )
    return M, rows, cols


# --------------------------------------------------------------------------------------------
# block counts
# --------------------------------------------------------------------------------------------


def block_counts(
    M,
    row_labels,
    col_labels,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
    *,
    weighted: bool = True,
) -> np.ndarray:
    """Purchases between every pair of clusters: ``C = Z_A^T M Z_B``.

    Parameters
    ----------
    M : scipy.sparse matrix or array, shape (n_rows, n_cols)
        Purchases. CSR is read in place; any other sparse format or a dense array is converted
        to CSR once (a copy). Sorted indices are not required; duplicates are summed.
    row_labels, col_labels : array-like of int (n_rows,), (n_cols,), or EncodedLabels, or
        2-D float arrays (n_rows, K_A), (n_cols, K_B) of soft memberships
        Cluster of each row / column, ``-1`` = unassigned (left out of every count).
        When either is 2-D the result is computed by :func:`soft_block_counts`.
    n_row_clusters, n_col_clusters : int, optional
        ``K_A``, ``K_B``. Default: largest label + 1.
    weighted : bool, default True
        Sum the values of ``M`` (purchase counts). With ``False``, count stored entries
        (distinct person-item pairs; explicit zeros count, call ``M.eliminate_zeros()`` first
        if ``M`` may hold some).

    Returns
    -------
    ndarray, shape (K_A, K_B)
        int64 when ``M`` holds integers or booleans, or when ``weighted=False``; float64
        otherwise. Equal to scipy's ``Z_A.T @ M @ Z_B`` with one-hot ``Z`` (exactly for
        integer data).

    Notes
    -----
    One pass over ``indptr/indices/data`` by a parallel numba kernel: rows cut into
    nnz-balanced chunks whose layout depends on the data only, a private accumulator per
    chunk. Integer results are exact; float results are bit-identical whatever the number of
    threads. Pass labels through :func:`encode_labels` once to skip their conversion on
    repeated calls.
    """
    r2 = getattr(row_labels, "ndim", np.ndim(row_labels)) == 2
    c2 = getattr(col_labels, "ndim", np.ndim(col_labels)) == 2
    if r2 or c2:
        return soft_block_counts(
            M, row_labels, col_labels, n_row_clusters, n_col_clusters, weighted=weighted
        )
    M, rows, cols = _prepare(M, row_labels, col_labels, n_row_clusters, n_col_clusters)
    return _counts(M, rows, cols, weighted)


def _counts(M, rows: EncodedLabels, cols: EncodedLabels, weighted: bool) -> np.ndarray:
    ka, kb = rows.n_clusters, cols.n_clusters
    cells = (ka + 1) * (kb + 1)
    indptr = _unsigned(M.indptr)
    indices = _unsigned(M.indices)
    bounds = _chunk_bounds(M.indptr, 2 * cells)
    data = M.data
    integer = data.dtype == np.bool_ or np.issubdtype(data.dtype, np.integer)
    if weighted and data.dtype == np.bool_:
        data = data.view(np.uint8)
    count_only = not weighted or (integer and _all_ones(data))
    if count_only:
        out = np.zeros((bounds.shape[0] - 1, 2, cells), dtype=np.int64)
        _block_counts_csr(indptr, indices, rows.codes, cols.codes, ka, kb, bounds, out)
    else:
        if integer:
            acc_dtype = np.int64
            if data.dtype not in (np.int32, np.int64, np.uint8):
                data = data.astype(np.int64)
        else:
            acc_dtype = np.float64
            if data.dtype != np.float64:
                data = data.astype(np.float64)
        out = np.zeros((bounds.shape[0] - 1, 2, cells), dtype=acc_dtype)
        _block_sums_csr(
            indptr,
            indices,
            np.ascontiguousarray(data),
            rows.codes,
            cols.codes,
            ka,
            kb,
            bounds,
            out,
        )
    table = out.sum(axis=(0, 1)) if out.shape[0] else np.zeros(cells, dtype=out.dtype)
    return np.ascontiguousarray(table.reshape(ka + 1, kb + 1)[:ka, :kb])


def _membership(Z, n: int, k: int | None, name: str) -> sp.csr_matrix | np.ndarray:
    """A (n, K) membership matrix: dense float for soft input, one-hot CSR for labels."""
    if isinstance(Z, EncodedLabels):
        Z = Z.labels() if k is None else encode_labels(Z, k, name=name).labels()
    arr = Z if sp.issparse(Z) else np.asarray(Z)
    if arr.ndim == 2:
        if arr.shape[0] != n:
            raise ValueError(f"{name} must have {n} rows (one per element); got {arr.shape[0]}")
        if k is not None and arr.shape[1] != k:
            raise ValueError(f"{name} has {arr.shape[1]} columns but n_clusters={k}")
        if sp.issparse(arr):
            return sp.csr_matrix(arr, dtype=np.float64)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
        arr = np.asarray(arr, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must hold finite memberships")
        return arr
    enc = encode_labels(arr, k, name=name)
    if len(enc) != n:
        raise ValueError(f"{name} must have one label per element (n={n}); got {len(enc)}")
    lab = enc.codes.astype(np.int64)
    keep = lab < enc.n_clusters
    idx = np.flatnonzero(keep)
    return sp.csr_matrix((np.ones(idx.size), (idx, lab[keep])), shape=(n, enc.n_clusters))


def soft_block_counts(
    M,
    row_memberships,
    col_memberships,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
    *,
    weighted: bool = True,
) -> np.ndarray:
    """Block counts under soft memberships: ``Z_A^T M Z_B`` by sparse-dense products.

    Parameters
    ----------
    M : scipy.sparse matrix or array, shape (n_rows, n_cols)
    row_memberships : array (n_rows, K_A) of float, or labels (n_rows,)
        ``row_memberships[i, k]``: weight of row ``i`` in cluster ``k`` (typically
        probabilities summing to 1 over ``k``). A 1-D label array is turned into one-hot rows.
    col_memberships : array (n_cols, K_B) of float, or labels (n_cols,)
    n_row_clusters, n_col_clusters : int, optional
        Checked against the number of columns of 2-D memberships.
    weighted : bool
        As in :func:`block_counts`.

    Returns
    -------
    ndarray of float64, shape (K_A, K_B)

    Notes
    -----
    Computes ``M @ Z_B`` (O(nnz * K_B)) then ``Z_A^T @ (M Z_B)`` (O(n_rows * K_A * K_B)).
    """
    M = as_purchases(M, canonical=False)
    if not weighted:
        M = sp.csr_matrix((np.ones(M.nnz), M.indices, M.indptr), shape=M.shape)
    else:
        M = M.astype(np.float64)
    za = _membership(row_memberships, M.shape[0], n_row_clusters, "row_memberships")
    zb = _membership(col_memberships, M.shape[1], n_col_clusters, "col_memberships")
    right = M @ zb
    right = right.toarray() if sp.issparse(right) else np.asarray(right)
    out = za.T @ right
    out = out.toarray() if sp.issparse(out) else np.asarray(out)
    return np.ascontiguousarray(out, dtype=np.float64)


def block_counts_windows(
    M,
    events,
    row_labels,
    col_labels,
    edges,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
) -> np.ndarray:
    """Purchases per time window and pair of clusters, from the events, in one pass.

    Parameters
    ----------
    M : scipy.sparse CSR, shape (n_rows, n_cols)
        Purchases; only its structure (``indptr``, ``indices``) is read, the counts come from
        the events. Must be the matrix the events are aligned with (not converted: its entry
        order defines the alignment).
    events : object with ``offsets`` (int, (nnz + 1,)) and ``times`` (float, (n_events,))
        The events of stored entry ``e`` have times ``times[offsets[e]:offsets[e + 1]]``.
    row_labels, col_labels : labels as in :func:`block_counts` (-1 = unassigned).
    edges : array-like of float, (T + 1,)
        Strictly increasing window boundaries; window ``t`` is ``[edges[t], edges[t + 1])``.
        Events outside ``[edges[0], edges[-1])`` are not counted.

    Returns
    -------
    ndarray of int64, shape (T, K_A, K_B)
    """
    if not (sp.issparse(M) and M.format == "csr"):
        raise TypeError(
            "M must be the scipy.sparse CSR matrix the events are aligned with; got "
            f"{type(M).__name__}{'' if not sp.issparse(M) else ' in format ' + M.format}"
        )
    M, rows, cols = _prepare(M, row_labels, col_labels, n_row_clusters, n_col_clusters)
    for attr in ("offsets", "times"):
        if not hasattr(events, attr):
            raise TypeError(f"events must have an '{attr}' attribute; got {type(events)}")
    offsets = np.asarray(events.offsets)
    times = np.asarray(events.times)
    if offsets.ndim != 1 or offsets.shape[0] != M.nnz + 1:
        raise ValueError(
            f"events.offsets must have nnz + 1 = {M.nnz + 1} entries; got shape {offsets.shape}"
        )
    if not np.issubdtype(offsets.dtype, np.integer):
        raise TypeError(f"events.offsets must hold integers; got dtype {offsets.dtype}")
    if times.ndim != 1 or not np.issubdtype(times.dtype, np.number):
        raise TypeError(f"events.times must be a 1-D numeric array; got {times.dtype}")
    if offsets[0] != 0 or np.any(np.diff(offsets) < 0) or offsets[-1] != times.shape[0]:
        raise ValueError(
            "events.offsets must start at 0, never decrease and end at len(events.times)="
            f"{times.shape[0]}; got start {int(offsets[0])}, end {int(offsets[-1])}"
        )
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.shape[0] < 2:
        raise ValueError(f"edges must be a 1-D array of at least 2 boundaries; got {edges.shape}")
    if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be finite and strictly increasing")
    ka, kb = rows.n_clusters, cols.n_clusters
    n_windows = edges.shape[0] - 1
    cells = n_windows * (ka + 1) * (kb + 1)
    bounds = _chunk_bounds(M.indptr, cells)
    out = np.zeros((bounds.shape[0] - 1, cells), dtype=np.int64)
    widths = np.diff(edges)
    uniform = bool(np.all(np.abs(widths - widths.mean()) <= 1e-9 * widths.mean()))
    _block_counts_windows_csr(
        _unsigned(M.indptr),
        _unsigned(M.indices),
        _unsigned(offsets.astype(np.int64)),
        np.ascontiguousarray(times, dtype=np.float64),
        rows.codes,
        cols.codes,
        ka,
        kb,
        edges,
        uniform,
        bounds,
        out,
    )
    table = out.sum(axis=0) if out.shape[0] else np.zeros(cells, dtype=np.int64)
    return np.ascontiguousarray(table.reshape(n_windows, ka + 1, kb + 1)[:, :ka, :kb])


# --------------------------------------------------------------------------------------------
# null model
# --------------------------------------------------------------------------------------------

_CORRECTIONS = ("fdr_bh", "holm")


def _adjust_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """Benjamini-Hochberg q-values or Holm adjusted p-values of a flat array (NaN kept)."""
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = np.argsort(p[ok], kind="stable")
    ps = p[ok][order]
    if method == "fdr_bh":
        adj = ps * m / np.arange(1, m + 1)
        adj = np.minimum.accumulate(adj[::-1])[::-1]
    else:  # holm
        adj = ps * (m - np.arange(m))
        adj = np.maximum.accumulate(adj)
    adj = np.minimum(adj, 1.0)
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


@dataclass(frozen=True)
class BlockStats:
    """What a block-count table says against independence of row and column clusters.

    The null model keeps the row totals ``r_k`` and column totals ``c_l`` of the table and
    makes the two cluster variables independent: ``E[k, l] = r_k c_l / N``. Rows or columns
    whose total is zero carry no information: they are left out of the tests (and of the
    degrees of freedom) and their cells get ``lift = NaN``, residuals 0, p-value NaN.

    Attributes
    ----------
    counts : (K_A, K_B) float64, the observed table ``O``.
    expected : (K_A, K_B) float64, ``E = r c^T / N``.
    lift : (K_A, K_B) float64, ``O / E`` (1 = as expected by chance).
    pearson_residuals : (K_A, K_B) float64, ``(O - E) / sqrt(E)``.
    adjusted_residuals : (K_A, K_B) float64, Haberman's standardised residuals
        ``(O - E) / sqrt(E (1 - r/N) (1 - c/N))``, approximately N(0, 1) under the null.
    chi2, g : float, Pearson's chi-square ``sum (O - E)^2 / E`` and the G statistic
        ``2 sum O log(O / E)`` (no continuity correction).
    dof : int, ``(rows with a positive total - 1) * (columns with a positive total - 1)``.
    chi2_pvalue, g_pvalue : float, upper tail of the chi-square distribution with ``dof``.
    cramers_v : float, ``sqrt(chi2 / (N (min(rows, cols) - 1)))`` (effect size in [0, 1]).
    cell_pvalues : (K_A, K_B) float64, two-sided normal p-values of the adjusted residuals.
    cell_adjusted_pvalues : (K_A, K_B) float64, the same after the correction for
        multiple testing named in ``correction`` over all tested cells.
    significant : (K_A, K_B) bool, ``cell_adjusted_pvalues <= alpha``.
    over, under : (K_A, K_B) bool, significant cells with more (fewer) purchases than expected.
    alpha : float, correction : str ("fdr_bh" = Benjamini-Hochberg false discovery rate,
        "holm" = Holm's step-down family-wise error rate).
    """

    counts: np.ndarray
    expected: np.ndarray
    lift: np.ndarray
    pearson_residuals: np.ndarray
    adjusted_residuals: np.ndarray
    chi2: float
    g: float
    dof: int
    chi2_pvalue: float
    g_pvalue: float
    cramers_v: float
    cell_pvalues: np.ndarray
    cell_adjusted_pvalues: np.ndarray
    significant: np.ndarray
    alpha: float
    correction: str

    @property
    def over(self) -> np.ndarray:
        return self.significant & (self.counts > self.expected)

    @property
    def under(self) -> np.ndarray:
        return self.significant & (self.counts < self.expected)

    def to_frame(self):
        """One row per cell: row, col, observed, expected, lift, residuals, p-values, flag."""
        import pandas as pd

        ka, kb = self.counts.shape
        rr, cc = np.meshgrid(np.arange(ka), np.arange(kb), indexing="ij")
        return pd.DataFrame(
            {
                "row_cluster": rr.ravel(),
                "col_cluster": cc.ravel(),
                "observed": self.counts.ravel(),
                "expected": self.expected.ravel(),
                "lift": self.lift.ravel(),
                "pearson_residual": self.pearson_residuals.ravel(),
                "adjusted_residual": self.adjusted_residuals.ravel(),
                "pvalue": self.cell_pvalues.ravel(),
                "adjusted_pvalue": self.cell_adjusted_pvalues.ravel(),
                "significant": self.significant.ravel(),
            }
        )

    def summary(self, max_cells: int = 10) -> str:
        """A readable report: the tests, then the cells that stand out most."""
        n = float(self.counts.sum())
        name = {"fdr_bh": "Benjamini-Hochberg (FDR)", "holm": "Holm (FWER)"}[self.correction]
        lines = [
            f"Block table {self.counts.shape[0]} x {self.counts.shape[1]}, {n:.6g} purchases",
            f"  chi-square = {self.chi2:.6g}, dof = {self.dof}, p = {self.chi2_pvalue:.3g}",
            f"  G-test     = {self.g:.6g}, dof = {self.dof}, p = {self.g_pvalue:.3g}",
            f"  Cramer's V = {self.cramers_v:.3f}",
            f"  cells standing out at alpha = {self.alpha:g} after {name}: "
            f"{int(self.significant.sum())} "
            f"({int(self.over.sum())} over, {int(self.under.sum())} under)",
        ]
        sig = np.argwhere(self.significant)
        if sig.size:
            z = np.abs(self.adjusted_residuals[self.significant])
            order = np.argsort(-z, kind="stable")[:max_cells]
            lines.append(
                f"  {'row':>5} {'col':>5} {'observed':>12} {'expected':>12} {'lift':>8} "
                f"{'adj.resid':>10} {'adj.p':>9}"
            )
            for k, l in sig[order]:
                lines.append(
                    f"  {k:>5d} {l:>5d} {self.counts[k, l]:>12.6g} {self.expected[k, l]:>12.6g}"
                    f" {self.lift[k, l]:>8.3f} {self.adjusted_residuals[k, l]:>10.3f}"
                    f" {self.cell_adjusted_pvalues[k, l]:>9.3g}"
                )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def block_stats(C, alpha: float = 0.05, correction: str = "fdr_bh") -> BlockStats:
    """Null-model statistics of a block-count table.

    Parameters
    ----------
    C : array-like (K_A, K_B) of non-negative numbers
        Block counts, e.g. from :func:`block_counts`.
    alpha : float in (0, 1)
        Level for the per-cell decisions.
    correction : {"fdr_bh", "holm"}
        Benjamini-Hochberg (controls the false discovery rate) or Holm (controls the
        family-wise error rate) over all tested cells.

    Returns
    -------
    BlockStats

    Notes
    -----
    Agrees with ``scipy.stats.chi2_contingency(C, correction=False)`` (chi-square) and with
    ``lambda_="log-likelihood"`` (G statistic) once empty rows and columns are removed.
    """
    from scipy import stats

    arr = np.asarray(C)
    if arr.ndim != 2:
        raise ValueError(f"C must be a 2-D table of block counts; got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"C must hold numbers; got dtype {arr.dtype}")
    O = arr.astype(np.float64)
    if not np.all(np.isfinite(O)) or np.any(O < 0):
        raise ValueError("C must hold finite, non-negative counts")
    if isinstance(alpha, bool) or not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}")
    if correction not in _CORRECTIONS:
        raise ValueError(f"correction must be one of {_CORRECTIONS}; got {correction!r}")
    alpha = float(alpha)
    r = O.sum(axis=1)
    c = O.sum(axis=0)
    n = float(O.sum())
    live = (r > 0)[:, None] & (c > 0)[None, :]
    E = np.outer(r, c) / n if n > 0 else np.zeros_like(O)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(live, O / E, np.nan)
        pearson = np.where(live, (O - E) / np.sqrt(E), 0.0)
        var = E * (1.0 - r / n)[:, None] * (1.0 - c / n)[None, :] if n > 0 else E
        adjusted = np.where(live & (var > 0), (O - E) / np.sqrt(var), 0.0)
        chi2 = float(np.sum(np.where(live, (O - E) ** 2 / E, 0.0)))
        pos = live & (O > 0)
        g = float(2.0 * np.sum(np.where(pos, O * np.log(np.where(pos, O / E, 1.0)), 0.0)))
    dof = max(int((r > 0).sum()) - 1, 0) * max(int((c > 0).sum()) - 1, 0)
    if dof > 0:
        chi2_p = float(stats.chi2.sf(chi2, dof))
        g_p = float(stats.chi2.sf(g, dof))
    else:
        chi2_p = g_p = 1.0
    kmin = min(int((r > 0).sum()), int((c > 0).sum()))
    cramers_v = float(np.sqrt(chi2 / (n * (kmin - 1)))) if n > 0 and kmin > 1 else 0.0
    tested = live & (var > 0) if n > 0 else live
    cell_p = np.where(tested, 2.0 * stats.norm.sf(np.abs(adjusted)), np.nan)
    adj_p = _adjust_pvalues(cell_p.ravel(), correction).reshape(O.shape)
    significant = np.where(np.isnan(adj_p), False, adj_p <= alpha)
    return BlockStats(
        counts=O,
        expected=E,
        lift=lift,
        pearson_residuals=pearson,
        adjusted_residuals=adjusted,
        chi2=chi2,
        g=g,
        dof=dof,
        chi2_pvalue=chi2_p,
        g_pvalue=g_p,
        cramers_v=cramers_v,
        cell_pvalues=cell_p,
        cell_adjusted_pvalues=adj_p,
        significant=significant,
        alpha=alpha,
        correction=correction,
    )


# --------------------------------------------------------------------------------------------
# estimated relation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OmegaEstimate:
    """Maximum-likelihood parameters of the degree-corrected Poisson model under given labels.

    The model is ``M[i, j] ~ Poisson(theta[i] phi[j] omega[a_i, b_j])`` with ``theta``
    summing to 1 within each row cluster and ``phi`` within each column cluster.

    Attributes
    ----------
    omega : (K_A, K_B) float64, the block totals ``C`` (the MLE of ``omega``).
    theta : (n_rows,) float64, row degree / its cluster's total degree (NaN when unassigned,
        0 in a cluster without purchases).
    phi : (n_cols,) float64, the same for columns.
    log_likelihood : float, the maximised Poisson log-likelihood of the entries whose row and
        column are both assigned, constants included (``-sum log M_ij!``).
    profile_log_likelihood : float, its label-dependent part
        ``sum_kl C_kl log(C_kl / (R_k S_l))`` with ``R = C.sum(1)``, ``S = C.sum(0)``
        (Karrer & Newman 2011, eq. 9 for the bipartite case): compare labelings with it.
    row_labels, col_labels : the labels used (int64, -1 = unassigned).
    """

    omega: np.ndarray
    theta: np.ndarray
    phi: np.ndarray
    log_likelihood: float
    profile_log_likelihood: float
    row_labels: np.ndarray
    col_labels: np.ndarray


def _xlogx(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    pos = x > 0
    return float(np.sum(x[pos] * np.log(x[pos])))


def estimate_omega(
    M,
    row_labels,
    col_labels,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
) -> OmegaEstimate:
    """Maximum-likelihood ``omega``, ``theta``, ``phi`` and the log-likelihood of labels.

    Parameters
    ----------
    M : scipy.sparse matrix or array (n_rows, n_cols) of non-negative counts
    row_labels, col_labels : labels (-1 = unassigned) or EncodedLabels
    n_row_clusters, n_col_clusters : int, optional

    Returns
    -------
    OmegaEstimate

    Notes
    -----
    Entries whose row or column is unassigned are outside the model: degrees are taken over
    the assigned part of the matrix. With ``d_i`` the row degrees, ``e_j`` the column
    degrees, ``R_k``/``S_l`` the cluster totals and ``N`` the total, the maximised
    log-likelihood is
    ``sum C log C - sum R log R - sum S log S + sum d log d + sum e log e - N - sum log M!``.
    Non-integer values are accepted (``log M!`` becomes ``lgamma(M + 1)``).
    """
    from scipy.special import gammaln

    M, rows, cols = _prepare(M, row_labels, col_labels, n_row_clusters, n_col_clusters)
    if M.nnz and np.any(M.data < 0):
        raise ValueError("M must hold non-negative counts for the Poisson model")
    ka, kb = rows.n_clusters, cols.n_clusters
    a = rows.labels()
    b = cols.labels()
    C = _counts(M, rows, cols, weighted=True).astype(np.float64)
    row_ok = (a >= 0).astype(np.float64)
    col_ok = (b >= 0).astype(np.float64)
    Mf = M.astype(np.float64)
    d = np.asarray(Mf @ col_ok).ravel() * row_ok
    e = np.asarray(Mf.T @ row_ok).ravel() * col_ok
    R = C.sum(axis=1)
    S = C.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(a >= 0, d / R[np.maximum(a, 0)] if ka else np.nan, np.nan)
        phi = np.where(b >= 0, e / S[np.maximum(b, 0)] if kb else np.nan, np.nan)
    theta = np.where((a >= 0) & ~np.isfinite(theta), 0.0, theta)
    phi = np.where((b >= 0) & ~np.isfinite(phi), 0.0, phi)
    profile = _xlogx(C) - _xlogx(R) - _xlogx(S)
    if M.nnz:
        if np.all(a >= 0) and np.all(b >= 0):
            lgf = float(gammaln(M.data.astype(np.float64) + 1.0).sum())
        else:
            entry_rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
            keep = (a[entry_rows] >= 0) & (b[M.indices] >= 0)
            lgf = float(gammaln(M.data[keep].astype(np.float64) + 1.0).sum())
    else:
        lgf = 0.0
    total = float(C.sum())
    ll = profile + _xlogx(d) + _xlogx(e) - total - lgf
    return OmegaEstimate(
        omega=C,
        theta=theta,
        phi=phi,
        log_likelihood=ll,
        profile_log_likelihood=profile,
        row_labels=a,
        col_labels=b,
    )


# --------------------------------------------------------------------------------------------
# signal-to-noise ratio of the planted structure
# --------------------------------------------------------------------------------------------


def _truth_arrays(truth):
    for attr in ("omega", "theta", "phi", "people_labels", "item_labels"):
        if not hasattr(truth, attr):
            raise TypeError(
                f"truth must have an '{attr}' attribute (a fastbip.dataset.Truth or alike); "
                f"got {type(truth).__name__}"
            )
    omega = np.asarray(truth.omega, dtype=np.float64)
    theta = np.asarray(truth.theta, dtype=np.float64)
    phi = np.asarray(truth.phi, dtype=np.float64)
    a = np.asarray(truth.people_labels)
    b = np.asarray(truth.item_labels)
    if omega.ndim != 2:
        raise ValueError(f"truth.omega must be a K_A x K_B matrix; got shape {omega.shape}")
    if not np.all(np.isfinite(omega)) or np.any(omega < 0):
        raise ValueError("truth.omega must hold finite, non-negative expected counts")
    if theta.shape != a.shape or theta.ndim != 1:
        raise ValueError(
            f"truth.theta and truth.people_labels must be 1-D of the same length; got "
            f"{theta.shape} and {a.shape}"
        )
    if phi.shape != b.shape or phi.ndim != 1:
        raise ValueError(
            f"truth.phi and truth.item_labels must be 1-D of the same length; got "
            f"{phi.shape} and {b.shape}"
        )
    ka, kb = omega.shape
    for name, lab, k in (("people_labels", a, ka), ("item_labels", b, kb)):
        if lab.size and (lab.min() < -1 or lab.max() >= k):
            raise ValueError(
                f"truth.{name} must lie in -1..{k - 1} (omega has {k} clusters on that side); "
                f"got {int(lab.min())}..{int(lab.max())}"
            )
    return omega, theta, phi, a, b


def snr_matrix(truth) -> np.ndarray:
    """The K_A x K_A symmetric matrix whose eigenvalues are those of the two-hop operator.

    ``S = D_A^{1/2} Omega D_B Omega^T D_A^{1/2}`` with ``D_A = diag(sum_{i in k} theta_i^2)``
    and ``D_B = diag(sum_{j in l} phi_j^2)``; see :func:`snr`.
    """
    omega, theta, phi, a, b = _truth_arrays(truth)
    ka, kb = omega.shape
    ta = np.bincount(a[a >= 0], weights=theta[a >= 0] ** 2, minlength=ka)
    pb = np.bincount(b[b >= 0], weights=phi[b >= 0] ** 2, minlength=kb)
    half = np.sqrt(ta)[:, None] * omega
    return (half * pb[None, :]) @ half.T


def snr(truth) -> float:
    """Signal-to-noise ratio of the planted structure; 1 is the detection threshold.

    Parameters
    ----------
    truth : object with ``omega`` (K_A, K_B), ``theta`` (n_people,), ``phi`` (n_items,),
        ``people_labels``, ``item_labels`` (a :class:`fastbip.dataset.Truth` or alike)

    Returns
    -------
    float
        ``lambda_2 / sqrt(lambda_1)`` where ``lambda_1 >= lambda_2`` are the two largest
        eigenvalues of the two-hop (people -> items -> people) mean operator. 0 when there
        is a single cluster on either side.

    Notes
    -----
    The mean purchase matrix is ``P = E[M]``, ``P_ij = theta_i phi_j omega[a_i, b_j]``. One
    step people -> items has mean operator ``P`` and items -> people ``P^T``, so the two-hop
    mean operator on people is ``P P^T``. Its entries are
    ``theta_i theta_i' sum_l omega[a_i, l] omega[a_i', l] Phi2_l`` with
    ``Phi2_l = sum_{j in l} phi_j^2``, a rank-K_A kernel: its non-zero eigenvalues are those
    of the K_A x K_A matrix ``Omega D_B Omega^T D_A`` with ``D_A = diag(Theta2_k)``,
    ``Theta2_k = sum_{i in k} theta_i^2`` (eigenvectors ``v_i = theta_i x_{a_i}``). We
    compute them from its symmetric form ``D_A^{1/2} Omega D_B Omega^T D_A^{1/2}``
    (:func:`snr_matrix`): they are the squared singular values of ``P``.

    The cluster sizes and the degree heterogeneity enter through ``Theta2`` and ``Phi2``:
    without degree correction (``theta_i = 1/n_k``) ``Theta2_k = 1/n_k``; with heavy-tailed
    activities ``Theta2_k = E[theta^2]/(n_k E[theta]^2)``, larger, which raises both
    eigenvalues (high-degree vertices are visited more often by the two-hop walk).

    Detection from the two-hop graph is possible above the Kesten-Stigum threshold
    ``lambda_2^2 > lambda_1`` of the two-type-step branching process, i.e. ``snr > 1``:
    Kesten & Stigum (1966); Decelle et al. (2011) and Abbe, "Community detection and
    stochastic block models", JMLR 18 (2018), section 5 for the unipartite SBM; Gulikers,
    Lelarge & Massoulie (2017) for the degree-corrected SBM (second moments of the degree
    weights); Florescu & Perkins, "Spectral thresholds in the bipartite stochastic block
    model", COLT 2016, for the bipartite SBM. Checks in the tests: the bipartite double
    cover of the symmetric two-block SBM ``(a/n, b/n)`` gives
    ``snr = (a - b)^2 / (2 (a + b))`` (threshold ``(a - b)^2 = 2 (a + b)``); the
    Florescu-Perkins model (n and alpha n vertices, edge probabilities ``delta p`` and
    ``(2 - delta) p``) gives ``snr = (delta - 1)^2 n p sqrt(alpha)``; and on sampled
    two-cluster data a regularised spectral split finds nothing at ``snr`` 0.5 and 0.8 and
    finds the clusters at 1.5 and 2.5.
    The Poisson mean is used whatever ``truth.model``; for the Bernoulli variant the
    difference is of order ``max P_ij``.
    """
    S = snr_matrix(truth)
    if min(S.shape[0], np.asarray(truth.omega).shape[1]) < 2:
        return 0.0
    lam = np.sort(np.linalg.eigvalsh(S))[::-1]
    lam = np.maximum(lam, 0.0)
    if lam[0] <= 0:
        return 0.0
    return float(lam[1] / np.sqrt(lam[0]))
