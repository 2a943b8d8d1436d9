"""The pieces of a spec: populations, relation and time, validated and immutable.

Every ``from_dict`` reads one table of a spec file and raises :class:`SpecError` naming the
path of the first wrong field; every ``to_dict`` writes the table back (the two round-trip).
The file format, field by field, is in ``docs/spec-format.md``. The lists of allowed names
(:data:`MODELS`, :data:`NUMERIC_DISTS`, :data:`DEGREE_DISTS`, :data:`FEATURE_KINDS`) are
defined here and only here; the time profiles live in :mod:`fastbip.spec.time` and are
re-exported here, the whole :class:`~fastbip.spec.Spec` in :mod:`fastbip.spec`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._parse import (
    SpecError,
    _bool,
    _fail,
    _get,
    _int,
    _list,
    _matrix,
    _no_extra,
    _nonneg,
    _number,
    _positive,
    _require,
    _str,
)
from .time import Peak, Seasonal, TimeProfile, TimeSpec

__all__ = [
    "DEGREE_DISTS",
    "FEATURE_KINDS",
    "MODELS",
    "NUMERIC_DISTS",
    "AffinityTerm",
    "ClusterSpec",
    "DegreeSpec",
    "Distribution",
    "FeatureSpec",
    "Peak",
    "PopulationSpec",
    "RelationSpec",
    "Seasonal",
    "SpecError",
    "TimeProfile",
    "TimeSpec",
]

#: Purchase models: Poisson multigraph, Bernoulli simple graph, exact block totals.
MODELS: tuple[str, ...] = ("poisson", "bernoulli", "exact")
#: Numeric feature distributions and the parameters each takes, in order.
NUMERIC_DISTS: dict[str, tuple[str, ...]] = {
    "normal": ("mean", "sd"),
    "lognormal": ("meanlog", "sdlog"),
    "uniform": ("low", "high"),
}
#: Activity / popularity distributions and the parameter each takes.
DEGREE_DISTS: dict[str, tuple[str, ...]] = {
    "lognormal": ("sigma",),
    "pareto": ("alpha",),
    "constant": (),
}
#: Kinds of feature.
FEATURE_KINDS: tuple[str, ...] = ("numeric", "categorical")


# --------------------------------------------------------------------------- populations


@dataclass(frozen=True)
class FeatureSpec:
    """A feature of a population: its name, kind, and categories when categorical."""

    name: str
    kind: str = "numeric"  # one of FEATURE_KINDS
    categories: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, d: Any, path: str) -> FeatureSpec:
        """Parse one entry of ``people.features`` / ``items.features`` found at ``path``."""
        d = _require(d, path)
        _no_extra(d, {"name", "kind", "categories"}, path)
        name = _str(_get(d, "name", path), f"{path}.name")
        if not name:
            raise _fail(f"{path}.name", "must not be empty", name)
        kind = _str(d.get("kind", "numeric"), f"{path}.kind", FEATURE_KINDS)
        cats = None
        if kind == "categorical":
            raw = _list(_get(d, "categories", path), f"{path}.categories", 1)
            cats = tuple(str(c) for c in raw)
            if len(set(cats)) != len(cats):
                raise _fail(f"{path}.categories", "must be distinct", list(cats))
        elif "categories" in d:
            raise _fail(
                f"{path}.categories", "is only allowed for kind = 'categorical'", d["categories"]
            )
        return cls(name, kind, cats)

    def to_dict(self) -> dict:
        """The table of this feature, as written in a spec file."""
        d: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.categories is not None:
            d["categories"] = list(self.categories)
        return d


@dataclass(frozen=True)
class Distribution:
    """One feature's distribution inside one cluster."""

    dist: str
    params: tuple[tuple[str, float], ...] = ()
    probs: tuple[float, ...] | None = None
    clip: tuple[float, float] | None = None
    round: bool = False

    def param(self, name: str) -> float:
        """The value of parameter ``name`` (for example ``"mean"``)."""
        return dict(self.params)[name]

    @classmethod
    def from_dict(cls, d: Any, path: str, feature: FeatureSpec) -> Distribution:
        """Parse the distribution of ``feature`` in one cluster, found at ``path``."""
        d = _require(d, path)
        if feature.kind == "categorical":
            _no_extra(d, {"dist", "probs"}, path)
            dist = _str(d.get("dist", "categorical"), f"{path}.dist", ("categorical",))
            probs = _list(_get(d, "probs", path), f"{path}.probs", 1)
            probs_t = tuple(_nonneg(p, f"{path}.probs[{i}]") for i, p in enumerate(probs))
            assert feature.categories is not None
            if len(probs_t) != len(feature.categories):
                raise _fail(
                    f"{path}.probs",
                    f"must have one entry per category ({len(feature.categories)})",
                    len(probs_t),
                )
            total = sum(probs_t)
            if abs(total - 1.0) > 1e-6:
                raise _fail(f"{path}.probs", "must sum to 1", total)
            return cls(dist, (), probs_t)  # normalised when sampled
        _no_extra(
            d, {"dist", "clip", "round", *{p for ps in NUMERIC_DISTS.values() for p in ps}}, path
        )
        dist = _str(_get(d, "dist", path), f"{path}.dist", tuple(NUMERIC_DISTS))
        names = NUMERIC_DISTS[dist]
        extra = sorted(set(d) - {"dist", "clip", "round", *names})
        if extra:
            raise SpecError(
                f"{path} has field(s) {extra} that a {dist} distribution does not "
                f"take; expected {list(names)}"
            )
        params = tuple((p, _number(_get(d, p, path), f"{path}.{p}")) for p in names)
        pd = dict(params)
        if dist == "normal" and pd["sd"] < 0:
            raise _fail(f"{path}.sd", "must be >= 0", pd["sd"])
        if dist == "lognormal" and pd["sdlog"] < 0:
            raise _fail(f"{path}.sdlog", "must be >= 0", pd["sdlog"])
        if dist == "uniform" and not pd["low"] < pd["high"]:
            raise _fail(f"{path}.high", f"must be > low = {pd['low']}", pd["high"])
        clip = None
        if "clip" in d:
            c = _list(d["clip"], f"{path}.clip", 2)
            if len(c) != 2:
                raise _fail(f"{path}.clip", "must be [low, high]", c)
            lo, hi = _number(c[0], f"{path}.clip[0]"), _number(c[1], f"{path}.clip[1]")
            if not lo < hi:
                raise _fail(f"{path}.clip", "must have low < high", c)
            clip = (lo, hi)
        rnd = _bool(d.get("round", False), f"{path}.round")
        return cls(dist, params, None, clip, rnd)

    def to_dict(self) -> dict:
        """The table of this distribution, as written in a spec file."""
        d: dict[str, Any] = {"dist": self.dist}
        if self.probs is not None:
            d["probs"] = list(self.probs)
        d.update(dict(self.params))
        if self.clip is not None:
            d["clip"] = list(self.clip)
        if self.round:
            d["round"] = True
        return d


