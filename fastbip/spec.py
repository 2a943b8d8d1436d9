"""Spec: the validated, immutable description of a planted study.

A spec says who the people and the items are (clusters, shares, per-cluster feature
distributions, correlations between numeric features), how people-clusters buy from
item-clusters (the relation), when purchases happen (time profiles) and the seed.

It is loaded from TOML or JSON (:func:`load_spec`) or built in Python
(:func:`default_spec`, :func:`planted_spec`, :meth:`Spec.from_dict`). Every field error
raises :class:`SpecError` whose message starts with the field's path in the file, for
example ``people.clusters[2].share must be > 0; got -0.1``.

File layout (TOML; JSON has the same shape)::

    seed = 7
    [people]
    n = 2000
    features = [{name = "age", kind = "numeric"},
                {name = "postcode", kind = "categorical", categories = ["N1", "N2"]}]
    [[people.clusters]]
    name = "students"
    share = 0.3
    correlation = [[1.0, 0.4], [0.4, 1.0]]     # over the numeric features, in order
    features.age = {dist = "normal", mean = 22, sd = 3, clip = [16, 99], round = true}
    features.postcode = {dist = "categorical", probs = [0.7, 0.3]}
    [items]                                    # same shape as [people]
    [relation]
    omega = [[4.0, 1.0], [1.0, 4.0]]           # relative affinity per person-item pair
    mean_purchases = 20                        # expected purchases per person
    mixing = 0.0                               # 0 = omega as given, 1 = no structure
    model = "poisson"                          # or "bernoulli", "exact"
    activity = {dist = "lognormal", sigma = 1.0}
    popularity = {dist = "pareto", alpha = 2.5}
    affinity = [{people_feature = "age", item_feature = "target_age", scale = 10.0}]
    [time]                                     # optional
    start = 0.0
    end = 365.0
    profiles = [{base = 1.0, trend = 0.0, peaks = [{center = 330, width = 10, height = 3}],
                 seasonal = [{period = 182.5, amplitude = 0.5, phase = 0}]}, ...]

Numeric feature distributions: ``normal`` (mean, sd), ``lognormal`` (meanlog, sdlog),
``uniform`` (low, high); each may have ``clip = [lo, hi]`` and ``round = true``. A
categorical feature has one ``probs`` list per cluster over the population's categories.
A cluster's ``correlation`` is the correlation matrix of the Gaussian copula that joins its
numeric features (in the order of the population's ``features``): for normal features it is
exactly their correlation; for the others it is the rank dependence of the latent normals.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "SpecError",
    "FeatureSpec",
    "Distribution",
    "ClusterSpec",
    "PopulationSpec",
    "DegreeSpec",
    "AffinityTerm",
    "RelationSpec",
    "TimeSpec",
    "Spec",
    "load_spec",
    "default_spec",
    "planted_spec",
]

NUMERIC_DISTS = {
    "normal": ("mean", "sd"),
    "lognormal": ("meanlog", "sdlog"),
    "uniform": ("low", "high"),
}
DEGREE_DISTS = {"lognormal": ("sigma",), "pareto": ("alpha",), "constant": ()}
MODELS = ("poisson", "bernoulli", "exact")


class SpecError(ValueError):
    """A spec field is missing or wrong; the message starts with the field's path."""


# --------------------------------------------------------------------------- helpers


def _fail(path: str, what: str, got: Any) -> SpecError:
    return SpecError(f"{path} {what}; got {got!r}")


def _require(d: Any, path: str) -> dict:
    if not isinstance(d, dict):
        raise _fail(path, "must be a table (mapping)", type(d).__name__)
    return d


def _no_extra(d: dict, allowed: set[str], path: str) -> None:
    extra = sorted(set(d) - allowed)
    if extra:
        raise SpecError(f"{path} has unknown field(s) {extra}; expected some of {sorted(allowed)}")


def _get(d: dict, key: str, path: str, default: Any = ...) -> Any:
    if key in d:
        return d[key]
    if default is ...:
        raise SpecError(f"{path}.{key} is required")
    return default


