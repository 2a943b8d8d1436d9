"""Agglomerative clustering at scale: exact against two-stage, and a million people.

As a pytest-benchmark file (``pytest benchmarks/bench_agglomerative.py``):

- ``test_two_stage_vs_exact[linkage]``: 10^4 people, 3 features; times the two-stage method
  against exact scikit-learn measured in the same run, records both times, their ratio and
  the ARI between the two (and each against the planted labels) in ``extra_info``.
- ``test_million[linkage]``: 10^6 people, 3 features, two-stage; reference: scikit-learn's
  KMeans with the same number of clusters on the same data in the same run.

As a script (``python benchmarks/bench_agglomerative.py [--n-exact 10000] [--n-big 1000000]
[--repeats 3]``) it prints the same figures as a table (medians over repeats);
``--ref-n 10000000 [--ref /tmp/base39]`` times the two-stage method on 10^7 people against
the implementation of another checkout (default: commit 39bc045 checked out at
``/tmp/base39`` with ``git worktree add /tmp/base39 39bc045``), each run in its own
subprocess on the same data in the same run, and prints the time ratio and the ARI between
the two labellings. ``--study`` runs the same comparison on the built-in study's people
instead (features age,
postcode one-hot, income, something: 11 columns, 4 overlapping clusters).

Data: Gaussian blobs, 5 clusters in 3 dimensions, centres drawn with standard deviation
``spread`` (4: clusters touch; 8: well separated).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score as ari

from fastbip.algorithms.features import Agglomerative

LINKAGES = ["ward", "average", "complete", "single"]


def blobs(n, k=5, p=3, spread=4.0, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=n)
    centres = rng.normal(0.0, spread, size=(k, p))
    return centres[labels] + rng.normal(size=(n, p)), labels


def _fit(X, linkage, method, seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est = Agglomerative(5, linkage=linkage, method=method, random_state=seed).fit(X)
        return est, time.perf_counter() - t0


@pytest.fixture(scope="module")
def data_exact():
    return blobs(10_000, spread=4.0, seed=1)


@pytest.fixture(scope="module")
def data_million():
    return blobs(1_000_000, spread=4.0, seed=2)


@pytest.mark.parametrize("linkage", LINKAGES)
def test_two_stage_vs_exact(benchmark, data_exact, linkage):
    X, truth = data_exact
    exact, t_exact = _fit(X, linkage, "exact")
    approx = benchmark.pedantic(lambda: _fit(X, linkage, "two-stage")[0], rounds=3, iterations=1)
    t_two = benchmark.stats.stats.median if benchmark.stats else float("nan")
    benchmark.extra_info.update(
        {
            "n": X.shape[0],
            "linkage": linkage,
            "exact_seconds": t_exact,
            "two_stage_over_exact_time": t_two / t_exact,
            "ari_exact_vs_two_stage": ari(exact.labels_, approx.labels_),
            "ari_truth_exact": ari(truth, exact.labels_),
            "ari_truth_two_stage": ari(truth, approx.labels_),
        }
    )
    assert approx.method_ == "two-stage" and exact.method_ == "exact"


@pytest.mark.parametrize("linkage", LINKAGES)
def test_million(benchmark, data_million, linkage):
    X, truth = data_million
    t0 = time.perf_counter()
    km = KMeans(5, n_init=1, random_state=0).fit(X)
    t_km = time.perf_counter() - t0
    est = benchmark.pedantic(lambda: _fit(X, linkage, "auto")[0], rounds=1, iterations=1)
    t_two = benchmark.stats.stats.median if benchmark.stats else float("nan")
    benchmark.extra_info.update(
        {
            "n": X.shape[0],
            "linkage": linkage,
            "kmeans_seconds": t_km,
            "two_stage_over_kmeans_time": t_two / t_km,
            "ari_truth_two_stage": ari(truth, est.labels_),
            "ari_truth_kmeans": ari(truth, km.labels_),
        }
    )
    assert est.method_ == "two-stage"


def _study(n_big, n_exact):
    from fastbip import default_spec, generate

    t0 = time.perf_counter()
    big = generate(default_spec(n_people=n_big, seed=0)).people
    k = int(big.labels.max() + 1)
    print(
        f"## built-in study, people: n = {n_big}, {big.feature_matrix().shape[1]} columns, "
        f"{k} clusters (generated in {time.perf_counter() - t0:.1f} s)"
    )
    t0 = time.perf_counter()
    km = KMeans(k, n_init=1, random_state=0).fit(big.feature_matrix())
    print(f"KMeans: {time.perf_counter() - t0:.2f} s, ARI truth {ari(big.labels, km.labels_):.3f}")
    for linkage in LINKAGES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            est = Agglomerative(k, linkage=linkage, random_state=0).fit(big)
        print(
            f"{linkage:8s} {est.method_}: {time.perf_counter() - t0:.2f} s, "
            f"ARI truth {ari(big.labels, est.labels_):.3f}",
            flush=True,
        )
    small = generate(default_spec(n_people=n_exact, seed=0)).people
    print(f"\n## built-in study, people: n = {n_exact}, exact against two-stage")
    print("linkage   exact s  two-stage s  ARI(exact,2s)  ARI truth exact  ARI truth 2s")
    for linkage in LINKAGES:
        t0 = time.perf_counter()
        exact = Agglomerative(k, linkage=linkage).fit(small)
        t_e = time.perf_counter() - t0
        t0 = time.perf_counter()
        approx = Agglomerative(k, linkage=linkage, method="two-stage", random_state=0).fit(small)
        t_t = time.perf_counter() - t0
        agree = ari(exact.labels_, approx.labels_)
        a_e, a_t = ari(small.labels, exact.labels_), ari(small.labels, approx.labels_)
        print(
            f"{linkage:8s}  {t_e:7.2f}  {t_t:11.2f}  {agree:13.3f}  {a_e:15.3f}  {a_t:12.3f}",
            flush=True,
        )


_REF_SCRIPT = """
import sys, time, warnings
import numpy as np
sys.path.insert(0, sys.argv[1])
from fastbip.algorithms.features import Agglomerative
n, linkage, out = int(sys.argv[2]), sys.argv[3], sys.argv[4]
rng = np.random.default_rng(2)
labels = rng.integers(0, 5, size=n)
centres = rng.normal(0.0, 4.0, size=(5, 3))
X = centres[labels] + rng.normal(size=(n, 3))
warnings.simplefilter("ignore")
Agglomerative(5, linkage=linkage, method="two-stage", random_state=0).fit(X[:5000])  # compile
t0 = time.perf_counter()
est = Agglomerative(5, linkage=linkage, method="two-stage", random_state=0).fit(X)
print(time.perf_counter() - t0)
np.save(out, est.labels_)
"""


def compare_ref(n, ref, linkage="ward"):
    """(seconds here, seconds at ``ref``, ARI between the two labellings) on blobs(n)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    times, labels = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k, root in enumerate((here, ref)):
            out = os.path.join(tmp, f"labels{k}.npy")
            res = subprocess.run(
                [sys.executable, "-c", _REF_SCRIPT, root, str(n), linkage, out],
                cwd=root,
                capture_output=True,
                text=True,
            )
            if res.returncode:
                raise RuntimeError(f"the run at {root} failed:\n{res.stderr}")
            times.append(float(res.stdout.strip().splitlines()[-1]))
            labels.append(np.load(out))
    return times[0], times[1], ari(labels[0], labels[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-exact", type=int, default=10_000)
    parser.add_argument("--n-big", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--spreads", type=float, nargs="+", default=[4.0, 8.0])
    parser.add_argument(
        "--study", action="store_true", help="the built-in study's people instead of Gaussian blobs"
    )
    parser.add_argument("--ref-n", type=int, default=0, help="compare with --ref at this n")
    parser.add_argument("--ref", default="/tmp/base39", help="checkout to compare with")
    parser.add_argument("--ref-linkages", nargs="+", default=["ward"])
    args = parser.parse_args()
    if args.ref_n:
        print(f"## two-stage at n = {args.ref_n}, 3 features, 5 clusters: here against {args.ref}")
        print("linkage   here s   ref s  ref/here  ARI(here, ref)")
        for linkage in args.ref_linkages:
            t_here, t_ref, agree = compare_ref(args.ref_n, args.ref, linkage)
            print(f"{linkage:8s} {t_here:7.2f} {t_ref:7.2f} {t_ref / t_here:9.2f}  {agree:14.3f}")
        return
    _fit(blobs(2000)[0], "ward", "two-stage")  # compile the kernels once
    if args.study:
        _study(args.n_big, args.n_exact)
        return

    print(f"## exact against two-stage, n = {args.n_exact}, 3 features, 5 clusters")
    print(
        "spread  linkage   exact s  two-stage s  ratio  ARI(exact,2s)  ARI truth exact  "
        "ARI truth 2s"
    )
    for spread in args.spreads:
        X, truth = blobs(args.n_exact, spread=spread, seed=1)
        for linkage in LINKAGES:
            t_e, t_t, a_et, a_e, a_t = [], [], [], [], []
            for r in range(args.repeats):
                exact, te = _fit(X, linkage, "exact")
                approx, tt = _fit(X, linkage, "two-stage", seed=r)
                t_e.append(te)
                t_t.append(tt)
                a_et.append(ari(exact.labels_, approx.labels_))
                a_e.append(ari(truth, exact.labels_))
                a_t.append(ari(truth, approx.labels_))
            me, mt = np.median(t_e), np.median(t_t)
            print(
                f"{spread:6.1f}  {linkage:8s}  {me:7.2f}  {mt:11.2f}  {mt / me:5.2f}  "
                f"{np.median(a_et):13.3f}  {np.median(a_e):15.3f}  {np.median(a_t):12.3f}",
                flush=True,
            )

    print(f"\n## two-stage at n = {args.n_big}, 3 features, 5 clusters")
    print("spread  linkage   two-stage s (median)  KMeans s  ARI truth 2s  ARI truth KMeans")
    for spread in args.spreads:
        X, truth = blobs(args.n_big, spread=spread, seed=2)
        t0 = time.perf_counter()
        km = KMeans(5, n_init=1, random_state=0).fit(X)
        t_km = time.perf_counter() - t0
        for linkage in LINKAGES:
            ts, aris = [], []
            for r in range(args.repeats):
                est, t = _fit(X, linkage, "auto", seed=r)
                ts.append(t)
                aris.append(ari(truth, est.labels_))
            print(
                f"{spread:6.1f}  {linkage:8s}  {np.median(ts):20.2f}  {t_km:8.2f}  "
                f"{np.median(aris):12.3f}  {ari(truth, km.labels_):16.3f}  "
                f"(max {max(ts):.2f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