def _correlation(v: Any, path: str, n: int) -> tuple[tuple[float, ...], ...]:
    """A valid ``n x n`` correlation matrix: symmetric, unit diagonal, in [-1, 1], PSD."""
    corr = _matrix(v, path, (n, n))
    a = np.array(corr)
    if not np.allclose(a, a.T, atol=1e-12):
        raise _fail(path, "must be symmetric", corr)
    if not np.allclose(np.diag(a), 1.0):
        raise _fail(path, "must have ones on the diagonal", np.diag(a).tolist())
    if np.abs(a).max() > 1 + 1e-12:
        raise _fail(path, "must have entries in [-1, 1]", corr)
    low = float(np.linalg.eigvalsh(a).min())
    if low < -1e-10:
        raise _fail(path, "must be positive semi-definite (smallest eigenvalue >= 0)", low)
    return corr


@dataclass(frozen=True)
class ClusterSpec:
    """A true cluster of a population: its share and its feature distributions."""

    name: str
    share: float
    features: tuple[tuple[str, Distribution], ...] = ()
    correlation: tuple[tuple[float, ...], ...] | None = None

    def distribution(self, feature: str) -> Distribution:
        """The distribution of ``feature`` in this cluster."""
        return dict(self.features)[feature]

    @classmethod
    def from_dict(
        cls, d: Any, path: str, features: tuple[FeatureSpec, ...], default_name: str
    ) -> ClusterSpec:
        """Parse one entry of a population's ``clusters`` found at ``path``.

        ``features`` are the population's features; every one needs a distribution here.
        """
        d = _require(d, path)
        _no_extra(d, {"name", "share", "features", "correlation"}, path)
        names = [f.name for f in features]
        name = _str(d.get("name", default_name), f"{path}.name")
        share = _positive(_get(d, "share", path), f"{path}.share")
        fd = _require(d.get("features", {}), f"{path}.features")
        unknown = sorted(set(fd) - set(names))
        if unknown:
            raise SpecError(
                f"{path}.features has unknown feature(s) {unknown}; the "
                f"population's features are {names}"
            )
        missing = [f for f in names if f not in fd]
        if missing:
            raise SpecError(f"{path}.features is missing a distribution for {missing}")
        dists = tuple(
            (f.name, Distribution.from_dict(fd[f.name], f"{path}.features.{f.name}", f))
            for f in features
        )
        corr = None
        if d.get("correlation") is not None:
            n_numeric = sum(f.kind == "numeric" for f in features)
            corr = _correlation(d["correlation"], f"{path}.correlation", n_numeric)
        return cls(name, share, dists, corr)

    def to_dict(self) -> dict:
        """The table of this cluster, as written in a spec file."""
        d: dict[str, Any] = {
            "name": self.name,
            "share": self.share,
            "features": {k: v.to_dict() for k, v in self.features},
        }
        if self.correlation is not None:
            d["correlation"] = [list(r) for r in self.correlation]
        return d


