"""Generation throughput: fastbip's generator against a vectorised numpy sampler of the same
model and igraph's Graph.SBM, in the same process and run.

    pytest benchmarks/bench_generate.py            # pytest-benchmark, ratios in extra_info
    python benchmarks/bench_generate.py [--quick] [--no-igraph] [--compile]  # as a table
    python benchmarks/bench_generate.py --profile  # wall time per kernel, 1 and 2 threads

Case (the issue's): 10^6 people, 10^5 items, 20 purchases per person, 20 x 15 clusters,
lognormal activity and popularity (``planted_spec``). Throughput is purchases (the sum of
the counts) per second into canonical CSR, all with the numba threads available
(``NUMBA_NUM_THREADS``, 2 on the development machine). Times are medians of interleaved
runs, so that the machine's load hits both sides alike. The numpy sampler is the tests' one
(``tests/_reference.py``: ``sample_purchases_reference``).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numba
import numpy as np
import pytest
import scipy.sparse as sp

# the repository root first, so that ``python benchmarks/bench_generate.py`` finds the
# tests' numpy sampler (and this checkout's fastbip) as ``pytest benchmarks/`` does
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fastbip.generate import sample_purchases  # noqa: E402
from tests._reference import sample_purchases_reference as numpy_sampler  # noqa: E402

FULL = {"n_people": 10**6, "n_items": 10**5, "k_people": 20, "k_items": 15, "mean": 20.0}
QUICK = {"n_people": 10**5, "n_items": 10**4, "k_people": 20, "k_items": 15, "mean": 20.0}


def planted_case(n_people, n_items, k_people, k_items, mean, seed=0):
    """Labels, theta, phi, omega of ``planted_spec`` (lognormal activity and popularity)."""
    from fastbip.generate import draw_degrees, planted_omega
    from fastbip.spec import planted_spec

    spec = planted_spec(n_people, n_items, k_people, k_items, mean, seed=seed)
    rng = np.random.default_rng(seed)
    a = rng.permutation(np.arange(n_people) % k_people)
    b = rng.permutation(np.arange(n_items) % k_items)
    rel = spec.relation
    theta = draw_degrees(rel.activity, a, k_people, rng)
    phi = draw_degrees(rel.popularity, b, k_items, rng)
    omega = planted_omega(rel, np.bincount(a), np.bincount(b))
    return a, b, theta, phi, omega


def igraph_sbm(a, b, omega, seed):
    """igraph's Graph.SBM on the non-degree-corrected bipartite variant with the same expected
    purchases (multigraph, expected multiplicity omega[k, l] / (n_k m_l) per pair), exported
    to canonical CSR (repeats summed)."""
    import igraph as ig

    ka, kb = omega.shape
    nk, ml = np.bincount(a, minlength=ka), np.bincount(b, minlength=kb)
    pref = np.zeros((ka + kb, ka + kb))
    pref[:ka, ka:] = omega / np.outer(nk, ml)
    pref[ka:, :ka] = pref[:ka, ka:].T
    ig.set_random_number_generator(random.Random(seed))
    n = a.size
    g = ig.Graph.SBM(
        pref.tolist(),
        [int(x) for x in nk] + [int(x) for x in ml],
        directed=False,
        allowed_edge_types="multi",
    )
    e = np.array(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    e.sort(axis=1)
    M = sp.csr_matrix((np.ones(len(e), np.int32), (e[:, 0], e[:, 1] - n)), shape=(n, b.size))
    M.sum_duplicates()
    return M


def _median_time(fn, rounds):
    ts, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), ts, out


def _block_error(M, a, b, omega):
    ka, kb = omega.shape
    C = np.zeros((ka, kb))
    rows = np.repeat(a, np.diff(M.indptr))
    np.add.at(C, (rows, b[M.indices]), M.data)
    return float(np.max(np.abs(C - omega) / np.sqrt(omega)))  # in Poisson sd


def _is_canonical(M):
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    same = rows[1:] == rows[:-1]
    return bool(np.all(np.diff(M.indices)[same] > 0))


def measure(case, rounds=5, with_igraph=True):
    """Interleaved medians: ours, numpy sampler (and igraph once); returns a dict."""
    a, b, theta, phi, omega = planted_case(**case)
    sample_purchases(a[:1000], b, theta[:1000], phi, omega[:, :] / 1000, seed=0)  # compile
    ours_t, numpy_t = [], []
    rng = np.random.default_rng(1)
    M = R = None
    for r in range(rounds):
        t0 = time.perf_counter()
        M = sample_purchases(a, b, theta, phi, omega, seed=r)
        ours_t.append(time.perf_counter() - t0)
        if r < max(2, rounds // 2):
            t0 = time.perf_counter()
            R = numpy_sampler(a, b, theta, phi, omega, rng)
            numpy_t.append(time.perf_counter() - t0)
    purchases = int(M.data.sum())
    out = {
        "threads": numba.get_num_threads(),
        "purchases": purchases,
        "nnz": int(M.nnz),
        "ours_s": statistics.median(ours_t),
        "ours_runs_s": ours_t,
        "numpy_s": statistics.median(numpy_t),
        "numpy_purchases": int(R.data.sum()),
        "ours_canonical": _is_canonical(M),
        "ours_block_err_sd": _block_error(M, a, b, omega),
        "numpy_block_err_sd": _block_error(R, a, b, omega),
    }
    out["ours_per_s"] = purchases / out["ours_s"]
    out["numpy_per_s"] = out["numpy_purchases"] / out["numpy_s"]
    out["ratio_numpy"] = out["ours_per_s"] / out["numpy_per_s"]
    if with_igraph:
        try:
            import igraph  # noqa: F401
        except ImportError:
            out["igraph"] = "not installed"
        else:
            t0 = time.perf_counter()
            G = igraph_sbm(a, b, omega, 2)
            t_ig = time.perf_counter() - t0
            t0 = time.perf_counter()
            M = sample_purchases(a, b, theta, phi, omega, seed=99)
            t_us = time.perf_counter() - t0
            out["igraph_s"] = t_ig
            out["igraph_edges"] = int(G.data.sum())
            out["igraph_per_s"] = G.data.sum() / t_ig
            out["ours_next_to_igraph_per_s"] = M.data.sum() / t_us
            out["ratio_igraph"] = out["ours_next_to_igraph_per_s"] / out["igraph_per_s"]
    return out


_COMPILE_SCRIPT = textwrap.dedent(
    """
    import time, hashlib
    t0 = time.perf_counter()
    import numpy as np
    from fastbip.generate import sample_purchases, sample_events
    t1 = time.perf_counter()
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 500); b = rng.integers(0, 2, 100)
    om = np.full((3, 2), 500.0)
    M = sample_purchases(a, b, np.ones(500), np.ones(100), om, seed=1)
    t2 = time.perf_counter()
    E = sample_events(M, b, [{"base": 1.0}] * 2, seed=1, start=0, end=1)
    t3 = time.perf_counter()
    h = hashlib.sha256(M.indices.tobytes() + M.data.tobytes() + E.times.tobytes()).hexdigest()
    print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f} {h}")
    """
)


def compile_times():
    """First call in a fresh process: with an empty numba cache (compiling, 2 threads), then
    reading that cache with 2 threads and with 1 thread. Returns a dict of seconds."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        for label, threads in (("cold", "2"), ("cached", "2"), ("cached_1_thread", "1")):
            env = dict(os.environ, NUMBA_CACHE_DIR=cache, NUMBA_NUM_THREADS=threads)
            res = subprocess.run(
                [sys.executable, "-c", _COMPILE_SCRIPT],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            imp, gen, ev, digest = res.stdout.split()
            out[label] = {
                "import_s": float(imp),
                "first_purchases_s": float(gen),
                "first_events_s": float(ev),
                "digest": digest,
            }
    out["same_result"] = len({v["digest"] for v in out.values()}) == 1
    return out


# --------------------------------------------------------------------------- pytest-benchmark


@pytest.fixture(scope="module")
def full_case():
    return planted_case(**FULL)


def test_generate_throughput_vs_numpy(benchmark, full_case):
    a, b, theta, phi, omega = full_case
    sample_purchases(a[:1000], b, theta[:1000], phi, omega / 1000, seed=0)
    rng = np.random.default_rng(1)
    t_ref, _, R = _median_time(lambda: numpy_sampler(a, b, theta, phi, omega, rng), 3)
    M = benchmark.pedantic(
        lambda: sample_purchases(a, b, theta, phi, omega, seed=0),
        rounds=7,
        iterations=1,
        warmup_rounds=1,
    )
    t_ours = benchmark.stats.stats.median
    ratio = (M.data.sum() / t_ours) / (R.data.sum() / t_ref)
    benchmark.extra_info.update(
        {
            "threads": numba.get_num_threads(),
            "purchases": int(M.data.sum()),
            "ours_purchases_per_s": float(M.data.sum() / t_ours),
            "numpy_purchases_per_s": float(R.data.sum() / t_ref),
            "ratio_vs_numpy": float(ratio),
            "canonical": _is_canonical(M),
            "block_total_max_err_sd": _block_error(M, a, b, omega),
        }
    )
    assert _is_canonical(M)


def test_generate_throughput_vs_igraph(benchmark, full_case):
    igraph = pytest.importorskip("igraph")
    a, b, theta, phi, omega = full_case
    t0 = time.perf_counter()
    G = igraph_sbm(a, b, omega, 2)
    t_ig = time.perf_counter() - t0
    M = benchmark.pedantic(
        lambda: sample_purchases(a, b, theta, phi, omega, seed=0),
        rounds=5,
        iterations=1,
        warmup_rounds=1,
    )
    t_ours = benchmark.stats.stats.median
    benchmark.extra_info.update(
        {
            "igraph_version": igraph.__version__,
            "igraph_edges_per_s": float(G.data.sum() / t_ig),
            "ours_purchases_per_s": float(M.data.sum() / t_ours),
            "ratio_vs_igraph": float((M.data.sum() / t_ours) / (G.data.sum() / t_ig)),
        }
    )
    assert G.data.sum() > 0.9 * M.data.sum()


def test_first_call_compile_time(benchmark):
    res = benchmark.pedantic(compile_times, rounds=1, iterations=1)
    benchmark.extra_info.update({k: v for k, v in res.items()})
    assert res["same_result"]


def profile(case, rounds=3):
    """Wall time of each kernel of ``sample_purchases`` (medians), with 1 and 2 threads."""
    from fastbip._kernels import generate as kernels

    a, b, theta, phi, omega = planted_case(**case)
    sample_purchases(a, b, theta, phi, omega, seed=0)
    names = ("row_counts_poisson", "fill_wave_csr", "commit_wave_csr")
    originals = {nm: getattr(kernels, nm) for nm in names}
    spent = {}

    def timed(nm):
        def run(*args):
            t0 = time.perf_counter()
            out = originals[nm](*args)
            spent[nm] = spent.get(nm, 0.0) + time.perf_counter() - t0
            return out

        return run

    before = numba.get_num_threads()
    rows = {}
    try:
        for nm in names:
            setattr(kernels, nm, timed(nm))
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            runs = []
            for r in range(rounds):
                spent.clear()
                t0 = time.perf_counter()
                sample_purchases(a, b, theta, phi, omega, seed=r)
                runs.append({"total": time.perf_counter() - t0, **spent})
            rows[threads] = {k: statistics.median(x[k] for x in runs) for k in runs[0]}
    finally:
        for nm in names:
            setattr(kernels, nm, originals[nm])
        numba.set_num_threads(before)
    return rows


def main(argv):
    quick = "--quick" in argv
    case = QUICK if quick else FULL
    if "--profile" in argv:
        for threads, row in profile(case).items():
            print(f"profile threads={threads}", {k: round(v, 4) for k, v in row.items()})
        return
    res = measure(case, rounds=5 if quick else 7, with_igraph="--no-igraph" not in argv)
    for k, v in res.items():
        print(f"{k:28s} {v}")
    if "--compile" in argv:
        for k, v in compile_times().items():
            print(f"compile {k:20s} {v}")


if __name__ == "__main__":
    main(sys.argv[1:])
