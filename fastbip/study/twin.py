"""A planted twin of a real log: :func:`fit_spec`, and the study of the twin (:func:`twin_study`).

:func:`fit_spec` turns a dataset and a labelling of both sides into a planted
:class:`~fastbip.spec.Spec` whose generated data look like the log:

* sizes and cluster shares: the log's, under the labels;
* the relation: the fitted block totals (:func:`fastbip.estimate_omega`) as the spec's
  relative rates ``rates[k][l] = C[k, l] / (n_k m_l)`` with ``mean_purchases`` the log's
  purchases per person, so the twin's expected block totals are the fitted ones exactly;
* degrees: :class:`~fastbip.spec.DegreeSpec` has no empirical table, so a parametric form per
  side: a lognormal whose sigma matches the coefficient of variation of the log's degrees
  net of Poisson noise (``CV_d^2 = 1 / mean_d + CV_theta^2`` inside each cluster, pooled) and
  a Pareto with the same CV; the one whose simulated degrees are closer to the log's in the
  two-sample Kolmogorov-Smirnov distance is kept (both distances are in ``fit_stats``);
* time (when the log has timestamps): per item-cluster, the histogram of its purchase times
  as the profile itself (a :class:`~fastbip.spec.Histogram` term, no base): 128 equal bins
  over the log's range by default, or the edges given. The twin's times are drawn from it
  with each grid cell's exact share, so the expected number of the twin's purchases of
  cluster l in any union of bins is the log's, given the block totals; and the expected block
  totals are the log's, so the expected window totals are the log's for every window whose
  edges are bin edges (the 8 equal windows of :func:`twin_fit_stats` and of
  :func:`fastbip.analyze` are unions of the 128 bins). What is left is sampling error:
  a window total is a sum of independent Poisson counts, so ``(twin - log) / sqrt(log)`` is
  about standard normal per window;
* features: per cluster, numeric features as normal (the cluster's mean and sd),
  categorical as the cluster's shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["fit_spec", "twin_fit_stats", "twin_study"]

_N_BINS = 128


def _degrees(M, axis: int) -> np.ndarray:
    return np.asarray(M.sum(axis=axis)).ravel().astype(np.float64)


def _excess_cv2(d: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Pooled (weighted by size) squared CV of the latent degrees, Poisson noise removed."""
    num, den = 0.0, 0.0
    for c in range(k):
        x = d[labels == c]
        if x.size < 2 or x.mean() <= 0:
            continue
        cv2 = x.var(ddof=1) / x.mean() ** 2 - 1.0 / x.mean()
        num += x.size * cv2
        den += x.size
    return max(num / den, 1e-6) if den else 1e-6


def _simulate_degrees(dspec, labels, k, totals, rng) -> np.ndarray:
    from ..generate.relation import draw_degrees

    theta = draw_degrees(dspec, labels, k, rng)
    return rng.poisson(theta * totals[labels]).astype(np.float64)


def _fit_degrees(d, labels, k, totals, seed) -> tuple[dict, dict]:
    """The degree distribution of one side (a DegreeSpec table) and its fit statistics."""
    from scipy.stats import ks_2samp

    from ..spec import DegreeSpec

    cv2 = _excess_cv2(d, labels, k)
    sigma = float(np.sqrt(np.log1p(cv2)))
    # classical Pareto (minimum 1, index alpha > 2): CV^2 = 1 / (alpha (alpha - 2))
    alpha = float(1.0 + np.sqrt(1.0 + 1.0 / cv2))
    cands = {
        "lognormal": DegreeSpec("lognormal", sigma=sigma),
        "pareto": DegreeSpec("pareto", alpha=alpha),
    }
    ks = {}
    for name, ds_ in cands.items():
        sim = _simulate_degrees(ds_, labels, k, totals, np.random.default_rng(seed))
        ks[name] = float(ks_2samp(d, sim).statistic)
    best = min(ks, key=ks.get)
    stats = {
        "method": "CV of the degrees net of Poisson noise, lognormal or Pareto by KS distance",
        "cv2_latent": float(cv2),
        "lognormal_sigma": sigma,
        "pareto_alpha": alpha,
        "ks_distance": ks,
        "chosen": best,
    }
    return cands[best].to_dict(), stats


def _fit_profile(t: np.ndarray, edges: np.ndarray) -> dict:
    """The profile of the times ``t``: their histogram on ``edges`` as a piecewise-constant
    intensity (count / bin width, so a bin's mass is its count), no base."""
    if t.size == 0:
        return {"base": 1.0}
    h = np.histogram(t, bins=edges)[0].astype(np.float64)
    levels = h / np.diff(edges)
    return {
        "base": 0.0,
        "trend": 0.0,
        "peaks": [],
        "seasonal": [],
        "histogram": {"edges": edges.tolist(), "levels": levels.tolist()},
    }