def _number(v: Any, path: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise _fail(path, "must be a number", v)
    v = float(v)
    if not math.isfinite(v):
        raise _fail(path, "must be finite", v)
    return v


def _positive(v: Any, path: str) -> float:
    v = _number(v, path)
    if v <= 0:
        raise _fail(path, "must be > 0", v)
    return v


def _nonneg(v: Any, path: str) -> float:
    v = _number(v, path)
    if v < 0:
        raise _fail(path, "must be >= 0", v)
    return v


def _int(v: Any, path: str, low: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        else:
            raise _fail(path, "must be an integer", v)
    v = int(v)
    if low is not None and v < low:
        raise _fail(path, f"must be >= {low}", v)
    return v


def _str(v: Any, path: str, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(v, str):
        raise _fail(path, "must be a string", v)
    if choices is not None and v not in choices:
        raise _fail(path, f"must be one of {list(choices)}", v)
    return v


def _list(v: Any, path: str, min_len: int = 0) -> list:
    if not isinstance(v, (list, tuple)):
        raise _fail(path, "must be a list", type(v).__name__)
    if len(v) < min_len:
        raise _fail(path, f"must have at least {min_len} element(s)", list(v))
    return list(v)


def _matrix(
    v: Any, path: str, shape: tuple[int, int] | None = None
) -> tuple[tuple[float, ...], ...]:
    rows = _list(v, path, 1)
    out = []
    for i, row in enumerate(rows):
        row = _list(row, f"{path}[{i}]", 1)
        out.append(tuple(_number(x, f"{path}[{i}][{j}]") for j, x in enumerate(row)))
    widths = {len(r) for r in out}
    if len(widths) != 1:
        raise _fail(
            path, "must be a rectangular matrix (all rows the same length)", [len(r) for r in out]
        )
    if shape is not None and (len(out), len(out[0])) != shape:
        raise _fail(path, f"must have shape {shape}", (len(out), len(out[0])))
    return tuple(out)


# --------------------------------------------------------------------------- pieces


@dataclass(frozen=True)
class FeatureSpec:
    """A feature of a population: its name, kind, and categories when categorical."""

    name: str
    kind: str = "numeric"  # "numeric" | "categorical"
    categories: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, d: Any, path: str) -> FeatureSpec:
        d = _require(d, path)
        _no_extra(d, {"name", "kind", "categories"}, path)
        name = _str(_get(d, "name", path), f"{path}.name")
        if not name:
            raise _fail(f"{path}.name", "must not be empty", name)
        kind = _str(d.get("kind", "numeric"), f"{path}.kind", ("numeric", "categorical"))
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
        return dict(self.params)[name]

    @classmethod
    def from_dict(cls, d: Any, path: str, feature: FeatureSpec) -> Distribution:
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
        rnd = d.get("round", False)
        if not isinstance(rnd, bool):
            raise _fail(f"{path}.round", "must be true or false", rnd)
        return cls(dist, params, None, clip, rnd)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"dist": self.dist}
        if self.probs is not None:
            d["probs"] = list(self.probs)
        d.update(dict(self.params))
        if self.clip is not None:
            d["clip"] = list(self.clip)
        if self.round:
            d["round"] = True
        return d


@dataclass(frozen=True)
class ClusterSpec:
    """A true cluster of a population: its share and its feature distributions."""

    name: str
    share: float
    features: tuple[tuple[str, Distribution], ...] = ()
    correlation: tuple[tuple[float, ...], ...] | None = None

    def distribution(self, feature: str) -> Distribution:
        return dict(self.features)[feature]

    def to_dict(self) -> dict:
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
        return len(self.clusters)

    @property
    def shares(self) -> np.ndarray:
        s = np.array([c.share for c in self.clusters], dtype=np.float64)
        return s / s.sum()

    @property
    def numeric_features(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features if f.kind == "numeric")

    @classmethod
    def from_dict(cls, d: Any, path: str) -> PopulationSpec:
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
        numeric = [f.name for f in feats if f.kind == "numeric"]
        raw_clusters = _list(_get(d, "clusters", path), f"{path}.clusters", 1)
        clusters = []
        for i, c in enumerate(raw_clusters):
            cp = f"{path}.clusters[{i}]"
            c = _require(c, cp)
            _no_extra(c, {"name", "share", "features", "correlation"}, cp)
            name = _str(c.get("name", f"{path.split('.')[-1]}-{i}"), f"{cp}.name")
            share = _positive(_get(c, "share", cp), f"{cp}.share")
            fd = _require(c.get("features", {}), f"{cp}.features")
            unknown = sorted(set(fd) - set(names))
            if unknown:
                raise SpecError(
                    f"{cp}.features has unknown feature(s) {unknown}; the "
                    f"population's features are {names}"
                )
            missing = [f for f in names if f not in fd]
            if missing:
                raise SpecError(f"{cp}.features is missing a distribution for {missing}")
            dists = tuple(
                (f.name, Distribution.from_dict(fd[f.name], f"{cp}.features.{f.name}", f))
                for f in feats
            )
            corr = None
            if c.get("correlation") is not None:
                corr = _matrix(c["correlation"], f"{cp}.correlation", (len(numeric), len(numeric)))
                a = np.array(corr)
                if not np.allclose(a, a.T, atol=1e-12):
                    raise _fail(f"{cp}.correlation", "must be symmetric", corr)
                if not np.allclose(np.diag(a), 1.0):
                    raise _fail(
                        f"{cp}.correlation", "must have ones on the diagonal", np.diag(a).tolist()
                    )
                if np.abs(a).max() > 1 + 1e-12:
                    raise _fail(f"{cp}.correlation", "must have entries in [-1, 1]", corr)
                if np.linalg.eigvalsh(a).min() < -1e-10:
                    raise _fail(
                        f"{cp}.correlation",
                        "must be positive semi-definite (smallest eigenvalue >= 0)",
                        float(np.linalg.eigvalsh(a).min()),
                    )
            clusters.append(ClusterSpec(name, share, dists, corr))
        cnames = [c.name for c in clusters]
        if len(set(cnames)) != len(cnames):
            raise _fail(f"{path}.clusters", "must have distinct names", cnames)
        if len(clusters) > n:
            raise _fail(f"{path}.clusters", f"must number at most n = {n}", len(clusters))
        return cls(n, tuple(clusters), feats)

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "features": [f.to_dict() for f in self.features],
            "clusters": [c.to_dict() for c in self.clusters],
        }


