"""``assert_recovers``: whether an estimator finds the planted clusters of a dataset."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from fastbip._validation import check_choice, check_real
from fastbip.study._fit import set_n_clusters, set_random_state

from ._planted import expected_oracle_ari

__all__ = [
    "assert_recovers",
    "fresh",
    "set_n_clusters",
    "set_random_state",
    "fit_labels",
    "score_table",
]

_SIDES = ("people", "items")


def fresh(estimator: Any) -> Any:
    """An unfitted copy of ``estimator``: ``sklearn.base.clone`` for a scikit-learn
    estimator, ``copy.deepcopy`` otherwise."""
    from sklearn.base import BaseEstimator, clone

    if isinstance(estimator, BaseEstimator):
        return clone(estimator)
    return copy.deepcopy(estimator)


def fit_labels(estimator: Any, M: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``estimator`` on ``M`` and return ``(row_labels_, column_labels_)`` as arrays.

    Raises
    ------
    AssertionError
        If ``fit`` is missing or the fitted estimator has no ``row_labels_`` and
        ``column_labels_``.
    """
    if not callable(getattr(estimator, "fit", None)):
        raise AssertionError(f"{type(estimator).__name__} has no fit method")
    out = estimator.fit(M)
    est = estimator if out is None else out
    missing = [a for a in ("row_labels_", "column_labels_") if not hasattr(est, a)]
    if missing:
        raise AssertionError(
            f"{type(estimator).__name__}.fit did not set {' and '.join(missing)} (a "
            "co-clusterer sets row_labels_ for the people and column_labels_ for the items)"
        )
    return np.asarray(est.row_labels_), np.asarray(est.column_labels_)


def _describe(dataset: Any) -> str:
    spec = getattr(dataset, "spec", None)
    n_a, n_b = dataset.purchases.shape
    k_a, k_b = np.asarray(dataset.truth.omega).shape
    parts = [f"{n_a} people x {n_b} items", f"K = {k_a} x {k_b}"]
    try:
        from fastbip.truth import snr

        parts.append(f"snr = {snr(dataset.truth):.3g}")
    except (TypeError, ValueError):
        pass
    if spec is not None:
        parts.append(f"mixing = {spec.relation.mixing:.4g}")
    return ", ".join(parts)


def score_table(rows: list[tuple[str, float, float, float, float]]) -> str:
    """The table of an ``assert_recovers`` message: side, ARI, oracle, reference, needed."""
    head = f"{'side':<8}{'ARI':>8}{'oracle':>9}{'reference':>11}{'needed':>9}"
    lines = [head]
    for side, ari, oracle, ref, need in rows:
        verdict = "ok" if ari >= need else "FAIL"
        lines.append(f"{side:<8}{ari:>8.3f}{oracle:>9.3f}{ref:>11.3f}{need:>9.3f}  {verdict}")
    return "\n".join(lines)


def assert_recovers(
    estimator: Any,
    dataset: Any,
    *,
    at_least: float = 0.9,
    of: str = "ceiling",
    side: str = "both",
) -> dict[str, float]:
    """Assert that ``estimator`` recovers the planted clusters of ``dataset``.

    A fresh copy of the estimator (see :func:`fresh`) is configured with the planted numbers
    of clusters when it has ``n_row_clusters``/``n_col_clusters`` (or ``n_clusters``) left
    unset (None or the class default), fitted on ``dataset.purchases``, and its
    ``row_labels_`` and ``column_labels_`` scored against the truth (ARI, -1 = unassigned).

    Parameters
    ----------
    estimator : object
        A co-clusterer: ``fit(M)`` sets ``row_labels_`` (people) and ``column_labels_``
        (items). It need not subclass scikit-learn's ``BaseEstimator``.
    dataset : fastbip.Dataset
        A dataset with a planted truth, e.g. from :func:`fastbip.testing.planted`.
    at_least : float
        In (0, 1]. With ``of="ceiling"`` the fraction of the oracle's ARI needed; with
        ``of="truth"`` the ARI needed.
    of : {"ceiling", "truth"}
        The reference: the oracle's ARI at this difficulty
        (:func:`fastbip.testing.expected_oracle_ari`), or the truth itself (reference 1).
    side : {"both", "people", "items"}
        The sides that must pass.

    Returns
    -------
    dict
        The ARI per side checked, e.g. ``{"people": 0.93, "items": 0.97}``.

    Raises
    ------
    AssertionError
        If a side's ARI is below ``at_least * reference``; the message holds a table of
        side, ARI, the oracle's ARI, the reference and the ARI needed, and the dataset's
        size, K and SNR.
    ValueError, TypeError
        For an argument out of range or a dataset without truth.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, then this message
    from fastbip.metrics import score_labels

    at_least = check_real(at_least, "at_least", 0.0, 1.0, low_open=True)
    check_choice(of, "of", ("ceiling", "truth"))
    check_choice(side, "side", ("both", *_SIDES))
    truth = getattr(dataset, "truth", None)
    if truth is None or not hasattr(dataset, "purchases"):
        raise ValueError(
            "dataset must be a fastbip Dataset with a planted truth (e.g. "
            f"fastbip.testing.planted()); got {type(dataset).__name__} with truth={truth!r}"
        )
    k_a, k_b = np.asarray(truth.omega).shape
    est = fresh(estimator)
    set_n_clusters(est, k_a, k_b, only_unset=True)
    found = dict(zip(_SIDES, fit_labels(est, dataset.purchases), strict=True))
    true = {"people": truth.people_labels, "items": truth.item_labels}
    oracle = expected_oracle_ari(dataset)
    sides = _SIDES if side == "both" else (side,)
    rows, scores = [], {}
    for s in sides:
        if found[s].shape != np.shape(true[s]):
            raise AssertionError(
                f"{type(est).__name__}: {s} labels have shape {found[s].shape}; "
                f"expected {np.shape(true[s])}"
            )
        ari = float(score_labels(true[s], found[s])["ari"])
        ref = oracle[s] if of == "ceiling" else 1.0
        rows.append((s, ari, oracle[s], ref, at_least * ref))
        scores[s] = ari
    if any(ari < need for _, ari, _, _, need in rows):
        ref_text = (
            "reference = the oracle's ARI (of='ceiling')"
            if of == "ceiling"
            else "reference = the truth (of='truth')"
        )
        raise AssertionError(
            f"{_name(est)} did not recover the planted clusters ({_describe(dataset)}):\n"
            f"{score_table(rows)}\n"
            f"{ref_text}; needed = at_least={at_least:g} x reference"
        )
    return scores


def _name(estimator: Any) -> str:
    if type(estimator).__repr__ is object.__repr__:
        return type(estimator).__name__
    text = " ".join(repr(estimator).split())
    return text if len(text) <= 80 else type(estimator).__name__