def _time_edges(bins: Any, start: float, end: float) -> np.ndarray:
    """The bin edges of the twin's time profiles: ``bins`` equal bins on ``[start, end)``, or
    the given edges clipped to it (``start`` and ``end`` added)."""
    from .._validation import check_int

    if np.ndim(bins) == 0:
        return np.linspace(start, end, check_int(bins, "time_bins", 1) + 1)
    e = np.asarray(bins, dtype=np.float64)
    if e.ndim != 1 or e.size < 1 or not np.all(np.isfinite(e)):
        raise ValueError(
            f"time_bins must be an int >= 1 or a 1-D array of finite edges; got {bins!r}"
        )
    e = e[(e > start) & (e < end)]
    return np.unique(np.concatenate(([start], e, [end])))


def _features(pop, labels, k) -> tuple[list[dict], list[dict]]:
    feats = []
    per_cluster: list[dict] = [{} for _ in range(k)]
    for name, col in pop.columns.items():
        if name == "labels":
            continue
        if pop.kinds[name] == "categorical":
            cats = [str(c) for c in pop.categories[name]]
            feats.append({"name": name, "kind": "categorical", "categories": cats})
            for c in range(k):
                x = col[(labels == c) & (col >= 0)].astype(np.int64)
                cnt = np.bincount(x, minlength=len(cats))[: len(cats)].astype(np.float64)
                p = cnt / cnt.sum() if cnt.sum() > 0 else np.full(len(cats), 1.0 / len(cats))
                p = p / p.sum()
                per_cluster[c][name] = {"dist": "categorical", "probs": p.tolist()}
        else:
            feats.append({"name": name, "kind": "numeric"})
            allx = col[np.isfinite(col)]
            for c in range(k):
                x = col[(labels == c) & np.isfinite(col)]
                if x.size == 0:
                    x = allx if allx.size else np.zeros(1)
                sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
                per_cluster[c][name] = {"dist": "normal", "mean": float(x.mean()), "sd": sd}
    return feats, per_cluster


def fit_spec(
    dataset: Any, row_labels: Any, column_labels: Any, *, seed: int = 0, time_bins: Any = _N_BINS
):
    """A planted spec fitted to ``dataset`` under the given labels (its twin).

    Parameters
    ----------
    dataset : Dataset
        A log read by :func:`fastbip.read_log` (any dataset works).
    row_labels, column_labels : array-like of int
        A cluster per person and per item (-1 not allowed: every member needs a cluster);
        empty cluster ids are dropped and the others renumbered in order.
    seed : int
        The spec's seed (and the seed of the degree simulations that choose the degree
        distribution).
    time_bins : int or array of float
        With timestamps: the number of equal bins of the item-clusters' time profiles over
        the log's range (default 128), or their edges (clipped to the range, its ends
        added); window totals are reproduced in expectation for windows made of whole bins.

    Returns
    -------
    Spec
        See the module docstring for what is fitted and how. ``fastbip.generate(spec)`` is
        the twin; :func:`twin_fit_stats` compares it with the log.

    Raises
    ------
    ValueError, TypeError
        If the labels do not fit the dataset or the dataset has no purchases.
    """
    return _fit(dataset, row_labels, column_labels, seed, time_bins)[0]


def _fit(
    dataset: Any, row_labels: Any, column_labels: Any, seed: Any, time_bins: Any = _N_BINS
) -> tuple[Any, dict]:
    """:func:`fit_spec` and the statistics of its degree fits."""
    from .._validation import as_labels, as_purchases, check_int
    from ..blocks import estimate_omega
    from ..spec import Spec

    seed = check_int(seed, "seed", 0)
    M = as_purchases(dataset.purchases, "dataset.purchases", accept="csr", counts=True)
    n, m = M.shape
    a = as_labels(row_labels, "row_labels", n=n, unassigned=False)
    b = as_labels(column_labels, "column_labels", n=m, unassigned=False)
    a = np.unique(a, return_inverse=True)[1]
    b = np.unique(b, return_inverse=True)[1]
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    total = float(M.sum())
    if total <= 0:
        raise ValueError("dataset has no purchases to fit a twin to")
    C = estimate_omega(M, a, b, ka, kb).omega
    na = np.bincount(a, minlength=ka).astype(np.float64)
    nb = np.bincount(b, minlength=kb).astype(np.float64)
    rates = C / np.outer(na, nb)
    R, S = C.sum(axis=1), C.sum(axis=0)
    activity, act_stats = _fit_degrees(_degrees(M, 1), a, ka, R, seed)
    popularity, pop_stats = _fit_degrees(_degrees(M, 0), b, kb, S, seed + 1)
    pf, pcl = _features(dataset.people, a, ka)
    itf, icl = _features(dataset.items, b, kb)
    d: dict[str, Any] = {
        "people": {
            "n": n,
            "features": pf,
            "clusters": [
                {"name": f"P{c}", "share": float(na[c] / n), "features": pcl[c]} for c in range(ka)
            ],
        },
        "items": {
            "n": m,
            "features": itf,
            "clusters": [
                {"name": f"I{c}", "share": float(nb[c] / m), "features": icl[c]} for c in range(kb)
            ],
        },
        "relation": {
            "rates": rates.tolist(),
            "mean_purchases": total / n,
            "mixing": 0.0,
            "model": "poisson",
            "activity": activity,
            "popularity": popularity,
        },
        "seed": seed,
    }
    ev = getattr(dataset, "events", None)
    if ev is not None and np.asarray(ev.times).size:
        times = np.asarray(ev.times, dtype=np.float64)
        start = float(times.min())
        end = float(np.nextafter(times.max(), np.inf)) if times.max() > start else start + 1.0
        cnt = np.diff(np.asarray(ev.offsets))
        item_of_event = np.repeat(M.indices, cnt)
        cl = b[item_of_event]
        edges = _time_edges(time_bins, start, end)
        d["time"] = {
            "start": start,
            "end": end,
            "profiles": [_fit_profile(times[cl == c], edges) for c in range(kb)],
        }
    return Spec.from_dict(d), {"activity": act_stats, "popularity": pop_stats}


