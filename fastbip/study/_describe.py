"""What a labelling of a real log says, in words: names, profiles, relations, time.

The helpers of :func:`fastbip.study.analyze`, each taking plain arrays and returning
JSON-ready dicts and lists (Python floats, ints and strings only):

* :func:`cluster_profiles`: each cluster's size and per-feature summary (numeric mean and
  standard deviation, categorical shares);
* :func:`name_clusters`: a short name per cluster, from its distinctive feature (people)
  or its top categories / top items (items);
* :func:`relations`: the block-count table against independence
  (:func:`fastbip.block_stats`), with its significant cells;
* :func:`over_time`: block counts per window (:func:`fastbip.block_counts_windows`), the
  cells whose share rises or falls, and the clusters present in part of the range only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["cluster_profiles", "name_clusters", "over_time", "relations", "window_edges"]


def _f(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _id(ids: np.ndarray | None, j: int) -> str:
    return str(j) if ids is None else str(ids[j])


def cluster_profiles(pop: Any, labels: np.ndarray, k: int) -> list[dict]:
    """Per cluster: ``size`` and ``features`` (numeric: mean, sd; categorical: shares)."""
    out = []
    for c in range(k):
        mask = labels == c
        feats: dict[str, Any] = {}
        for name, col in pop.columns.items():
            x = col[mask]
            if pop.kinds[name] == "categorical":
                cats = pop.categories[name]
                codes = x[x >= 0].astype(np.int64)
                cnt = np.bincount(codes, minlength=len(cats))[: len(cats)]
                tot = max(int(cnt.sum()), 1)
                feats[name] = {
                    "kind": "categorical",
                    "shares": {str(cats[i]): float(cnt[i] / tot) for i in range(len(cats))},
                }
            else:
                x = x[np.isfinite(x)]
                feats[name] = {
                    "kind": "numeric",
                    "mean": _f(x.mean()) if x.size else None,
                    "sd": _f(x.std(ddof=1)) if x.size > 1 else None,
                }
        out.append({"cluster": c, "size": int(mask.sum()), "features": feats})
    return out


def _distinctive(pop: Any, labels: np.ndarray, c: int) -> tuple[str, float] | None:
    """The feature that sets cluster ``c`` apart: the numeric feature with the largest
    absolute standardised mean difference, or the categorical level with the largest lift
    among the levels holding at least 10% of the cluster (whichever is stronger, a lift L
    counting as a difference of log2(L) sd)."""
    mask = labels == c
    best: tuple[str, float] | None = None
    best_score = 0.0
    for name, col in pop.columns.items():
        if pop.kinds[name] == "categorical":
            cats = pop.categories[name]
            ok = col >= 0
            allc = np.bincount(col[ok].astype(np.int64), minlength=len(cats))[: len(cats)]
            inc = np.bincount(col[ok & mask].astype(np.int64), minlength=len(cats))[: len(cats)]
            if allc.sum() == 0 or inc.sum() == 0:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                lift = (inc / inc.sum()) / (allc / allc.sum())
            # a level must hold at least 10% of the cluster: a rare level's lift is noise
            lift = np.where(np.isfinite(lift) & (inc >= 0.1 * inc.sum()), lift, 0.0)
            i = int(np.argmax(lift))
            score = float(np.log2(lift[i])) if lift[i] > 0 else 0.0
            if score > best_score:
                best_score, best = score, (f"{name}={cats[i]} x{lift[i]:.1f}", score)
        else:
            x = col[np.isfinite(col)]
            xin = col[mask & np.isfinite(col)]
            sd = x.std() if x.size > 1 else 0.0
            if xin.size == 0 or sd <= 0:
                continue
            smd = float((xin.mean() - x.mean()) / sd)
            if abs(smd) > best_score:
                best_score, best = abs(smd), (f"{name} {smd:+.1f} sd", smd)
    return best


def name_clusters(
    pop: Any,
    labels: np.ndarray,
    k: int,
    degrees: np.ndarray,
    C: np.ndarray,
    side: str,
    n_top: int = 3,
) -> list[dict]:
    """A name per cluster and what it rests on.

    People: the distinctive feature (see :func:`_distinctive`) when the people table has
    features, else the item-cluster they over-buy most (highest lift in ``C``). Items: the most
    distinctive categories of the first categorical item feature (by lift, among those with a
    share of at least 5% inside the cluster; with their lift and share), else the ids of the
    ``n_top`` most purchased items.
    """
    prefix = "P" if side == "people" else "I"
    tot = C.sum()
    r, s = C.sum(axis=1), C.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(np.outer(r, s) > 0, C * tot / np.outer(r, s), np.nan)
    out = []
    cat_feats = [f for f in pop.columns if pop.kinds[f] == "categorical"]
    for c in range(k):
        mask = labels == c
        members = np.flatnonzero(mask)
        order = members[np.argsort(-degrees[members], kind="stable")][:n_top]
        top_ids = [_id(pop.ids, int(j)) for j in order]
        d: dict[str, Any] = {"cluster": c, "size": int(mask.sum()), "top_members": top_ids}
        if side == "people":
            dist = _distinctive(pop, labels, c)
            row = lift[c] if C.size else np.array([])
            if dist is not None:
                d["name"], d["basis"] = dist[0], "distinctive feature"
            elif row.size and np.any(np.isfinite(row)):
                best = int(np.nanargmax(row))
                d["name"] = f"buys I{best} x{row[best]:.1f}"
                d["basis"] = "item-cluster with the highest lift"
            else:
                d["name"], d["basis"] = f"{prefix}{c}", "no purchases"
        elif cat_feats:
            f = cat_feats[0]
            cats = pop.categories[f]
            col = pop.columns[f]
            ok = col >= 0
            allc = np.bincount(col[ok].astype(np.int64), minlength=len(cats))[: len(cats)]
            inc = np.bincount(col[ok & mask].astype(np.int64), minlength=len(cats))[: len(cats)]
            share = inc / max(inc.sum(), 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                lf = np.where(allc > 0, share / (allc / max(allc.sum(), 1)), 0.0)
            # the most distinctive categories: by lift among those with a share of at
            # least 5% inside the cluster (a rare category's lift is noise); by share if none
            cand = np.flatnonzero((inc > 0) & (share >= 0.05))
            if cand.size == 0:
                cand = np.flatnonzero(inc > 0)
            order = sorted(cand.tolist(), key=lambda i: (-lf[i], -share[i]))
            top = [int(i) for i in order[:n_top]]
            d["name"] = ", ".join(f"{cats[i]} (x{lf[i]:.1f}, {share[i]:.0%})" for i in top)
            d["basis"] = f"most distinctive categories of {f} (by lift, share >= 5%)"
        else:
            d["name"] = "items " + ", ".join(top_ids)
            d["basis"] = "most purchased items"
        d["label"] = f"{prefix}{c}: {d['name']}"
        out.append(d)
    return out


def relations(C: np.ndarray, alpha: float = 0.05) -> dict:
    """The block statistics of ``C`` and its significant cells (sorted by |residual|)."""
    from ..blocks import block_stats

    bs = block_stats(C, alpha=alpha)
    cells = []
    for k, l in zip(*np.nonzero(bs.significant), strict=True):
        cells.append(
            {
                "people_cluster": int(k),
                "item_cluster": int(l),
                "count": float(bs.counts[k, l]),
                "expected": float(bs.expected[k, l]),
                "lift": _f(bs.lift[k, l]),
                "adjusted_residual": float(bs.adjusted_residuals[k, l]),
                "q_value": float(bs.cell_adjusted_pvalues[k, l]),
                "direction": "over" if bs.counts[k, l] > bs.expected[k, l] else "under",
            }
        )
    cells.sort(key=lambda c: -abs(c["adjusted_residual"]))
    return {
        "counts": bs.counts.tolist(),
        "expected": bs.expected.tolist(),
        "lift": [[_f(x) for x in row] for row in bs.lift],
        "chi2": float(bs.chi2),
        "dof": int(bs.dof),
        "chi2_pvalue": float(bs.chi2_pvalue),
        "cramers_v": float(bs.cramers_v),
        "alpha": bs.alpha,
        "correction": "Benjamini-Hochberg",
        "significant_cells": cells,
    }


def window_edges(times: np.ndarray, windows: Any) -> np.ndarray:
    """Window edges: ``windows`` as given (an increasing array of at least 2 edges), or
    that many (an int, default 8) equal-width windows over ``[min(times), max(times)]``."""
    from .._validation import check_int

    if windows is None or isinstance(windows, int | np.integer) and not isinstance(windows, bool):
        t = check_int(8 if windows is None else windows, "windows", 1)
        lo, hi = float(times.min()), float(times.max())
        hi = np.nextafter(hi, np.inf) if hi > lo else lo + 1.0
        return np.linspace(lo, hi, t + 1)
    edges = np.asarray(windows, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(
            "windows must be a number of windows or an increasing array of at least 2 edges; "
            f"got {windows!r}"
        )
    return edges


def over_time(
    ds: Any,
    a: np.ndarray,
    b: np.ndarray,
    ka: int,
    kb: int,
    windows: Any = None,
    alpha: float = 0.05,
    partial_share: float = 0.1,
) -> dict:
    """Block counts per window and what changes.

    For each cell ``(k, l)`` with total ``n_kl`` the counts per window are tested against the
    cell's overall share applied to each window's total, ``E_t = n_kl T_t / N`` (Pearson
    chi-square with ``T - 1`` degrees of freedom, Benjamini-Hochberg over the cells). A
    significant cell "rises" or "falls" by the sign of the correlation of ``O_t / E_t`` with
    the window's index. A cluster "exists only in part of the range" when, in some window,
    its count is below ``partial_share`` times what its overall share of that window's total
    predicts; its active windows are reported.
    """
    from scipy import stats

    from ..blocks import block_counts_windows
    from ..blocks.stats import _adjust_pvalues

    edges = window_edges(np.asarray(ds.events.times), windows)
    W = block_counts_windows(ds.purchases, ds.events, a, b, edges, ka, kb).astype(np.float64)
    nt = W.shape[0]
    tot_t = W.sum(axis=(1, 2))
    N = tot_t.sum()
    cell = W.sum(axis=0)
    changes = []
    p = np.full((ka, kb), np.nan)
    if nt > 1 and N > 0:
        E = cell[None, :, :] * (tot_t / N)[:, None, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            chi = np.where(E > 0, (W - E) ** 2 / E, 0.0).sum(axis=0)
        live = cell > 0
        p = np.where(live, stats.chi2.sf(chi, nt - 1), np.nan)
        q = _adjust_pvalues(p.ravel(), "fdr_bh").reshape(p.shape)
        idx = np.arange(nt, dtype=np.float64)
        for k, l in zip(*np.nonzero(np.nan_to_num(q, nan=1.0) <= alpha), strict=True):
            ratio = np.divide(W[:, k, l], E[:, k, l], out=np.ones(nt), where=E[:, k, l] > 0)
            slope = float(np.corrcoef(idx, ratio)[0, 1]) if np.std(ratio) > 0 else 0.0
            changes.append(
                {
                    "people_cluster": int(k),
                    "item_cluster": int(l),
                    "chi2": float(chi[k, l]),
                    "q_value": float(q[k, l]),
                    "trend": "rises" if slope > 0.3 else "falls" if slope < -0.3 else "varies",
                    "share_by_window": (W[:, k, l] / np.maximum(tot_t, 1)).tolist(),
                }
            )
        changes.sort(key=lambda c: c["q_value"])

    def partial(counts_tk: np.ndarray, prefix: str) -> list[dict]:
        out = []
        share = counts_tk.sum(axis=0) / max(N, 1)
        for c in range(counts_tk.shape[1]):
            exp = share[c] * tot_t
            active = ~((exp > 0) & (counts_tk[:, c] < partial_share * exp))
            if share[c] > 0 and not active.all():
                w = np.flatnonzero(active)
                out.append(
                    {
                        "cluster": f"{prefix}{c}",
                        "active_windows": w.tolist(),
                        "from": float(edges[w[0]]) if w.size else None,
                        "to": float(edges[w[-1] + 1]) if w.size else None,
                    }
                )
        return out

    return {
        "edges": edges.tolist(),
        "counts": W.tolist(),
        "window_totals": tot_t.tolist(),
        "cell_pvalues": [[_f(x) for x in row] for row in p],
        "changes": changes,
        "partial_clusters": partial(W.sum(axis=2), "P") + partial(W.sum(axis=1), "I"),
        "test": "chi-square of each cell's counts per window against its overall share, "
        "Benjamini-Hochberg",
    }
