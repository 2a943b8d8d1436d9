"""ARI / AMI / NMI at 10^7 labels: fastbip.metrics against scikit-learn in the same run.

``pytest benchmarks/bench_metrics.py`` or ``python benchmarks/bench_metrics.py``; the size is
set by ``FASTBIP_BENCH_LABELS`` (default 1e7).
"""

from __future__ import annotations

import os
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


if __name__ == "__main__":
    main()
