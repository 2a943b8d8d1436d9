"""The page: gather the figures and tables of the three questions and render the template.

:func:`build_page` returns a :class:`Page` (the HTML text, the DOT sources to write beside
it, and every figure's and table's data, for tests); :func:`fastbip.report.write_report`
writes it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import dot as dotmod
from . import figures as F
from .analysis import analysis_answer, analysis_chosen, analysis_context, analysis_names
from .palette import cluster_colour, text_colour
from .summary import SIDES, answer_lines, study_facts

__all__ = ["Page", "build_page", "template_env"]

TABLE_ROWS = 32  # members per side in the colour table
GRAPH_PEOPLE, GRAPH_ITEMS = 24, 16  # the people-items bigraph's sample
TOP_MEMBERS = 5  # items listed per cluster
N_WINDOWS = 6


@dataclass
class Page:
    """A built page: ``html``, ``dots`` (suffix -> DOT source), ``figures`` (key -> Figure),
    ``colour_table`` (side -> rows of cells), ``scores`` (rows), ``facts``, ``renderer``
    (``"dot"`` or ``"matplotlib"``), ``samples`` (side -> member indices) and ``seconds``
    per step."""

    html: str
    dots: dict[str, str]
    figures: dict[str, Any]
    colour_table: dict[str, dict[str, Any]]
    scores: list[dict[str, Any]]
    facts: Any
    renderer: str
    samples: dict[str, np.ndarray]
    seconds: dict[str, float] = field(default_factory=dict)


def template_env() -> Any:
    """The jinja2 environment of the pages' templates (fastbip/report/templates)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("fastbip.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= size else np.sort(rng.choice(n, size=size, replace=False))


