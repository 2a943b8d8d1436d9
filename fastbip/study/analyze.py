"""The study of a real log, without a truth: :func:`analyze`.

It chooses the numbers of clusters by ICL, fits the degree-corrected block model, measures
in place of a truth how *stable* the fit is (over seeds and over bootstrap resamples of the
purchases) and how far other algorithms agree with it, names the clusters by their members,
and says which relations stand out and which change over time. Everything lands in one
:class:`~fastbip.study.Results`: the rows of the fits (scores NaN: there is no truth) and
``Results.analysis``, a JSON-ready dict that :meth:`Results.to_json` writes.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._describe import cluster_profiles, name_clusters, over_time, relations, window_edges
from ._fit import fit_algorithm, resolve_algorithms
from .results import Entry, Results

__all__ = ["analyze", "DEFAULT_ALGORITHMS"]

#: The algorithms whose agreement with the block model :func:`analyze` reports by default
#: (those available of them).
DEFAULT_ALGORITHMS = ("spectral-cocluster", "svd-kmeans", "louvain")
_K_DEFAULT = (1, 6)  # the first ICL range per side: 1..6
_K_GROW = 3  # clusters added to a side whose best K sits at the range's top


def _k_cap(n: int) -> int:
    """The largest K the range of a side of ``n`` members grows to: ``floor(sqrt(n))`` (at
    least the default range's top, at most ``n``). Beyond about sqrt(n) clusters a block
    model cannot recover its clusters reliably (cluster sizes below sqrt(n): the limit of
    the known exact-recovery results for block models, and the resolution limit of
    modularity-type scores), so ICL preferring more says the data have finer structure
    than can be resolved, not where it is."""
    import math

    return min(n, max(_K_DEFAULT[1], math.isqrt(n)))


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(f"fastbip: {msg}", file=sys.stderr, flush=True)


def _compact(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Labels renumbered 0..k-1 in order of first cluster id (empty clusters dropped)."""
    u, inv = np.unique(labels, return_inverse=True)
    return inv.astype(np.int64), int(u.size)


def _ari(x: np.ndarray, y: np.ndarray) -> float:
    from ..metrics import adjusted_rand

    return float(adjusted_rand(x, y))


def _best_jaccard(ref: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """For each cluster of ``ref``, the Jaccard index with its best match in ``other``."""
    from ..metrics import contingency

    t = contingency(ref, other).toarray().astype(np.float64)
    if t.shape[0] < k:  # ref's clusters are 0..k-1, every one non-empty
        t = np.vstack([t, np.zeros((k - t.shape[0], t.shape[1]))])
    rs, cs = t.sum(axis=1), t.sum(axis=0)
    union = rs[:, None] + cs[None, :] - t
    jac = np.divide(t, union, out=np.zeros_like(t), where=union > 0)
    return jac.max(axis=1) if jac.size else np.zeros(k)


def _k_values(k_range: Any, n: int, side: str) -> list[int]:
    from .._validation import check_n_clusters

    if k_range is None:
        lo, hi = _K_DEFAULT
        return list(range(lo, min(hi, n) + 1))
    ks = sorted({check_n_clusters(k, f"k_range ({side})", n, side) for k in k_range})
    if not ks:
        raise ValueError(f"k_range must not be empty; got {k_range!r}")
    return ks


def _choose_k(M, k_people, k_items, k_range, random_state, progress):
    """ICL over a grid that grows while the best K of a side sits at the grid's top."""
    from ..algorithms.select import select_k

    n, m = M.shape
    if isinstance(k_range, dict):
        kr_p, kr_i = k_range.get("people"), k_range.get("items")
    elif (
        k_range is not None and len(k_range) == 2 and all(isinstance(x, Iterable) for x in k_range)
    ):
        kr_p, kr_i = k_range
    else:
        kr_p = kr_i = k_range
    rows = [k_people] if k_people is not None else _k_values(kr_p, n, "people")
    cols = [k_items] if k_items is not None else _k_values(kr_i, m, "items")
    cap = {"people": max(_k_cap(n), rows[-1]), "items": max(_k_cap(m), cols[-1])}
    scores: dict[tuple[int, int], float] = {}

    def fill(rs, cs):
        todo_r = [r for r in rs if any((r, c) not in scores for c in cs)]
        if not todo_r:
            return
        todo_c = [c for c in cs if any((r, c) not in scores for r in todo_r)]
        _, tab = select_k(M, todo_r, todo_c, "icl", random_state=random_state)
        for i, r in enumerate(todo_r):
            for j, c in enumerate(todo_c):
                scores.setdefault((r, c), float(tab[i, j]))

    t0 = time.perf_counter()
    grew = {"people": 0, "items": 0}
    while True:
        fill(rows, cols)
        best = max(((r, c) for r in rows for c in cols), key=lambda rc: scores[rc])
        edge_p = k_people is None and best[0] == rows[-1] and rows[-1] < cap["people"]
        edge_i = k_items is None and best[1] == cols[-1] and cols[-1] < cap["items"]
        if not (edge_p or edge_i):
            break
        if edge_p:
            rows = rows + list(range(rows[-1] + 1, min(rows[-1] + _K_GROW, cap["people"]) + 1))
            grew["people"] += 1
        if edge_i:
            cols = cols + list(range(cols[-1] + 1, min(cols[-1] + _K_GROW, cap["items"]) + 1))
            grew["items"] += 1
    size = {"people": n, "items": m}
    at_edge = {
        "people": k_people is None and best[0] == rows[-1] and rows[-1] < n,
        "items": k_items is None and best[1] == cols[-1] and cols[-1] < m,
    }
    notes = []
    for side, g in grew.items():
        if g:
            notes.append(
                f"the best K of {side} sat at the top of the range; the range grew {g} time(s)"
            )
    for side, edge in at_edge.items():
        if edge:
            kb = best[0] if side == "people" else best[1]
            msg = (
                f"ICL still prefers the largest K of {side} tried ({kb}): the range stopped "
                f"growing at its cap, floor(sqrt(n)) = {cap[side]} for n = {size[side]} "
                f"{side} (smaller clusters than about sqrt(n) members are not reliably "
                f"recoverable); the {side} have finer structure than the fit resolves, and "
                f"{kb} is the most it can: give a larger k_range to try more"
            )
            warnings.warn(msg, UserWarning, stacklevel=3)
            notes.append(msg)
    table = [[_nan_none(scores.get((r, c))) for c in cols] for r in rows]
    _say(progress, f"K chosen by ICL: {best[0]} x {best[1]} ({time.perf_counter() - t0:.1f} s)")
    return best, {
        "criterion": "icl",
        "k_people": best[0],
        "k_items": best[1],
        "k_people_range": rows,
        "k_items_range": cols,
        "icl": table,
        "grew": grew,
        "cap": cap,
        "at_edge": at_edge,
        "notes": notes,
        "given": {"people": k_people is not None, "items": k_items is not None},
    }


def _nan_none(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _dcsbm(M, ka, kb, seed):
    from ..algorithms.dcsbm import DCSBM

    est = DCSBM(ka, kb, random_state=seed).fit(M)
    return np.asarray(est.row_labels_), np.asarray(est.column_labels_), est


def _stability(M, ref, ks, n_seeds, n_bootstrap, rng, progress) -> dict:
    """Refits over seeds and over Poisson bootstrap resamples, against the reference fit."""
    import scipy.sparse as sp

    t0 = time.perf_counter()
    runs: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"seeds": [], "bootstrap": []}
    for _ in range(n_seeds):
        a, b, _ = _dcsbm(M, *ks, int(rng.integers(2**31 - 1)))
        runs["seeds"].append((a, b))
    for _ in range(n_bootstrap):
        data = rng.poisson(M.data.astype(np.float64))
        R = sp.csr_matrix((data, M.indices.copy(), M.indptr.copy()), shape=M.shape)
        R.eliminate_zeros()
        a, b, _ = _dcsbm(R, *ks, int(rng.integers(2**31 - 1)))
        runs["bootstrap"].append((a, b))
    out: dict[str, Any] = {
        "resampling": "Poisson bootstrap of the purchases: each purchase is kept a Poisson(1) "
        "number of times, so each count M_ij becomes Poisson(M_ij)",
        "n_seeds": n_seeds,
        "n_bootstrap": n_bootstrap,
    }
    for s, side in enumerate(("people", "items")):
        r = ref[s]
        d: dict[str, Any] = {}
        for kind, rr in runs.items():
            labs = [x[s] for x in rr]
            d[f"ari_{kind}"] = [_ari(r, x) for x in labs]
            pair = [_ari(labs[i], labs[j]) for i in range(len(labs)) for j in range(i)]
            d[f"ari_{kind}_pairwise_mean"] = _nan_none(np.mean(pair)) if pair else None
        every = [x[s] for rr in runs.values() for x in rr]
        aris = d["ari_seeds"] + d["ari_bootstrap"]
        d["ari_mean"] = _nan_none(np.mean(aris)) if aris else None
        d["ari_min"] = _nan_none(np.min(aris)) if aris else None
        if every:
            jac = np.mean([_best_jaccard(r, x, ks[s]) for x in every], axis=0)
            d["cluster_stability"] = [float(v) for v in jac]
        else:
            d["cluster_stability"] = [None] * ks[s]
        d["cluster_stability_measure"] = (
            "mean over the refits of each cluster's Jaccard index with its best match"
        )
        out[side] = d
    _say(
        progress,
        f"stability: {n_seeds} seeds + {n_bootstrap} resamples ({time.perf_counter() - t0:.1f} s)",
    )
    return out


def analyze(
    dataset: Any,
    *,
    k_people: int | None = None,
    k_items: int | None = None,
    k_range: Any = None,
    n_seeds: int = 5,
    n_bootstrap: int = 5,
    windows: Any = None,
    algorithms: Iterable[Any] | None = None,
    random_state: Any = 0,
    progress: bool = True,
) -> Results:
    """Analyse a dataset without a truth (a real log): K, fit, stability, names, time.

    Parameters
    ----------
    dataset : Dataset
        From :func:`fastbip.read_log` / :func:`fastbip.from_log` (a generated one works too;
        its truth is not used).
    k_people, k_items : int, optional
        Fix a side's number of clusters; a side left None is chosen by ICL
        (:func:`fastbip.select_k`).
    k_range : iterable of int, pair of iterables, or dict, optional
        The K tried per side (one range for both, ``(people, items)`` or
        ``{"people": ..., "items": ...}``); default 1..6. While the best K of a side is the
        largest tried, that side's range grows by 3, up to a cap of ``floor(sqrt(n))`` for
        a side of n members (or the largest K given, if larger): about the most clusters
        a block model can recover at that size. If the best K is still the largest, a
        ``UserWarning`` says so and ``analysis["k"]["at_edge"]`` records it (``["cap"]``
        the caps).
    n_seeds : int
        Refits of the block model at other seeds, >= 0.
    n_bootstrap : int
        Refits on Poisson bootstrap resamples of the purchases (each count ``M_ij``
        redrawn as ``Poisson(M_ij)``), >= 0.
    windows : int or array of edges, optional
        With timestamps: the number of equal-width windows over the data's range (default
        8) or the edges themselves.
    algorithms : iterable of str or estimators, optional
        Algorithms compared with the block model (default :data:`DEFAULT_ALGORITHMS`,
        those available); ``[]`` for none.
    random_state : int, Generator or None
        Seeds everything; the same seed gives the same results.
    progress : bool
        Print a line per step to stderr.

    Returns
    -------
    Results
        Rows: ``dcsbm`` and each algorithm per side (labels and estimator kept; scores NaN).
        ``analysis``: ``k`` (chosen K, range, ICL table, notes), ``stability``
        (ARI per side over seeds and resamples, per-cluster stability), ``agreement`` (ARI
        of each algorithm with the block model per side, and ``pairwise``: the ARI between
        every two algorithms, the block model first), ``names`` and ``profiles`` per side,
        ``relations`` (block statistics, significant cells), ``time`` (or None).

    Raises
    ------
    TypeError, ValueError
        If an argument is out of range or an algorithm unknown.
    """
    from .._rng import as_generator, int_seed
    from .._validation import as_purchases, check_int
    from ..blocks import block_counts

    if not hasattr(dataset, "purchases") or not hasattr(dataset, "people"):
        raise TypeError(f"dataset must be a fastbip Dataset; got {type(dataset).__name__}")
    M = as_purchases(dataset.purchases, "dataset.purchases", accept="csr", counts=True)
    n, m = M.shape
    from .._validation import check_n_clusters

    if k_people is not None:
        k_people = check_n_clusters(k_people, "k_people", n, "people")
    if k_items is not None:
        k_items = check_n_clusters(k_items, "k_items", m, "items")
    n_seeds = check_int(n_seeds, "n_seeds", 0)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", 0)
    if algorithms is not None and not isinstance(algorithms, str) and len(list(algorithms)) == 0:
        chosen = []
    else:
        chosen = resolve_algorithms(algorithms, [a for a in DEFAULT_ALGORITHMS if _available(a)])
    if windows is not None and getattr(dataset, "events", None) is not None:
        window_edges(np.asarray(dataset.events.times), windows)  # checked before any fit
    rng = as_generator(random_state, "random_state")
    seed_k, seed_fit = (int(x) for x in rng.integers(2**31 - 1, size=2))
    t_all = time.perf_counter()

    ks, k_info = _choose_k(M, k_people, k_items, k_range, seed_k, progress)
    t0 = time.perf_counter()
    a, b, est = _dcsbm(M, *ks, seed_fit)
    seconds = time.perf_counter() - t0
    a, ka = _compact(a)
    b, kb = _compact(b)
    _say(progress, f"block model fitted: {ka} x {kb} clusters ({seconds:.1f} s)")
    entries = [
        Entry("dcsbm", side, k_asked=k, k_found=kf, seconds=seconds, labels=lab, estimator=est)
        for side, k, kf, lab in (("people", ks[0], ka, a), ("items", ks[1], kb, b))
    ]
    stab = _stability(M, (a, b), (ka, kb), n_seeds, n_bootstrap, rng, progress)

    agreement: dict[str, dict] = {}
    fit_seed = int_seed(rng)
    for name, algorithm, kind in chosen:
        fits = fit_algorithm(name, algorithm, kind, dataset, ka, kb, fit_seed)
        for f in fits:
            k_found = 0 if f.labels is None else int(np.unique(f.labels[f.labels >= 0]).size)
            entries.append(
                Entry(
                    name,
                    f.side,
                    k_asked=f.k_asked,
                    k_found=k_found,
                    n_unassigned=0 if f.labels is None else int(np.count_nonzero(f.labels < 0)),
                    seconds=float(f.seconds),
                    error=f.error,
                    labels=f.labels,
                    estimator=f.estimator,
                )
            )
            ref = a if f.side == "people" else b
            agreement.setdefault(name, {})[f.side] = (
                None if f.labels is None else _ari(ref, f.labels)
            )
    if chosen:
        _say(progress, f"agreement with {len(chosen)} other algorithm(s) measured")
    pairwise = {}
    for side in ("people", "items"):
        labs = [(e.algorithm, e.labels) for e in entries if e.side == side and e.labels is not None]
        pairwise[side] = {
            "algorithms": [name for name, _ in labs],
            "ari": [[_ari(x, y) for _, y in labs] for _, x in labs],
        }

    C = block_counts(M, a, b, ka, kb).astype(np.float64)
    d_r = np.asarray(M.sum(axis=1)).ravel().astype(np.float64)
    d_c = np.asarray(M.sum(axis=0)).ravel().astype(np.float64)
    analysis: dict[str, Any] = {
        "kind": "analysis without truth",
        "k": k_info,
        "stability": stab,
        "agreement": {
            "measure": "ARI of each algorithm's labels with the block model's, per side",
            "algorithms": agreement,
            "pairwise": pairwise,
        },
        "names": {
            "people": name_clusters(dataset.people, a, ka, d_r, C, "people"),
            "items": name_clusters(dataset.items, b, kb, d_c, C.T, "items"),
        },
        "profiles": {
            "people": cluster_profiles(dataset.people, a, ka),
            "items": cluster_profiles(dataset.items, b, kb),
        },
        "relations": relations(C),
        "time": None,
    }
    if getattr(dataset, "events", None) is not None and dataset.n_purchases > 0:
        analysis["time"] = over_time(dataset, a, b, ka, kb, windows)
    analysis["seconds"] = time.perf_counter() - t_all
    res = Results(entries, snr=None, summary=dataset.summary())
    res.analysis = analysis
    return res


def _available(name: str) -> bool:
    from .. import algorithms as registry

    try:
        return bool(registry.info(name).available)
    except (KeyError, ValueError):
        return False
