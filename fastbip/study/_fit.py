"""The one runner: configure, fit, time and score any algorithm on one dataset.

:func:`fit_algorithm` takes a registry name, an estimator instance or an estimator class,
sets the numbers of clusters and ``random_state`` where the estimator has them (by
:func:`set_n_clusters` and :func:`set_random_state`, the one rule that
:mod:`fastbip.testing` shares), fits it on
the dataset (a ``"features"`` algorithm once per side that has features, a co-clusterer once
on the purchases), times each fit and returns a :class:`Fit` per side. A fit that raises is
recorded as a :class:`Fit` with its error instead of raising, so one failing algorithm never
hides the others. :func:`fit_oracle` gives the three oracles' labels in the same shape, and
:func:`score_fits` turns fits into the rows of :class:`fastbip.study.Results`.
:func:`resolve_algorithms` checks a list (or a dict) of algorithms once for both runners:
registry names, estimator instances, classes and ``"module:Class"`` strings.

An estimator need not subclass scikit-learn's ``BaseEstimator``: ``fit`` and the label
attributes (``row_labels_`` and ``column_labels_`` for a co-clusterer, ``labels_`` for a
one-side clusterer) are all it needs; ``get_params``/``set_params`` are used when present,
plain attributes otherwise.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._references import reference as _reference
from ._references import warn_degenerate as _warn_degenerate
from .results import ORACLES, Entry

__all__ = [
    "Fit",
    "fit_algorithm",
    "fit_oracle",
    "import_estimator",
    "oracle_references",
    "resolve_algorithms",
    "score_fits",
    "set_n_clusters",
    "set_random_state",
]

SIDES = ("people", "items")
_NAN = float("nan")
_ROW_K, _COL_K, _ONE_K = "n_row_clusters", "n_col_clusters", "n_clusters"
#: the label attributes a fitted estimator must have, by kind
_LABELS = {
    "features": ("labels_",),
    "purchases": ("row_labels_", "column_labels_"),
    "joint": ("row_labels_", "column_labels_"),
}


@dataclass
class Fit:
    """One side of one fitted algorithm: its labels (None when the fit failed), the fitted
    estimator, the number of clusters asked for, the seconds the fit took, and the error
    (None, or ``"TypeName: message"`` of the exception the fit raised)."""

    algorithm: str
    side: str
    kind: str
    labels: np.ndarray | None
    estimator: Any
    k_asked: int | None
    seconds: float
    error: str | None = None


def _kind_of(est: Any) -> str:
    """The registry kind of an estimator (or class) that is not registered: ``"features"``
    when it takes ``n_clusters`` and not ``n_row_clusters``, ``"joint"`` when its ``fit``
    takes ``row_features``, else ``"purchases"``."""
    params = _init_params(est) if isinstance(est, type) else _params(est)
    if "n_clusters" in params and "n_row_clusters" not in params:
        return "features"
    try:
        fit_params = inspect.signature(est.fit).parameters
    except (TypeError, ValueError):
        fit_params = {}
    return "joint" if "row_features" in fit_params else "purchases"


def _init_params(cls: type) -> dict:
    try:
        return dict(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return {}


def _params(est: Any) -> dict:
    """The parameters of ``est``: ``get_params(deep=False)`` when it has it, else the
    cluster counts and ``random_state`` that it has as attributes."""
    if hasattr(est, "get_params") and not isinstance(est, type):
        return dict(est.get_params(deep=False))
    names = (_ROW_K, _COL_K, _ONE_K, "random_state")
    return {n: getattr(est, n) for n in names if hasattr(est, n)}


def _set(est: Any, **values: Any) -> None:
    if hasattr(est, "set_params"):
        est.set_params(**values)
    else:
        for name, value in values.items():
            setattr(est, name, value)


def _defaults(est: Any) -> dict:
    try:
        sig = inspect.signature(type(est).__init__)
    except (TypeError, ValueError):
        return {}
    return {
        n: p.default for n, p in sig.parameters.items() if p.default is not inspect.Parameter.empty
    }


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # an array or an odd object: not the default
        return False


def set_n_clusters(est: Any, k_rows: int, k_cols: int, *, only_unset: bool = False) -> None:
    """Set the estimator's cluster counts to ``k_rows`` and ``k_cols``, in place.

    A co-clusterer's ``n_row_clusters`` and ``n_col_clusters`` get ``k_rows`` and ``k_cols``;
    an estimator with neither but with ``n_clusters`` gets ``k_rows`` there (the runner fits
    a one-side clusterer once per side, with that side's K as ``k_rows``). An estimator
    without such parameters (one that chooses its own K) is left alone.

    Parameters
    ----------
    est : estimator
        Read with ``get_params`` and written with ``set_params`` when it has them, as plain
        attributes otherwise.
    k_rows, k_cols : int
        The numbers of clusters of the rows (people) and the columns (items).
    only_unset : bool
        Change a parameter only while it is unset: None, or equal to the default of the
        class's ``__init__`` (a value the user chose is kept).
    """
    params = _params(est)
    defaults = _defaults(est) if only_unset else {}

    def unset(name: str) -> bool:
        v = params[name]
        return v is None or (name in defaults and _same(v, defaults[name]))

    new = {}
    for name, k in ((_ROW_K, k_rows), (_COL_K, k_cols), (_ONE_K, k_rows)):
        if name == _ONE_K and (_ROW_K in params or _COL_K in params):
            continue
        if name in params and (not only_unset or unset(name)):
            new[name] = k
    if new:
        _set(est, **new)


def set_random_state(est: Any, random_state: Any) -> bool:
    """Set ``random_state`` if the estimator has it; whether it has."""
    if "random_state" in _params(est):
        _set(est, random_state=random_state)
        return True
    return False


@functools.lru_cache(maxsize=256)
def _import_cached(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def import_estimator(target: str, name: str = "algorithm") -> Any:
    """The object a ``"module:Class"`` string names (``"pkg.mod:Outer.Inner"`` too).

    Raises ``ValueError`` for a string of another shape and ``ImportError`` (naming
    ``name``, the module and the reason) when the module or the attribute is missing.
    """
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr or ":" in attr:
        raise ValueError(f"{name} must look like 'module:Class'; got {target!r}")
    try:
        return _import_cached(target)
    except ImportError as exc:
        raise ImportError(f"{name} {target!r}: cannot import {module!r} ({exc})") from exc
    except AttributeError as exc:
        raise ImportError(f"{name} {target!r}: module {module!r} has no {attr!r}") from exc


def resolve_algorithms(
    algorithms: Iterable[Any] | Mapping[str, Any] | None, default: list[str]
) -> list[tuple]:
    """``(name, algorithm, kind)`` for each entry of ``algorithms`` (``default`` when None).

    ``algorithms`` is a list, or a dict from the name the rows carry to the algorithm (None
    meaning the registry entry of that name). An entry is a registry name (an unknown name
    raises ``ValueError`` listing the known ones, an unavailable one says why), a
    ``"module:Class"`` string (imported now), an estimator instance or an estimator class;
    it is named by the dict key, else its registry name, else its class name. Its kind is
    the registry's, else the class attribute ``_fastbip_kind``, else read from its
    parameters (``n_clusters`` alone: ``"features"``; ``fit(..., row_features=...)``:
    ``"joint"``; otherwise ``"purchases"``).

    Raises
    ------
    TypeError
        An entry that is neither a string nor something with a ``fit`` method (the message
        names the entry and what is missing), or a dict key that is not a string.
    ValueError, ImportError
        An unknown or unavailable name, or a ``"module:Class"`` that cannot be imported.
    """
    from .._validation import check_list

    if algorithms is None:
        pairs = [(None, name) for name in default]
    elif isinstance(algorithms, Mapping):
        if not algorithms:
            raise ValueError("algorithms must be a non-empty dict of name -> estimator")
        pairs = []
        for key, value in algorithms.items():
            if not isinstance(key, str) or not key:
                raise TypeError(f"algorithms' keys must be non-empty strings; got {key!r}")
            pairs.append((key, key if value is None else value))
    else:
        items = check_list(
            algorithms, "algorithms", "registry names, 'module:Class' strings or estimators"
        )
        pairs = [(None, item) for item in items]
    out = []
    for i, (key, item) in enumerate(pairs):
        where = f"algorithms[{key!r}]" if key is not None else f"algorithms[{i}]"
        out.append(_resolve_one(key, item, where))
    return out


def _resolve_one(key: str | None, item: Any, where: str) -> tuple:
    from .. import algorithms as registry

    if isinstance(item, str) and ":" not in item:
        entry = registry.info(item)  # an unknown name raises, listing the known ones
        if not entry.available:
            raise ValueError(f"algorithm {item!r} is unavailable: {entry.unavailable_reason}")
        return (key or item, item, entry.kind)
    if isinstance(item, str):
        item = import_estimator(item, where)
    if isinstance(item, str) or not callable(getattr(item, "fit", None)):
        what = item.__name__ if isinstance(item, type) else type(item).__name__
        raise TypeError(
            f"{where} must be a registry name, a 'module:Class' string or an estimator with "
            f"a fit method; got {item!r} (a {what} without fit). An estimator needs fit(M) "
            "setting row_labels_ and column_labels_ (a co-clusterer) or fit(X) setting "
            "labels_ (one side by its features)"
        )
    cls = item if isinstance(item, type) else type(item)
    kind = getattr(cls, "_fastbip_kind", None) or _kind_of(item)
    if kind not in _LABELS:
        raise ValueError(
            f"{where}: {cls.__name__}._fastbip_kind must be one of {tuple(_LABELS)}; got {kind!r}"
        )
    return (key or cls.__name__, item, kind)


def _labels_of(est: Any, kind: str) -> tuple[np.ndarray, ...]:
    """The label arrays a fitted ``est`` of ``kind`` set; AttributeError naming the missing."""
    missing = [a for a in _LABELS[kind] if getattr(est, a, None) is None]
    if missing:
        raise AttributeError(
            f"{type(est).__name__}.fit did not set {' and '.join(missing)} (a "
            + (
                "one-side clusterer sets labels_)"
                if kind == "features"
                else "co-clusterer sets row_labels_ for the people and column_labels_ for "
                "the items)"
            )
        )
    return tuple(np.asarray(getattr(est, a)) for a in _LABELS[kind])


def _new(algorithm: Any) -> Any:
    """A fresh, unfitted estimator for a registry name, a class or an instance."""
    from .. import algorithms as registry

    if isinstance(algorithm, str):
        return registry.get(algorithm)
    if isinstance(algorithm, type):
        return algorithm()
    if hasattr(algorithm, "get_params"):
        from sklearn.base import clone

        return clone(algorithm, safe=False)
    return copy.deepcopy(algorithm)


def _configure(est: Any, k_rows: int, k_cols: int, random_state: Any) -> Any:
    """Set the cluster counts (:func:`set_n_clusters`) and ``random_state`` that ``est``
    has; ignore the others."""
    set_n_clusters(est, k_rows, k_cols)
    set_random_state(est, random_state)
    return est


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def fit_algorithm(
    name: str,
    algorithm: Any,
    kind: str,
    ds: Any,
    k_people: int,
    k_items: int,
    random_state: Any,
) -> list[Fit]:
    """Fit one algorithm on ``ds``; one :class:`Fit` per side, never raising for a failed fit.

    Parameters
    ----------
    name : str
        The name the rows carry.
    algorithm : str, estimator or estimator class
        A registry name, or an estimator (cloned before fitting) or its class.
    kind : {"features", "purchases", "joint"}
        How to fit it (see :mod:`fastbip.algorithms`).
    ds : Dataset
        The data: ``purchases``, ``people`` and ``items``.
    k_people, k_items : int
        The numbers of clusters asked for (``n_clusters`` of a features algorithm per side,
        ``n_row_clusters`` / ``n_col_clusters`` of a co-clusterer).
    random_state : int, Generator or None
        Passed to the estimator's ``random_state``.

    Returns
    -------
    list of Fit
        A features algorithm: one per side with features (both sides, with the error, when
        neither has any); a co-clusterer: people and items of the same fit.

    Warns
    -----
    UserWarning
        ``ds`` has a planted truth in which fewer clusters have members than asked for (a
        cluster whose share gave it no member): only the non-empty ones are asked for.
    """
    k_people, k_items = _nonempty_k(ds, k_people, k_items)
    if kind == "features":
        sides = [
            (side, pop, k)
            for side, pop, k in (("people", ds.people, k_people), ("items", ds.items, k_items))
            if getattr(pop, "columns", None)
        ]
        if not sides:
            msg = (
                "ValueError: the dataset has no features on either side, which a 'features' "
                "algorithm needs (the planted family has them with features=True)"
            )
            return [
                Fit(name, s, kind, None, None, k, _NAN, msg)
                for s, k in zip(SIDES, (k_people, k_items), strict=True)
            ]
        out = []
        for side, pop, k in sides:
            est, t0 = None, time.perf_counter()
            try:
                est = _configure(_new(algorithm), k, k, random_state)
                t0 = time.perf_counter()
                est.fit(pop)
                seconds = time.perf_counter() - t0
                (labels,) = _labels_of(est, kind)
                out.append(Fit(name, side, kind, labels, est, k, seconds))
            except Exception as exc:  # one failing fit must not hide the others' results
                out.append(Fit(name, side, kind, None, est, k, _NAN, _error(exc)))
        return out
    est = None
    try:
        est = _configure(_new(algorithm), k_people, k_items, random_state)
        t0 = time.perf_counter()
        if kind == "joint":
            est.fit(
                ds.purchases,
                row_features=ds.people if getattr(ds.people, "columns", None) else None,
                column_features=ds.items if getattr(ds.items, "columns", None) else None,
            )
        else:
            est.fit(ds.purchases)
        seconds = time.perf_counter() - t0
        labels = _labels_of(est, kind)
    except Exception as exc:  # one failing algorithm must not hide the others' results
        return [
            Fit(name, side, kind, None, est, k, _NAN, _error(exc))
            for side, k in zip(SIDES, (k_people, k_items), strict=True)
        ]
    return [
        Fit(name, side, kind, lab, est, k, seconds)
        for side, lab, k in zip(SIDES, labels, (k_people, k_items), strict=True)
    ]


def _nonempty_k(ds: Any, k_people: int, k_items: int) -> tuple[int, int]:
    """The numbers of clusters to ask for: at most the planted clusters that have members."""
    truth = getattr(ds, "truth", None)
    if truth is None:
        return k_people, k_items
    out = []
    for side, k, labels in (
        ("people", k_people, truth.people_labels),
        ("items", k_items, truth.item_labels),
    ):
        lab = np.asarray(labels)
        present = int(np.unique(lab[lab >= 0]).size)
        if isinstance(k, (int, np.integer)) and 1 <= present < k:
            import warnings

            warnings.warn(
                f"only {present} of the {k} planted {side}-clusters have members (a share "
                f"too small for the {side}.n); the algorithms are asked for {present}",
                UserWarning,
                stacklevel=3,
            )
            k = present
        out.append(k)
    return out[0], out[1]


def fit_oracle(ds: Any, using: Iterable[str] = tuple(ORACLES)) -> list[Fit]:
    """The oracles' labels per side (:func:`fastbip.truth.oracle_labels`), timed.

    Parameters
    ----------
    ds : Dataset
        With a planted truth.
    using : iterable of {"purchases", "features", "joint"}
        The oracles to compute; their rows are named by :data:`ORACLES` (``"oracle"``,
        ``"oracle-features"``, ``"oracle-joint"``). The features and joint oracles are left
        out on a side without features, or when the dataset has no ``spec`` (nothing says
        how its features were drawn).

    Returns
    -------
    list of Fit
        Of kind ``"oracle"``; a failed oracle is a row with its error, like an algorithm.
    """
    from ..truth import oracle_labels

    ka, kb = ds.truth.shape
    pops = {"people": getattr(ds, "people", None), "items": getattr(ds, "items", None)}
    out = []
    for what in using:
        name = ORACLES[what]
        for side, k in zip(SIDES, (ka, kb), strict=True):
            if what != "purchases" and (
                getattr(ds, "spec", None) is None or not getattr(pops[side], "columns", None)
            ):
                continue
            t0 = time.perf_counter()
            try:
                labels = np.asarray(oracle_labels(ds, side=side, using=what))
            except Exception as exc:  # reported as a row, like any algorithm's failure
                out.append(Fit(name, side, "oracle", None, None, k, _NAN, _error(exc)))
                continue
            out.append(Fit(name, side, "oracle", labels, None, k, time.perf_counter() - t0))
    return out


def oracle_references(rows: list[Entry]) -> dict[tuple[str, str], Entry]:
    """The scored oracle rows by ``(name, side)``, for :func:`score_fits`'s ``oracle_ari``;
    each oracle row becomes its own reference (``oracle``, ``oracle_ari``, ``oracle_ami``)."""
    refs = {}
    for e in rows:
        refs[(e.algorithm, e.side)] = e
        e.oracle, e.oracle_ari, e.oracle_ami = e.algorithm, e.ari, e.ami
    return refs


def score_fits(
    ds: Any,
    fits: list[Fit],
    *,
    snr: float,
    mixing: float | None = None,
    seed: int | None = None,
    oracle_ari: dict | None = None,
    keep: bool = True,
) -> list[Entry]:
    """The rows of ``fits`` scored against ``ds.truth``.

    ARI, AMI and NMI against the true labels of the fit's side; the relation recovery
    (:func:`fastbip.metrics.relation_recovery`) of the fit's labels paired with the other
    side's: the same fit's for a co-clusterer, the true ones for a one-side fit. A failed fit
    gets NaN scores and its error. ``keep`` keeps the labels and the estimator in the rows.
    ``oracle_ari`` is :func:`oracle_references` of the scored oracle rows: each row is
    compared with the oracle that reads what it reads (:data:`ORACLES`; a plain
    ``{side: ari}`` dict, as before, is the purchases oracle's ARI for every row).

    Warns
    -----
    DegenerateClustersWarning
        An algorithm's labels have a cluster of one member, or fewer clusters than asked.
    """
    from ..metrics import relation_recovery, score_labels

    truth = ds.truth
    true = {"people": np.asarray(truth.people_labels), "items": np.asarray(truth.item_labels)}
    together: dict[int, dict] = {}  # a co-clusterer's sides, by its fitted estimator
    for f in fits:
        if f.kind in ("purchases", "joint") and f.labels is not None:
            together.setdefault(id(f.estimator), {})[f.side] = f.labels
    rows = []
    relations: dict[int, tuple[float, float]] = {}

    def relation_and_chance(pair: dict, found: tuple[str, ...]) -> tuple[float, float]:
        rel = float(relation_recovery(truth, ds.purchases, pair["people"], pair["items"]))
        return rel, _relation_chance(truth, ds.purchases, pair, found)

    for f in fits:
        if f.labels is None:
            ari = ami = nmi = nmi_chance = rel = chance = _NAN
            k_found = n_unassigned = n_single = 0
        else:
            s = score_labels(true[f.side], f.labels, chance=True)
            ari, ami, nmi = float(s["ari"]), float(s["ami"]), float(s["nmi"])
            nmi_chance = float(s["nmi_chance"])
            _, sizes = np.unique(f.labels[f.labels >= 0], return_counts=True)
            k_found, n_single = int(sizes.size), int(np.count_nonzero(sizes == 1))
            n_unassigned = int(np.count_nonzero(f.labels < 0))
            _warn_degenerate(f, k_found, n_single)
            if f.kind in ("purchases", "joint"):
                key = id(f.estimator)
                if key not in relations:
                    relations[key] = relation_and_chance(
                        {**true, **together[key]}, tuple(together[key])
                    )
                rel, chance = relations[key]
            else:
                rel, chance = relation_and_chance({**true, f.side: f.labels}, (f.side,))
        ref, orc, orc_ami = _reference(oracle_ari, f.kind, f.side)
        rows.append(
            Entry(
                algorithm=f.algorithm,
                side=f.side,
                mixing=mixing,
                seed=seed,
                snr=snr,
                k_asked=f.k_asked,
                k_found=k_found,
                n_unassigned=n_unassigned,
                ari=ari,
                ami=ami,
                nmi=nmi,
                nmi_chance=nmi_chance,
                relation=rel,
                relation_chance=chance,
                oracle_ari=orc,
                oracle=ref,
                oracle_ami=orc_ami,
                n_singletons=n_single,
                seconds=float(f.seconds),
                error=f.error,
                labels=f.labels if keep else None,
                estimator=f.estimator if keep else None,
            )
        )
    return rows


def _relation_chance(truth: Any, M: Any, pair: dict, found: tuple[str, ...], n: int = 3) -> float:
    """The relation recovery of random labels with the found cluster sizes: the mean over
    ``n`` random permutations (seeded, so the same every run) of the found sides' labels,
    the other side keeping its true labels as in the score itself."""
    from ..metrics import relation_recovery

    rng = np.random.default_rng(0)
    vals = []
    for _ in range(n):
        shuffled = {s: (rng.permutation(pair[s]) if s in found else pair[s]) for s in pair}
        vals.append(relation_recovery(truth, M, shuffled["people"], shuffled["items"]))
    return float(np.mean(vals))