@dataclass(frozen=True)
class DegreeSpec:
    """Distribution of activity (people) or popularity (items) before normalisation.

    ``lognormal``: exp(N(-sigma^2/2, sigma^2)) (mean 1); ``pareto``: classical Pareto with
    minimum 1 and tail index ``alpha`` (heavier for small alpha); ``constant``: all equal.
    """

    dist: str = "lognormal"
    sigma: float = 1.0
    alpha: float = 2.5

    @classmethod
    def from_dict(cls, d: Any, path: str) -> DegreeSpec:
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

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RelationSpec:
    """The planted relation between people-clusters and item-clusters.

    ``omega[k][l]`` is the relative purchase rate of one person of cluster k for one item of
    cluster l. The generator blends it toward no structure by ``mixing`` and scales it so that
    the expected number of purchases is ``n_people * mean_purchases`` (see
    :func:`fastbip.dataset.planted_omega`).
    """

    omega: tuple[tuple[float, ...], ...]
    mean_purchases: float = 20.0
    mixing: float = 0.0
    model: str = "poisson"
    activity: DegreeSpec = field(default_factory=DegreeSpec)
    popularity: DegreeSpec = field(default_factory=DegreeSpec)
    affinity: tuple[AffinityTerm, ...] = ()

    def to_dict(self) -> dict:
        return {
            "omega": [list(r) for r in self.omega],
            "mean_purchases": self.mean_purchases,
            "mixing": self.mixing,
            "model": self.model,
            "activity": self.activity.to_dict(),
            "popularity": self.popularity.to_dict(),
            "affinity": [a.to_dict() for a in self.affinity],
        }


@dataclass(frozen=True)
class TimeSpec:
    """Purchase times: a period and one temporal profile per item-cluster.

    Profile of cluster l at time t (see :mod:`fastbip.purchases`):
    base * (1 + trend * (t - start) / (end - start)) + Gaussian peaks + seasonal terms.
    """

    start: float
    end: float
    profiles: tuple[dict, ...]

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "profiles": [dict(p) for p in self.profiles]}


