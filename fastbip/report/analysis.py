"""The page of an analysis without a truth (:func:`fastbip.analyze`): what replaces the
truth's sections. The chosen K and its ICL curve come from the analysis (not refitted), the
clusters carry the analysis' names, and "how well each algorithm finds the truth" becomes
"how far to trust the fit": stability over seeds and bootstrap resamples per side, each
cluster's stability, the agreement between algorithms and, with a twin, how well each
algorithm recovers a planted truth shaped like this log.

Everything here reads ``Results.analysis`` (a JSON-ready dict), so a page drawn from
results read back with :meth:`fastbip.Results.from_json` shows the same sections.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from .figures import Figure, _heat, _new, _svg
from .palette import cluster_colour

__all__ = ["analysis_answer", "analysis_chosen", "analysis_context", "analysis_names"]

SIDES = ("people", "items")
_NAME_CHARS = 26


def analysis_chosen(an: dict) -> dict[str, Any]:
    """The chosen K and ICL curves in :func:`fastbip.report.summary.choose_k`'s shape, read
    from the analysis' ICL table: the people's curve at the chosen items K, the items' at the
    chosen people K."""
    k = an["k"]
    rows, cols = list(k["k_people_range"]), list(k["k_items_range"])
    ka, kb = int(k["k_people"]), int(k["k_items"])
    tab = np.array(
        [[math.nan if v is None else float(v) for v in row] for row in k["icl"]], dtype=float
    )
    i, j = rows.index(ka), cols.index(kb)
    return {"k": (ka, kb), "ks": (rows, cols), "icl": (tab[:, j], tab[i, :]), "fixed": (kb, ka)}


def _short(label: str, side: str) -> str:
    """A figure-sized name: ``P3 occupation=writer``, ``I0 Drama/Comedy/Documentary``."""
    head, _, rest = label.partition(": ")
    if side == "items":
        cats = [re.sub(r"\s*\(.*$", "", c).strip() for c in re.split(r"\),\s*", rest)]
        rest = "/".join(c for c in cats if c)
    else:
        rest = re.sub(r"\s+x[0-9.]+$", "", rest)
    text = f"{head} {rest}".strip()
    return text if len(text) <= _NAME_CHARS else text[: _NAME_CHARS - 1] + "…"


def analysis_names(an: dict) -> dict[str, list[str]]:
    """Per side, a short name per cluster (in cluster order) from the analysis' names."""
    out = {}
    for s in SIDES:
        named = sorted(an["names"][s], key=lambda d: d["cluster"])
        out[s] = [_short(d.get("label", f"{s[0].upper()}{d['cluster']}"), s) for d in named]
    return out


def _stability_rows(an: dict) -> list[dict[str, Any]]:
    st, k = an["stability"], an["k"]
    rows = []
    for s in SIDES:
        d = st[s]
        seeds = [x for x in d.get("ari_seeds", []) if x is not None]
        boot = [x for x in d.get("ari_bootstrap", []) if x is not None]
        cs = [x for x in d.get("cluster_stability", []) if x is not None]
        rows.append(
            {
                "side": s,
                "k": k[f"k_{s}"],
                "seeds": float(np.mean(seeds)) if seeds else None,
                "bootstrap": float(np.mean(boot)) if boot else None,
                "mean": d.get("ari_mean"),
                "min": d.get("ari_min"),
                "stable": sum(x >= 0.75 for x in cs),
                "unstable": sum(x < 0.5 for x in cs),
                "n": len(cs),
            }
        )
    return rows


def stability_figure(an: dict, names: dict[str, list[str]]) -> Figure:
    """Per side, each cluster's stability (a bar per cluster, coloured as the cluster) and,
    as dots above, the ARI of each refit with the fit (seeds, bootstrap resamples)."""
    st = an["stability"]
    k = max(len(names[s]) for s in SIDES)
    fig, axes = _new(1, 2, max(2.6, 0.17 * k + 1.3), left=1.75, wspace=2.0, bottom=0.8)
    data = {}
    for ax, s in zip(axes[0], SIDES, strict=True):
        d = st[s]
        vals = np.array(
            [math.nan if v is None else float(v) for v in d["cluster_stability"]], dtype=float
        )
        kk = vals.size
        ax.barh(range(kk), np.nan_to_num(vals), color=[cluster_colour(c) for c in range(kk)])
        ax.set_yticks(range(kk), names[s][:kk], fontsize=7 if kk <= 16 else 6)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        for x, style in ((0.5, ":"), (0.75, "--")):
            ax.axvline(x, color="#555555", ls=style, lw=0.8)
        ari = [("seeds", v) for v in d.get("ari_seeds", [])]
        ari += [("bootstrap", v) for v in d.get("ari_bootstrap", [])]
        mean = d.get("ari_mean")
        ax.set_title(
            f"{s.capitalize()}: stability of each cluster"
            + (f"\n(fit against refits: mean ARI {mean:.2f})" if mean is not None else ""),
            fontsize=9,
        )
        ax.set_xlabel("Jaccard index with its best match\n(mean over the refits)")
        data[s] = {"cluster_stability": vals.tolist(), "ari": ari}
    note = (
        "Each refit (other seeds; Poisson bootstrap resamples of the purchases) is matched "
        "cluster by cluster with the fit; a bar is the mean Jaccard index of a cluster with its "
        "best match. Above 0.75 (dashed): the cluster comes back; below 0.5 (dotted): it does "
        "not, so do not read much into its name or its relations."
    )
    return Figure("stability", "How stable the clusters are", _svg(fig, "stability"), data, note)


