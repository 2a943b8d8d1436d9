"""The log-likelihood of each member's features under each planted cluster: the features term
of the features and joint oracles (:func:`fastbip.truth.oracle_labels`).

The features are drawn as :mod:`fastbip.generate.population` draws them, and this module
inverts exactly that model. In cluster ``k`` the numeric features are
``x_j = round?(clip?(g_j(y_j)))`` with ``y ~ N(0, R_k)`` (the Gaussian copula, ``R_k`` the
cluster's ``correlation``, identity when none) and ``g_j`` the marginal's increasing map
(normal ``mean + sd y``; lognormal ``exp(meanlog + sdlog y)``; uniform
``low + (high - low) Phi(y)``); categorical features are independent of everything else,
with the cluster's ``probs``.

How each numeric value is read, under cluster ``k``:

- a **point** -- no clip and no round, or a value strictly inside the clip range: its latent
  is ``y_j = g_j^{-1}(x_j)`` and the density picks up the Jacobian
  ``log |d y_j / d x_j|`` (normal ``-log sd``; lognormal ``-log(sdlog x)``; uniform
  ``-log(high - low) - log phi(y_j)``); a value outside the marginal's support (a lognormal
  ``x <= 0``, a uniform outside ``(low, high)``, a value outside the clip) is impossible;
- an **interval** -- a rounded value ``r`` (it must be a whole number) is the event
  ``g_j(y_j) in [r - 1/2, r + 1/2]``, a clipped value at a bound the event
  ``g_j(y_j) <= lo`` (or ``>= hi``); both together: ``[r - 1/2, r + 1/2]`` with the side
  that reaches past a clip bound opened to infinity (``round(clip(.))`` sends everything
  beyond ``lo`` to ``round(lo)``); the bounds are mapped to the latent scale by
  ``g_j^{-1}`` (ties of ``numpy.round`` at half-integers have probability 0);
- a **constant** -- a normal with ``sd = 0`` or a lognormal with ``sdlog = 0``: the value
  must equal the constant (after clip and round), and the latent is integrated out, which
  removes it from the copula.

With ``U`` the points and ``C`` the intervals of a member, the likelihood is exact:
``N(y_U; 0, R_UU) * Jacobian * P(y_C in box | y_U)``, the conditional being Gaussian with mean
``R_CU R_UU^-1 y_U`` and covariance ``R_CC - R_CU R_UU^-1 R_UC``. One interval (the built-in
study: a rounded, clipped age beside two continuous features) is a difference of normal
CDFs, computed in log space (``scipy.special.log_ndtr``); two or more need the multivariate
normal CDF of a box, computed by ``scipy.stats.multivariate_normal.cdf`` (Genz's
quasi-Monte Carlo integration, absolute error 1e-5, seeded so the same data give the same
labels). A singular ``R_UU`` (a correlation of +-1) gets ``1e-10`` added on its diagonal.

Densities and probabilities are not on one scale: a value that is a point under one cluster
and an interval (a probability) under another is infinitely more likely under the second.
So for each member the clusters with the fewest point coordinates win outright: the others
get the impossible score ``-1e30`` (as do clusters under which a value cannot occur), and
the returned log-likelihoods of the winners are comparable (one dominating measure). Costs:
O(n K p^3) with ``p`` the numeric features, all numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import log_ndtr, ndtri

IMPOSSIBLE = -1e30
_JITTER = 1e-10
_LOG_2PI = float(np.log(2.0 * np.pi))

__all__ = ["IMPOSSIBLE", "feature_loglik"]


def _inverse(x: np.ndarray, dist: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The latent ``y = g^{-1}(x)``, the log-Jacobian ``log |dy/dx|`` and a mask of values in
    the support (the latent is 0 where they are not)."""
    p = dict(dist.params)
    with np.errstate(divide="ignore", invalid="ignore"):
        if dist.dist == "normal":
            y = (x - p["mean"]) / p["sd"]
            jac = np.full(x.shape, -np.log(p["sd"]))
            ok = np.isfinite(x)
        elif dist.dist == "lognormal":
            ok = np.isfinite(x) & (x > 0)
            lx = np.log(np.where(ok, x, 1.0))
            y = (lx - p["meanlog"]) / p["sdlog"]
            jac = -np.log(p["sdlog"]) - lx
        else:  # uniform
            lo, hi = p["low"], p["high"]
            ok = np.isfinite(x) & (x > lo) & (x < hi)
            y = ndtri(np.where(ok, (x - lo) / (hi - lo), 0.5))
            jac = -np.log(hi - lo) + 0.5 * y * y + 0.5 * _LOG_2PI
    return np.where(ok, y, 0.0), np.where(ok, jac, 0.0), ok


