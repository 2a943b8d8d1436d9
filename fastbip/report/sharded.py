"""The page of a study on a Dask cluster (:func:`fastbip.distributed.run_sharded_study`).

It answers the local page's three questions (:mod:`fastbip.report.html`) from the study's
``results.json`` alone: K x K tables, per-cluster sizes and the run's figures, nothing of
the size of the data. Which clusters (the fitted sizes per side beside the planted ones,
Cramér's V), what the purchases say (block counts against the planted relation, lift and
adjusted residuals, the strongest relations named), how well the fit finds the truth (its
ARI beside the purchases oracle's, the expected SNR, the contingency heatmaps). The fitted
clusters are aligned to the planted ones (:func:`fastbip.metrics.align` on the contingency
table), so a fitted cluster takes the colour and name of the planted one it matches. The
figures are the local page's (:mod:`fastbip.report.figures`), the style and macros its
templates'.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .palette import cluster_colour

__all__ = ["build_sharded_page", "write_sharded_page"]

SIDES = ("people", "items")
_TABLE = {"people": "contingency_people", "items": "contingency_items"}
_ORACLE = {"people": "oracle_contingency_people", "items": "oracle_contingency_items"}


def _order(facts: dict) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per side, the fitted clusters in page order and their positions: ``order[i]`` is the
    i-th fitted cluster shown, ``pos[i]`` (increasing) the position it is drawn at, which
    is the planted cluster it is matched with (extra fitted clusters after the planted
    ones; with fewer fitted than planted clusters some planted positions stay empty)."""
    from fastbip.metrics import _align_table

    order, pos = {}, {}
    for s, k in (("people", facts["k_people"]), ("items", facts["k_items"])):
        if _TABLE[s] not in facts:
            order[s] = pos[s] = np.arange(k)
            continue
        mapping = _align_table(np.asarray(facts[_TABLE[s]]).T)  # found -> planted
        order[s] = np.argsort(mapping, kind="stable")
        pos[s] = mapping[order[s]]
    return order, pos


def _place(x: np.ndarray, pos: np.ndarray, k: int, axis: int = 0) -> np.ndarray:
    """``x`` (its ``axis`` in page order) spread over ``k`` positions, zeros elsewhere."""
    shape = list(x.shape)
    shape[axis] = k
    out = np.zeros(shape, dtype=x.dtype)
    index = [slice(None)] * x.ndim
    index[axis] = pos
    out[tuple(index)] = x
    return out


def _names(facts: dict, k: dict[str, int]) -> dict[str, list[str]]:
    from .summary import _names as names_of

    planted = facts.get("cluster_names", {})
    return {s: names_of(tuple(planted.get(s, ())), k[s], s) for s in SIDES}


