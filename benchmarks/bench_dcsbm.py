"""Block-model fit against scikit-learn's SpectralCoclustering, scored against the oracle.

``pytest benchmarks/bench_dcsbm.py`` times ``DCSBM.fit`` on planted data (10 x 10 clusters,
lognormal activity and popularity with sigma 0.5, diagonal block pairs ``ratio`` times denser)
and records in ``extra_info``: the row ARI of the fit, of the oracle and of scikit-learn's
SpectralCoclustering on the same matrix, the fraction of the oracle reached, and the median
time of scikit-learn measured in the same run with the ratio of the two. The size is set by
``FASTBIP_BENCH_PEOPLE`` (default 10^5; items n/5, 20 purchases per person).

The full table (all sizes, the fit started from the truth) comes from
``python benchmarks/recovery_targets.py``.
"""

import os
import statistics
import time

import numpy as np
import pytest
from sklearn.cluster import SpectralCoclustering
from sklearn.metrics import adjusted_rand_score as ari

from fastbip import generate, oracle_labels, planted_spec
from fastbip.algorithms import DCSBM

N_PEOPLE = int(float(os.environ.get("FASTBIP_BENCH_PEOPLE", 1e5)))


def _dataset(ratio):
    deg = {"dist": "lognormal", "sigma": 0.5}
    return generate(
        planted_spec(
            N_PEOPLE,
            N_PEOPLE // 5,
            10,
            10,
            mean_purchases=20.0,
            seed=1,
            ratio=ratio,
            activity=deg,
            popularity=deg,
        )
    )


def _sklearn(M):
    rows = np.diff(M.indptr) > 0
    cols = np.bincount(M.indices, minlength=M.shape[1]) > 0
    sub = M[rows][:, cols].astype(np.float64)
    t = time.perf_counter()
    sc = SpectralCoclustering(10, random_state=0).fit(sub)
    dt = time.perf_counter() - t
    lab = np.zeros(M.shape[0], dtype=np.int64)
    lab[rows] = sc.row_labels_
    return lab, dt


@pytest.mark.parametrize("ratio", [10.0, 4.0, 3.0])
def test_dcsbm_vs_sklearn(benchmark, ratio):
    ds = _dataset(ratio)
    M, truth = ds.purchases, ds.truth
    DCSBM(10, 10, random_state=0).fit(M[:5000])  # kernels from the cache
    sk_times, sk_aris = [], []
    for _ in range(3):
        lab, dt = _sklearn(M)
        sk_times.append(dt)
        sk_aris.append(ari(lab, truth.people_labels))
    est = benchmark.pedantic(lambda: DCSBM(10, 10, random_state=0).fit(M), rounds=3, iterations=1)
    oracle = ari(oracle_labels(ds), truth.people_labels)
    got = ari(est.row_labels_, truth.people_labels)
    t_fit = benchmark.stats.stats.median if benchmark.stats else float("nan")
    t_sk = statistics.median(sk_times)
    benchmark.extra_info.update(
        {
            "ratio": ratio,
            "n_people": N_PEOPLE,
            "nnz": int(M.nnz),
            "row_ari": round(got, 4),
            "column_ari": round(ari(est.column_labels_, truth.item_labels), 4),
            "oracle_ari": round(oracle, 4),
            "fraction_of_oracle": round(got / oracle, 3),
            "sklearn_ari": round(float(np.median(sk_aris)), 4),
            "sklearn_seconds": round(t_sk, 3),
            "time_ratio_vs_sklearn": round(t_fit / t_sk, 3),
        }
    )
    if ratio >= 4:
        assert got >= 0.95 * oracle
