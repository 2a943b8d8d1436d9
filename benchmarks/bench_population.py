"""Populations: 10^7 people with four features (three numeric joined by a per-cluster
Gaussian copula, one categorical) against a plain numpy reference in the same process.

    pytest benchmarks/bench_population.py
    python benchmarks/bench_population.py [N]

Reference: per cluster ``rng.multivariate_normal(mean, cov, size)`` for the numeric
features and ``rng.choice(categories, p=probs, size)`` for the categorical one, members
stored cluster by cluster (no shuffle): what a user writes by hand. It draws only normal
marginals, so it does less work than fastbip, which also shuffles members, maps marginals
(normal, lognormal, clip, round) and draws exact cluster sizes.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import pytest

from fastbip.generate.population import cluster_sizes, generate_population
from fastbip.spec import default_spec

N = 10_000_000


def reference(spec, rng):
    numeric = spec.numeric_features
    sizes = cluster_sizes(spec.n, spec.shares)
    out = []
    for cl, m in zip(spec.clusters, sizes, strict=True):
        corr = np.asarray(cl.correlation)
        x = rng.multivariate_normal(np.zeros(len(numeric)), corr, size=m)
        probs = np.asarray(cl.distribution("postcode").probs)
        c = rng.choice(len(probs), p=probs / probs.sum(), size=m)
        out.append((x, c))
    return out


def measure(n=N, repeats=3):
    spec = default_spec(n_people=n).people
    ours, ref = [], []
    for r in range(repeats):  # interleaved, so the machine's load hits both alike
        t = time.perf_counter()
        generate_population(spec, "people", r)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        reference(spec, np.random.default_rng(r))
        ref.append(time.perf_counter() - t)
    return statistics.median(ours), statistics.median(ref)


@pytest.mark.benchmark(group="population")
def test_population_ten_million(benchmark):
    ours, ref = measure(N, repeats=3)
    benchmark.extra_info.update(
        {
            "n": N,
            "fastbip_s": ours,
            "numpy_multivariate_normal_s": ref,
            "ratio": ref / ours,
            "members_per_s": N / ours,
        }
    )
    spec = default_spec(n_people=N).people
    pop = benchmark.pedantic(generate_population, args=(spec, "people", 0), rounds=1, iterations=1)
    assert pop.n == N and np.bincount(pop.labels).tolist() == cluster_sizes(N, spec.shares).tolist()
    assert ours < 60, "10^7 people must take seconds, not minutes"


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N
    ours, ref = measure(n)
    print(
        f"n={n:,}: fastbip {ours:.2f} s ({n / ours:.3g} members/s), numpy "
        f"multivariate_normal reference {ref:.2f} s, ratio {ref / ours:.2f}x"
    )