def _stratified(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """About ``size`` members, the same number from each cluster of ``labels``."""
    ks = np.unique(labels)
    per = max(1, size // max(1, ks.size))
    out = [
        rng.choice(np.flatnonzero(labels == k), min(per, int(np.sum(labels == k))), replace=False)
        for k in ks
    ]
    idx = np.concatenate(out) if out else np.arange(0)
    return np.sort(idx[:size])


def _cell(k: int, names: list[str]) -> dict[str, Any]:
    bg = cluster_colour(k)
    text = "-" if k < 0 else (names[k] if k < len(names) else f"found {k + 1}")
    return {"cluster": int(k), "colour": bg, "text_colour": text_colour(bg), "text": text}


def _colour_tables(results, facts, truth, rng) -> dict[str, dict[str, Any]]:
    import fastbip

    out = {}
    algos = [
        a
        for a in dict.fromkeys(e.algorithm for e in results.entries)
        if all(_labels(results, a, s) is not None for s in SIDES)
    ]
    for s in SIDES:
        true = (
            None
            if truth is None
            else np.asarray(truth.people_labels if s == "people" else truth.item_labels)
        )
        base = true if true is not None else facts.labels[s]
        rows_idx = _stratified(base, TABLE_ROWS, rng)
        cols = {}
        for a in algos:
            found = np.asarray(_labels(results, a, s), dtype=np.int64)
            if true is not None and np.any(found >= 0):
                m = np.asarray(fastbip.align(true, found))
                found = np.where(found >= 0, m[np.maximum(found, 0)], -1)
            cols[a] = found
        names = facts.names[s]
        rows = []
        for i in rows_idx:
            cells = [] if true is None else [_cell(int(true[i]), names)]
            cells += [_cell(int(cols[a][i]), names) for a in algos]
            rows.append({"member": int(i), "cells": cells})
        header = ([] if true is None else ["true"]) + algos
        out[s] = {"header": header, "rows": rows, "n": len(base)}
    return out


def _labels(results, algorithm: str, side: str):
    try:
        return results.entry(algorithm, side).labels
    except KeyError:
        return None


def _score_rows(results) -> list[dict[str, Any]]:
    rows = []
    for e in results.entries:
        frac = e.ari / e.oracle_ari if e.oracle_ari and math.isfinite(e.oracle_ari) else math.nan
        rows.append({**e.row(), "ari_over_oracle": frac})
    return rows


def _top_items(ds, labels: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """The most bought items of each item-cluster, with their features."""
    pop = ds.items
    pops = np.asarray(ds.purchases.sum(axis=0)).ravel()
    out = []
    for k, name in enumerate(names):
        members = np.flatnonzero(labels == k)
        top = members[np.argsort(-pops[members], kind="stable")[:TOP_MEMBERS]]
        items = []
        for j in top:
            desc = []
            for f in pop.feature_names:
                v = pop.columns[f][j]
                desc.append(
                    f"{f} {pop.categories[f][v]}"
                    if pop.kinds[f] == "categorical"
                    else f"{f} {float(v):.6g}"
                )
            ident = pop.ids[j] if pop.ids is not None else f"item {j}"
            items.append({"id": str(ident), "bought": int(pops[j]), "desc": ", ".join(desc)})
        out.append({"cluster": k, "name": name, "colour": cluster_colour(k), "members": items})
    return out


def _windows(ds, facts) -> Any:
    import fastbip

    times = ds.events.times
    tspec = getattr(getattr(ds, "spec", None), "time", None)
    start = float(getattr(tspec, "start", times.min()))
    end = float(getattr(tspec, "end", times.max()))
    edges = np.linspace(start, end + 1e-9 * max(1.0, abs(end)), N_WINDOWS + 1)
    ka, kb = facts.counts.shape
    totals = np.stack(
        [
            np.asarray(
                fastbip.block_counts(
                    ds.window(edges[t], edges[t + 1]),
                    facts.labels["people"],
                    facts.labels["items"],
                    ka,
                    kb,
                ),
                dtype=float,
            )
            for t in range(N_WINDOWS)
        ]
    )
    # a log's times are days since 1970-01-01 (fastbip.read_log): show them as dates
    return F.windows(totals, edges, facts.names, dates=getattr(ds, "spec", None) is None)


def _bigraph(g, key: str, fontsize: int = 10) -> tuple[Any, str, str]:
    source = dotmod.to_dot(g, fontsize)
    svg = dotmod.render_svg(source)
    if svg is not None:
        return F.Figure(key, g.title, svg, {"edges": g.edges, "nodes": g.nodes}), source, "dot"
    fig = F.bigraph(g, key)
    fig.data = {"edges": g.edges, "nodes": g.nodes}
    return fig, source, "matplotlib"


def build_page(
    results: Any,
    ds: Any,
    *,
    sample: int = 1000,
    dot_names: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    random_state: int = 0,
    facts: Any = None,
) -> Page:
    """Compute every figure and table of the page and render it (see ``write_report``)."""
    say = progress or (lambda msg: None)
    rng = np.random.default_rng(random_state)
    seconds: dict[str, float] = {}
    t = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal t
        now = time.perf_counter()
        seconds[step] = now - t
        t = now
        say(f"report: {step} ({seconds[step]:.2f} s)")

    truth = getattr(ds, "truth", None)
    an = getattr(results, "analysis", None) if truth is None else None
    if facts is None:
        chosen = None if an is None else analysis_chosen(an)
        facts = study_facts(results, ds, chosen=chosen, random_state=random_state)
    legend_names = facts.names
    if an is not None:  # the analysis' names, not "found people 3"
        names = analysis_names(an)
        legend_names = {}
        many = max(len(facts.names[s]) for s in SIDES) > 8
        for s in SIDES:
            k = len(facts.names[s])
            legend_names[s] = (names[s] + facts.names[s][len(names[s]) :])[:k]
            # many clusters: the figures label them by code (P3, I7), the legend names them
            codes = [f"{'P' if s == 'people' else 'I'}{c}" for c in range(k)]
            facts.names[s] = codes if many else list(legend_names[s])
    lap("ICL and block statistics")
    pops = {"people": ds.people, "items": ds.items}
    samples = {s: _sample(pops[s].n, sample, rng) for s in SIDES}
    figs: dict[str, Any] = {}
    if facts.chosen is not None:
        figs["icl"] = F.icl_curves(facts.chosen, facts.planted_k)
    if ds.people.feature_names or ds.items.feature_names:
        figs["features"] = F.feature_curves(pops, samples, random_state=random_state)
    for s in SIDES:
        if pops[s].feature_names:
            figs[f"profile-{s}"] = F.profiles(
                pops[s], facts.labels[s], facts.names[s], samples[s], s
            )
    lap("question 1")
    figs["blocks"] = F.block_heatmaps(
        facts.counts,
        None if truth is None else np.asarray(truth.omega, dtype=float),
        facts.names,
        "planted" if facts.labels_from == "planted" else facts.labels_from,
    )
    figs["lift"] = F.lift_residuals(facts.stats, facts.names)
    dot_names = dot_names or {"cluster": "cluster.dot", "members": "members.dot"}
    cg = dotmod.cluster_bigraph(facts)
    figs["cluster-graph"], src_c, renderer = _bigraph(cg, "cluster-graph")
    mg = dotmod.member_bigraph(
        ds, facts.labels, n_people=GRAPH_PEOPLE, n_items=GRAPH_ITEMS, rng=random_state
    )
    figs["member-graph"], src_m, _ = _bigraph(mg, "member-graph", fontsize=16)
    if getattr(ds, "events", None) is not None:
        figs["windows"] = _windows(ds, facts)
    lap("question 2")
    tables = []
    import fastbip

    for e in results.entries:
        if e.labels is None or e.error is not None or truth is None:
            continue
        true = np.asarray(truth.people_labels if e.side == "people" else truth.item_labels)
        found = np.asarray(e.labels, dtype=np.int64)
        if np.any(found >= 0):
            m = np.asarray(fastbip.align(true, found))
            found = np.where(found >= 0, m[np.maximum(found, 0)], -1)
        T = np.asarray(fastbip.contingency(true, found).toarray())
        tables.append((e.algorithm, e.side, T))
    if tables:
        figs["contingency"] = F.contingencies(tables, facts.names)
    if results.is_sweep:
        figs["sweep"] = F.ari_vs_snr(results.entries)
    colour = _colour_tables(results, facts, truth, rng)
    analysis = None if an is None else analysis_context(an, facts.names)
    if analysis is not None:
        figs.update(analysis["figs"])
    lap("question 3")
    env = template_env()
    missing = [
        a
        for a in dict.fromkeys(e.algorithm for e in results.entries)
        if any(_labels(results, a, s) is None for s in SIDES)
    ]
    html = env.get_template("page.html.j2").render(
        title="fastbip study",
        summary=results.summary or ds.summary(),
        answer=(
            answer_lines(facts) if analysis is None else analysis_answer(an, facts, legend_names)
        ),
        analysis=analysis,
        facts=facts,
        figs=figs,
        colour=colour,
        scores=_score_rows(results),
        is_sweep=results.is_sweep,
        missing=missing,
        has_truth=ds.truth is not None,
        renderer=renderer,
        dot_names=dot_names,
        sample=sample,
        samples={s: len(samples[s]) for s in SIDES},
        top_items=_top_items(ds, facts.labels["items"], legend_names["items"]),
        graph_sample=(GRAPH_PEOPLE, GRAPH_ITEMS),
        legend=[
            {
                "k": k,
                "colour": cluster_colour(k),
                "people": legend_names["people"][k] if k < len(legend_names["people"]) else "",
                "items": legend_names["items"][k] if k < len(legend_names["items"]) else "",
            }
            for k in range(max(len(legend_names["people"]), len(legend_names["items"])))
        ],
        isfinite=lambda x: x is not None and isinstance(x, float | int) and math.isfinite(x),
    )
    lap("page")
    return Page(
        html,
        {"cluster": src_c, "members": src_m},
        figs,
        colour,
        _score_rows(results),
        facts,
        renderer,
        samples,
        seconds,
    )