@dataclass(frozen=True)
class PopulationSpec:
    """People or items: size, features and clusters."""

    n: int
    clusters: tuple[ClusterSpec, ...]
    features: tuple[FeatureSpec, ...] = ()

    @property
    def k(self) -> int:
        """The number of clusters."""
        return len(self.clusters)

    @property
    def shares(self) -> np.ndarray:
        """The cluster shares normalised to sum to 1 (float64, shape ``(k,)``)."""
        s = np.array([c.share for c in self.clusters], dtype=np.float64)
        return s / s.sum()

    @property
    def numeric_features(self) -> tuple[str, ...]:
        """The names of the numeric features, in order."""
        return tuple(f.name for f in self.features if f.kind == "numeric")

    @classmethod
    def from_dict(cls, d: Any, path: str) -> PopulationSpec:
        """Parse the ``people`` or ``items`` table (``path`` is its name)."""
        d = _require(d, path)
        _no_extra(d, {"n", "clusters", "features"}, path)
        n = _int(_get(d, "n", path), f"{path}.n", 1)
        feats = tuple(
            FeatureSpec.from_dict(f, f"{path}.features[{i}]")
            for i, f in enumerate(_list(d.get("features", []), f"{path}.features"))
        )
        names = [f.name for f in feats]
        dup = sorted({x for x in names if names.count(x) > 1})
        if dup:
            raise _fail(f"{path}.features", "must have distinct names", dup)
        if "labels" in names:
            raise _fail(f"{path}.features", "must not use the reserved name 'labels'", names)
        raw_clusters = _list(_get(d, "clusters", path), f"{path}.clusters", 1)
        side = path.split(".")[-1]
        clusters = tuple(
            ClusterSpec.from_dict(c, f"{path}.clusters[{i}]", feats, f"{side}-{i}")
            for i, c in enumerate(raw_clusters)
        )
        total = sum(c.share for c in clusters)
        if not math.isfinite(total):
            i = max(range(len(clusters)), key=lambda j: clusters[j].share)
            raise _fail(
                f"{path}.clusters[{i}].share",
                "must be small enough that the shares sum to a finite number (shares are "
                "relative: 1, 2, 3 is 1/6, 2/6, 3/6)",
                clusters[i].share,
            )
        cnames = [c.name for c in clusters]
        if len(set(cnames)) != len(cnames):
            raise _fail(f"{path}.clusters", "must have distinct names", cnames)
        if len(clusters) > n:
            raise _fail(f"{path}.clusters", f"must number at most n = {n}", len(clusters))
        return cls(n, clusters, feats)

    def to_dict(self) -> dict:
        """The table of this population, as written in a spec file."""
        return {
            "n": self.n,
            "features": [f.to_dict() for f in self.features],
            "clusters": [c.to_dict() for c in self.clusters],
        }


# --------------------------------------------------------------------------- relation


