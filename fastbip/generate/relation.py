"""The planted relation: expected block totals, degrees, and what the sample should hold.

* :func:`planted_omega`: the expected block totals of a spec's relation for given cluster
  sizes (the spec's relative rates ``relation.rates`` blended by ``mixing`` and scaled to
  ``n_people * mean_purchases``);
* :func:`draw_degrees`: each member's activity or popularity, normalised inside its cluster;
* :func:`degree_moment`: the relative second moment ``E[w^2] / E[w]^2`` of a degree
  distribution, which sets how much the degrees raise the signal-to-noise ratio;
* :func:`expected_block_totals`: what a sample of :func:`~fastbip.generate.sample_purchases`
  holds per block pair on average (thinned by affinities, capped by the Bernoulli model).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastbip._rng import as_generator
from fastbip._validation import check_choice, check_int
from fastbip.spec import DegreeSpec, RelationSpec

from .purchases import MODELS, Affinity, _validate, _validate_affinity

__all__ = ["degree_moment", "draw_degrees", "expected_block_totals", "planted_omega"]


def planted_omega(
    relation: RelationSpec, people_sizes: np.ndarray, item_sizes: np.ndarray
) -> np.ndarray:
    """Expected block totals of a dataset with the given cluster sizes.

    With ``W`` the spec's affinity per person-item pair, ``s`` and ``t`` the cluster shares
    and ``m`` the mixing, the blended affinity is ``W' = (1 - m) W + m (s^T W t)`` (at
    ``m = 1`` every pair has the same rate: no structure), and
    ``omega[k, l] = c * W'[k, l] * n_k * m_l`` with ``c`` chosen so that
    ``omega.sum() = n_people * mean_purchases``.
    """
    w = np.asarray(relation.rates, dtype=np.float64)
    ns = np.asarray(people_sizes, dtype=np.float64)
    ms = np.asarray(item_sizes, dtype=np.float64)
    s, t = ns / ns.sum(), ms / ms.sum()
    wbar = s @ w @ t
    w = (1.0 - relation.mixing) * w + relation.mixing * wbar
    raw = w * np.outer(ns, ms)
    total = raw.sum()
    if total <= 0:
        raise ValueError("relation.rates puts no weight on any pair of non-empty clusters")
    return raw * (ns.sum() * relation.mean_purchases / total)


def draw_degrees(
    spec: DegreeSpec,
    labels: np.ndarray,
    k: int,
    rng: np.random.Generator | np.random.SeedSequence | int | None = None,
) -> np.ndarray:
    """Activity or popularity: raw draws from ``spec`` normalised to sum to 1 per cluster."""
    rng = as_generator(rng)
    n = labels.shape[0]
    if spec.dist == "lognormal":
        raw = rng.lognormal(-0.5 * spec.sigma**2, spec.sigma, n)
    elif spec.dist == "pareto":
        raw = rng.pareto(spec.alpha, n) + 1.0
    else:
        raw = np.ones(n)
    totals = np.bincount(labels, weights=raw, minlength=k)
    return raw / totals[labels]


def degree_moment(spec: DegreeSpec) -> float:
    """The relative second moment ``E[w^2] / E[w]^2`` of a degree distribution.

    Parameters
    ----------
    spec : DegreeSpec
        An activity or popularity distribution, as :func:`draw_degrees` draws it.

    Returns
    -------
    float
        ``exp(sigma^2)`` for ``lognormal``; ``(alpha - 1)^2 / (alpha (alpha - 2))`` for
        ``pareto`` with ``alpha > 2`` and ``inf`` for ``alpha <= 2`` (its second moment, or
        for ``alpha <= 1`` its mean too, is infinite); 1 for ``constant``.

    Notes
    -----
    With ``theta_i = w_i / sum_{i' in k} w_i'`` (normalised inside a cluster of ``n_k``
    members) the sum ``sum_{i in k} theta_i^2`` is ``degree_moment / n_k`` up to terms of
    order ``1 / n_k`` (law of large numbers on numerator and denominator); that is the
    planted expectation :func:`fastbip.snr` uses. For the classical Pareto with minimum 1,
    ``E[w] = alpha / (alpha - 1)`` and ``E[w^2] = alpha / (alpha - 2)``.
    """
    if spec.dist == "lognormal":
        return float(np.exp(spec.sigma**2))
    if spec.dist == "pareto":
        a = float(spec.alpha)
        return float((a - 1.0) ** 2 / (a * (a - 2.0))) if a > 2.0 else float("inf")
    return 1.0


def _normalise(w, labels, k):
    """w divided by its sum inside each cluster; also returns each cluster's sum."""
    sums = np.bincount(labels, weights=w, minlength=k)
    scale = np.divide(1.0, sums, out=np.zeros(k), where=sums > 0)
    return w * scale[labels], sums


def expected_block_totals(
    people_labels: ArrayLike,
    item_labels: ArrayLike,
    theta: ArrayLike,
    phi: ArrayLike,
    omega: ArrayLike,
    *,
    affinity: Affinity | None = None,
    model: str = "poisson",
    chunk: int = 4096,
) -> np.ndarray:
    """Expected purchases between each pair of clusters, float64 (K_A, K_B).

    Without affinity this is ``omega`` with the pairs of empty clusters (or clusters whose
    ``theta``/``phi`` sum to 0) set to 0 (and ``np.rint(omega)`` for ``model="exact"``).
    With affinity, the thinned expectation ``sum_{i in k, j in l} theta_i phi_j
    omega[k, l] f(i, j)`` is computed exactly in O(n_people * n_items) time by chunks of
    people. For ``model="bernoulli"`` the expected number of distinct pairs
    ``sum 1 - exp(-rate_ij)`` is returned (also O(n_people * n_items)).
    """
    check_choice(model, "model", MODELS)
    chunk = check_int(chunk, "chunk", 1)
    a, b, theta, phi, om = _validate(people_labels, item_labels, theta, phi, omega)
    ka, kb = om.shape
    n, m = a.size, b.size
    ax, ay, aw = _validate_affinity(affinity, n, m)
    theta, ts = _normalise(theta, a, ka)
    phi, ps = _normalise(phi, b, kb)
    live = (ts > 0)[:, None] & (ps > 0)[None, :]
    if model == "exact":
        return np.where(live, np.rint(om), 0.0)
    if aw.size == 0 and model == "poisson":
        return np.where(live, om, 0.0)
    out = np.zeros((ka, kb))
    zb = np.zeros((m, kb))
    zb[np.arange(m), b] = 1.0
    for s in range(0, n, chunk):
        e = slice(s, min(n, s + chunk))
        rate = theta[e, None] * phi[None, :] * om[a[e]][:, b]
        for q in range(aw.size):
            rate *= np.exp(-aw[q] * (ax[q, e, None] - ay[q, None, :]) ** 2)
        if model == "bernoulli":
            rate = -np.expm1(-rate)
        np.add.at(out, a[e], rate @ zb)
    return out