def _inverse_bound(b: np.ndarray, dist: Any) -> np.ndarray:
    """``g^{-1}`` of interval bounds, extended by monotonicity (-inf below the support, +inf
    above it)."""
    p = dict(dist.params)
    with np.errstate(divide="ignore", invalid="ignore"):
        if dist.dist == "normal":
            return (b - p["mean"]) / p["sd"]
        if dist.dist == "lognormal":
            lb = np.log(np.where(b > 0, b, 1.0))
            return np.where(b > 0, (lb - p["meanlog"]) / p["sdlog"], -np.inf)
        lo, hi = p["low"], p["high"]
        u = np.clip((b - lo) / (hi - lo), 0.0, 1.0)
        return ndtri(u)  # ndtri(0) = -inf, ndtri(1) = +inf


def _constant(dist: Any) -> float | None:
    """The value of a marginal with no spread (after clip and round), else None."""
    p = dict(dist.params)
    if dist.dist == "normal" and p["sd"] == 0:
        c = p["mean"]
    elif dist.dist == "lognormal" and p["sdlog"] == 0:
        c = float(np.exp(p["meanlog"]))
    else:
        return None
    if dist.clip is not None:
        c = min(max(c, dist.clip[0]), dist.clip[1])
    return float(np.round(c)) if dist.round else float(c)


def _read(x: np.ndarray, dist: Any) -> dict[str, np.ndarray]:
    """How the values ``x`` of one feature are read under one cluster's ``dist``.

    Returns arrays of shape (n,): ``ok`` (possible), ``interval`` (else a point), ``y`` and
    ``jac`` (points), ``lo`` and ``hi`` (intervals, latent scale).
    """
    n = x.shape[0]
    clip = dist.clip
    finite = np.isfinite(x)
    if dist.round:
        r = np.where(finite, x, 0.0)
        ok = finite & (r == np.round(r))
        ylo, yhi = r - 0.5, r + 0.5
        if clip is not None:
            ok &= (r + 0.5 >= clip[0]) & (r - 0.5 <= clip[1])
            ylo = np.where(ylo > clip[0], ylo, -np.inf)
            yhi = np.where(yhi < clip[1], yhi, np.inf)
        interval = np.ones(n, dtype=bool)
    elif clip is not None:
        at_lo, at_hi = x == clip[0], x == clip[1]
        interval = at_lo | at_hi
        ok = interval | (finite & (x > clip[0]) & (x < clip[1]))
        ylo = np.where(at_hi, clip[1], -np.inf)
        yhi = np.where(at_lo, clip[0], np.inf)
    else:
        interval = np.zeros(n, dtype=bool)
        ok = finite
        ylo = yhi = np.zeros(n)
    y, jac, in_support = _inverse(np.where(ok & ~interval, x, np.nan), dist)
    ok = ok & (interval | in_support)
    lo = np.where(interval, _inverse_bound(ylo, dist), 0.0)
    hi = np.where(interval, _inverse_bound(yhi, dist), 0.0)
    return {"ok": ok, "interval": interval, "y": y, "jac": jac, "lo": lo, "hi": hi}