@dataclass(frozen=True)
class DegreeSpec:
    """Distribution of activity (people) or popularity (items) before normalisation.

    ``lognormal``: exp(N(-sigma^2/2, sigma^2)) (mean 1); ``pareto``: classical Pareto with
    minimum 1 and tail index ``alpha`` (heavier for small alpha); ``constant``: all equal.
    """

    dist: str = "lognormal"  # one of DEGREE_DISTS
    sigma: float = 1.0
    alpha: float = 2.5

    @classmethod
    def from_dict(cls, d: Any, path: str) -> DegreeSpec:
        """Parse ``relation.activity`` / ``relation.popularity``: a table or a dist name."""
        if isinstance(d, str):
            d = {"dist": d}
        d = _require(d, path)
        _no_extra(d, {"dist", "sigma", "alpha"}, path)
        dist = _str(d.get("dist", "lognormal"), f"{path}.dist", tuple(DEGREE_DISTS))
        extra = sorted(set(d) - {"dist", *DEGREE_DISTS[dist]})
        if extra:
            raise SpecError(
                f"{path} has field(s) {extra} that a {dist} distribution does not "
                f"take; expected {list(DEGREE_DISTS[dist])}"
            )
        sigma = _nonneg(d.get("sigma", 1.0), f"{path}.sigma")
        alpha = _positive(d.get("alpha", 2.5), f"{path}.alpha")
        return cls(dist, sigma, alpha)

    def to_dict(self) -> dict:
        """The table of this distribution, as written in a spec file."""
        d: dict[str, Any] = {"dist": self.dist}
        if self.dist == "lognormal":
            d["sigma"] = self.sigma
        elif self.dist == "pareto":
            d["alpha"] = self.alpha
        return d


@dataclass(frozen=True)
class AffinityTerm:
    """Feature-dependent affinity: the rate is multiplied by
    exp(-(x_person - y_item)^2 / (2 scale^2)) for a numeric feature of each side."""

    people_feature: str
    item_feature: str
    scale: float

    @classmethod
    def from_dict(
        cls, d: Any, path: str, people: PopulationSpec, items: PopulationSpec
    ) -> AffinityTerm:
        """Parse one entry of ``relation.affinity`` (its features must exist and be numeric)."""
        d = _require(d, path)
        _no_extra(d, {"people_feature", "item_feature", "scale"}, path)
        pf = _str(_get(d, "people_feature", path), f"{path}.people_feature")
        itf = _str(_get(d, "item_feature", path), f"{path}.item_feature")
        if pf not in people.numeric_features:
            raise _fail(
                f"{path}.people_feature",
                f"must name a numeric people feature {list(people.numeric_features)}",
                pf,
            )
        if itf not in items.numeric_features:
            raise _fail(
                f"{path}.item_feature",
                f"must name a numeric item feature {list(items.numeric_features)}",
                itf,
            )
        return cls(pf, itf, _positive(_get(d, "scale", path), f"{path}.scale"))

    def to_dict(self) -> dict:
        """The table of this term, as written in a spec file."""
        return asdict(self)


_RELATION_KEYS = {"rates", "mean_purchases", "mixing", "model", "activity", "popularity"}


