"""The outputs of an analysis: the labels with the original ids, and the text the command
prints (chosen K with stability, cluster names, relations that stand out and that change,
and the planted study of the twin)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .results import ORACLES

__all__ = ["analysis_text", "run_analysis", "write_labels"]


def write_labels(res: Any, dataset: Any, out: Path) -> list[Path]:
    """``labels_people`` and ``labels_items`` as CSV and Parquet in ``out``: columns ``id``
    (the log's ids, or the row index), ``cluster`` and ``name`` (needs pandas; Parquet
    needs pyarrow)."""
    import pandas as pd

    names = res.analysis["names"]
    written = []
    for side, pop in (("people", dataset.people), ("items", dataset.items)):
        lab = np.asarray(res.entry("dcsbm", side).labels)
        ids = pop.ids if pop.ids is not None else np.arange(pop.n)
        label_of = {d["cluster"]: d["label"] for d in names[side]}
        df = pd.DataFrame(
            {"id": ids, "cluster": lab, "name": [label_of.get(int(c), "") for c in lab]}
        )
        for suffix in ("csv", "parquet"):
            p = out / f"labels_{side}.{suffix}"
            if suffix == "csv":
                df.to_csv(p, index=False)
            else:
                df.to_parquet(p, index=False)
            written.append(p)
    return written


def _f(x: Any, d: int = 2) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{d}f}"


def analysis_text(res: Any, twin: tuple[Any, dict] | None = None) -> str:
    """What the command prints for :func:`fastbip.study.analyze`'s results (and the twin's
    planted study ``(results, fit_stats)``)."""
    an = res.analysis
    k, st = an["k"], an["stability"]
    lines = [res.summary, ""]
    cap = k.get("cap", {})

    def tried(side: str) -> str:
        r = k[f"k_{side}_range"]
        top = f" (cap {cap[side]})" if side in cap and not k["given"][side] else ""
        return f"{side} {r[0]}..{r[-1]}{top}"

    lines.append(
        f"clusters chosen by ICL: {k['k_people']} people-clusters x {k['k_items']} "
        f"item-clusters (K tried: {tried('people')}, {tried('items')}; a range grows while "
        "its best K is at its top, up to its cap floor(sqrt(n)))"
    )
    lines += [f"  note: {n}" for n in k["notes"]]
    for side in ("people", "items"):
        s = st[side]
        lines.append(
            f"stability of the {side}: mean ARI {_f(s['ari_mean'])} (min {_f(s['ari_min'])}) "
            f"over {st['n_seeds']} seeds and {st['n_bootstrap']} bootstrap resamples"
        )
    agree = an["agreement"]["algorithms"]
    if agree:
        lines.append(
            "agreement with the block model (ARI people / items): "
            + "; ".join(
                f"{a} {_f(v.get('people'))} / {_f(v.get('items'))}" for a, v in agree.items()
            )
        )
    for side in ("people", "items"):
        lines.append(f"\n{side}-clusters (size, stability, name):")
        stab = st[side]["cluster_stability"]
        for d in an["names"][side]:
            stab_c = _f(stab[d["cluster"]])
            lines.append(f"  {d['label']}  [{d['size']} members, stability {stab_c}]")
    rel = an["relations"]
    cells = rel["significant_cells"]
    lines.append(
        f"\nrelations that stand out ({len(cells)} significant cells of "
        f"{len(rel['counts'])} x {len(rel['counts'][0])}, Benjamini-Hochberg q <= "
        f"{rel['alpha']}; Cramer's V {rel['cramers_v']:.2f}):"
    )
    for c in cells[:10]:
        lines.append(
            f"  P{c['people_cluster']} -> I{c['item_cluster']}: {c['direction']} "
            f"(lift {_f(c['lift'])}, {c['count']:.0f} purchases vs {c['expected']:.0f} expected)"
        )
    tm = an.get("time")
    if tm is not None:
        lines.append(
            f"\nover time ({len(tm['edges']) - 1} windows): {len(tm['changes'])} relations "
            "change significantly"
        )
        for c in tm["changes"][:10]:
            lines.append(
                f"  P{c['people_cluster']} -> I{c['item_cluster']} {c['trend']} "
                f"(q {c['q_value']:.2g}; share by window "
                + " ".join(f"{x:.2f}" for x in c["share_by_window"])
                + ")"
            )
        for p in tm["partial_clusters"]:
            lines.append(f"  {p['cluster']} is active only in windows {p['active_windows']}")
    if twin is not None:
        tres, stats = twin
        lines.append(
            "\nthe planted twin (a spec fitted to this log, generated and studied): "
            f"degree KS people {stats['ks_people_degrees']:.3f}, items "
            f"{stats['ks_items_degrees']:.3f}; block counts max |z| "
            f"{stats['block_counts_max_z']:.1f}"
            + (
                f"; window totals ({len(stats['window_totals'][0])} windows) within "
                f"{stats['window_totals_max_rel_diff']:.1%}, max |z| "
                f"{stats['window_totals_max_z']:.1f} (sampling error: |z| < 4)"
                if "window_totals_max_rel_diff" in stats
                else ""
            )
        )
        lines.append(tres.table())
        for side in ("people", "items"):
            es = [
                e
                for e in tres.entries
                if e.side == side and e.algorithm not in ORACLES.values() and not math.isnan(e.ari)
            ]
            if not es:
                continue
            best = max(es, key=lambda e: e.ari)
            top = best.ari
            names = [e.algorithm for e in es if e.ari >= top - 0.005]
            ceiling = best.oracle or "oracle"
            orc = [e.ari for e in tres.entries if e.algorithm == ceiling and e.side == side]
            lines.append(
                f"on data shaped like this log, the best at recovering the {side}: "
                f"{', '.join(names)} (ARI {top:.2f}; the {ceiling} reaches "
                f"{_f(orc[0] if orc else None)})"
            )
    return "\n".join(lines)


def run_analysis(
    log: Path,
    read: dict,
    opts: dict,
    out: Path,
    *,
    twin: bool = False,
    seed: int = 0,
    report: Path | None = None,
    write_report: Any = None,
) -> Any:
    """What ``fastbip analyze`` does once its arguments are checked: read the log
    (:func:`fastbip.read_log` with ``read``), analyse it (:func:`fastbip.study.analyze` with
    ``opts``), study the twin when asked, print the text, write ``results.json``, the labels
    and the report (with ``write_report(results, dataset, path)``); returns the Results."""
    import time

    from ..io import read_log
    from .analyze import analyze

    t0 = time.perf_counter()
    ds = read_log(log, **read)
    print(f"read {log} in {time.perf_counter() - t0:.1f} s")
    res = analyze(ds, random_state=seed, **opts)
    twin_out = None
    if twin:
        from .twin import twin_study

        a, b = (res.entry("dcsbm", s).labels for s in ("people", "items"))
        tm = res.analysis.get("time")
        _, tres, stats = twin_study(
            ds,
            a,
            b,
            algorithms=opts.get("algorithms"),
            random_state=seed,
            windows=None if tm is None else tm["edges"],
        )
        res.analysis["twin"] = {"fit": stats, "study": tres.to_dict()}
        twin_out = (tres, stats)
    print(analysis_text(res, twin_out))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(res.to_json())
    files = [out / "results.json", *write_labels(res, ds, out)]
    if report is not None and write_report is not None:
        write_report(res, ds, report)
        files.append(report)
    print(f"\nwrote {', '.join(map(str, files))} in {time.perf_counter() - t0:.1f} s")
    return res
