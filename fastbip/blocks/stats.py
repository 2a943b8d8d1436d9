"""What a block-count table says against the null model of independent clusters.

The null model keeps the row totals and column totals of a block-count table ``C`` (from
:func:`fastbip.blocks.block_counts`) and makes the row cluster and the column cluster of a
purchase independent. :func:`block_stats` gives the expected counts, lift, Pearson and
adjusted residuals, the chi-square and G tests, and per-cell p-values adjusted for multiple
testing (Benjamini-Hochberg or Holm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BlockStats", "block_stats"]

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


def block_stats(C: object, alpha: float = 0.05, correction: str = "fdr_bh") -> BlockStats:
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