@dataclass(frozen=True, init=False)
class RelationSpec:
    """The planted relation between people-clusters and item-clusters.

    ``rates[k][l]`` is the *relative* purchase rate of one person of cluster k for one item
    of cluster l (an affinity per person-item pair, any positive scale). It is not the
    dataset's ``Truth.omega``, the *expected block totals*: the generator blends ``rates``
    toward no structure by ``mixing``, weights it by the cluster sizes and scales it so that
    the expected number of purchases is ``n_people * mean_purchases``
    (:func:`fastbip.dataset.planted_omega`).

    Parameters
    ----------
    rates : K_A x K_B nested tuple of float
        Relative affinities, >= 0, not all 0.
    mean_purchases : float, default 20.0
        Expected purchases per person, > 0.
    mixing : float, default 0.0
        In [0, 1]; 0 is ``rates`` as given, 1 is no structure.
    model : str, default "poisson"
        One of :data:`MODELS`.
    activity, popularity : DegreeSpec
        Degree distributions of people and items.
    affinity : tuple of AffinityTerm, default ()
        Feature-dependent factors of the rate.
    omega : deprecated
        The old name of ``rates``.
    """

    rates: tuple[tuple[float, ...], ...]
    mean_purchases: float = 20.0
    mixing: float = 0.0
    model: str = "poisson"
    activity: DegreeSpec = field(default_factory=DegreeSpec)
    popularity: DegreeSpec = field(default_factory=DegreeSpec)
    affinity: tuple[AffinityTerm, ...] = ()

    def __init__(
        self,
        rates: tuple[tuple[float, ...], ...] | None = None,
        mean_purchases: float = 20.0,
        mixing: float = 0.0,
        model: str = "poisson",
        activity: DegreeSpec | None = None,
        popularity: DegreeSpec | None = None,
        affinity: tuple[AffinityTerm, ...] = (),
        *,
        omega: tuple[tuple[float, ...], ...] | None = None,
    ) -> None:
        if omega is not None:
            if rates is not None:
                raise TypeError("RelationSpec got both rates and its deprecated name omega")
            warnings.warn(
                "RelationSpec(omega=...) is deprecated: the relative rates are now called "
                "rates (Truth.omega is the expected block totals)",
                DeprecationWarning,
                stacklevel=2,
            )
            rates = omega
        if rates is None:
            raise TypeError("RelationSpec needs rates (a K_A x K_B matrix)")
        s = object.__setattr__
        s(self, "rates", rates)
        s(self, "mean_purchases", mean_purchases)
        s(self, "mixing", mixing)
        s(self, "model", model)
        s(self, "activity", DegreeSpec() if activity is None else activity)
        s(self, "popularity", DegreeSpec() if popularity is None else popularity)
        s(self, "affinity", affinity)

    @property
    def omega(self) -> tuple[tuple[float, ...], ...]:
        """Deprecated name of :attr:`rates` (relative rates, not expected totals)."""
        warnings.warn(
            "RelationSpec.omega is deprecated: use RelationSpec.rates (relative rates; "
            "Truth.omega is the expected block totals)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.rates

    @classmethod
    def from_dict(
        cls, d: Any, path: str, people: PopulationSpec, items: PopulationSpec
    ) -> RelationSpec:
        """Parse the ``relation`` table (``path`` is its name) between two populations.

        The rates are read from the key ``rates`` or, in files written before it was
        renamed, ``omega`` (not both).
        """
        r = _require(d, path)
        _no_extra(r, _RELATION_KEYS | {"affinity", "omega"}, path)
        if "rates" in r and "omega" in r:
            raise SpecError(
                f"{path} has both rates and omega (the old name of rates); give only rates"
            )
        key = "omega" if "omega" in r else "rates"
        rp = f"{path}.{key}"
        rates = _matrix(_get(r, key, path), rp, (people.k, items.k))
        for i, row in enumerate(rates):
            for j, x in enumerate(row):
                if x < 0:
                    raise _fail(f"{rp}[{i}][{j}]", "must be >= 0", x)
        if sum(map(sum, rates)) <= 0:
            raise _fail(rp, "must have at least one entry > 0", rates)
        mean = _positive(r.get("mean_purchases", 20.0), f"{path}.mean_purchases")
        mixing = _number(r.get("mixing", 0.0), f"{path}.mixing")
        if not 0 <= mixing <= 1:
            raise _fail(f"{path}.mixing", "must be in [0, 1]", mixing)
        model = _str(r.get("model", "poisson"), f"{path}.model", MODELS)
        activity = DegreeSpec.from_dict(r.get("activity", {}), f"{path}.activity")
        popularity = DegreeSpec.from_dict(r.get("popularity", {}), f"{path}.popularity")
        terms = tuple(
            AffinityTerm.from_dict(a, f"{path}.affinity[{i}]", people, items)
            for i, a in enumerate(_list(r.get("affinity", []), f"{path}.affinity"))
        )
        return cls(rates, mean, mixing, model, activity, popularity, terms)

    def to_dict(self) -> dict:
        """The ``relation`` table, as written in a spec file (the rates under ``rates``)."""
        return {
            "rates": [list(r) for r in self.rates],
            "mean_purchases": self.mean_purchases,
            "mixing": self.mixing,
            "model": self.model,
            "activity": self.activity.to_dict(),
            "popularity": self.popularity.to_dict(),
            "affinity": [a.to_dict() for a in self.affinity],
        }