def _profile(d: Any, path: str) -> dict:
    d = _require(d, path)
    _no_extra(d, {"base", "trend", "peaks", "seasonal"}, path)
    base = _nonneg(d.get("base", 1.0), f"{path}.base")
    trend = _number(d.get("trend", 0.0), f"{path}.trend")
    if trend < -1:
        raise _fail(f"{path}.trend", "must be >= -1 (the base rate may not become negative)", trend)
    peaks = []
    for i, p in enumerate(_list(d.get("peaks", []), f"{path}.peaks")):
        pp = f"{path}.peaks[{i}]"
        p = _require(p, pp)
        _no_extra(p, {"center", "width", "height"}, pp)
        peaks.append(
            {
                "center": _number(_get(p, "center", pp), f"{pp}.center"),
                "width": _positive(_get(p, "width", pp), f"{pp}.width"),
                "height": _nonneg(_get(p, "height", pp), f"{pp}.height"),
            }
        )
    seasonal = []
    for i, s in enumerate(_list(d.get("seasonal", []), f"{path}.seasonal")):
        sp_ = f"{path}.seasonal[{i}]"
        s = _require(s, sp_)
        _no_extra(s, {"period", "amplitude", "phase"}, sp_)
        seasonal.append(
            {
                "period": _positive(_get(s, "period", sp_), f"{sp_}.period"),
                "amplitude": _nonneg(_get(s, "amplitude", sp_), f"{sp_}.amplitude"),
                "phase": _number(s.get("phase", 0.0), f"{sp_}.phase"),
            }
        )
    if base == 0 and not any(p["height"] > 0 for p in peaks):
        raise SpecError(
            f"{path} has zero intensity everywhere: give base > 0 or a peak with height > 0"
        )
    return {"base": base, "trend": trend, "peaks": peaks, "seasonal": seasonal}


# --------------------------------------------------------------------------- Spec


