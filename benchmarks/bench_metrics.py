"""ARI / AMI / NMI at 10^7 labels: fastbip.metrics against scikit-learn in the same run.

``pytest benchmarks/bench_metrics.py`` or ``python benchmarks/bench_metrics.py``; the size is
set by ``FASTBIP_BENCH_LABELS`` (default 1e7).

``python benchmarks/bench_metrics.py memory [N] [N_SKLEARN] [N_PEOPLE]`` measures the memory:
each score (and the oracle) runs in a fresh process on N labels (default 1e8) of int32 and
of int64, K = 10; the figure is the peak resident memory during the call above the memory
held before it (``/proc/self/status`` VmHWM after resetting it through
``/proc/self/clear_refs``), divided by the bytes of one label array. scikit-learn runs on
N_SKLEARN labels (default 1e7) in the same run, fastbip once more at that size beside it. The
oracle runs on a dataset of N_PEOPLE people (default 1e7), 10^5 items and 5 purchases per
person, both sides.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn import metrics as skm

from fastbip.metrics import align, score_labels

N = int(float(os.environ.get("FASTBIP_BENCH_LABELS", 1e7)))
K_TRUE, K_FOUND = 20, 25


def make_labels(seed: int = 0):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, K_TRUE, N)
    found = np.where(rng.random(N) < 0.4, true, rng.integers(-1, K_FOUND, N))
    return true, found


def sklearn_scores(true, found):
    return {
        "ari": skm.adjusted_rand_score(true, found),
        "ami": skm.adjusted_mutual_info_score(true, found),
        "nmi": skm.normalized_mutual_info_score(true, found),
    }


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


@pytest.fixture(scope="module")
def labels():
    return make_labels()


def test_score_labels_speed(benchmark, labels):
    true, found = labels
    ours = score_labels(true, found)  # compile outside the timing
    ref, t_sklearn = timed(lambda: sklearn_scores(true, found))
    benchmark(score_labels, true, found)
    if benchmark.stats:
        t = benchmark.stats.stats.median
    else:  # --benchmark-disable: time it here
        t = min(timed(lambda: score_labels(true, found))[1] for _ in range(3))
    err = max(abs(ours[k] - ref[k]) for k in ours)
    benchmark.extra_info.update(
        n=N,
        seconds_sklearn=t_sklearn,
        speedup_vs_sklearn=t_sklearn / t,
        max_abs_diff=err,
        **ours,
    )
    assert err <= 1e-12


def main() -> None:
    true, found = make_labels()
    score_labels(true[:1000], found[:1000])
    ours, t_ours = timed(lambda: score_labels(true, found))
    t_ours = min(t_ours, *(timed(lambda: score_labels(true, found))[1] for _ in range(4)))
    ref, t_ref = timed(lambda: sklearn_scores(true, found))
    per = {}
    for key, fn in (
        ("ari", skm.adjusted_rand_score),
        ("ami", skm.adjusted_mutual_info_score),
        ("nmi", skm.normalized_mutual_info_score),
    ):
        per[key] = timed(lambda fn=fn: fn(true, found))[1]
    _, t_align = timed(lambda: align(true, found))
    err = max(abs(ours[k] - ref[k]) for k in ours)
    print(f"n = {N}, {K_TRUE} true x {K_FOUND}+1 found clusters")
    print(f"fastbip score_labels (ARI+AMI+NMI): {t_ours:.3f} s (best of 5)")
    print(
        f"sklearn ARI+AMI+NMI: {t_ref:.2f} s (ARI {per['ari']:.2f}, AMI {per['ami']:.2f}, "
        f"NMI {per['nmi']:.2f}); fastbip is {t_ref / t_ours:.0f}x"
    )
    print(f"align (Hungarian on the table): {t_align:.3f} s")
    print(f"scores {ours}; max |fastbip - sklearn| = {err:.2e}")


# --- memory ----------------------------------------------------------------------------------

_CASE = r"""
import sys, time
import numpy as np

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