def agreement_figure(an: dict) -> Figure | None:
    """The ARI between every two algorithms' labels, per side (heatmaps)."""
    pw = an.get("agreement", {}).get("pairwise")
    if not pw or all(len(pw[s]["algorithms"]) < 2 for s in SIDES):
        return None
    n = max(len(pw[s]["algorithms"]) for s in SIDES)
    fig, axes = _new(1, 2, max(2.8, 0.42 * n + 1.5), left=1.55, wspace=1.9, bottom=1.4)
    data = {}
    for ax, s in zip(axes[0], SIDES, strict=True):
        algs = pw[s]["algorithms"]
        Z = np.array(
            [[math.nan if v is None else float(v) for v in row] for row in pw[s]["ari"]],
            dtype=float,
        ).reshape(len(algs), len(algs))
        im = _heat(ax, Z, algs, algs, f"{s.capitalize()}: ARI between algorithms", fmt="{:.2f}")
        im.set_clim(0, 1)
        ax.set_xticks(range(len(algs)), algs, rotation=45, ha="right", fontsize=7)
        data[s] = {"algorithms": algs, "ari": Z.tolist()}
    fig.colorbar(im, ax=axes[0].tolist(), label="ARI", shrink=0.8)
    note = (
        "1 on the diagonal; 0 is the agreement of random labels. Algorithms that agree with "
        "each other found the same structure by different routes; one that agrees with none "
        "found something else (or nothing)."
    )
    return Figure("agreement", "Do the algorithms agree?", _svg(fig, "agreement"), data, note)


def _twin(an: dict) -> dict[str, Any] | None:
    tw = an.get("twin")
    if not tw:
        return None
    rows: dict[str, dict[str, Any]] = {}
    for r in tw["study"]["rows"]:
        if r.get("mixing") is not None:
            continue
        d = rows.setdefault(r["algorithm"], {"algorithm": r["algorithm"]})
        ari = r.get("ari")
        d[r["side"]] = None if ari is None or not math.isfinite(ari) else float(ari)
    oracle = rows.pop("oracle", {})

    def mean(d):
        v = [d.get(s) for s in SIDES if d.get(s) is not None]
        return float(np.mean(v)) if v else -math.inf

    table = sorted(rows.values(), key=mean, reverse=True)
    fit = tw["fit"]
    return {"rows": table, "oracle": oracle, "fit": fit, "best": table[0] if table else None}


def analysis_context(an: dict, names: dict[str, list[str]]) -> dict[str, Any]:
    """The figures and tables of the analysis' sections (see the module docstring)."""
    figs = {"stability": stability_figure(an, names)}
    agree = agreement_figure(an)
    if agree is not None:
        figs["agreement"] = agree
    k = an["k"]
    named = {
        s: [
            {
                "colour": cluster_colour(d["cluster"]),
                "label": d.get("label", ""),
                "size": d["size"],
                "basis": d.get("basis", ""),
                "stability": an["stability"][s]["cluster_stability"][d["cluster"]],
            }
            for d in sorted(an["names"][s], key=lambda d: d["cluster"])
        ]
        for s in SIDES
    }
    return {
        "figs": figs,
        "stability": _stability_rows(an),
        "n_seeds": an["stability"].get("n_seeds"),
        "n_bootstrap": an["stability"].get("n_bootstrap"),
        "k": k,
        "cap": k.get("cap", {}),
        "named": named,
        "twin": _twin(an),
    }


def _f(x: Any, d: int = 2) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{d}f}"


def analysis_answer(an: dict, facts: Any, names: dict[str, list[str]] | None = None) -> list[str]:
    """The answer of an analysis, one plain sentence per line: K and stability per side,
    the strongest relations (clusters called by ``names``, default ``facts.names``), the
    agreement, and what the twin says about whom to trust."""
    from types import SimpleNamespace

    from .summary import strongest_relations

    k, st = an["k"], an["stability"]
    lines = []
    for s in SIDES:
        rng = k[f"k_{s}_range"]
        text = f"{s.capitalize()}: {k[f'k_{s}']} clusters"
        if k.get("given", {}).get(s):
            text += " (given)"
        else:
            text += f" chosen by ICL (K tried {rng[0]}..{rng[-1]}"
            if k.get("at_edge", {}).get(s):
                text += f"; still the largest tried, at the cap {k.get('cap', {}).get(s)}"
            text += ")"
        d = st[s]
        cs = [x for x in d.get("cluster_stability", []) if x is not None]
        text += (
            f"; stability: mean ARI {_f(d.get('ari_mean'))} of the fit with "
            f"{st.get('n_seeds', 0)} refits at other seeds and {st.get('n_bootstrap', 0)} on "
            f"bootstrap resamples; {sum(x >= 0.75 for x in cs)} of {len(cs)} clusters come "
            "back in the refits (Jaccard >= 0.75)."
        )
        lines.append(text)
    rel = strongest_relations(SimpleNamespace(stats=facts.stats, names=names or facts.names))
    if rel:
        cells = "; ".join(f"{a} buy {b} at {lift:.1f}x chance" for a, b, lift, _ in rel)
        lines.append(f"Strongest block relations (block-model fit): {cells}.")
    agree = an.get("agreement", {}).get("algorithms", {})
    if agree:
        best = max(
            agree,
            key=lambda a: np.mean([v for v in agree[a].values() if v is not None] or [-1]),
        )
        lines.append(
            f"Agreement with the block model: closest {best} (ARI people "
            f"{_f(agree[best].get('people'))}, items {_f(agree[best].get('items'))})."
        )
    tw = _twin(an)
    if tw is not None and tw["best"] is not None:
        b, o = tw["best"], tw["oracle"]
        lines.append(
            f"On a planted twin of this log, {b['algorithm']} recovers the truth best (ARI "
            f"people {_f(b.get('people'))}, items {_f(b.get('items'))}; the oracle "
            f"{_f(o.get('people'))}, {_f(o.get('items'))})."
        )
    return lines
