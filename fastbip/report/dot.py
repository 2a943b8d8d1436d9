"""The two bigraphs of the page as Graphviz DOT: clusters, and a sample of people and items.

:func:`cluster_bigraph` and :func:`member_bigraph` compute the graphs (nodes and weighted
edges, no drawing); :func:`to_dot` writes one as DOT with the ``graphviz`` package;
:func:`render_svg` runs the ``dot`` program when it is installed (None otherwise, and the
page draws the graph with matplotlib instead, saying so).
"""

from __future__ import annotations

import math
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .palette import cluster_colour, text_colour

__all__ = ["BiGraph", "cluster_bigraph", "member_bigraph", "render_svg", "to_dot"]


@dataclass
class BiGraph:
    """A bipartite graph to draw.

    Attributes
    ----------
    title : str
    nodes : list of dict
        ``id`` (DOT name), ``side`` ("people" or "items"), ``label``, ``size`` (members or
        purchases, sets the drawn size), ``cluster`` (colour index, -1 for none).
    edges : list of dict
        ``a``, ``b`` (node ids, people first), ``weight`` (purchases), ``label``,
        ``strong`` (the pair stands out above chance).
    """

    title: str
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)


def cluster_bigraph(facts: Any) -> BiGraph:
    """Clusters as nodes sized by their members, an edge per pair with purchases.

    Parameters
    ----------
    facts : StudyFacts
        From :func:`fastbip.report.summary.study_facts`.
    """
    C, st = facts.counts, facts.stats
    g = BiGraph("Cluster bigraph: purchases between people-clusters and item-clusters")
    for side, prefix in (("people", "A"), ("items", "B")):
        lab = facts.labels[side]
        sizes = np.bincount(lab[lab >= 0], minlength=len(facts.names[side]))
        for k, name in enumerate(facts.names[side]):
            g.nodes.append(
                {
                    "id": f"{prefix}{k}",
                    "side": side,
                    "label": f"{name}\n{int(sizes[k]):,} {side}",
                    "size": int(sizes[k]),
                    "cluster": k,
                }
            )
    sig = np.asarray(st.significant, dtype=bool) & (np.asarray(st.adjusted_residuals) > 0)
    for i, j in zip(*np.nonzero(C > 0), strict=True):
        g.edges.append(
            {
                "a": f"A{i}",
                "b": f"B{j}",
                "weight": float(C[i, j]),
                "label": f"{int(round(C[i, j])):,} ({st.lift[i, j]:.1f}x)",
                "strong": bool(sig[i, j]),
            }
        )
    return g


def member_bigraph(
    ds: Any, labels: dict[str, np.ndarray], *, n_people: int = 24, n_items: int = 16, rng: Any = 0
) -> BiGraph:
    """People and items of a small sample as nodes, an edge per pair that bought.

    ``n_people`` people are drawn (spread over the clusters of ``labels``), then the
    ``n_items`` items they bought most (people who bought none of them are left out); the
    sample's size does not depend on the data's.
    """
    r = np.random.default_rng(rng)
    M = ds.purchases
    la, lb = labels["people"], labels["items"]
    active = np.flatnonzero(np.diff(M.indptr) > 0)
    per = max(1, n_people // max(1, len(np.unique(la[active]))))
    people: list[int] = []
    for k in np.unique(la[active]):
        members = active[la[active] == k]
        people += list(r.choice(members, size=min(per, members.size), replace=False))
    people = sorted(int(i) for i in people[:n_people])
    sub = M[people]
    totals = np.asarray(sub.sum(axis=0)).ravel()
    items = sorted(int(j) for j in np.argsort(-totals, kind="stable")[:n_items] if totals[j] > 0)
    bought = np.asarray((sub[:, items] > 0).sum(axis=1)).ravel() > 0
    people = [i for i, b in zip(people, bought, strict=True) if b]
    sub = M[people]
    g = BiGraph(f"People-items bigraph of a sample ({len(people)} people, {len(items)} items)")
    for i in people:
        g.nodes.append(
            {
                "id": f"p{i}",
                "side": "people",
                "label": f"person {i}",
                "size": 1,
                "cluster": int(la[i]),
            }
        )
    for j in items:
        g.nodes.append(
            {"id": f"i{j}", "side": "items", "label": f"item {j}", "size": 1, "cluster": int(lb[j])}
        )
    block = sub[:, items].tocoo()
    for a, b, v in zip(block.row, block.col, block.data, strict=True):
        if v > 0:
            g.edges.append(
                {
                    "a": f"p{people[a]}",
                    "b": f"i{items[b]}",
                    "weight": float(v),
                    "label": "",
                    "strong": False,
                }
            )
    return g


def to_dot(g: BiGraph, fontsize: int = 10) -> str:
    """The graph as DOT text (people on the left, items on the right), labels at
    ``fontsize`` points."""
    try:
        import graphviz
    except ImportError as exc:
        raise ImportError(
            "the report's bigraphs need the graphviz package: pip install 'fastbip[report]'"
        ) from exc
    dot = graphviz.Graph(
        "bigraph",
        graph_attr={
            "rankdir": "LR",
            "label": g.title,
            "labelloc": "t",
            "fontname": "Helvetica",
            "nodesep": "0.15",
            "ranksep": "2.2",
            "splines": "true",
        },
        node_attr={"fontname": "Helvetica", "fontsize": str(fontsize), "style": "filled"},
        edge_attr={"fontname": "Helvetica", "fontsize": "8"},
    )
    biggest = max((n["size"] for n in g.nodes), default=1) or 1
    for side, shape in (("people", "ellipse"), ("items", "box")):
        with dot.subgraph(name=f"side_{side}", graph_attr={"rank": "same"}) as s:
            for n in (n for n in g.nodes if n["side"] == side):
                fill = cluster_colour(n["cluster"])
                scale = 0.4 + 0.8 * math.sqrt(n["size"] / biggest)
                s.node(
                    n["id"],
                    label=n["label"],
                    shape=shape,
                    fillcolor=fill,
                    fontcolor=text_colour(fill),
                    width=f"{1.6 * scale:.2f}",
                    height=f"{0.6 * scale:.2f}",
                )
    heaviest = max((e["weight"] for e in g.edges), default=1.0) or 1.0
    for e in g.edges:
        dot.edge(
            e["a"],
            e["b"],
            label=e["label"],
            penwidth=f"{0.5 + 6 * e['weight'] / heaviest:.2f}",
            color="#333333" if e["strong"] else "#9E9E9E",
        )
    return dot.source


def render_svg(dot_source: str, timeout: float = 30.0) -> str | None:
    """The DOT rendered as SVG by the ``dot`` program, or None when it is not installed
    (or fails)."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "-Tsvg"], input=dot_source.encode(), capture_output=True, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    text = out.stdout.decode("utf-8", "replace")
    return text[text.find("<svg") :]