what, n, dtype = sys.argv[1], int(float(sys.argv[2])), np.dtype(sys.argv[3])
k = 10
rng = np.random.default_rng(0)
if what.startswith("oracle"):
    from types import SimpleNamespace
    import scipy.sparse as sp
    from fastbip.truth import oracle_labels

    n_items, per = 10**5, 5
    a = rng.integers(0, k, n, dtype=np.int64).astype(dtype)
    b = rng.integers(0, k, n_items, dtype=np.int64).astype(dtype)
    indptr = np.arange(n + 1, dtype=np.int64) * per
    indices = rng.integers(0, n_items, n * per, dtype=np.int32)
    M = sp.csr_matrix((np.ones(n * per, dtype=np.int32), indices, indptr), shape=(n, n_items))
    M.sum_duplicates()  # canonical, as generated purchases are
    omega = 1.0 + 4.0 * np.eye(k)
    truth = SimpleNamespace(omega=omega, theta=np.full(n, k / n), phi=np.full(n_items, k / n_items),
                            people_labels=a, item_labels=b)
    data = SimpleNamespace(purchases=M, truth=truth)
    side = what.split("_")[1]
    small = SimpleNamespace(purchases=M[:1000], truth=SimpleNamespace(
        omega=omega, theta=truth.theta[:1000], phi=truth.phi, people_labels=a[:1000],
        item_labels=b))
    oracle_labels(small, side)  # compile (the small and the large path) outside the figure
    oracle_labels(SimpleNamespace(purchases=M[:200_000], truth=SimpleNamespace(
        omega=omega, theta=truth.theta[:200_000], phi=truth.phi, people_labels=a[:200_000],
        item_labels=b)), side)
    run = lambda: oracle_labels(data, side)
    label_bytes = (n if side == "people" else n_items) * dtype.itemsize
    data_bytes = M.data.nbytes + M.indices.nbytes + M.indptr.nbytes
else:
    true = rng.integers(0, k, n, dtype=np.int64).astype(dtype)
    noise = rng.integers(-1, k, n, dtype=np.int64).astype(dtype)
    found = np.where(rng.random(n) < 0.4, true, noise)
    del noise
    if what.startswith("sklearn"):
        from sklearn import metrics as skm
        fn = {"sklearn_ari": skm.adjusted_rand_score, "sklearn_ami": skm.adjusted_mutual_info_score,
              "sklearn_nmi": skm.normalized_mutual_info_score}[what]
    else:
        from fastbip import metrics as fm
        fn = {"ari": fm.adjusted_rand, "ami": fm.adjusted_mutual_info,
              "nmi": fm.normalized_mutual_info, "score_labels": fm.score_labels}[what]
        fn(true[:1000], found[:1000])  # compile outside the figure
    run = lambda: fn(true, found)
    label_bytes = true.nbytes
    data_bytes = 0
base = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")
t = time.perf_counter()
run()
t = time.perf_counter() - t
print(t, status("VmHWM") - base, label_bytes, data_bytes)
"""


def memory_case(what: str, n: float, dtype: str) -> tuple[float, float, float]:
    """(seconds, peak extra memory / bytes of one label array, peak / bytes of the purchases
    or NaN) of one case, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _CASE, what, str(n), dtype],
        capture_output=True,
        text=True,
        check=True,
        # every allocation of 64 KiB or more maps its own pages: none reuses memory freed
        # while the inputs were built (that would read as no memory at all)
        env=dict(os.environ, PYTHONPATH=os.getcwd(), MALLOC_MMAP_THRESHOLD_="65536"),
    )
    t, peak, nbytes, data_bytes = (float(x) for x in out.stdout.split())
    return t, peak / nbytes, peak / data_bytes if data_bytes else float("nan")


def memory_main(n: float, n_sklearn: float, n_people: float) -> None:
    print(
        f"peak memory during the call / bytes of one label array, K = 10 (uptime: "
        f"{os.getloadavg()[0]:.2f})"
    )
    print("| call | labels | dtype | seconds | peak / labels | peak / purchases |")
    print("|---|---|---|---|---|---|")
    rows = [(w, n, d) for w in ("ari", "ami", "nmi", "score_labels") for d in ("int32", "int64")]
    rows += [(w, n_sklearn, "int64") for w in ("ari", "ami", "nmi")]
    rows += [("sklearn_" + w, n_sklearn, "int64") for w in ("ari", "ami", "nmi")]
    rows += [
        (f"oracle_{side}", n_people, d) for side in ("people", "items") for d in ("int32", "int64")
    ]
    for what, size, dtype in rows:
        t, ratio, per_data = memory_case(what, size, dtype)
        print(
            f"| {what} | {size:.0e} | {dtype} | {t:.2f} | {ratio:.3f} | {per_data:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["memory"]:
        args = [float(x) for x in sys.argv[2:]]
        memory_main(*(args + [1e8, 1e7, 1e7][len(args) :]))
    else:
        main()
