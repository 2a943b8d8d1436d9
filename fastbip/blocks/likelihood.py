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
:func:`degree_corrected_log_likelihood`). For integer-valued purchases the sums over
entries and members (``sum log M!``, ``sum d log d``) are taken over their distinct values
(:func:`term_part`, :func:`term_sum`), so they do not depend on how the matrix is ordered
or cut into row shards.
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
        the row degrees (degrees of zero contribute nothing). For integer-valued degrees
        ``sum d log d`` is taken over their distinct values (:func:`term_sum`), so it does
        not depend on how the rows are ordered or cut.
    """
    d_r = row_degrees[row_degrees > 0]
    return log_likelihood_from_sums(
        C,
        term_sum([term_part(row_degrees, "xlogx")], "xlogx"),
        term_sum([term_part(column_degrees, "xlogx")], "xlogx"),
        float(d_r.sum()),
    )


def log_likelihood_from_sums(
    C: object, row_xlogx: float, column_xlogx: float, total: float
) -> float:
    """``profile_log_likelihood(C) + row_xlogx + column_xlogx - total``: the one place the
    terms of :func:`degree_corrected_log_likelihood` are added (the Dask backend adds its
    per-shard sums here too)."""
    return float(profile_log_likelihood(C) + row_xlogx + column_xlogx - total)


# --------------------------------------------------------------------------- exact sums


def _log_factorial(v: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(v + 1.0)


def _xlogx(v: np.ndarray) -> np.ndarray:
    return v * np.log(v)


_TERMS = {"log_factorial": _log_factorial, "xlogx": _xlogx}


def value_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(distinct values ascending as float64, their counts as int64) of an integer-valued
    array, or None when a value is not an integer (or not finite).

    Integer counts add exactly, so the counts of a whole array are the sums of the counts of
    its pieces however it is cut (:func:`merge_value_counts`).
    """
    x = np.asarray(x).ravel()
    if x.size == 0:
        return np.zeros(0, np.float64), np.zeros(0, np.int64)
    if x.dtype.kind in "iub":
        xi = x.astype(np.int64, copy=False)
    else:
        if not np.all(np.isfinite(x)) or np.max(np.abs(x)) >= 2.0**63:
            return None
        xi = x.astype(np.int64)
        if not np.array_equal(xi, x):
            return None
    lo, hi = int(xi.min()), int(xi.max())
    if lo >= 0 and hi <= max(1 << 16, 4 * x.size):  # small values: one counting pass
        cnt = np.bincount(xi)
        v = np.flatnonzero(cnt)
        return v.astype(np.float64), cnt[v].astype(np.int64)
    v, c = np.unique(xi, return_counts=True)
    return v.astype(np.float64), c.astype(np.int64)


def merge_value_counts(parts: list) -> tuple[np.ndarray, np.ndarray]:
    """The :func:`value_counts` of the concatenated arrays, from theirs (exact)."""
    if not parts:
        return np.zeros(0, np.float64), np.zeros(0, np.int64)
    v = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    values, inverse = np.unique(v, return_inverse=True)
    counts = np.zeros(values.size, np.int64)
    np.add.at(counts, inverse, c)
    return values, counts


def term_part(x: np.ndarray, term: str) -> tuple | float:
    """One piece's share of ``sum f(x)`` for ``term`` "log_factorial" (``log x!``) or
    "xlogx" (``x log x``, for ``x > 0``): its :func:`value_counts` when ``x`` is
    integer-valued, else the float sum ``sum f(x)``. :func:`term_sum` adds the pieces."""
    x = np.asarray(x)
    if term == "xlogx":
        x = x[x > 0]
    vc = value_counts(x)
    if vc is not None:
        return vc
    return float(np.sum(_TERMS[term](np.asarray(x, dtype=np.float64))))


def term_sum(parts: list, term: str) -> float:
    """``sum f(x)`` over the pieces of :func:`term_part`.

    When every piece is integer-valued the sum is ``sum_v n_v f(v)`` over the distinct
    values ``v`` of the whole and their counts ``n_v`` (exact integers), in ascending ``v``:
    bit-identical however the array was cut into pieces. Otherwise the pieces' float sums
    are added in order (equal to one pass within rounding, about 1e-12 relative).
    """
    f = _TERMS[term]
    if all(isinstance(p, tuple) for p in parts):
        v, c = merge_value_counts(parts)
        return float(np.sum(c * f(v))) if v.size else 0.0
    out = 0.0
    for p in parts:
        out += (float(np.sum(p[1] * f(p[0]))) if p[0].size else 0.0) if isinstance(p, tuple) else p
    return float(out)


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
    stored). For integer-valued purchases ``sum log M!`` and ``sum d log d`` are taken over
    the distinct values and their counts (:func:`term_sum`), so the log-likelihood is the
    same bit for bit whatever the order of the rows, and equal to the Dask backend's sum
    over row shards (:func:`fastbip.distributed.estimate_omega_dask`).

    Raises
    ------
    ValueError
        ``M`` has no row or no column, a NaN, infinite or negative value, or a malformed
        structure; labels out of range or of the wrong length.
    """
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
    if np.all(a >= 0) and np.all(b >= 0):
        x = M.data
    else:
        entry_rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
        x = M.data[(a[entry_rows] >= 0) & (b[M.indices] >= 0)]
    lgf = term_sum([term_part(x, "log_factorial")], "log_factorial")
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
    return OmegaEstimate(
        omega=C,
        theta=member_shares(row_degrees, a, C.sum(axis=1)),
        phi=member_shares(column_degrees, b, C.sum(axis=0)),
        log_likelihood=degree_corrected_log_likelihood(C, row_degrees, column_degrees)
        - log_factorials,
        profile_log_likelihood=profile_log_likelihood(C),
        row_labels=a,
        column_labels=b,
    )


def member_shares(degrees: np.ndarray, labels: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """``theta`` (or ``phi``): each member's degree over its cluster's total, NaN for an
    unassigned member (label -1), 0 in a cluster without purchases. Element by element, so
    a piece of the members gives that piece of the result exactly."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(
            labels >= 0,
            degrees / totals[np.maximum(labels, 0)] if totals.size else np.nan,
            np.nan,
        )
    return np.where((labels >= 0) & ~np.isfinite(share), 0.0, share)
