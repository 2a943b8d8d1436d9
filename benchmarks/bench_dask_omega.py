"""estimate_omega on shards (labels on the workers) against one machine, with the client's
memory.

``python benchmarks/bench_dask_omega.py`` (10^6 people x 10^5 items, about 2*10^7
purchases; ``--n-people`` to change it). Planted spec as ``bench_dask.py``'s (10 x 10
clusters, 20 purchases per person). A LocalCluster of 2 worker processes (1 thread each)
writes a sharded directory (``--in-memory``: keeps the shards); then, in this process:

1. ``estimate_omega_dask(sds, "truth")``: the planted labels read on the workers, theta
   kept there (a ShardedVector); the client's resident memory (psutil RSS sampled every
   10 ms, minus its value before the call) is recorded over the call;
2. the same with the labels given as arrays here (theta comes back), for comparison;
3. one machine: the dataset gathered, ``estimate_omega(M, a, b)``.

The results are compared exactly (omega, theta, phi, both log-likelihoods: ``==``).
Prints one table; ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_dask import PeakRSS  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-people", type=float, default=1e6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", default=None, help="where to write the sharded dataset")
    ap.add_argument("--in-memory", action="store_true", help="shards in worker memory")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    n = int(args.n_people)
    m = n // 10

    import distributed

    from fastbip.blocks import estimate_omega
    from fastbip.distributed import estimate_omega_dask, generate_dask
    from fastbip.spec import planted_spec

    spec = planted_spec(n, m, 10, 10, mean_purchases=20, seed=1)
    work = Path(args.dir or tempfile.mkdtemp(prefix="fastbip-omega-"))
    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    out = None if args.in_memory else work / f"sharded-{n}"
    sds = generate_dask(spec, client=client, out=out)
    data_bytes = (
        sum(p.stat().st_size for p in sds.path.glob("shard-*/*.npy"))
        if out is not None
        else int(sds.nnz) * 8 + (n + sds.n_shards) * 8  # int32 indices and data, indptr
    )
    estimate_omega_dask(sds, "truth", client=client).release()  # warm the workers
    t = {}
    with PeakRSS() as rss_w:
        t0 = time.perf_counter()
        got_w = estimate_omega_dask(sds, "truth", client=client)
        t["dask, labels on the workers"] = time.perf_counter() - t0
    ds = sds.to_dataset()  # one machine's data, and the labels here
    M, a, b = ds.purchases, ds.truth.people_labels, ds.truth.item_labels
    with PeakRSS() as rss_h:
        t0 = time.perf_counter()
        got_h = estimate_omega_dask(sds, a, b, client=client)
        t["dask, labels here"] = time.perf_counter() - t0
    estimate_omega(M, a, b)  # warm the kernels (the chunked one compiles on first use)
    t0 = time.perf_counter()
    want = estimate_omega(M, a, b)
    t["one machine"] = time.perf_counter() - t0
    local_w = got_w.to_local()
    client.close()
    cluster.close()

    def same(x):
        return bool(
            all(np.array_equal(getattr(x, k), getattr(want, k)) for k in ("omega", "phi"))
            and np.array_equal(x.theta, want.theta, equal_nan=True)
            and x.log_likelihood == want.log_likelihood
            and x.profile_log_likelihood == want.profile_log_likelihood
        )

    figures = {
        "n_people": n,
        "n_items": m,
        "nnz": int(sds.nnz),
        "shards": sds.n_shards,
        "workers": args.workers,
        "dataset_bytes": int(data_bytes),
        "seconds": t,
        "client_rss_growth_labels_on_workers": int(rss_w.peak - rss_w.base),
        "client_rss_growth_labels_here": int(rss_h.peak - rss_h.base),
        "equal_labels_on_workers": same(local_w),
        "equal_labels_here": same(got_h),
        "load": os.getloadavg(),
    }
    print(
        f"{n:,} people x {m:,} items, {sds.nnz:,} pairs in {sds.n_shards} shards on "
        f"{args.workers} workers; dataset {data_bytes / 2**20:,.0f} MiB "
        f"{'in worker memory (about)' if out is None else 'on disk'}"
    )
    print(f"{'estimate_omega':<30}{'s':>8}{'client RSS growth (MiB)':>26}  equal (==)")
    rows = [
        ("dask, labels on the workers", rss_w, figures["equal_labels_on_workers"]),
        ("dask, labels here", rss_h, figures["equal_labels_here"]),
        ("one machine", None, True),
    ]
    for name, rss, eq in rows:
        grow = "" if rss is None else f"{(rss.peak - rss.base) / 2**20:,.1f}"
        print(f"{name:<30}{t[name]:>8.2f}{grow:>26}  {eq}")
    print(f"load average {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
