"""A study from the command line on a local Dask cluster of 2 workers against one machine.

``python benchmarks/bench_dask.py`` (10^6 people x 10^5 items, about 2*10^7 purchases) or
``--full`` (10^7 x 10^6, about 2*10^8). Planted spec (``fastbip generate --planted``):
10 x 10 clusters, 20 purchases per person, no events. The Dask side is the command line
itself, run in this process against one LocalCluster (``--scheduler ADDRESS``):

1. ``fastbip generate --planted ... --out DIR --scheduler ADDRESS``: the workers make the
   plan and the shards and write a sharded directory;
2. ``fastbip report DIR --out PAGE --scheduler ADDRESS``: the DCSBM fit from its spectral
   start on the shards (``dcsbm_fit_dask``), block counts under the planted truth, the
   recovery of the truth, the labels written by the workers, the page.

One machine, in the same run afterwards: ``fastbip.generate``, ``block_counts`` under the
truth, ``DCSBM(10, 10, svd_solver="randomized", soft_sweeps=0, refine=None,
random_state=0).fit`` (the distributed fit's arithmetic) and, for comparison, the default
Lanczos start ``DCSBM(10, 10, soft_sweeps=0, refine=None, random_state=0)`` (``--no-arpack``
skips it).

The client's resident memory (psutil RSS of this process, sampled every 10 ms in a thread,
minus its value before the first command, once the page's plotting libraries are imported:
a fixed cost that does not grow with the data) is recorded over the whole Dask side, against
the dataset's size (the shards' bytes on disk). The results are compared: every shard equal to
the rows of the local matrix (indptr, indices, data), block counts equal; the fit's labels
, omega and log-likelihood equal bit for bit ("fit"); against the Lanczos start, the
adjusted Rand index between the fits and the relative difference of the log-likelihoods.
Prints one table; ``--json FILE`` writes the figures.
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="10^7 x 10^6 (about 2*10^8 purchases)")
    ap.add_argument("--n-people", type=float, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", default=None, help="where to write the sharded dataset")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-arpack", action="store_true", help="skip the Lanczos-start fit")
    args = ap.parse_args(argv)
    n = int(args.n_people or (1e7 if args.full else 1e6))
    m = n // 10

    import distributed

    from fastbip import generate
    from fastbip._cli_args import _spec_from_args
    from fastbip.algorithms import DCSBM
    from fastbip.blocks import block_counts
    from fastbip.cli import build_parser
    from fastbip.cli import main as cli
    from fastbip.io.sharded import load_sharded
    from fastbip.metrics import adjusted_rand

    work = Path(args.dir or tempfile.mkdtemp(prefix="fastbip-dask-"))
    out = work / f"sharded-{n}"
    page = work / f"report-{n}.html"
    size = ["--planted", "--n-people", str(n), "--n-items", str(m), "--seed", "1"]
    size += ["--k-people", "10", "--k-items", "10", "--mean-purchases", "20"]
    spec = _spec_from_args(build_parser().parse_args(["generate", *size, "--out", "x"]))
    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    address = cluster.scheduler_address
    t_dask = {}
    # the page's plotting and template libraries are imported before the baseline: a fixed
    # ~30 MiB whatever the data's size (the figure is about what the client holds of it)
    import matplotlib.pyplot  # noqa: F401

    import fastbip.report.sharded  # noqa: F401

    with PeakRSS() as rss:
        t0 = time.perf_counter()
        assert cli(["generate", *size, "--out", str(out), "--scheduler", address]) == 0
        t_dask["generate"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert cli(["report", str(out), "--out", str(page), "--scheduler", address]) == 0
        t_dask["report (all)"] = time.perf_counter() - t0
    cluster.close()
    facts = json.loads((page.with_suffix("") / "results.json").read_text())
    t_dask["block counts"] = facts["seconds"]["block counts"]
    t_dask["fit"] = facts["seconds"]["fit"]
    data_bytes = sum(p.stat().st_size for p in out.glob("shard-*/*.npy"))
    base_bytes = (out / "base.fbp").stat().st_size

    t_one = {}
    t0 = time.perf_counter()
    ds = generate(spec)
    t_one["generate"] = time.perf_counter() - t0
    a_true, b_true = ds.truth.people_labels, ds.truth.item_labels
    t0 = time.perf_counter()
    C_one = block_counts(ds.purchases, a_true, b_true)
    t_one["block counts"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit_one = DCSBM(
        10, 10, svd_solver="randomized", soft_sweeps=0, refine=None, random_state=0
    ).fit(ds.purchases)
    t_one["fit"] = time.perf_counter() - t0
    fit_arpack = None
    if not args.no_arpack:
        t0 = time.perf_counter()
        fit_arpack = DCSBM(10, 10, soft_sweeps=0, refine=None, random_state=0).fit(ds.purchases)
        t_one["fit, Lanczos start"] = time.perf_counter() - t0

    sds = load_sharded(out)
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
    labels_dir = page.with_suffix("") / "row_labels"
    rows = np.concatenate([np.load(p) for p in sorted(labels_dir.glob("*.npy"))])
    cols = np.load(page.with_suffix("") / "column_labels.npy")
    same = {
        "shards": same_shards,
        "block counts": bool(np.array_equal(np.asarray(facts["truth_block_counts"]), C_one)),
        "fit": bool(
            np.array_equal(rows, fit_one.row_labels_)
            and np.array_equal(cols, fit_one.column_labels_)
            and np.array_equal(np.asarray(facts["omega"]), fit_one.omega_)
            and facts["log_likelihood"] == fit_one.log_likelihood_
            and facts["n_iter"] == fit_one.n_iter_
        ),
    }
    # against the default Lanczos start: the same partitions but for members near a boundary
    ari_fits, ll_rel = (np.nan, np.nan), np.nan
    if fit_arpack is not None:
        ari_fits = (
            adjusted_rand(fit_arpack.row_labels_, rows),
            adjusted_rand(fit_arpack.column_labels_, cols),
        )
        ll_rel = (facts["log_likelihood"] - fit_arpack.log_likelihood_) / abs(
            fit_arpack.log_likelihood_
        )
    rows_per_shard = int(np.diff(sds.row_bounds).max())
    growth = rss.peak - rss.base
    figures = {
        "n_people": n,
        "n_items": m,
        "purchases": int(sds.n_purchases),
        "nnz": int(sds.nnz),
        "shards": sds.n_shards,
        "rows_per_shard": rows_per_shard,
        "workers": args.workers,
        "dataset_bytes": int(data_bytes),
        "base_bytes": int(base_bytes),
        "client_rss_base": int(rss.base),
        "client_rss_peak": int(rss.peak),
        "client_rss_growth": int(growth),
        "sweeps": int(facts["n_iter"]),
        "sweeps_one_machine": int(fit_one.n_iter_),
        "ari_people": facts["ari_people"],
        "seconds_dask": t_dask,
        "seconds_one_machine": t_one,
        "equal": same,
        "ari_against_lanczos_start": ari_fits,
        "loglik_relative_difference": ll_rel,
        "load": os.getloadavg(),
    }
    print(
        f"{n:,} people x {m:,} items, {sds.n_purchases:,} purchases in {sds.nnz:,} pairs; "
        f"{sds.n_shards} shards of up to {rows_per_shard:,} rows on {args.workers} workers; "
        f"dataset {data_bytes / 2**20:,.0f} MiB on disk (+ base {base_bytes / 2**20:,.0f} MiB)"
    )
    print(f"{'step':<14}{'dask (s)':>10}{'one machine (s)':>17}{'ratio':>8}  equal")
    for k in ("generate", "block counts", "fit"):
        eq = same["shards"] if k == "generate" else same[k]
        print(f"{k:<14}{t_dask[k]:>10.2f}{t_one[k]:>17.2f}{t_dask[k] / t_one[k]:>8.2f}  {eq}")
    print(f"{'report (all)':<14}{t_dask['report (all)']:>10.2f}  (fit, counts, labels, page)")
    if fit_arpack is not None:
        print(
            f"against the Lanczos start ({t_one['fit, Lanczos start']:.1f} s): ARI people "
            f"{ari_fits[0]:.4f}, items {ari_fits[1]:.4f}, log-likelihood {ll_rel:+.1e} relative"
        )
    print(
        f"client RSS: {rss.base / 2**20:,.0f} MiB at start, peak {rss.peak / 2**20:,.0f} MiB "
        f"(+{growth / 2**20:,.0f} MiB = {100 * growth / data_bytes:.1f}% of the dataset); "
        f"fit: {facts['n_iter']} sweeps (one machine {fit_one.n_iter_}), "
        f"ARI people {facts['ari_people']:.4f}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    if not args.dir:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
