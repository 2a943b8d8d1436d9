"""A study on a local Dask cluster of 2 workers against one machine, in the same run.

``python benchmarks/bench_dask.py`` (10^6 people x 10^5 items, about 2*10^7 purchases) or
``--full`` (10^7 x 10^6, about 2*10^8). Planted spec: 10 x 10 clusters, 20 purchases per
person, no events. Steps, each timed on both sides:

1. generate: the workers write a sharded directory (``generate_dask(out=DIR)``) / one
   machine's ``fastbip.generate``;
2. block counts under the true labels: ``block_counts_dask`` reading the shards from the
   directory on the workers / ``block_counts``;
3. a fit: ``dcsbm_sweeps_dask`` from a start (the truth with 30% of the labels on each
   side redrawn at random, seed 0) / ``DCSBM(init=start, soft_sweeps=0)``.

The client's resident memory (psutil RSS of this process, sampled every 10 ms) is recorded
during the Dask phase, which runs first, against the dataset's size (the shards' bytes on
disk). Then one machine runs, and the results are compared: every shard equal to the rows
of the local matrix (indptr, indices, data), block counts equal, the fit's labels, omega and
log-likelihood equal. Prints one table; ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil


class PeakRSS:
    """The peak resident memory of this process while in the block (bytes)."""

    def __enter__(self):
        self._proc = psutil.Process()
        self.base = self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def _start(want_a, want_b, ka, kb, p=0.3, seed=0):
    rng = np.random.default_rng(seed)
    a = np.where(rng.random(want_a.size) < p, rng.integers(0, ka, want_a.size), want_a)
    b = np.where(rng.random(want_b.size) < p, rng.integers(0, kb, want_b.size), want_b)
    return a.astype(np.int64), b.astype(np.int64)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="10^7 x 10^6 (about 2*10^8 purchases)")
    ap.add_argument("--n-people", type=float, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", default=None, help="where to write the sharded dataset")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    n = int(args.n_people or (1e7 if args.full else 1e6))
    m = n // 10

    import distributed

    from fastbip import generate, planted_spec
    from fastbip.algorithms import DCSBM
    from fastbip.blocks import block_counts
    from fastbip.distributed import block_counts_dask, dcsbm_sweeps_dask, generate_dask
    from fastbip.io.sharded import load_sharded

    spec = planted_spec(n, m, 10, 10, mean_purchases=20.0, seed=1)
    out = Path(args.dir or tempfile.mkdtemp(prefix="fastbip-dask-")) / f"sharded-{n}"
    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    t_dask = {}
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        sds = generate_dask(spec, client=client, out=out)
        t_dask["generate"] = time.perf_counter() - t0
        sds = load_sharded(out)
        a_true, b_true = sds.truth.people_labels, sds.truth.item_labels
        t0 = time.perf_counter()
        C_dask = block_counts_dask(sds, a_true, b_true, client=client)
        t_dask["block counts"] = time.perf_counter() - t0
        start = _start(a_true, b_true, 10, 10)
        t0 = time.perf_counter()
        fit_dask = dcsbm_sweeps_dask(sds, 10, 10, start, client=client)
        t_dask["fit"] = time.perf_counter() - t0
    client.close()
    cluster.close()
    data_bytes = sum(p.stat().st_size for p in out.glob("shard-*/*.npy"))

    t_one = {}
    t0 = time.perf_counter()
    ds = generate(spec)
    t_one["generate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    C_one = block_counts(ds.purchases, a_true, b_true)
    t_one["block counts"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit_one = DCSBM(10, 10, init=start, soft_sweeps=0).fit(ds.purchases)
    t_one["fit"] = time.perf_counter() - t0

    M = ds.purchases
    same_shards = True
    for i, entry in enumerate(sds.shards):
        r0, r1 = entry["rows"]
        S = sds.read_shard(i)[0]
        lo, hi = M.indptr[r0], M.indptr[r1]
        same_shards &= bool(
            np.array_equal(S.indptr, M.indptr[r0 : r1 + 1] - lo)
            and np.array_equal(S.indices, M.indices[lo:hi])
            and np.array_equal(S.data, M.data[lo:hi])
        )
    same = {
        "shards": same_shards,
        "block counts": bool(np.array_equal(C_dask, C_one)),
        "fit": bool(
            np.array_equal(fit_dask.row_labels_, fit_one.row_labels_)
            and np.array_equal(fit_dask.column_labels_, fit_one.column_labels_)
            and np.array_equal(fit_dask.omega_, fit_one.omega_)
            and fit_dask.log_likelihood_ == fit_one.log_likelihood_
        ),
    }
    rows_per_shard = int(np.diff(sds.row_bounds).max())
    figures = {
        "n_people": n,
        "n_items": m,
        "purchases": int(sds.n_purchases),
        "nnz": int(sds.nnz),
        "shards": sds.n_shards,
        "rows_per_shard": rows_per_shard,
        "workers": args.workers,
        "dataset_bytes": int(data_bytes),
        "client_rss_base": int(rss.base),
        "client_rss_peak": int(rss.peak),
        "client_rss_growth": int(rss.peak - rss.base),
        "sweeps": int(fit_dask.n_iter_),
        "seconds_dask": t_dask,
        "seconds_one_machine": t_one,
        "equal": same,
    }
    print(
        f"{n:,} people x {m:,} items, {sds.n_purchases:,} purchases in {sds.nnz:,} pairs; "
        f"{sds.n_shards} shards of up to {rows_per_shard:,} rows on {args.workers} workers; "
        f"dataset {data_bytes / 2**20:,.0f} MiB on disk"
    )
    print(f"{'step':<14}{'dask (s)':>10}{'one machine (s)':>17}{'ratio':>8}  equal")
    for k in t_dask:
        eq = same["shards"] if k == "generate" else same[k]
        print(f"{k:<14}{t_dask[k]:>10.2f}{t_one[k]:>17.2f}{t_dask[k] / t_one[k]:>8.2f}  {eq}")
    print(
        f"client RSS: {rss.base / 2**20:,.0f} MiB at start, peak {rss.peak / 2**20:,.0f} MiB "
        f"(+{(rss.peak - rss.base) / 2**20:,.0f} MiB = "
        f"{100 * (rss.peak - rss.base) / data_bytes:.1f}% of the dataset); "
        f"fit: {fit_dask.n_iter_} sweeps"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    if not args.dir:
        import shutil

        shutil.rmtree(out.parent, ignore_errors=True)
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