@dataclass(frozen=True)
class Spec:
    """A complete, validated study description. Build with :meth:`from_dict`,
    :func:`load_spec`, :func:`default_spec` or :func:`planted_spec`."""

    people: PopulationSpec
    items: PopulationSpec
    relation: RelationSpec
    time: TimeSpec | None = None
    seed: int | None = None

    @classmethod
    def from_dict(cls, d: Any) -> Spec:
        d = _require(d, "spec")
        _no_extra(d, {"people", "items", "relation", "time", "seed", "fastbip_spec"}, "spec")
        people = PopulationSpec.from_dict(_get(d, "people", "spec"), "people")
        items = PopulationSpec.from_dict(_get(d, "items", "spec"), "items")
        r = _require(_get(d, "relation", "spec"), "relation")
        _no_extra(
            r,
            {"omega", "mean_purchases", "mixing", "model", "activity", "popularity", "affinity"},
            "relation",
        )
        omega = _matrix(_get(r, "omega", "relation"), "relation.omega", (people.k, items.k))
        for i, row in enumerate(omega):
            for j, x in enumerate(row):
                if x < 0:
                    raise _fail(f"relation.omega[{i}][{j}]", "must be >= 0", x)
        if sum(map(sum, omega)) <= 0:
            raise _fail("relation.omega", "must have at least one entry > 0", omega)
        mean = _positive(r.get("mean_purchases", 20.0), "relation.mean_purchases")
        mixing = _number(r.get("mixing", 0.0), "relation.mixing")
        if not 0 <= mixing <= 1:
            raise _fail("relation.mixing", "must be in [0, 1]", mixing)
        model = _str(r.get("model", "poisson"), "relation.model", MODELS)
        activity = DegreeSpec.from_dict(r.get("activity", {}), "relation.activity")
        popularity = DegreeSpec.from_dict(r.get("popularity", {}), "relation.popularity")
        terms = []
        for i, a in enumerate(_list(r.get("affinity", []), "relation.affinity")):
            ap = f"relation.affinity[{i}]"
            a = _require(a, ap)
            _no_extra(a, {"people_feature", "item_feature", "scale"}, ap)
            pf = _str(_get(a, "people_feature", ap), f"{ap}.people_feature")
            itf = _str(_get(a, "item_feature", ap), f"{ap}.item_feature")
            if pf not in people.numeric_features:
                raise _fail(
                    f"{ap}.people_feature",
                    f"must name a numeric people feature {list(people.numeric_features)}",
                    pf,
                )
            if itf not in items.numeric_features:
                raise _fail(
                    f"{ap}.item_feature",
                    f"must name a numeric item feature {list(items.numeric_features)}",
                    itf,
                )
            terms.append(AffinityTerm(pf, itf, _positive(_get(a, "scale", ap), f"{ap}.scale")))
        relation = RelationSpec(omega, mean, mixing, model, activity, popularity, tuple(terms))
        time = None
        if d.get("time") is not None:
            t = _require(d["time"], "time")
            _no_extra(t, {"start", "end", "profiles"}, "time")
            start = _number(t.get("start", 0.0), "time.start")
            end = _number(t.get("end", 365.0), "time.end")
            if not end > start:
                raise _fail("time.end", f"must be > time.start = {start}", end)
            profs = _list(_get(t, "profiles", "time"), "time.profiles")
            if len(profs) != items.k:
                raise _fail(
                    "time.profiles",
                    f"must have one profile per item-cluster ({items.k})",
                    len(profs),
                )
            time = TimeSpec(
                start, end, tuple(_profile(p, f"time.profiles[{i}]") for i, p in enumerate(profs))
            )
        seed = d.get("seed")
        if seed is not None:
            seed = _int(seed, "seed", 0)
        return cls(people, items, relation, time, seed)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {
            "people": self.people.to_dict(),
            "items": self.items.to_dict(),
            "relation": self.relation.to_dict(),
        }
        if self.time is not None:
            d["time"] = self.time.to_dict()
        if self.seed is not None:
            d["seed"] = self.seed
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    def to_toml(self) -> str:
        """TOML text of the spec (needs the ``tomli-w`` package)."""
        try:
            import tomli_w
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "writing TOML needs tomli-w: pip install 'fastbip[io]' "
                "(or write JSON: Spec.to_json(), fastbip spec --format json)"
            ) from e
        return tomli_w.dumps(self.to_dict())

    def with_(
        self,
        *,
        n_people: int | None = None,
        n_items: int | None = None,
        seed: int | None = None,
        mixing: float | None = None,
        mean_purchases: float | None = None,
        model: str | None = None,
    ) -> Spec:
        """A copy with some common fields changed, validated again."""
        d = self.to_dict()
        if n_people is not None:
            d["people"]["n"] = n_people
        if n_items is not None:
            d["items"]["n"] = n_items
        if seed is not None:
            d["seed"] = seed
        if mixing is not None:
            d["relation"]["mixing"] = mixing
        if mean_purchases is not None:
            d["relation"]["mean_purchases"] = mean_purchases
        if model is not None:
            d["relation"]["model"] = model
        return Spec.from_dict(d)


def load_spec(path: str | Path) -> Spec:
    """Read a spec from a ``.toml`` or ``.json`` file and validate it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"spec file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix == ".toml":
        try:
            d = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SpecError(f"spec file {str(path)!r} is not valid TOML: {e}") from e
    elif suffix == ".json":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(f"spec file {str(path)!r} is not valid JSON: {e}") from e
    else:
        raise SpecError(
            f"spec file {str(path)!r} must end in .toml or .json; got {suffix or 'no suffix'!r}"
        )
    return Spec.from_dict(d)


# --------------------------------------------------------------------------- built-ins


def _normal(mean: float, sd: float, **kw: Any) -> dict:
    return {"dist": "normal", "mean": mean, "sd": sd, **kw}


def default_spec(
    n_people: int = 2000, n_items: int = 500, seed: int = 0, with_time: bool = True
) -> Spec:
    """The built-in study: four people-clusters with ``age``, ``postcode``, ``income`` and
    ``something``; four item-clusters with ``price``, ``category`` and ``target_age``; a
    relation with strong off-diagonal preferences (not a diagonal); seasonal time profiles."""
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
        "omega": [
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
    mixing: float = 0.0,
    seed: int = 0,
    *,
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
    omega = np.ones((k_people, k_items))
    omega[np.arange(k_people), np.arange(k_people) % k_items] = ratio

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
            "omega": omega.tolist(),
            "mean_purchases": mean_purchases,
            "mixing": mixing,
            "model": model,
            "activity": activity,
            "popularity": popularity,
        },
        "seed": seed,
    }
    return Spec.from_dict(d)
