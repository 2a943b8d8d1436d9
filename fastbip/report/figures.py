"""The page's figures, drawn with matplotlib (object API, no pyplot) and returned as SVG.

Every function returns a :class:`Figure`: the title, the inline SVG and the ``data`` it
draws (the matrix of a heatmap, the points of a curve), so tests check the data of each
figure without reading its pixels.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastbip.study.results import ORACLES

from .palette import UNASSIGNED, cluster_colour

__all__ = ["Figure"]

WIDTH = 9.0  # inches at the page's width (the SVG scales to the column)


@dataclass
class Figure:
    """One figure of the page: ``key`` (its anchor), ``title``, ``svg``, ``data``, ``note``."""

    key: str
    title: str
    svg: str
    data: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def _new(
    nrows: int = 1,
    ncols: int = 1,
    height: float = 3.2,
    width: float = WIDTH,
    *,
    left: float = 1.05,
    right: float = 0.2,
    bottom: float = 0.6,
    top: float = 0.35,
    wspace: float = 1.15,
    hspace: float = 0.8,
):
    """A figure of ``nrows x ncols`` axes, ``height`` inches per row; margins and gaps in
    inches (a fixed layout: a layout engine costs more than the rest of the drawing)."""
    from matplotlib.figure import Figure as MplFigure

    H = height * nrows
    fig = MplFigure(figsize=(width, H))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    ax_w = max((width - left - right - (ncols - 1) * wspace) / ncols, 0.1)
    ax_h = max((H - bottom - top - (nrows - 1) * hspace) / nrows, 0.1)
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / H,
        top=1 - top / H,
        wspace=wspace / ax_w,
        hspace=hspace / ax_h,
    )
    return fig, axes


def _svg(fig, key: str) -> str:
    import matplotlib as mpl

    buf = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": key, "font.size": 9}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.find("<svg") :]
    # let the page size the figure: keep the viewBox, drop the fixed width and height
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)


def _heat(
    ax, Z, rows, cols, title, *, cmap="viridis", vmin=None, vmax=None, fmt="{:.0f}", marks=None
):
    im = ax.imshow(Z, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_title(title)
    lo, hi = im.get_clim()
    texts = {
        (i, j): fmt.format(v) + ("*" if marks is not None and marks[i, j] else "")
        for (i, j), v in np.ndenumerate(Z)
        if np.isfinite(v)
    }
    size = _cell_font(ax, Z.shape[1], texts.values())
    for (i, j), text in texts.items():
        frac = (Z[i, j] - lo) / (hi - lo) if hi > lo else 0.5
        light = frac > 0.6 if cmap == "viridis" else abs(frac - 0.5) < 0.3
        if size is None:  # no number fits a cell: the table beside the figure has them
            if not text.endswith("*"):
                continue
            text = "*"
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=size or 8,
            color="black" if light else "white",
        )
    return im


def _cell_font(ax, n_cols: int, texts) -> float | None:
    """The largest font size (8, 7 or 6 points) at which the widest of ``texts`` fits a
    cell of ``ax``'s ``n_cols`` columns (a digit about 0.58 em wide, a tenth of the cell
    kept free), or None when none does."""
    fig = ax.get_figure()
    cell = ax.get_position().width * fig.get_size_inches()[0] * 72.0 / max(n_cols, 1)
    widest = max((len(t) for t in texts), default=0)
    for size in (8, 7, 6):
        if widest * 0.58 * size <= 0.9 * cell:
            return size
    return None


# --- question 1 ---------------------------------------------------------------------------


def icl_curves(chosen: dict[str, Any], planted: dict[str, int | None]) -> Figure:
    """ICL against K per side (the other side's K held), chosen and planted K."""
    fig, axes = _new(1, 2, 2.8)
    data = {}
    other = ("items", "people")
    for ax, (i, side) in zip(axes[0], enumerate(("people", "items")), strict=True):
        ks = chosen["ks"][i]
        icl = np.asarray(chosen["icl"][i])
        data[side] = {"k": list(ks), "icl": icl.tolist()}
        label = f"ICL, {other[i]} at K = {chosen['fixed'][i]}"
        ax.plot(ks, icl, "o-", color="#0072B2", label=label)
        ax.axvline(chosen["k"][i], color="#D55E00", ls="--", label=f"chosen K = {chosen['k'][i]}")
        if planted[side] is not None:
            ax.axvline(planted[side], color="#555555", ls=":", label=f"planted K = {planted[side]}")
        ax.set_xlabel(f"number of {side} clusters K")
        ax.set_ylabel("ICL (higher is better)")
        ax.set_title(f"{side.capitalize()}: ICL of the block model")
        step = max(1, math.ceil(len(ks) / 12))  # at most about 12 labelled ticks
        ax.set_xticks(list(ks)[::step])
        ax.legend(fontsize=7, loc="lower right")
    return Figure("icl", "K chosen by ICL from the purchases", _svg(fig, "icl"), data)


def feature_curves(
    pops: dict[str, Any], samples: dict[str, np.ndarray], k_max: int = 8, random_state: int = 0
) -> Figure:
    """BIC of a Gaussian mixture over K, and the agglomerative (Ward) merge heights, per
    side, on the features of a sample of members."""
    from scipy.cluster.hierarchy import dendrogram, linkage
    from sklearn.mixture import GaussianMixture

    fig, axes = _new(2, 2, 2.6)
    data: dict[str, Any] = {}
    for col, side in enumerate(("people", "items")):
        pop = pops[side]
        ax_bic, ax_h = axes[0][col], axes[1][col]
        if not pop.feature_names:
            for ax in (ax_bic, ax_h):
                ax.text(0.5, 0.5, f"{side} have no features", ha="center", transform=ax.transAxes)
                ax.set_axis_off()
            continue
        X = pop.feature_matrix()[samples[side]]
        ks = list(range(1, min(k_max, len(X) - 1) + 1))
        bic = [
            GaussianMixture(
                k,
                covariance_type="diag",
                init_params="k-means++",
                random_state=random_state,
                reg_covar=1e-4,
            )
            .fit(X)
            .bic(X)
            for k in ks
        ]
        best = ks[int(np.argmin(bic))]
        Z = linkage(X, method="ward")
        heights = Z[:, 2][::-1][:15]
        data[side] = {"k": ks, "bic": bic, "bic_best": best, "merge_heights": heights.tolist()}
        ax_bic.plot(ks, bic, "o-", color="#009E73")
        ax_bic.axvline(best, color="#D55E00", ls="--", label=f"lowest BIC at K = {best}")
        ax_bic.set_xlabel("number of mixture components K")
        ax_bic.set_ylabel("BIC (lower is better)")
        ax_bic.set_title(f"{side.capitalize()}: features alone, Gaussian mixture")
        ax_bic.legend(fontsize=7)
        # the top of the tree: the last 15 merges, leaves labelled by the members under them
        dendrogram(
            Z,
            ax=ax_h,
            truncate_mode="lastp",
            p=16,
            color_threshold=0.0,
            above_threshold_color="#0072B2",
            show_leaf_counts=True,
            leaf_font_size=6,
        )
        ax_h.set_xlabel("groups of members (count under each leaf)")
        ax_h.set_ylabel("Ward merge height")
        ax_h.set_title(f"{side.capitalize()}: dendrogram of the last 15 merges")
    note = (
        f"on {len(samples['people']):,} people and {len(samples['items']):,} items drawn at "
        "random; a long vertical stretch in the dendrogram above K branches means K clusters stand "
        "apart"
    )
    return Figure("features", "What the features alone suggest", _svg(fig, "features"), data, note)


def profiles(
    pop: Any, labels: np.ndarray, names: list[str], sample: np.ndarray, side: str
) -> Figure:
    """Each cluster's size and its feature distributions (small multiples)."""
    feats = pop.feature_names
    ncols = 3
    npanels = 1 + len(feats)
    nrows = math.ceil(npanels / ncols)
    k = len(names)
    fig, axes = _new(nrows, ncols, max(2.3, 0.13 * k + 1.0))
    flat = [ax for row in axes for ax in row]
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    ax = flat[0]
    ax.barh(range(k), sizes, color=[cluster_colour(c) for c in range(k)])
    ax.set_yticks(range(k), names)
    ax.invert_yaxis()
    ax.set_xlabel(f"{side} (all {len(labels):,})")
    ax.set_title("Cluster size")
    lab = labels[sample]
    data: dict[str, Any] = {"sizes": sizes.tolist()}
    for ax, f in zip(flat[1:], feats, strict=False):
        col = pop.columns[f][sample]
        if pop.kinds[f] == "categorical":
            cats = pop.categories[f]
            shares = np.zeros((k, len(cats)))
            for c in range(k):
                sel = col[lab == c]
                if sel.size:
                    shares[c] = np.bincount(sel, minlength=len(cats))[: len(cats)] / sel.size
            im = ax.imshow(shares, cmap="Greys", vmin=0, vmax=1, aspect="auto")
            many = len(cats) > 8  # many categories: upright labels, so they do not overlap
            ax.set_xticks(
                range(len(cats)),
                cats,
                rotation=90 if many else 30,
                ha="center" if many else "right",
                fontsize=6 if many else 7,
            )
            ax.set_yticks(range(k), names, fontsize=7)
            fig.colorbar(im, ax=ax, label="share", shrink=0.8)
            data[f] = shares.tolist()
        else:
            groups = [col[lab == c] for c in range(k)]
            keep = [c for c in range(k) if groups[c].size]
            bp = ax.boxplot(
                [groups[c] for c in keep],
                orientation="horizontal",
                patch_artist=True,
                showfliers=False,
                widths=0.6,
            )
            for patch, c in zip(bp["boxes"], keep, strict=True):
                patch.set_facecolor(cluster_colour(c))
            for med in bp["medians"]:
                med.set_color("black")
            ax.set_yticks(range(1, len(keep) + 1), [names[c] for c in keep], fontsize=7)
            ax.invert_yaxis()
            skewed = col.size and col.min() > 0 and col.max() > 100 * col.min()
            if skewed:
                ax.set_xscale("log")
            ax.set_xlabel(f + (" (log scale)" if skewed else ""))
            data[f] = [float(np.median(g)) if g.size else math.nan for g in groups]
        ax.set_title(f)
    for ax in flat[npanels:]:
        ax.set_axis_off()
    note = f"feature distributions on a sample of {len(sample):,} {side}"
    key = f"profile-{side}"
    return Figure(key, f"{side.capitalize()}: cluster profiles", _svg(fig, key), data, note)


# --- question 2 ---------------------------------------------------------------------------


def block_heatmaps(
    counts: np.ndarray, omega: np.ndarray | None, names: dict[str, list[str]], labels_from: str
) -> Figure:
    """Block counts under the page's labels beside the planted relation, one colour scale."""
    panels = [(counts, f"Block counts\nunder the {labels_from} clusters")]
    if omega is not None:
        ka, kb = omega.shape
        planted = np.full(counts.shape, np.nan)
        planted[:ka, :kb] = omega
        panels.append((planted, "Planted relation\n(expected purchases)"))
    vmax = max(float(np.nanmax(p)) for p, _ in panels) or 1.0
    fmt = _Compact if vmax >= 1e5 else "{:.0f}"  # 2.86M, not 2862883: fits a cell
    height = max(3.6, 0.2 * counts.shape[0] + 1.4)
    fig, axes = _new(1, len(panels), height, top=0.55, bottom=0.8, right=0.75)
    im = None
    for ax, (Z, title) in zip(axes[0], panels, strict=True):
        im = _heat(ax, Z, names["people"], names["items"], title, vmin=0, vmax=vmax, fmt=fmt)
        ax.set_xlabel("item-cluster")
    axes[0][0].set_ylabel("people-cluster")
    fig.colorbar(im, ax=axes[0].tolist(), label="purchases")
    data = {"counts": counts.tolist(), "omega": None if omega is None else omega.tolist()}
    title = "Block counts against the planted relation" if omega is not None else "Block counts"
    return Figure("blocks", title, _svg(fig, "blocks"), data)


class _Compact:
    """A count in three significant digits and a suffix (286k, 2.86M), as ``_heat``'s fmt."""

    @staticmethod
    def format(v: float) -> str:
        v = float(f"{v:.3g}")  # rounded first: 999,600 is 1.00M, not 1e+03k
        for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(v) >= scale:
                return f"{v / scale:.3g}{suffix}"
        return f"{v:.0f}"


def _label_cells(ax, values, fmt, sig, big, dark) -> None:
    """Each cell's value (``fmt``), starred where significant, in the largest font that fits
    a cell; with ``big`` tables, or where no number fits, only the star of the significant
    cells. White text on the ``dark`` cells."""
    texts = {
        (i, j): f"{v:{fmt}}" + ("*" if sig[i, j] else "") for (i, j), v in np.ndenumerate(values)
    }
    size = None if big else _cell_font(ax, values.shape[1], texts.values())
    for (i, j), text in texts.items():
        if size is None and not sig[i, j]:
            continue
        ax.text(
            j,
            i,
            "*" if size is None else text,
            ha="center",
            va="center",
            fontsize=size or 8,
            color="white" if dark[i, j] else "black",
        )


def lift_residuals(stats: Any, names: dict[str, list[str]]) -> Figure:
    """Lift (log scale) and adjusted residuals; * marks cells significant after correction."""
    from matplotlib.colors import TwoSlopeNorm

    lift = np.asarray(stats.lift, dtype=float)
    big = lift.size > 100  # many cells: only the significant ones marked, by a star
    fig, axes = _new(1, 2, max(3.6, 0.2 * lift.shape[0] + 1.4), wspace=1.9, bottom=0.8, right=0.75)
    log_lift = np.log2(np.where(lift > 0, lift, np.nan))
    lim = float(np.nanmax(np.abs(log_lift))) if np.isfinite(log_lift).any() else 1.0
    sig = np.asarray(stats.significant, dtype=bool)
    im = axes[0][0].imshow(log_lift, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax = axes[0][0]
    ax.set_xticks(range(lift.shape[1]), names["items"], rotation=30, ha="right")
    ax.set_yticks(range(lift.shape[0]), names["people"])
    with np.errstate(invalid="ignore"):
        dark = np.isfinite(log_lift) & (np.abs(log_lift) > 0.6 * lim)
    _label_cells(ax, lift, ".2f", sig, big, dark)
    ax.set_title("Lift: observed / expected by chance")
    fig.colorbar(im, ax=ax, label="log2 lift")
    res = np.asarray(stats.adjusted_residuals, dtype=float)
    rl = max(float(np.nanmax(np.abs(res))), 1.0)
    im2 = axes[0][1].imshow(res, cmap="RdBu_r", norm=TwoSlopeNorm(0, -rl, rl), aspect="auto")
    ax = axes[0][1]
    ax.set_xticks(range(res.shape[1]), names["items"], rotation=30, ha="right")
    ax.set_yticks(range(res.shape[0]), names["people"])
    with np.errstate(invalid="ignore"):
        dark = np.abs(res) > 0.6 * rl
    _label_cells(ax, res, ".0f", sig, big, dark)
    ax.set_title("Adjusted residuals")
    fig.colorbar(im2, ax=ax, label="standard deviations")
    for a in axes[0]:
        a.set_xlabel("item-cluster")
        a.set_ylabel("people-cluster")
    data = {"lift": lift.tolist(), "residuals": res.tolist(), "significant": sig.tolist()}
    note = (
        f"* = significant at {stats.alpha:g} after the {stats.correction} correction over "
        f"{sig.size} cells" + (" (too many cells to print their values)" if big else "")
    )
    return Figure("lift", "Which pairs buy more than chance", _svg(fig, "lift"), data, note)


def bigraph(g: Any, key: str) -> Figure:
    """The matplotlib drawing of a bigraph (people left, items right), used without ``dot``."""
    from matplotlib.lines import Line2D

    left = [n for n in g.nodes if n["side"] == "people"]
    right = [n for n in g.nodes if n["side"] == "items"]
    height = max(2.8, 0.22 * max(len(left), len(right)))
    fig, axes = _new(1, 1, height, width=7.0)
    ax = axes[0][0]
    pos = {}
    for x, nodes in ((0.0, left), (1.0, right)):
        for r, n in enumerate(nodes):
            pos[n["id"]] = (x, 1.0 - (r + 0.5) / max(1, len(nodes)))
    heaviest = max((e["weight"] for e in g.edges), default=1.0) or 1.0
    for e in g.edges:
        (x0, y0), (x1, y1) = pos[e["a"]], pos[e["b"]]
        ax.plot(
            [x0, x1],
            [y0, y1],
            color="#333333" if e["strong"] else "#AAAAAA",
            lw=0.4 + 5 * e["weight"] / heaviest,
            zorder=1,
        )
    biggest = max((n["size"] for n in g.nodes), default=1) or 1
    for n in g.nodes:
        x, y = pos[n["id"]]
        ax.scatter(
            [x],
            [y],
            s=60 + 600 * n["size"] / biggest,
            zorder=2,
            marker="o" if n["side"] == "people" else "s",
            color=cluster_colour(n["cluster"]),
            edgecolors="black",
        )
        ax.text(
            x + (-0.06 if x == 0 else 0.06),
            y,
            n["label"].replace("\n", " "),
            fontsize=7,
            ha="right" if x == 0 else "left",
            va="center",
        )
    ax.set_xlim(-0.6, 1.6)
    ax.set_axis_off()
    ax.set_title(g.title)
    ax.legend(
        handles=[
            Line2D([], [], color="#333333", lw=3, label="stands out above chance"),
            Line2D([], [], color="#AAAAAA", lw=3, label="other pairs"),
        ],
        loc="lower center",
        fontsize=7,
        ncol=2,
    )
    return Figure(key, g.title, _svg(fig, key))


def windows(
    totals: np.ndarray,
    edges: np.ndarray,
    names: dict[str, list[str]],
    top: int = 4,
    dates: bool = False,
) -> Figure:
    """Each block's share of the purchases per time window; the most changing named. With
    ``dates``, times are days since 1970-01-01 (a log's) and the axes show dates."""
    T = totals.shape[0]
    share = totals / np.maximum(totals.sum(axis=(1, 2), keepdims=True), 1)
    flat = share.reshape(T, -1)
    change = flat.max(axis=0) - flat.min(axis=0)
    order = np.argsort(-change, kind="stable")[:top]
    kb = totals.shape[2]
    fig, axes = _new(1, 2, 3.0)
    mid = (edges[:-1] + edges[1:]) / 2
    ax = axes[0][0]
    ax.bar(mid, totals.sum(axis=(1, 2)), width=np.diff(edges) * 0.9, color="#56B4E9")
    ax.set_xlabel("time (window centre)")
    ax.set_ylabel("purchases in the window")
    ax.set_title("Purchases per window")
    ax = axes[0][1]
    changes = []
    styles = ("-", "--", "-.", ":")
    for r, c in enumerate(order):
        i, j = divmod(int(c), kb)
        label = f"{names['people'][i]} x {names['items'][j]}"
        ax.plot(mid, flat[:, c], styles[r % 4], marker="o", color=cluster_colour(i), label=label)
        changes.append(
            {
                "people": names["people"][i],
                "items": names["items"][j],
                "min": float(flat[:, c].min()),
                "max": float(flat[:, c].max()),
            }
        )
    ax.set_xlabel("time (window centre)")
    ax.set_ylabel("share of the window's purchases")
    ax.set_title(f"The {len(order)} block relations that change most")
    ax.legend(fontsize=7)
    if dates:
        step = max(1, math.ceil(mid.size / 5))
        ticks = mid[::step]
        text = [str(np.datetime64(int(round(d)), "D")) for d in ticks]
        for a in axes[0]:
            a.set_xticks(ticks, text, rotation=20, ha="right", fontsize=7)
            a.set_xlabel("date (window centre)")
    data = {"totals": totals.tolist(), "edges": edges.tolist(), "changes": changes}
    return Figure("windows", "Block relations over time", _svg(fig, "windows"), data)


# --- question 3 ---------------------------------------------------------------------------


def contingencies(
    tables: list[tuple[str, str, np.ndarray]], names: dict[str, list[str]], ncols: int = 5
) -> Figure:
    """One contingency heatmap per algorithm and side (found clusters aligned to the true
    ones), row-normalised: the share of each true cluster that each found cluster holds.

    The small multiples of a side are tiled into one image (blank gaps between them), so the
    figure stays cheap to draw whatever the number of algorithms."""
    algos = list(dict.fromkeys(a for a, _, _ in tables))
    data: dict[str, Any] = {f"{a}/{s}": t.tolist() for a, s, t in tables}
    nrows = math.ceil(len(algos) / ncols)
    fig, axes = _new(2, 1, 0.6 + 1.15 * nrows, left=0.2, right=1.3, top=0.3, bottom=0.1, hspace=0.4)
    im = None
    for ax, side in zip(axes[:, 0], ("people", "items"), strict=True):
        mats = {a: t for a, s, t in tables if s == side}
        kt = max((t.shape[0] for t in mats.values()), default=1)
        kf = max((t.shape[1] for t in mats.values()), default=1)
        bh, bw = kt + 2, kf + 1
        canvas = np.full((nrows * bh, ncols * bw), np.nan)
        for n, a in enumerate(algos):
            if a not in mats:
                continue
            T = mats[a]
            r0, c0 = (n // ncols) * bh + 1, (n % ncols) * bw
            share = T / np.maximum(T.sum(axis=1, keepdims=True), 1)
            canvas[r0 : r0 + T.shape[0], c0 : c0 + T.shape[1]] = share
            ax.text(c0 - 0.5, r0 - 0.6, a[:20], fontsize=7, va="bottom", ha="left")
        im = ax.imshow(canvas, cmap="Blues", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(f"{side.capitalize()}: rows true ({kt}), columns found (aligned)", fontsize=9)
    cax = fig.add_axes((1 - 1.0 / WIDTH, 0.25, 0.18 / WIDTH, 0.5))
    fig.colorbar(im, cax=cax, label="share of the true cluster")
    note = (
        "each block is one algorithm; row k is planted cluster k, column k the found cluster "
        "aligned to it (extra found clusters to the right); a dark diagonal is a perfect match"
    )
    return Figure(
        "contingency",
        "True against found clusters, per algorithm",
        _svg(fig, "contingency"),
        data,
        note,
    )


# the oracle rows (fastbip.study.ORACLES: purchases, features, joint) and their line styles
_ORACLE_STYLES = dict(zip(ORACLES.values(), ("-", "--", ":"), strict=True))


def ari_vs_snr(entries: list[Any]) -> Figure:
    """ARI against the signal-to-noise ratio of each swept dataset, median over seeds."""
    fig, axes = _new(1, 2, 3.0)
    data: dict[str, Any] = {}
    algos = list(dict.fromkeys(e.algorithm for e in entries))
    for ax, side in zip(axes[0], ("people", "items"), strict=True):
        for n, algo in enumerate(algos):
            pts: dict[float, list[float]] = {}
            for e in entries:
                if e.algorithm == algo and e.side == side and np.isfinite(e.snr):
                    pts.setdefault(e.snr, []).append(e.ari)
            if not pts:
                continue
            xs = sorted(pts)
            ys = [float(np.nanmedian(pts[x])) for x in xs]
            data[f"{algo}/{side}"] = {"snr": xs, "ari": ys}
            # the oracles in black, one line style each (purchases, features, joint)
            style = _ORACLE_STYLES.get(algo)
            colour = "black" if style else cluster_colour(n)
            ax.plot(xs, ys, f"o{style or '-'}", color=colour, label=algo, lw=2.5 if style else 1)
        ax.axvline(1.0, color=UNASSIGNED, ls="--", lw=2)
        ax.set_xscale("log")
        ax.set_xlabel("signal-to-noise ratio (detection threshold 1)")
        ax.set_ylabel("ARI (median over seeds)")
        ax.set_title(f"{side.capitalize()}: recovery against difficulty")
    axes[0][1].legend(fontsize=6, ncol=2)
    return Figure("sweep", "ARI against the signal-to-noise ratio", _svg(fig, "sweep"), data)
