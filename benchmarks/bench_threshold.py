"""Recovery near the detection threshold: the phase-transition table.

For each number of clusters K, mean degree and target signal-to-noise ratio (the planted
expectation ``fastbip.snr(spec)``, detection above 1), the planted family
``planted_spec(n, m, K, K, mean, seed=seed, snr=target)`` (lognormal activity and
popularity, sigma 1; the mixing is solved for the expected SNR, so every seed has the same
one), then on the same matrix, in this process:

- every registered fastbip method that uses the purchases (``dcsbm``, ``svd-kmeans``,
  ``regularized-spectral``, ``bp``, ...; ``random_state=0``, K given on both sides);
- ``spectral-cocluster`` / ``spectral-bicluster``: scikit-learn's SpectralCoclustering and
  SpectralBiclustering, and ``louvain`` / ``leiden``: scikit-network's bipartite Louvain and
  Leiden (they choose their own number of clusters), all through the registry;
- ``bp-ref``: :func:`fastbip.algorithms.bp.bp_reference`, BP with the planted parameters
  started from the truth (the Bayes-optimal reference; it keeps some memory of its start,
  so below the threshold it is not a fair ceiling).

Each ``--k``/``--mean``/``--snr`` combination is one piece; with ``--out DIR`` each piece's
rows go to ``DIR/k{K}_d{mean}_s{snr}.json`` (a piece already there is skipped, so a run can
be resumed or split between processes), and ``--merge DIR`` prints one markdown table of
every piece found: mean ARI of people and items over the seeds (smallest-largest) and the
mean seconds of each fit.

    python benchmarks/bench_threshold.py --quick --k 2 --snr 1.5        # 2*10^4 x 4*10^3
    nice python benchmarks/bench_threshold.py --out /tmp/thr --seeds 2   # 10^5 x 2*10^4
    python benchmarks/bench_threshold.py --merge /tmp/thr
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import time

import numpy as np

import fastbip
from fastbip import algorithms
from fastbip.algorithms.bp import bp_reference

METHODS = (
    "dcsbm",
    "svd-kmeans",
    "regularized-spectral",
    "bp",
    "bp-ref",
    "spectral-cocluster",
    "spectral-bicluster",
    "louvain",
    "leiden",
)
SNRS = (0.8, 1.2, 1.5, 2.0, 2.5, 3.0)


def dataset(n, m, k, mean, target, seed):
    spec = fastbip.planted_spec(n, m, k, k, mean, seed=seed, snr=target)
    return fastbip.generate(spec), spec.relation.mixing


def fit(method, ds, k):
    t = time.perf_counter()
    if method == "bp-ref":
        r = bp_reference(ds, "truth")
        return r.row_labels, r.column_labels, time.perf_counter() - t
    est = algorithms.get(method, n_row_clusters=k, n_col_clusters=k, random_state=0)
    est.fit(ds.purchases)
    return est.row_labels_, est.column_labels_, time.perf_counter() - t


def piece(n, m, k, mean, target, seeds, methods):
    rows = []
    for seed in range(seeds):
        ds, mix = dataset(n, m, k, mean, target, seed)
        tr = ds.truth
        for meth in methods:
            try:
                r, c, sec = fit(meth, ds, k)
            except Exception as exc:  # a method that fails is a row with its error
                rows.append(dict(k=k, mean=mean, snr=target, seed=seed, method=meth,
                                 error=f"{type(exc).__name__}: {exc}"))  # fmt: skip
                continue
            rows.append(
                dict(k=k, mean=mean, snr=target, seed=seed, mixing=mix, n=n, m=m,
                     snr_realised=fastbip.snr(tr, expected=False), method=meth,
                     ari_people=fastbip.score_labels(tr.people_labels, r)["ari"],
                     ari_items=fastbip.score_labels(tr.item_labels, c)["ari"], seconds=sec,
                     k_found=[int(np.unique(r[r >= 0]).size), int(np.unique(c[c >= 0]).size)])
            )  # fmt: skip
    return rows


def table(rows):
    """One markdown table: mean (min-max) ARI per side and mean seconds over the seeds."""
    out = [
        "| K | mean deg | snr | method | ARI people | ARI items | seconds | seeds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    keys = sorted({(r["k"], r["mean"], r["snr"]) for r in rows})
    order = {m: i for i, m in enumerate(METHODS)}
    for key in keys:
        here = [r for r in rows if (r["k"], r["mean"], r["snr"]) == key]
        for meth in sorted({r["method"] for r in here}, key=lambda x: order.get(x, 99)):
            ok = [r for r in here if r["method"] == meth and "error" not in r]
            if not ok:
                err = next(r["error"] for r in here if r["method"] == meth)
                out.append(f"| {key[0]} | {key[1]:g} | {key[2]:g} | {meth} | {err} | | | |")
                continue
            a = np.array([[r["ari_people"], r["ari_items"], r["seconds"]] for r in ok])
            lo, hi, mu = a.min(0), a.max(0), a.mean(0)
            out.append(
                f"| {key[0]} | {key[1]:g} | {key[2]:g} | {meth} | "
                f"{mu[0]:.3f} ({lo[0]:.3f}-{hi[0]:.3f}) | {mu[1]:.3f} ({lo[1]:.3f}-{hi[1]:.3f}) "
                f"| {mu[2]:.2f} | {len(ok)} |"
            )
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2*10^4 people x 4*10^3 items")
    ap.add_argument("--k", type=int, nargs="+", default=[2, 5])
    ap.add_argument("--mean", type=float, nargs="+", default=[5.0, 20.0])
    ap.add_argument("--snr", type=float, nargs="+", default=list(SNRS))
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--out", help="write one JSON file per piece into this folder")
    ap.add_argument("--merge", help="print the table of every piece in this folder and stop")
    ap.add_argument("--tag", default="", help="appended to the piece files' names")
    args = ap.parse_args(argv)
    if args.merge:
        rows = []
        for path in sorted(glob.glob(os.path.join(args.merge, "*.json"))):
            with open(path) as f:
                rows.extend(json.load(f))
        print(table(rows))
        return
    n, m = (20_000, 4_000) if args.quick else (100_000, 20_000)
    print(f"{n} people x {m} items, {args.seeds} seeds", flush=True)
    warm, _ = dataset(2000, 400, 2, 10.0, 3.0, 0)
    for meth in args.methods:  # imports and numba compiles before timing
        fit(meth, warm, 2)
    rows = []
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    for k in args.k:
        for mean in args.mean:
            for target in args.snr:
                path = args.out and os.path.join(
                    args.out, f"k{k}_d{mean:g}_s{target:g}{args.tag}.json"
                )
                if path and os.path.exists(path):
                    continue
                try:
                    got = piece(n, m, k, mean, target, args.seeds, args.methods)
                except fastbip.spec.SpecError as exc:  # an SNR the family cannot reach
                    print(f"K={k} mean={mean:g} snr={target:g}: {exc}", flush=True)
                    continue
                rows.extend(got)
                if path:
                    with open(path, "w") as f:
                        json.dump(got, f, indent=1)
                print(table(got), flush=True)
    if not args.out:
        print(table(rows))


if __name__ == "__main__":
    main()
