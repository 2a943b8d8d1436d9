"""Planted datasets for tests, cached per process, and the oracle's score on them."""

from __future__ import annotations

import functools
import weakref
from typing import Any

import numpy as np

from fastbip._validation import check_int, check_real

__all__ = ["planted", "expected_oracle_ari"]


def planted(
    n_people: int = 2000,
    n_items: int = 500,
    k_people: int = 3,
    k_items: int = 3,
    *,
    snr: float | None = None,
    mixing: float | None = None,
    mean_purchases: float = 20.0,
    features: bool = False,
    seed: int = 0,
):
    """A planted dataset of the standard family, generated once per process.

    The dataset is :func:`fastbip.generate` of :func:`fastbip.spec.planted_spec` with these
    arguments (equal shares, affinity ratio 10 on the "diagonal" pairs, lognormal activity
    and popularity, Poisson purchases, no time). Calls with the same arguments (after
    normalisation: ``snr=3`` and ``snr=3.0`` are the same) return the same object, so a test
    suite pays for each dataset once.

    Parameters
    ----------
    n_people, n_items : int
        Population sizes, >= 1.
    k_people, k_items : int
        Numbers of planted clusters, >= 1.
    snr : float or None
        Difficulty as the signal-to-noise ratio of the planted structure (1 is the
        detection threshold); the mixing is solved for it (see
        :func:`fastbip.spec.planted_spec`). Exclusive with ``mixing``.
    mixing : float or None
        Difficulty as the mixing toward no structure, in [0, 1]. With neither ``snr`` nor
        ``mixing`` the mixing is 0 (the easiest instance of the family).
    mean_purchases : float
        Expected purchases per person, > 0.
    features : bool
        Whether each side gets the features ``x`` and ``tag``.
    seed : int
        The spec's seed, >= 0.

    Returns
    -------
    fastbip.Dataset
        Shared between callers: its arrays (purchases, truth, labels, features) are
        read-only, so a test cannot corrupt the cache; ``copy.deepcopy`` it (or copy the
        arrays) to modify one. fastbip's algorithms, scores and oracle read read-only
        arrays.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or out of range (``SpecError`` is a ``ValueError``),
        including ``snr`` and ``mixing`` together and an ``snr`` the family cannot reach.
    """
    key = (
        check_int(n_people, "n_people", 1),
        check_int(n_items, "n_items", 1),
        check_int(k_people, "k_people", 1, n_people, high_name="n_people"),
        check_int(k_items, "k_items", 1, n_items, high_name="n_items"),
        check_real(snr, "snr", 0.0, low_open=True, none_ok=True),
        check_real(mixing, "mixing", 0.0, 1.0, none_ok=True),
        check_real(mean_purchases, "mean_purchases", 0.0, low_open=True),
        _check_bool(features, "features"),
        check_int(seed, "seed", 0),
    )
    if snr is not None and mixing is not None:
        raise ValueError(f"give either snr or mixing, not both; got snr={snr!r}, mixing={mixing!r}")
    return _planted(*key)


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


@functools.lru_cache(maxsize=64)
def _planted(n_people, n_items, k_people, k_items, snr, mixing, mean_purchases, features, seed):
    from fastbip.generate import generate
    from fastbip.spec import planted_spec

    spec = planted_spec(
        n_people,
        n_items,
        k_people,
        k_items,
        mean_purchases=mean_purchases,
        mixing=mixing,
        seed=seed,
        snr=snr,
        features=features,
    )
    ds = generate(spec)
    _freeze(ds)
    return ds


def _freeze(ds) -> None:
    """Make every array of ``ds`` read-only (in place)."""
    arrays = [ds.purchases.data, ds.purchases.indices, ds.purchases.indptr]
    if ds.truth is not None:
        arrays += [ds.truth.omega, ds.truth.theta, ds.truth.phi]
        arrays += [ds.truth.people_labels, ds.truth.item_labels]
    for pop in (ds.people, ds.items):
        arrays += [pop.labels, pop.ids, *getattr(pop, "columns", {}).values()]
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False


_SIDES = ("people", "items")
_ORACLE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def expected_oracle_ari(dataset) -> dict[str, float]:
    """The oracle's ARI against the planted truth, per side: the ceiling of recovery.

    The oracle knows the planted parameters (:func:`fastbip.oracle_labels`); its labels
    scored against the truth with :func:`fastbip.score_labels` say how much of the truth the
    purchases let anyone find at this difficulty. Cached per dataset object.

    Parameters
    ----------
    dataset : fastbip.Dataset
        A dataset with a planted truth.

    Returns
    -------
    dict
        ``{"people": ari, "items": ari}``.

    Raises
    ------
    ValueError
        If ``dataset.truth`` is None.
    """
    try:
        cached = _ORACLE.get(dataset)
    except TypeError:  # not weak-referenceable or not hashable: no cache
        cached = None
    if cached is not None:
        return dict(cached)
    from fastbip.metrics import score_labels
    from fastbip.truth import oracle_labels

    truth = getattr(dataset, "truth", None)
    if truth is None:
        raise ValueError("dataset.truth is None: the oracle's ARI needs a planted truth")
    out = {}
    for side, true in zip(_SIDES, (truth.people_labels, truth.item_labels), strict=True):
        out[side] = float(score_labels(true, oracle_labels(dataset, side))["ari"])
    try:
        _ORACLE[dataset] = out
    except TypeError:
        pass
    return dict(out)
