"""Block-model fit against scikit-learn's SpectralCoclustering and the oracle on planted data.

Prints one line per case: oracle row ARI, DCSBM row/column ARI and the fraction of the
oracle reached, the fit started from the true labels (the fair ceiling), scikit-learn's row
ARI, and the median times with their ratio, all measured in this process on the same matrix.
DCSBM and scikit-learn run alternately ``--repeat`` times; medians are reported.

    python benchmarks/recovery_targets.py --case medium
    python benchmarks/recovery_targets.py --case large --repeat 1

scikit-learn's SpectralCoclustering fails on people or items with no purchases, so it is
given the matrix without them (time of that slicing not counted) and they are scored as
cluster 0.
"""

import argparse
import gc
import json
import statistics
import time

import numpy as np
from sklearn.cluster import SpectralCoclustering
from sklearn.metrics import adjusted_rand_score as ari

from fastbip import generate, oracle_labels, planted_spec
from fastbip.algorithms import DCSBM

SIZES = {
    "small": (20_000, 4_000, 400_000),
    "medium": (100_000, 20_000, 2_000_000),
    "large": (1_000_000, 100_000, 20_000_000),
}


def dataset(n_people, n_items, n_purchases, ratio, sigma, seed):
    deg = {"dist": "lognormal", "sigma": sigma}
    spec = planted_spec(
        n_people,
        n_items,
        10,
        10,
        mean_purchases=n_purchases / n_people,
        seed=seed,
        ratio=ratio,
        activity=deg,
        popularity=deg,
    )
    return generate(spec)


def run_sklearn(M, seed):
    rows = np.diff(M.indptr) > 0
    cols = np.bincount(M.indices, minlength=M.shape[1]) > 0
    sub = M[rows][:, cols].astype(np.float64)
    t = time.perf_counter()
    sc = SpectralCoclustering(10, random_state=seed).fit(sub)
    dt = time.perf_counter() - t
    lab = np.zeros(M.shape[0], dtype=np.int64)
    lab[rows] = sc.row_labels_
    return lab, dt


def run_case(
    case, ratio, sigma, seed, repeat, sklearn, soft_sweeps, n_init, soft_beta=1.0, n_jobs=None
):
    n, m, e = SIZES[case]
    t = time.perf_counter()
    ds = dataset(n, m, e, ratio, sigma, seed)
    t_gen = time.perf_counter() - t
    M = ds.purchases
    truth = ds.truth
    t = time.perf_counter()
    oracle = ari(oracle_labels(ds), truth.people_labels)
    t_oracle = time.perf_counter() - t
    DCSBM(10, 10, random_state=0).fit(M[:5000])  # compiled kernels loaded from the cache
    t_fit, t_sk, fits, sks = [], [], [], []
    for r in range(repeat):
        gc.collect()
        t = time.perf_counter()
        est = DCSBM(
            10,
            10,
            random_state=r,
            soft_sweeps=soft_sweeps,
            n_init=n_init,
            soft_beta=soft_beta,
            n_jobs=n_jobs,
        ).fit(M)
        t_fit.append(time.perf_counter() - t)
        fits.append(est)
        if sklearn:
            gc.collect()
            lab, dt = run_sklearn(M, r)
            t_sk.append(dt)
            sks.append(ari(lab, truth.people_labels))
    est = fits[0]
    ceil = DCSBM(
        10,
        10,
        init=(truth.people_labels, truth.item_labels),
        soft_sweeps=soft_sweeps,
        soft_beta=soft_beta,
    ).fit(M)
    row = {
        "case": case,
        "n_people": n,
        "n_items": m,
        "nnz": int(M.nnz),
        "ratio": ratio,
        "sigma": sigma,
        "seed": seed,
        "soft_sweeps": soft_sweeps,
        "soft_beta": soft_beta,
        "n_init": n_init,
        "n_jobs": n_jobs,
        "t_generate": round(t_gen, 2),
        "oracle_ari": round(oracle, 4),
        "t_oracle": round(t_oracle, 2),
        "dcsbm_ari": round(
            float(np.median([ari(f.row_labels_, truth.people_labels) for f in fits])), 4
        ),
        "dcsbm_col_ari": round(ari(est.column_labels_, truth.item_labels), 4),
        "truth_start_ari": round(ari(ceil.row_labels_, truth.people_labels), 4),
        "t_dcsbm": round(statistics.median(t_fit), 2),
        "n_iter": est.n_iter_,
    }
    row["fraction_of_oracle"] = round(row["dcsbm_ari"] / row["oracle_ari"], 3)
    row["fraction_of_truth_start"] = round(row["dcsbm_ari"] / row["truth_start_ari"], 3)
    if sklearn:
        row["sklearn_ari"] = round(float(np.median(sks)), 4)
        row["t_sklearn"] = round(statistics.median(t_sk), 2)
        row["time_ratio"] = round(row["t_dcsbm"] / row["t_sklearn"], 3)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", choices=SIZES, default="medium")
    p.add_argument("--ratios", default="10,4,3")
    p.add_argument(
        "--sigma", type=float, default=0.5, help="lognormal sigma of activity and popularity"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--soft-sweeps", type=int, default=3)
    p.add_argument("--soft-beta", type=float, default=1.0)
    p.add_argument("--n-jobs", type=int, default=None)
    p.add_argument("--n-init", type=int, default=3)
    p.add_argument("--no-sklearn", action="store_true")
    p.add_argument("--json", help="also write the rows to this file")
    a = p.parse_args()
    rows = []
    for r in (float(x) for x in a.ratios.split(",")):
        row = run_case(
            a.case,
            r,
            a.sigma,
            a.seed,
            a.repeat,
            not a.no_sklearn,
            a.soft_sweeps,
            a.n_init,
            a.soft_beta,
            a.n_jobs,
        )
        print(json.dumps(row), flush=True)
        rows.append(row)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
