"""The one runner: configure, fit, time and score any algorithm on one dataset.

:func:`fit_algorithm` takes a registry name, an estimator instance or an estimator class,
sets the numbers of clusters and ``random_state`` where the estimator has them, fits it on
the dataset (a ``"features"`` algorithm once per side that has features, a co-clusterer once
on the purchases), times each fit and returns a :class:`Fit` per side. A fit that raises is
recorded as a :class:`Fit` with its error instead of raising, so one failing algorithm never
hides the others. :func:`fit_oracle` gives the oracle's labels in the same shape, and
:func:`score_fits` turns fits into the rows of :class:`fastbip.study.Results`.
:func:`resolve_algorithms` checks a list of algorithms once for both runners.
"""

from __future__ import annotations

import copy
import inspect
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .results import Entry

__all__ = ["Fit", "fit_algorithm", "fit_oracle", "resolve_algorithms", "score_fits"]

SIDES = ("people", "items")
_NAN = float("nan")


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
    if hasattr(est, "get_params"):
        return est.get_params(deep=False)
    return dict(vars(est)) if hasattr(est, "__dict__") else {}


def resolve_algorithms(algorithms: Iterable[Any] | None, default: list[str]) -> list[tuple]:
    """``(name, algorithm, kind)`` for each entry of ``algorithms`` (``default`` when None).

    A string must be a registered, available name (an unknown name raises ``ValueError``
    listing the known ones, an unavailable one says why); an estimator instance or class is
    taken as it is, named by its class, its kind read from its parameters.
    """
    from .. import algorithms as registry
    from .._validation import check_list

    if algorithms is None:
        items = list(default)
    else:
        items = check_list(algorithms, "algorithms", "registry names or estimators")
    out = []
    for item in items:
        if isinstance(item, str):
            entry = registry.info(item)  # an unknown name raises, listing the known ones
            if not entry.available:
                raise ValueError(f"algorithm {item!r} is unavailable: {entry.unavailable_reason}")
            out.append((item, item, entry.kind))
        elif hasattr(item, "fit"):
            cls = item if isinstance(item, type) else type(item)
            out.append((cls.__name__, item, _kind_of(item)))
        else:
            raise TypeError(
                "algorithms must hold registry names, estimators or estimator classes; "
                f"got {item!r}"
            )
    return out


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


def _configure(est: Any, **wanted: Any) -> Any:
    """Set each of ``wanted`` that ``est`` has as a parameter; ignore the others."""
    params = _params(est)
    chosen = {k: v for k, v in wanted.items() if k in params}
    if hasattr(est, "set_params"):
        est.set_params(**chosen)
    else:
        for k, v in chosen.items():
            setattr(est, k, v)
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
                est = _configure(_new(algorithm), n_clusters=k, random_state=random_state)
                t0 = time.perf_counter()
                est.fit(pop)
                seconds = time.perf_counter() - t0
                out.append(Fit(name, side, kind, np.asarray(est.labels_), est, k, seconds))
            except Exception as exc:  # one failing fit must not hide the others' results
                out.append(Fit(name, side, kind, None, est, k, _NAN, _error(exc)))
        return out
    est = None
    try:
        est = _configure(
            _new(algorithm),
            n_row_clusters=k_people,
            n_col_clusters=k_items,
            random_state=random_state,
        )
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
        labels = (np.asarray(est.row_labels_), np.asarray(est.column_labels_))
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


def fit_oracle(ds: Any) -> list[Fit]:
    """The oracle's labels per side (:func:`fastbip.truth.oracle_labels`), timed."""
    from ..truth import oracle_labels

    ka, kb = ds.truth.shape
    out = []
    for side, k in zip(SIDES, (ka, kb), strict=True):
        t0 = time.perf_counter()
        try:
            labels = np.asarray(oracle_labels(ds, side=side))
        except Exception as exc:  # reported as a row, like any algorithm's failure
            out.append(Fit("oracle", side, "oracle", None, None, k, _NAN, _error(exc)))
            continue
        out.append(Fit("oracle", side, "oracle", labels, None, k, time.perf_counter() - t0))
    return out


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
    """
    from ..metrics import relation_recovery, score_labels

    truth = ds.truth
    true = {"people": np.asarray(truth.people_labels), "items": np.asarray(truth.item_labels)}
    together: dict[int, dict] = {}  # a co-clusterer's sides, by its fitted estimator
    for f in fits:
        if f.kind in ("purchases", "joint") and f.labels is not None:
            together.setdefault(id(f.estimator), {})[f.side] = f.labels
    rows = []
    relations: dict[int, float] = {}
    for f in fits:
        if f.labels is None:
            ari = ami = nmi = rel = _NAN
            k_found = n_unassigned = 0
        else:
            s = score_labels(true[f.side], f.labels)
            ari, ami, nmi = float(s["ari"]), float(s["ami"]), float(s["nmi"])
            k_found = int(np.unique(f.labels[f.labels >= 0]).size)
            n_unassigned = int(np.count_nonzero(f.labels < 0))
            if f.kind in ("purchases", "joint"):
                key = id(f.estimator)
                if key not in relations:
                    pair = {**true, **together[key]}
                    relations[key] = float(
                        relation_recovery(truth, ds.purchases, pair["people"], pair["items"])
                    )
                rel = relations[key]
            else:
                pair = {**true, f.side: f.labels}
                rel = float(relation_recovery(truth, ds.purchases, pair["people"], pair["items"]))
        orc = _NAN if oracle_ari is None else oracle_ari.get(f.side, _NAN)
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
                relation=rel,
                oracle_ari=float(orc) if not math.isnan(orc) else _NAN,
                seconds=float(f.seconds),
                error=f.error,
                labels=f.labels if keep else None,
                estimator=f.estimator if keep else None,
            )
        )
    return rows
