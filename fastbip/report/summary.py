"""The study's answer in plain sentences, and the facts behind it (numpy only).

:func:`study_facts` gathers what both the HTML page and the ``fastbip demo`` command tell
their reader: per side the planted number of clusters, the number the purchases can reveal
at all (:func:`detectable_clusters`), the number chosen by ICL (:func:`choose_k`); the labels
the page shows (the best algorithm's, aligned to the planted clusters), their block counts
and null-model statistics; the best algorithm against its ceiling (the oracle).
:func:`answer_lines` turns them into sentences. Nothing here imports matplotlib or jinja2,
so the command line prints the answer without the ``[report]`` extra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastbip.study.results import ORACLES

__all__ = [
    "StudyFacts",
    "answer_lines",
    "best_algorithm",
    "choose_k",
    "detectable_clusters",
    "study_facts",
]

SIDES = ("people", "items")
_ORACLE_ROWS = frozenset(ORACLES.values())


def detectable_clusters(truth: Any) -> int:
    """The number of clusters the purchases can reveal at all (the same on both sides):
    :func:`fastbip.truth.detectable_clusters`."""
    from fastbip.truth import detectable_clusters as per_side

    return int(per_side(truth)["people"])


def choose_k(
    M: Any, around: tuple[int, int] | None = None, *, spread: int = 2, random_state: Any = 0
) -> dict[str, Any]:
    """The numbers of clusters chosen by ICL (:func:`fastbip.select_k`), one side at a time.

    First the people's K over ``K_A - spread .. K_A + spread`` with the items at ``K_B``, then
    the items' K over their range with the people at the K just chosen: ``2 (2 spread + 1)``
    block-model fits instead of the grid's ``(2 spread + 1)^2``.

    Parameters
    ----------
    M : sparse matrix (n_people, n_items)
        The purchases.
    around : (K_A, K_B), optional
        The centre of the ranges (the planted K); default (4, 4).
    spread : int
        Each range is ``K - spread .. K + spread`` (at least 1, at most n).
    random_state : int or None
        Seed of the block-model fits.

    Returns
    -------
    dict
        ``k``: the chosen (K_A, K_B); ``ks``: the range of each side; ``icl``: the ICL along
        each range (people: items at ``K_B``; items: people at the chosen K_A).
    """
    import fastbip

    n, m = M.shape
    ka, kb = around or (4, 4)
    ks_a = list(range(max(1, ka - spread), min(n, ka + spread) + 1))
    ks_b = list(range(max(1, kb - spread), min(m, kb + spread) + 1))
    kb0 = min(max(kb, 1), m)
    (ka_best, _), t_a = fastbip.select_k(M, ks_a, [kb0], n_init=1, random_state=random_state)
    (_, kb_best), t_b = fastbip.select_k(M, [ka_best], ks_b, n_init=1, random_state=random_state)
    return {
        "k": (int(ka_best), int(kb_best)),
        "ks": (ks_a, ks_b),
        "icl": (np.asarray(t_a)[:, 0], np.asarray(t_b)[0, :]),
        "fixed": (int(kb0), int(ka_best)),
    }


def _mean(values: list[float]) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(vals)) if vals else float("nan")


def best_algorithm(results: Any, *, need_labels: bool = False) -> str | None:
    """The algorithm (not the oracle) with the highest mean ARI over the two sides.

    Parameters
    ----------
    results : Results
    need_labels : bool
        Only consider algorithms whose entries hold labels for both sides.

    Returns
    -------
    str or None
        None when no algorithm has a finite score (or labels, when asked). Without a truth
        (an analysis of a real log: no ARI anywhere) the block-model fit is taken when it
        holds labels, otherwise the first algorithm that does.
    """
    scores: dict[str, list[float]] = {}
    labelled: dict[str, int] = {}
    for e in results.entries:
        if e.algorithm in _ORACLE_ROWS or e.error is not None:
            continue
        scores.setdefault(e.algorithm, []).append(e.ari)
        labelled[e.algorithm] = labelled.get(e.algorithm, 0) + (e.labels is not None)
    best, best_score = None, -math.inf
    for name, vals in scores.items():
        if need_labels and labelled.get(name, 0) < 2:
            continue
        s = _mean(vals)
        if not math.isnan(s) and s > best_score:
            best, best_score = name, s
    if best is None and need_labels:
        with_labels = [name for name, n in labelled.items() if n >= 2]
        if with_labels:
            best = "dcsbm" if "dcsbm" in with_labels else with_labels[0]
    return best


@dataclass
class StudyFacts:
    """What the page and the terminal say, computed once (see :func:`study_facts`)."""

    planted_k: dict[str, int | None]
    detectable: int | None
    chosen: dict[str, Any] | None
    labels_from: str
    labels: dict[str, np.ndarray]
    names: dict[str, list[str]]
    counts: np.ndarray
    stats: Any
    best: str | None
    best_ari: dict[str, float] = field(default_factory=dict)
    oracle_ari: dict[str, float] = field(default_factory=dict)
    snr: float | None = None
    oracle: str = "oracle"


def _aligned(true: np.ndarray | None, found: np.ndarray) -> np.ndarray:
    import fastbip

    found = np.asarray(found, dtype=np.int64)
    if true is None or not np.any(found >= 0):
        return found
    mapping = np.asarray(fastbip.align(true, found))
    return np.where(found >= 0, mapping[np.maximum(found, 0)], -1)


def _names(planted: tuple[str, ...], k: int, side: str) -> list[str]:
    word = "people" if side == "people" else "items"
    return [
        planted[i] if i < len(planted) else f"found {word} {i + 1 - len(planted)}" for i in range(k)
    ] or [f"{word} 1"]


def study_facts(
    results: Any,
    ds: Any,
    *,
    chosen: dict[str, Any] | None = None,
    icl: bool = True,
    random_state: Any = 0,
) -> StudyFacts:
    """The facts behind the answer.

    Parameters
    ----------
    results : Results
        Of :func:`fastbip.run_study` (labels in memory) or read back from JSON (no labels).
    ds : Dataset
    chosen : dict, optional
        A precomputed :func:`choose_k` result.
    icl : bool
        Run :func:`choose_k` when ``chosen`` is not given.
    random_state : int or None
        Seed of :func:`choose_k`.

    Returns
    -------
    StudyFacts
        ``labels`` are the best algorithm's labels aligned to the planted clusters (found
        clusters beyond the planted ones numbered after them, -1 unassigned), or the planted
        labels when the results hold none (``labels_from`` says which).
    """
    import fastbip

    truth = getattr(ds, "truth", None)
    true = {
        "people": None if truth is None else np.asarray(truth.people_labels),
        "items": None if truth is None else np.asarray(truth.item_labels),
    }
    planted_k = {
        "people": None if truth is None else int(truth.shape[0]),
        "items": None if truth is None else int(truth.shape[1]),
    }
    if chosen is None and icl:
        around = (planted_k["people"] or 4, planted_k["items"] or 4)
        chosen = choose_k(ds.purchases, around, random_state=random_state)
    sweep = bool(getattr(results, "is_sweep", False))
    best = None if sweep else best_algorithm(results, need_labels=True)
    labels_from = best
    if best is not None:
        labels = {s: _aligned(true[s], results.entry(best, s).labels) for s in SIDES}
    elif truth is not None:
        labels = {s: np.asarray(true[s], dtype=np.int64) for s in SIDES}
        labels_from = "planted"
    else:
        raise ValueError(
            "the report needs labels: results with labels (run_study's, in memory) or a "
            "dataset with a planted truth; got results without labels and no truth"
        )
    pops = {"people": ds.people, "items": ds.items}
    ks = {s: max(int(labels[s].max()) + 1, planted_k[s] or 0, 1) for s in SIDES}
    names = {s: _names(tuple(pops[s].cluster_names), ks[s], s) for s in SIDES}
    counts = np.asarray(
        fastbip.block_counts(
            ds.purchases, labels["people"], labels["items"], ks["people"], ks["items"]
        ),
        dtype=float,
    )
    stats = fastbip.block_stats(counts)
    ref = None if sweep else best_algorithm(results)
    best_ari = {} if ref is None else {s: results.entry(ref, s).ari for s in SIDES}
    # the best algorithm's ceiling: the oracle that reads what it reads (Entry.oracle)
    oracle_name = "oracle"
    if ref is not None and results.entry(ref, "people").oracle is not None:
        oracle_name = results.entry(ref, "people").oracle
    oracle = {}
    for e in results.entries:
        if e.algorithm == oracle_name and e.side in SIDES and e.mixing is None:
            oracle[e.side] = e.ari
    snr = results.snr if results.snr is not None else None
    return StudyFacts(
        planted_k,
        None if truth is None else detectable_clusters(truth),
        chosen,
        labels_from or "planted",
        labels,
        names,
        counts,
        stats,
        ref,
        best_ari,
        oracle,
        snr,
        oracle_name,
    )


def strongest_relations(facts: StudyFacts, n: int = 3) -> list[tuple[str, str, float, float]]:
    """The ``n`` cells that stand out most above chance: (people cluster, item cluster,
    lift, adjusted residual), significant cells first, by adjusted residual."""
    st = facts.stats
    res = np.asarray(st.adjusted_residuals, dtype=float)
    sig = np.asarray(st.significant, dtype=bool)
    order = sorted(
        ((i, j) for i in range(res.shape[0]) for j in range(res.shape[1]) if res[i, j] > 0),
        key=lambda c: (not sig[c], -res[c]),
    )
    return [
        (facts.names["people"][i], facts.names["items"][j], float(st.lift[i, j]), float(res[i, j]))
        for i, j in order[:n]
    ]


def _f(x: float | None, d: int = 2) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{d}f}"


def answer_lines(facts: StudyFacts) -> list[str]:
    """The answer to the study's three questions, one plain sentence per line."""
    lines = []
    pk, ch = facts.planted_k, facts.chosen
    for i, s in enumerate(SIDES):
        parts = []
        if pk[s] is not None:
            parts.append(f"{pk[s]} clusters planted")
        if facts.detectable is not None:
            parts.append(f"{min(facts.detectable, pk[s] or facts.detectable)} detectable")
        if ch is not None:
            parts.append(f"{ch['k'][i]} chosen by ICL from the purchases")
        if parts:
            lines.append(f"{s.capitalize()}: " + ", ".join(parts) + ".")
    rel = strongest_relations(facts)
    if rel:
        src = (
            "planted clusters"
            if facts.labels_from == "planted"
            else f"clusters {facts.labels_from} found"
        )
        cells = "; ".join(f"{a} buy {b} at {lift:.1f}x chance" for a, b, lift, _ in rel)
        lines.append(f"Strongest block relations (under the {src}): {cells}.")
    if facts.best is not None:
        b, o = facts.best_ari, facts.oracle_ari
        text = (
            f"Best algorithm: {facts.best}, ARI {_f(b.get('people'))} on people and "
            f"{_f(b.get('items'))} on items"
        )
        if o:
            reads = {v: k for k, v in ORACLES.items()}.get(facts.oracle, "purchases")
            text += (
                f", against the {reads} oracle's {_f(o.get('people'))} and "
                f"{_f(o.get('items'))} (the ceiling for what it reads)"
            )
        lines.append(text + ".")
    return lines
