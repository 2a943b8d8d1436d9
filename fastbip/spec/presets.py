"""Built-in specs: the default study (:func:`default_spec`) and the planted benchmark family
(:func:`planted_spec`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._parse import SpecError
from ._spec import Spec

__all__ = ["default_spec", "planted_spec"]


def _normal(mean: float, sd: float, **kw: Any) -> dict:
    return {"dist": "normal", "mean": mean, "sd": sd, **kw}


def default_spec(
    n_people: int = 2000, n_items: int = 500, seed: int = 0, with_time: bool = True
) -> Spec:
    """The built-in study.

    Four people-clusters with ``age``, ``postcode``, ``income`` and ``something``; four
    item-clusters with ``price``, ``category`` and ``target_age``; a relation with strong
    off-diagonal preferences (not a diagonal); seasonal time profiles.

    Parameters
    ----------
    n_people, n_items : int
        Population sizes.
    seed : int
        The spec's seed.
    with_time : bool
        Whether to include the ``time`` table (one profile per item-cluster).

    Returns
    -------
    Spec
    """
    postcodes = ["N1", "N2", "E1", "E2", "S1", "S2", "W1", "W2"]
    categories = ["food", "tech", "clothes", "home", "garden"]

    def pc(*weights: float) -> dict:
        w = np.asarray(weights, dtype=float)
        return {"dist": "categorical", "probs": (w / w.sum()).round(12).tolist()}

    people_clusters = [
        (
            "students",
            0.25,
            _normal(22, 3, clip=[16, 99], round=True),
            pc(6, 4, 1, 1, 1, 1, 1, 1),
            {"dist": "lognormal", "meanlog": 9.3, "sdlog": 0.5},
            _normal(-1.0, 1.0),
            0.3,
        ),
        (
            "families",
            0.35,
            _normal(40, 6, clip=[16, 99], round=True),
            pc(1, 1, 1, 1, 5, 5, 1, 1),
            {"dist": "lognormal", "meanlog": 10.6, "sdlog": 0.4},
            _normal(0.5, 1.0),
            0.5,
        ),
        (
            "professionals",
            0.25,
            _normal(33, 5, clip=[16, 99], round=True),
            pc(1, 1, 5, 5, 1, 1, 2, 2),
            {"dist": "lognormal", "meanlog": 11.0, "sdlog": 0.5},
            _normal(1.0, 1.0),
            0.6,
        ),
        (
            "retirees",
            0.15,
            _normal(71, 6, clip=[16, 99], round=True),
            pc(1, 1, 1, 1, 1, 1, 5, 5),
            {"dist": "lognormal", "meanlog": 10.0, "sdlog": 0.4},
            _normal(-0.5, 1.0),
            -0.2,
        ),
    ]
    people = {
        "n": n_people,
        "features": [
            {"name": "age", "kind": "numeric"},
            {"name": "postcode", "kind": "categorical", "categories": postcodes},
            {"name": "income", "kind": "numeric"},
            {"name": "something", "kind": "numeric"},
        ],
        "clusters": [
            {
                "name": name,
                "share": share,
                "features": {"age": age, "postcode": post, "income": inc, "something": sth},
                # age, income, something
                "correlation": [[1.0, rho, 0.0], [rho, 1.0, 0.2], [0.0, 0.2, 1.0]],
            }
            for name, share, age, post, inc, sth, rho in people_clusters
        ],
    }
    item_clusters = [
        (
            "groceries",
            0.40,
            {"dist": "lognormal", "meanlog": 1.2, "sdlog": 0.6},
            pc(8, 0.2, 0.2, 1, 0.5),
            _normal(40, 15),
        ),
        (
            "electronics",
            0.20,
            {"dist": "lognormal", "meanlog": 5.0, "sdlog": 1.0},
            pc(0.2, 8, 0.2, 1, 0.1),
            _normal(28, 8),
        ),
        (
            "fashion",
            0.25,
            {"dist": "lognormal", "meanlog": 3.5, "sdlog": 0.7},
            pc(0.1, 0.3, 8, 0.5, 0.1),
            _normal(30, 10),
        ),
        (
            "garden",
            0.15,
            {"dist": "lognormal", "meanlog": 3.0, "sdlog": 0.9},
            pc(0.2, 0.2, 0.2, 2, 8),
            _normal(55, 12),
        ),
    ]
    items = {
        "n": n_items,
        "features": [
            {"name": "price", "kind": "numeric"},
            {"name": "category", "kind": "categorical", "categories": categories},
            {"name": "target_age", "kind": "numeric"},
        ],
        "clusters": [
            {
                "name": name,
                "share": share,
                "features": {"price": price, "category": cat, "target_age": tage},
                "correlation": [[1.0, -0.3], [-0.3, 1.0]],
            }
            for name, share, price, cat, tage in item_clusters
        ],
    }
    relation = {
        #          groceries electronics fashion garden
        "rates": [
            [1.0, 4.0, 3.0, 0.2],  # students
            [4.0, 1.0, 1.0, 2.0],  # families
            [1.5, 2.5, 2.0, 0.5],  # professionals
            [2.0, 0.3, 0.5, 4.0],
        ],  # retirees
        "mean_purchases": 20.0,
        "mixing": 0.0,
        "model": "poisson",
        "activity": {"dist": "lognormal", "sigma": 1.0},
        "popularity": {"dist": "lognormal", "sigma": 1.0},
    }
    d: dict[str, Any] = {"people": people, "items": items, "relation": relation, "seed": seed}
    if with_time:
        d["time"] = {
            "start": 0.0,
            "end": 365.0,
            "profiles": [
                {"base": 1.0, "trend": 0.1},
                {"base": 0.6, "peaks": [{"center": 330.0, "width": 12.0, "height": 3.0}]},
                {"base": 0.8, "seasonal": [{"period": 182.5, "amplitude": 0.8, "phase": 90.0}]},
                {"base": 0.2, "peaks": [{"center": 120.0, "width": 30.0, "height": 1.5}]},
            ],
        }
    return Spec.from_dict(d)


def planted_spec(
    n_people: int,
    n_items: int,
    k_people: int,
    k_items: int,
    mean_purchases: float = 20.0,
    mixing: float | None = None,
    seed: int = 0,
    *,
    snr: float | None = None,
    ratio: float = 10.0,
    activity: str | dict = "lognormal",
    popularity: str | dict = "lognormal",
    features: bool = False,
    model: str = "poisson",
) -> Spec:
    """The standard planted benchmark family.

    Equal shares; affinity ``ratio`` on the "diagonal" pairs (person-cluster k with
    item-cluster k mod k_items) and 1 elsewhere; ``mixing`` blends toward no structure.
    ``activity``/``popularity`` are a distribution name or a table (see :class:`DegreeSpec`).
    With ``features=True`` each side gets one normal feature ``x`` whose mean is the cluster
    index (sd 1) and one categorical feature ``tag`` (its category = cluster with prob 0.6).

    With ``snr`` the difficulty is given instead of the mixing: the mixing is solved for so
    that the spec's expected signal-to-noise ratio (:func:`fastbip.snr`, 1 is the detection
    threshold) is ``snr`` to within a relative 1e-9 (see Notes).

    Parameters
    ----------
    n_people, n_items : int
        Population sizes, >= 1.
    k_people, k_items : int
        Numbers of clusters, >= 1.
    mean_purchases : float
        Expected purchases per person.
    mixing : float or None
        In [0, 1]; 0 is the planted relation, 1 is no structure. None means 0, or the mixing
        solved for ``snr``. Giving both ``mixing`` and ``snr`` is an error.
    seed : int
        The spec's seed.
    snr : float or None
        The signal-to-noise ratio wanted, > 0 and at most the one reached at ``mixing=0``.
    ratio : float
        Relative rate of the "diagonal" pairs, > 0.
    activity, popularity : str or dict
        Degree distributions (:class:`~fastbip.spec.DegreeSpec`).
    features : bool
        Whether each side gets the features ``x`` and ``tag``.
    model : str
        One of :data:`~fastbip.spec.MODELS`.

    Returns
    -------
    Spec

    Raises
    ------
    SpecError
        If an argument is out of range, if both ``mixing`` and ``snr`` are given, or if
        ``snr`` is above what ``mixing=0`` reaches (the message gives that maximum).

    Notes
    -----
    The SNR targeted is the planted expectation, a property of the spec (``fastbip.snr(spec)``,
    and ``fastbip.snr`` of every dataset generated from it, whatever the seed): the
    cluster sizes, ``omega`` and the second moments of the activity and popularity
    distributions (:func:`fastbip.generate.degree_moment`). Nothing is drawn: the mixing is
    found by bisection on that expected SNR, which decreases from its maximum at
    ``mixing=0`` to 0 at ``mixing=1``. The realised SNR of one dataset
    (``fastbip.snr(dataset, expected=False)``) reads the drawn degrees and scatters around
    it (a few per cent with lognormal degrees at sigma 1 and 10^3 members per cluster).
    With a pareto distribution of ``alpha <= 2`` the expected SNR is infinite and ``snr``
    cannot be targeted (a SpecError says so).
    """
    for name, v in (
        ("n_people", n_people),
        ("n_items", n_items),
        ("k_people", k_people),
        ("k_items", k_items),
    ):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise SpecError(f"{name} must be a positive integer; got {v!r}")
    if not ratio > 0:
        raise SpecError(f"ratio must be > 0; got {ratio!r}")
    if snr is not None and mixing is not None:
        raise SpecError(
            f"give either mixing or snr, not both; got mixing={mixing!r} and snr={snr!r}"
        )
    rates = np.ones((k_people, k_items))
    rates[np.arange(k_people), np.arange(k_people) % k_items] = ratio

    def side(n: int, k: int, prefix: str) -> dict:
        tags = [f"{prefix}{c}" for c in range(k)]
        feats = (
            [
                {"name": "x", "kind": "numeric"},
                {"name": "tag", "kind": "categorical", "categories": tags},
            ]
            if features
            else []
        )
        clusters = []
        for c in range(k):
            fd = {}
            if features:
                probs = np.full(k, 0.4 / max(k - 1, 1)) if k > 1 else np.ones(1)
                probs[c] = 0.6 if k > 1 else 1.0
                fd = {
                    "x": _normal(float(c), 1.0),
                    "tag": {"dist": "categorical", "probs": probs.tolist()},
                }
            clusters.append({"name": f"{prefix}{c}", "share": 1.0, "features": fd})
        return {"n": n, "features": feats, "clusters": clusters}

    d = {
        "people": side(n_people, k_people, "A"),
        "items": side(n_items, k_items, "B"),
        "relation": {
            "rates": rates.tolist(),
            "mean_purchases": mean_purchases,
            "mixing": 0.0 if mixing is None else mixing,
            "model": model,
            "activity": activity,
            "popularity": popularity,
        },
        "seed": seed,
    }
    spec = Spec.from_dict(d)
    if snr is None:
        return spec
    d["relation"]["mixing"] = _mixing_for_snr(spec, snr, ratio)
    return Spec.from_dict(d)


def _mixing_for_snr(spec: Spec, target: Any, ratio: float, rtol: float = 1e-9) -> float:
    """The mixing at which ``spec`` has the expected signal-to-noise ratio ``target``.

    Bisection on the mixing of ``fastbip.snr(spec)``, the planted expectation: the cluster
    sizes, ``omega`` and the degree distributions' second moments, nothing drawn or
    generated (each step is one K_A x K_A eigenvalue problem).
    """
    # the SNR is a later stage than the spec: imported here, when asked for
    from dataclasses import replace

    from fastbip.truth import snr as snr_of

    if isinstance(target, bool) or not isinstance(target, (int, float, np.integer, np.floating)):
        raise SpecError(f"snr must be a number; got {target!r}")
    target = float(target)
    if not (np.isfinite(target) and target > 0):
        raise SpecError(f"snr must be a finite number > 0; got {target!r}")

    def snr_at(m: float) -> float:
        return snr_of(replace(spec, relation=replace(spec.relation, mixing=m)))

    if min(spec.people.k, spec.items.k) < 2:
        raise SpecError(
            f"snr={target:g} cannot be reached: with a single cluster on a side "
            f"(K={spec.people.k}x{spec.items.k}) there is no structure to detect; the largest "
            "SNR is 0"
        )
    top = snr_at(0.0)
    if np.isinf(top):
        raise SpecError(
            f"snr={target:g} cannot be targeted: a degree distribution has an infinite "
            f"second moment (activity {spec.relation.activity.to_dict()}, popularity "
            f"{spec.relation.popularity.to_dict()}; pareto needs alpha > 2), so the expected "
            "SNR is infinite at every mixing below 1; give mixing instead"
        )
    if target > top * (1 + 1e-4):
        raise SpecError(
            f"snr={target:g} cannot be reached: the largest SNR of this planted family "
            f"(mixing=0, ratio={ratio:g}, K={spec.people.k}x{spec.items.k}, "
            f"{spec.people.n}x{spec.items.n}, mean_purchases={spec.relation.mean_purchases:g}) "
            f"is {top:.6g}; raise ratio or mean_purchases for more"
        )
    if target >= top:
        return 0.0
    lo, hi = 0.0, 1.0  # snr_at(lo) > target >= snr_at(hi) = 0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        s = snr_at(mid)
        if abs(s - target) <= rtol * target:
            return mid
        if s > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
