"""Recovery near the detection threshold: block model, spectral methods and belief propagation.

For each number of clusters K, mean degree and target signal-to-noise ratio (fastbip.snr,
detection above 1), the planted family ``planted_spec(n, m, K, K, mean, mixing, seed)``
(lognormal activity and popularity) with ``mixing`` found by bisection so that the dataset's
snr is the target, then on the same matrix, in this process:

- ``dcsbm``: the registry's block-model fit (``random_state=0``);
- ``regularized``: :class:`fastbip.algorithms.regularized.RegularizedSpectral`
  (regularised Laplacian, tau = sqrt(c_A c_B) - 1, k-means);
- ``bp``: :class:`fastbip.algorithms.bp.BeliefPropagation`, parameters learned by EM from
  the ``regularized`` labels;
- ``bp-ref``: :func:`fastbip.algorithms.bp.bp_reference`, BP with the planted parameters
  started from the truth (the Bayes-optimal reference);
- ``spectral-cocluster``: scikit-learn's SpectralCoclustering through the registry.

Prints a markdown table: mean ARI of people and items over the seeds (with the smallest and
largest) and the mean seconds of each fit.

    python benchmarks/bench_threshold.py --quick            # 2*10^4 x 4*10^3
    python benchmarks/bench_threshold.py --k 2 --mean 5     # 10^5 x 2*10^4
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import fastbip
from fastbip import algorithms
from fastbip.algorithms.bp import BeliefPropagation, bp_reference
from fastbip.algorithms.regularized import RegularizedSpectral

METHODS = ("dcsbm", "regularized", "bp", "bp-ref", "spectral-cocluster")


def dataset(n, m, k, mean, mixing, seed):
    return fastbip.generate(fastbip.planted_spec(n, m, k, k, mean, mixing, seed))


def mixing_for(target, n, m, k, mean, seed, iters=22):
    """The mixing whose dataset has snr == target (snr decreases with mixing)."""
    lo, hi = 0.0, 1.0
    if fastbip.snr(dataset(n, m, k, mean, 0.0, seed).truth) < target:
        raise ValueError(f"snr {target} is out of reach at mixing 0 (K={k}, mean={mean})")
    for _ in range(iters):
        mid = (lo + hi) / 2
        if fastbip.snr(dataset(n, m, k, mean, mid, seed).truth) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def fit(method, ds, k):
    M = ds.purchases
    t = time.perf_counter()
    if method == "bp-ref":
        r = bp_reference(ds, "truth")
        return r.row_labels, r.column_labels, time.perf_counter() - t
    if method == "regularized":
        est = RegularizedSpectral(k, k, random_state=0)
    elif method == "bp":
        est = BeliefPropagation(k, k, random_state=0)
    else:
        est = algorithms.get(method, n_row_clusters=k, n_col_clusters=k, random_state=0)
    est.fit(M)
    return est.row_labels_, est.column_labels_, time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2*10^4 people x 4*10^3 items")
    ap.add_argument("--k", type=int, nargs="+", default=[2, 5])
    ap.add_argument("--mean", type=float, nargs="+", default=[5.0])
    ap.add_argument("--snr", type=float, nargs="+", default=[0.8, 1.5, 2.0, 3.0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--json", help="also write the raw results to this file")
    args = ap.parse_args(argv)
    n, m = (20_000, 4_000) if args.quick else (100_000, 20_000)
    print(
        f"{n} people x {m} items, {args.seeds} seeds; ARI mean (min-max)\n\n"
        "| K | mean deg | snr | method | ARI people | ARI items | seconds |\n"
        "|---|---|---|---|---|---|---|",
        flush=True,
    )
    algorithms.get("dcsbm", n_row_clusters=2)  # imports before timing
    BeliefPropagation(2).fit(dataset(500, 100, 2, 10.0, 0.0, 0).purchases)  # numba compile
    rows = []
    for k in args.k:
        for mean in args.mean:
            for target in args.snr:
                per = {meth: [] for meth in args.methods}
                for seed in range(args.seeds):
                    mix = mixing_for(target, n, m, k, mean, seed)
                    ds = dataset(n, m, k, mean, mix, seed)
                    tr = ds.truth
                    for meth in args.methods:
                        r, c, sec = fit(meth, ds, k)
                        ap_ = fastbip.score_labels(tr.people_labels, r)["ari"]
                        ai_ = fastbip.score_labels(tr.item_labels, c)["ari"]
                        per[meth].append((ap_, ai_, sec))
                        rows.append(
                            dict(k=k, mean=mean, snr=target, seed=seed, mixing=mix,
                                 snr_actual=fastbip.snr(tr), method=meth, ari_people=ap_,
                                 ari_items=ai_, seconds=sec)
                        )  # fmt: skip
                for meth in args.methods:
                    a = np.array(per[meth])
                    print(
                        f"| {k} | {mean:g} | {target:g} | {meth} | "
                        f"{a[:, 0].mean():.3f} ({a[:, 0].min():.3f}-{a[:, 0].max():.3f}) | "
                        f"{a[:, 1].mean():.3f} ({a[:, 1].min():.3f}-{a[:, 1].max():.3f}) | "
                        f"{a[:, 2].mean():.2f} |",
                        flush=True,
                    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