def sizes_figure(sizes: dict[str, dict[str, Any]], names: dict[str, list[str]]) -> Any:
    """Cluster sizes per side: the fitted (solid) beside the planted (hatched) bars."""
    from . import figures as F

    k_max = max(len(names[s]) for s in SIDES)
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig, axes = F._new(1, 2, max(2.4, 0.3 * k_max + 1.2), left=1.6, right=0.9, wspace=2.4)
    for ax, s in zip(axes[0], SIDES, strict=True):
        fitted, planted = sizes[s]["fitted"], sizes[s]["planted"]
        k = len(names[s])
        y = np.arange(k)
        h = 0.4 if planted is not None else 0.7
        colours = [cluster_colour(c) for c in range(k)]
        ax.barh(y - (h / 2 if planted is not None else 0), fitted, h, color=colours, label="fitted")
        if planted is not None:
            ax.barh(
                y + h / 2,
                planted,
                h,
                color="white",
                edgecolor=colours,
                hatch="///",
                label="planted",
            )
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: F._Compact.format(v)))
        ax.set_yticks(y, names[s], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(f"{s} (all {sizes[s]['n']:,})")
        ax.set_title(f"{s.capitalize()}: cluster sizes")
    data = {s: {"fitted": list(sizes[s]["fitted"]), "planted": sizes[s]["planted"]} for s in SIDES}
    note = (
        "each fitted cluster is drawn in the colour of the planted cluster it matches; "
        "the people's sizes are counted shard by shard on the workers"
    )
    return F.Figure("sizes", "How large each cluster is", F._svg(fig, "sizes"), data, note)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not math.isfinite(b) or b == 0:
        return None
    return a / b


def build_sharded_page(facts: dict) -> tuple[str, dict[str, Any]]:
    """The page's HTML and its figures (key -> :class:`~fastbip.report.figures.Figure`)
    from the facts of :func:`~fastbip.distributed.run_sharded_study`."""
    from fastbip.blocks import block_stats

    from . import figures as F
    from .html import template_env
    from .summary import StudyFacts, strongest_relations

    order, pos = _order(facts)
    truth = "ari_people" in facts
    k = {"people": int(facts["k_people"]), "items": int(facts["k_items"])}
    if truth:  # the planted clusters first, any extra fitted ones after them
        for s in SIDES:
            k[s] = max(k[s], len(facts[f"planted_{'people' if s == 'people' else 'item'}_sizes"]))
    names = _names(facts, k)
    om = np.asarray(facts["omega"], dtype=float)[np.ix_(order["people"], order["items"])]
    stats = block_stats(om)
    counts = _place(_place(om, pos["people"], k["people"], 0), pos["items"], k["items"], 1)
    show = {s: [names[s][p] for p in pos[s]] for s in SIDES}  # the fitted clusters' names
    figs: dict[str, Any] = {}
    sizes = {}
    for s, key in (("people", "people_sizes"), ("items", "item_sizes")):
        fitted = _place(np.asarray(facts[key], np.int64)[order[s]], pos[s], k[s])
        planted = facts.get(f"planted_{'people' if s == 'people' else 'item'}_sizes")
        if planted is not None:
            planted = list(planted) + [0] * (k[s] - len(planted))
        n = facts["shape"][0 if s == "people" else 1]
        sizes[s] = {"fitted": fitted.tolist(), "planted": planted, "n": n}
    figs["sizes"] = sizes_figure(sizes, names)
    omega = np.asarray(facts["planted_omega"], float) if "planted_omega" in facts else None
    figs["blocks"] = F.block_heatmaps(counts, omega, names, "fitted (DCSBM)")
    figs["blocks"].note = (
        "the purchases in each block of the fitted clusters, summed over the shards"
        + ("; beside them the purchases the planted relation expects" if omega is not None else "")
        + "; two rows alike are two clusters the purchases cannot tell apart"
    )
    figs["lift"] = F.lift_residuals(stats, show)
    summary_facts = StudyFacts(
        planted_k={s: None for s in SIDES},
        detectable=None,
        chosen=None,
        labels_from="dcsbm",
        labels={},
        names=show,
        counts=om,
        stats=stats,
        best="dcsbm",
    )
    relations = strongest_relations(summary_facts, n=5)
    scores = []
    if truth:
        # planted x found tables, the found clusters aligned (the oracle's are planted ones)
        tables = [
            (
                "dcsbm (the fit)",
                s,
                _place(np.asarray(facts[_TABLE[s]], np.int64)[order[s]], pos[s], k[s]).T,
            )
            for s in SIDES
        ]
        tables += [
            ("oracle (about the best possible)", s, np.asarray(facts[_ORACLE[s]], np.int64).T)
            for s in SIDES
        ]
        figs["contingency"] = F.contingencies(tables, names, ncols=2)
        fit = {s: facts[f"ari_{s}"] for s in SIDES}
        orc = {s: facts[f"oracle_ari_{s}"] for s in SIDES}
        scores = [
            {"algorithm": "oracle", "label": "oracle (purchases, planted parameters)", **orc},
            {"algorithm": "dcsbm", "label": "DCSBM fit on the shards", **fit},
        ]
        scores[1]["over"] = {s: _ratio(fit[s], orc[s]) for s in SIDES}
    answer = _answer(facts, sizes, names, relations, truth)
    html = (
        template_env()
        .get_template("sharded.html.j2")
        .render(
            title="fastbip study on a Dask cluster",
            facts=facts,
            figs=figs,
            names=names,
            sizes=sizes,
            relations=relations,
            scores=scores,
            answer=answer,
            truth=truth,
            k=k,
            cluster_colour=cluster_colour,
            legend=[
                {
                    "k": c,
                    "colour": cluster_colour(c),
                    "people": names["people"][c] if c < k["people"] else "",
                    "items": names["items"][c] if c < k["items"] else "",
                }
                for c in range(max(k.values()))
            ],
            isfinite=lambda x: isinstance(x, float | int) and math.isfinite(x),
        )
    )
    return html, figs


def _span(sizes: list[int]) -> str:
    nz = [x for x in sizes if x > 0]
    if not nz:
        return "no members"
    return f"{min(nz):,}" if min(nz) == max(nz) else f"{min(nz):,} to {max(nz):,}"


def _answer(facts, sizes, names, relations, truth) -> list[str]:
    """The answer to the three questions, one plain sentence per line."""
    lines = []
    for s in SIDES:
        fitted = sizes[s]["fitted"]
        found = sum(1 for x in fitted if x > 0)
        text = f"{s.capitalize()}: the fit finds {found} clusters of {_span(fitted)} {s}"
        if truth:
            det = facts["detectable"][s]
            text += f"; {len(sizes[s]['planted'])} planted, {det} detectable from the purchases"
        lines.append(text + ".")
    if relations:
        cells = "; ".join(f"{a} buy {b} at {lift:.1f}x chance" for a, b, lift, _ in relations[:3])
        lines.append(
            f"Strongest relations (Cramér's V {facts['cramers_v']:.2f} under the fit): {cells}."
        )
    if truth:
        lines.append(
            f"The fit recovers the planted clusters with ARI {facts['ari_people']:.3f} on people "
            f"and {facts['ari_items']:.3f} on items, against the purchases oracle's "
            f"{facts['oracle_ari_people']:.3f} and {facts['oracle_ari_items']:.3f} (about the best "
            "possible); "
            f"expected SNR {facts['snr']:.3g} (1 is the detection threshold)."
        )
    return lines


def write_sharded_page(facts: dict, path: str | os.PathLike) -> Path:
    """Write the page of :func:`build_sharded_page` to ``path``; returns the path.

    Raises
    ------
    ValueError
        ``path`` cannot be written.
    ImportError
        matplotlib or jinja2 is missing (``pip install 'fastbip[report]'``).
    """
    from . import check_output_path

    p = check_output_path(path)
    try:
        import jinja2  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"writing a report needs {exc.name}: pip install 'fastbip[report]'"
        ) from exc
    html, _ = build_sharded_page(facts)
    p.write_text(html, encoding="utf-8")
    return p