def _log_interval(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` for ``a <= b``, stable in both tails."""
    upper = a > 0  # both in the upper tail: Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
    hi_ = np.where(upper, log_ndtr(-a), log_ndtr(b))
    lo_ = np.where(upper, log_ndtr(-b), log_ndtr(a))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = hi_ + np.log1p(-np.exp(lo_ - hi_))
    return np.where(np.isfinite(out), out, IMPOSSIBLE)


def _chol(R: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(R)
    except np.linalg.LinAlgError:
        return np.linalg.cholesky(R + _JITTER * np.eye(R.shape[0]))


def _copula_loglik(reads: list[dict], R: np.ndarray, rows: np.ndarray) -> tuple:
    """Log-likelihood and number of point coordinates of the numeric features, per member
    of ``rows`` (a mask), under one cluster's copula ``R`` over the features of ``reads``."""
    n = rows.shape[0]
    out = np.zeros(n)
    dims = np.zeros(n, dtype=np.int64)
    if not reads:
        return out, dims
    interval = np.column_stack([r["interval"] for r in reads])
    y = np.column_stack([r["y"] for r in reads])
    lo = np.column_stack([r["lo"] for r in reads])
    hi = np.column_stack([r["hi"] for r in reads])
    jac = np.column_stack([r["jac"] for r in reads])
    # members grouped by which features are intervals (a bit per feature)
    if len(reads) <= 62:
        codes = interval[rows].astype(np.int64) @ (np.int64(1) << np.arange(len(reads)))
        patterns, codes = np.unique(codes, return_inverse=True)
        patterns = (patterns[:, None] >> np.arange(len(reads))) & 1 == 1
    else:  # more features than bits
        patterns, codes = np.unique(interval[rows], axis=0, return_inverse=True)
    codes = codes.ravel()
    idx_rows = np.flatnonzero(rows)
    for g, pat in enumerate(patterns):
        members = idx_rows[codes == g]
        U, C = np.flatnonzero(~pat), np.flatnonzero(pat)
        ll = np.zeros(members.size)
        mean = np.zeros((members.size, C.size))
        cov = R[np.ix_(C, C)]
        if U.size:
            L = _chol(R[np.ix_(U, U)])
            yu = y[np.ix_(members, U)]
            w = np.linalg.solve(L, yu.T)  # L^-1 y_U, (|U|, m)
            ll += (
                -0.5 * U.size * _LOG_2PI
                - float(np.sum(np.log(np.diag(L))))
                - 0.5 * np.sum(w * w, axis=0)
                + jac[np.ix_(members, U)].sum(axis=1)
            )
            if C.size:
                A = np.linalg.solve(L, R[np.ix_(U, C)])  # L^-1 R_UC, (|U|, |C|)
                mean = w.T @ A
                cov = cov - A.T @ A
        if C.size == 1:
            s = float(np.sqrt(max(cov[0, 0], 0.0)))
            a = lo[members, C[0]] - mean[:, 0]
            b = hi[members, C[0]] - mean[:, 0]
            if s > 0:
                ll += _log_interval(a / s, b / s)
            else:  # the latent is fixed by the others
                ll += np.where((a <= 0) & (b >= 0), 0.0, IMPOSSIBLE)
        elif C.size > 1:
            from scipy.stats import multivariate_normal

            p = multivariate_normal.cdf(
                hi[np.ix_(members, C)] - mean,
                mean=np.zeros(C.size),
                cov=cov,
                allow_singular=True,
                lower_limit=lo[np.ix_(members, C)] - mean,
                rng=0,
            )
            p = np.atleast_1d(np.asarray(p, dtype=np.float64))
            with np.errstate(divide="ignore"):
                ll += np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), IMPOSSIBLE)
        out[members] = ll
        dims[members] = U.size
    return out, dims


def feature_loglik(spec: Any, pop: Any) -> np.ndarray:
    """Log-likelihood of each member's features under each planted cluster (see the module
    docstring for the model and how each value is read).

    Parameters
    ----------
    spec : PopulationSpec
        The planted population (its clusters' feature distributions and correlations).
    pop : Population
        The drawn members: ``columns`` holding every feature of ``spec`` (float64 numeric
        values, int category codes), each of shape (n,).

    Returns
    -------
    ndarray of float64, shape (n, K)
        ``log p(features_i | cluster k)`` on a common scale per member; ``IMPOSSIBLE``
        (-1e30) where the features cannot occur under ``k``, or occur with a density where
        another cluster gives them a probability. Zeros when the population has no features.
    """
    n, k = pop.n, spec.k
    out = np.zeros((n, k))
    dims = np.zeros((n, k), dtype=np.int64)
    possible = np.ones((n, k), dtype=bool)
    numeric = spec.numeric_features
    for c, cl in enumerate(spec.clusters):
        reads, kept = [], []
        for j, f in enumerate(numeric):
            dist = cl.distribution(f)
            x = np.asarray(pop.columns[f], dtype=np.float64)
            const = _constant(dist)
            if const is not None:
                possible[:, c] &= x == const
                continue
            r = _read(x, dist)
            possible[:, c] &= r["ok"]
            reads.append(r)
            kept.append(j)
        R = np.eye(len(numeric)) if cl.correlation is None else np.asarray(cl.correlation)
        R = R[np.ix_(kept, kept)]
        out[:, c], dims[:, c] = _copula_loglik(reads, R, possible[:, c])
        for f in spec.features:
            if f.kind != "categorical":
                continue
            probs = np.asarray(cl.distribution(f.name).probs, dtype=np.float64)
            probs = probs / probs.sum()
            with np.errstate(divide="ignore"):
                logp = np.where(probs > 0, np.log(np.where(probs > 0, probs, 1.0)), IMPOSSIBLE)
            out[:, c] += logp[np.asarray(pop.columns[f.name], dtype=np.int64)]
    # fewest point coordinates win outright (a probability beats a density)
    big = np.iinfo(np.int64).max
    least = np.where(possible, dims, big).min(axis=1, keepdims=True)
    keep = possible & (dims == least)
    return np.where(keep, np.maximum(out, IMPOSSIBLE), IMPOSSIBLE)
