"""A billion purchases: 10^7 people x 10^6 items x 10^9 expected purchases, into CSR.

    python benchmarks/billion.py                      # the full run (about 8.5 GB of output)
    python benchmarks/billion.py --people 1e6 --items 1e5 --purchases 1e8   # smaller

Records the wall time of ``sample_purchases``, the peak resident memory during the call
(sampled every 5 ms by a thread, and the kernel's high-water mark ``ru_maxrss``), the
resident memory just before the call (the baseline: interpreter, numba, the inputs), and
the bytes of the result's arrays. Check ``free -g`` first: nothing else big should run.
Clusters: 20 x 15, diagonal relation (10x denser pairs), lognormal(sigma=1) activity and
popularity, built with numpy here.
"""

from __future__ import annotations

import argparse
import json
import resource
import threading
import time

import numba
import numpy as np
import psutil

from fastbip.generate import sample_purchases


def build_case(n, m, total, ka=20, kb=15, seed=0):
    rng = np.random.default_rng(seed)
    a = (np.arange(n) % ka).astype(np.int32)
    rng.shuffle(a)
    b = (np.arange(m) % kb).astype(np.int32)
    rng.shuffle(b)
    theta = rng.lognormal(-0.5, 1.0, n)
    phi = rng.lognormal(-0.5, 1.0, m)
    theta /= np.bincount(a, weights=theta, minlength=ka)[a]
    phi /= np.bincount(b, weights=phi, minlength=kb)[b]
    w = np.ones((ka, kb))
    w[np.arange(ka), np.arange(ka) % kb] = 10.0
    raw = w * np.outer(np.bincount(a, minlength=ka), np.bincount(b, minlength=kb))
    return a, b, theta, phi, raw * (total / raw.sum())


class PeakRSS:
    """Samples this process's resident memory in a background thread."""

    def __init__(self, every=0.005):
        self.proc = psutil.Process()
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.every)

    def __enter__(self):
        self.peak = self.proc.memory_info().rss
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--people", type=float, default=1e7)
    p.add_argument("--items", type=float, default=1e6)
    p.add_argument("--purchases", type=float, default=1e9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the figures to this file")
    args = p.parse_args()
    n, m, total = int(args.people), int(args.items), float(args.purchases)

    t0 = time.perf_counter()
    small = build_case(1000, 1000, 1e4)
    sample_purchases(*small, seed=0)  # compile or load the numba cache
    t_first = time.perf_counter() - t0
    case = build_case(n, m, total, seed=args.seed)
    baseline = psutil.Process().memory_info().rss
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with PeakRSS() as peak:
        t0 = time.perf_counter()
        M = sample_purchases(*case, seed=args.seed)
        seconds = time.perf_counter() - t0
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out_bytes = M.data.nbytes + M.indices.nbytes + M.indptr.nbytes
    purchases = int(M.data.sum(dtype=np.int64))
    res = {
        "people": n,
        "items": m,
        "expected_purchases": total,
        "purchases": purchases,
        "nnz": int(M.nnz),
        "threads": numba.get_num_threads(),
        "index_dtype": str(M.indices.dtype),
        "seconds": round(seconds, 2),
        "purchases_per_s": purchases / seconds,
        "first_small_call_s": round(t_first, 2),
        "output_bytes": out_bytes,
        "baseline_rss": baseline,
        "peak_rss_sampled": peak.peak,
        "peak_rss_maxrss": max(maxrss, peak.peak) if maxrss > maxrss_before else peak.peak,
    }
    res["peak_over_baseline_per_output"] = (res["peak_rss_maxrss"] - baseline) / out_bytes
    r = min(n, 10000)
    rows = np.repeat(np.arange(r), np.diff(M.indptr[: r + 1]))
    same = rows[1:] == rows[:-1]
    res["first_rows_sorted_unique"] = bool(np.all(np.diff(M.indices[: M.indptr[r]])[same] > 0))
    for k, v in res.items():
        print(f"{k:32s} {v:,}" if type(v) is int else f"{k:32s} {v}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
