"""The degree-corrected Poisson model's log-likelihood of a labelling, and its parameters.

The model is ``M[i, j] ~ Poisson(theta[i] phi[j] omega[a_i, b_j])`` with ``theta`` summing to
1 within each row cluster and ``phi`` within each column cluster. With ``theta``, ``phi`` and
``omega`` at their maximum-likelihood values for given labels, the log-likelihood is

    L = sum_kl C_kl log(C_kl / (R_k S_l)) + sum_i d_i log d_i + sum_j e_j log e_j - N
        - sum_ij log M_ij!

where ``C`` are the block totals, ``R = C.sum(1)``, ``S = C.sum(0)``, ``d`` and ``e`` the row
and column degrees and ``N`` the total. Only its first term depends on the labels: the
*profile* log-likelihood (Karrer & Newman 2011, eq. 9, for the bipartite case).
:func:`profile_log_likelihood` is the one implementation of it, used by
:func:`estimate_omega`, by :class:`fastbip.algorithms.dcsbm.DCSBM` (its sweeps and
``log_likelihood_``) and by :func:`fastbip.algorithms.dcsbm.select_k` (its criteria, through
:func:`degree_corrected_log_likelihood`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastbip._validation import renamed_keyword
from fastbip.blocks.counts import _counts, _prepare

__all__ = [
    "OmegaEstimate",
    "degree_corrected_log_likelihood",
    "estimate_omega",
    "profile_log_likelihood",
]


def profile_log_likelihood(C: object) -> float:
    """``sum_kl C_kl log(C_kl / (R_k S_l))`` for block totals ``C`` (``0 log 0 = 0``).

    Parameters
    ----------
    C : array-like (K_A, K_B) of non-negative numbers
        Block totals, e.g. from :func:`fastbip.blocks.block_counts`.

    Returns
    -------
    float
        The label-dependent part of the maximised degree-corrected Poisson log-likelihood
        (``R = C.sum(1)``, ``S = C.sum(0)``): compare labellings with it.
    """
    C = np.asarray(C, dtype=np.float64)
    R = C.sum(axis=1, keepdims=True)
    S = C.sum(axis=0, keepdims=True)
    nz = C > 0
    denom = (R * S)[nz]
    return float(np.sum(C[nz] * np.log(C[nz] / denom)))


def degree_corrected_log_likelihood(
    C: object, row_degrees: np.ndarray, column_degrees: np.ndarray
) -> float:
    """The maximised Poisson log-likelihood of the model, up to ``-sum log M_ij!``.

    Parameters
    ----------
    C : array-like (K_A, K_B), the block totals.
    row_degrees : float64 (n_rows,), the rows' totals (over the columns in the model).
    column_degrees : float64 (n_cols,), the columns' totals.

    Returns
    -------
    float
        ``profile_log_likelihood(C) + sum d log d + sum e log e - N`` with ``N`` the sum of
        the row degrees (degrees of zero contribute nothing).
    """
    d_r = row_degrees[row_degrees > 0]
    d_c = column_degrees[column_degrees > 0]
    E = d_r.sum()
    return float(
        profile_log_likelihood(C)
        + float(np.sum(d_r * np.log(d_r)))
        + float(np.sum(d_c * np.log(d_c)))
        - E
    )


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
    row_labels, column_labels : the labels used (int64, -1 = unassigned). ``col_labels`` is
        a deprecated name of ``column_labels``.
    """

    omega: np.ndarray
    theta: np.ndarray
    phi: np.ndarray
    log_likelihood: float
    profile_log_likelihood: float
    row_labels: np.ndarray
    column_labels: np.ndarray

    @property
    def col_labels(self) -> np.ndarray:
        """Deprecated name of :attr:`column_labels`."""
        import warnings

        warnings.warn(
            "OmegaEstimate.col_labels is deprecated; use column_labels",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.column_labels


@renamed_keyword("col_labels", "column_labels")
def estimate_omega(
    M: object,
    row_labels: object,
    column_labels: object,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
) -> OmegaEstimate:
    """Maximum-likelihood ``omega``, ``theta``, ``phi`` and the log-likelihood of labels.

    Parameters
    ----------
    M : scipy.sparse matrix or array (n_rows, n_cols) of non-negative counts
    row_labels, column_labels : labels (-1 = unassigned) or EncodedLabels
        ``col_labels=`` is a deprecated name of ``column_labels=``.
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
    ``sum C log C - sum R log R - sum S log S + sum d log d + sum e log e - N - sum log M!``
    (:func:`degree_corrected_log_likelihood` less ``sum log M!``).
    Non-integer values are accepted (``log M!`` becomes ``lgamma(M + 1)``). Duplicate
    entries are summed first (the same matrix gives the same log-likelihood however it is
    stored).

    Raises
    ------
    ValueError
        ``M`` has no row or no column, a NaN, infinite or negative value, or a malformed
        structure; labels out of range or of the wrong length.
    """
    from scipy.special import gammaln

    # canonical: log M! is a sum over distinct entries, so duplicates are summed first;
    # counts: NaN, infinite and negative purchases are refused, naming M
    M, rows, cols = _prepare(
        M, row_labels, column_labels, n_row_clusters, n_col_clusters, canonical=True, counts=True
    )
    a = rows.labels()
    b = cols.labels()
    C = _counts(M, rows, cols, weighted=True).astype(np.float64)
    row_ok = (a >= 0).astype(np.float64)
    col_ok = (b >= 0).astype(np.float64)
    Mf = M.astype(np.float64)
    d = np.asarray(Mf @ col_ok).ravel() * row_ok
    e = np.asarray(Mf.T @ row_ok).ravel() * col_ok
    if M.nnz:
        if np.all(a >= 0) and np.all(b >= 0):
            lgf = float(gammaln(M.data.astype(np.float64) + 1.0).sum())
        else:
            entry_rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
            keep = (a[entry_rows] >= 0) & (b[M.indices] >= 0)
            lgf = float(gammaln(M.data[keep].astype(np.float64) + 1.0).sum())
    else:
        lgf = 0.0
    return omega_estimate_from_totals(C, d, e, a, b, lgf)


def omega_estimate_from_totals(
    C: np.ndarray,
    row_degrees: np.ndarray,
    column_degrees: np.ndarray,
    row_labels: np.ndarray,
    column_labels: np.ndarray,
    log_factorials: float,
) -> OmegaEstimate:
    """The :class:`OmegaEstimate` of a labelling from its sums alone.

    ``C`` float64 (K_A, K_B): block totals; ``row_degrees`` (n_rows,) and ``column_degrees``
    (n_cols,): each member's total over the assigned members of the other side (0 for
    unassigned members); labels int64 with -1 for unassigned; ``log_factorials``: the sum of
    ``log M_ij!`` over the counted entries. :func:`estimate_omega` and the Dask backend (which
    sums these per shard) both build their result here.
    """
    a, b = row_labels, column_labels
    ka, kb = C.shape
    R = C.sum(axis=1)
    S = C.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(a >= 0, row_degrees / R[np.maximum(a, 0)] if ka else np.nan, np.nan)
        phi = np.where(b >= 0, column_degrees / S[np.maximum(b, 0)] if kb else np.nan, np.nan)
    theta = np.where((a >= 0) & ~np.isfinite(theta), 0.0, theta)
    phi = np.where((b >= 0) & ~np.isfinite(phi), 0.0, phi)
    return OmegaEstimate(
        omega=C,
        theta=theta,
        phi=phi,
        log_likelihood=degree_corrected_log_likelihood(C, row_degrees, column_degrees)
        - log_factorials,
        profile_log_likelihood=profile_log_likelihood(C),
        row_labels=a,
        column_labels=b,
    )