def twin_fit_stats(
    dataset: Any, twin: Any, row_labels: Any, column_labels: Any, windows: Any = None
) -> dict:
    """How the twin (a generated dataset) compares with the log under the labels.

    Returns the two-sample KS distance of the people's and items' degrees, the largest
    ``|C_twin - C_fit| / sqrt(C_fit)`` over the block pairs (the twin's planted labels against
    the log's labels), and, with times, the window totals (``windows``: edges, default 8
    equal windows over the log's range) with their largest relative difference and largest
    ``|twin - log| / sqrt(log)`` (about standard normal per window when the twin's profiles
    are the log's histograms: the twin's tolerance is ``|z| < 4`` per window).
    """
    from scipy.stats import ks_2samp

    from ..blocks import block_counts, block_counts_windows

    M, T = dataset.purchases, twin.purchases
    a = np.unique(np.asarray(row_labels), return_inverse=True)[1]
    b = np.unique(np.asarray(column_labels), return_inverse=True)[1]
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    C = block_counts(M, a, b, ka, kb).astype(np.float64)
    Ct = block_counts(T, twin.truth.people_labels, twin.truth.item_labels, ka, kb)
    z = np.abs(Ct - C) / np.sqrt(np.maximum(C, 1.0))
    out = {
        "ks_people_degrees": float(ks_2samp(_degrees(M, 1), _degrees(T, 1)).statistic),
        "ks_items_degrees": float(ks_2samp(_degrees(M, 0), _degrees(T, 0)).statistic),
        "block_counts_max_z": float(z.max()),
        "purchases": [float(M.sum()), float(T.sum())],
    }
    if dataset.events is not None and twin.events is not None:
        times = np.asarray(dataset.events.times)
        edges = (
            np.linspace(times.min(), np.nextafter(times.max(), np.inf), 9)
            if windows is None
            else np.asarray(windows, dtype=np.float64)
        )
        w = block_counts_windows(M, dataset.events, a, b, edges, ka, kb).sum(axis=(1, 2))
        tl = twin.truth
        wt = block_counts_windows(
            T, twin.events, tl.people_labels, tl.item_labels, edges, ka, kb
        ).sum(axis=(1, 2))
        out["window_edges"] = edges.tolist()
        out["window_totals"] = [w.tolist(), wt.tolist()]
        out["window_totals_max_rel_diff"] = float(np.max(np.abs(wt - w) / np.maximum(w, 1)))
        out["window_totals_max_z"] = float(np.max(np.abs(wt - w) / np.sqrt(np.maximum(w, 1))))
    return out


def twin_study(
    dataset: Any,
    row_labels: Any,
    column_labels: Any,
    *,
    algorithms: Any = None,
    random_state: Any = 0,
    windows: Any = None,
) -> tuple[Any, Any, dict]:
    """Fit the twin, generate it and run the planted study on it.

    ``windows`` (edges, optional) are the windows whose totals the twin is compared on; its
    time profiles' bins are the 128 equal bins and these edges, so every window is a union
    of bins.

    Returns ``(spec, results, stats)``: the twin's spec, the :class:`Results` of
    :func:`fastbip.run_study` on the generated twin (ARI of each algorithm against the
    planted labels, beside the oracle) and :func:`twin_fit_stats` plus the degree fits.
    """
    from .._rng import int_seed
    from ..generate import generate
    from .planted import run_study

    seed = int_seed(random_state) or 0
    bins: Any = _N_BINS
    ev = getattr(dataset, "events", None)
    if windows is not None and ev is not None and np.asarray(ev.times).size:
        t = np.asarray(ev.times, dtype=np.float64)
        hi = float(np.nextafter(t.max(), np.inf)) if t.max() > t.min() else float(t.min()) + 1
        bins = np.union1d(np.linspace(float(t.min()), hi, _N_BINS + 1), windows)
    spec, degree_stats = _fit(dataset, row_labels, column_labels, seed, bins)
    twin = generate(spec)
    res = run_study(twin, algorithms=algorithms, random_state=random_state)
    stats = twin_fit_stats(dataset, twin, row_labels, column_labels, windows)
    stats["degrees"] = degree_stats
    return spec, res, stats
