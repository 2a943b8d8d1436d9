"""Block counts at scale: fastbip's kernel against scipy, numpy and a plain numba loop.

Run with pytest-benchmark (``pytest benchmarks/bench_blocks.py``) or as a script for the full
table written to ``benchmarks/RESULTS.md`` (``python benchmarks/bench_blocks.py``; with the
argument ``dtypes``, only the table of float64 / float32 / int32 values). The size
is set by ``FASTBIP_BENCH_NNZ`` (default 2e7 entries on 10^6 x 10^5, 20 x 15 clusters).

Every speed is a median over repetitions, reported next to references measured in the same
process: scipy ``Z_A.T @ M @ Z_B`` with prebuilt one-hot ``Z``, numpy ``bincount`` over the
row labels expanded to one per entry, a plain serial numba loop, and a parallel read of the
int32 column indices alone (the memory-bandwidth ceiling of any one-pass method).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from types import SimpleNamespace

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit, prange

from fastbip.blocks import block_counts, block_counts_windows, encode_labels

N_ROWS = int(os.environ.get("FASTBIP_BENCH_ROWS", 10**6))
N_COLS = int(os.environ.get("FASTBIP_BENCH_COLS", 10**5))
NNZ = int(float(os.environ.get("FASTBIP_BENCH_NNZ", 2e7)))
K_A, K_B = 20, 15
BANDWIDTH_FIGURE = 5e9  # int32 indices per second at this machine's memory bandwidth


def make_matrix(seed: int = 0):
    """A CSR matrix of about NNZ entries (uniform positions, sorted, counts 1 + Poisson(0.3))."""
    rng = np.random.default_rng(seed)
    keys = np.sort(rng.integers(0, N_ROWS * N_COLS, size=NNZ))
    keep = np.ones(keys.size, dtype=bool)
    keep[1:] = keys[1:] != keys[:-1]
    keys = keys[keep]
    rows = keys // N_COLS
    cols = (keys - rows * N_COLS).astype(np.int32)
    indptr = np.zeros(N_ROWS + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=N_ROWS), out=indptr[1:])
    index_dtype = np.int32 if keys.size < 2**31 else np.int64
    data = (1 + rng.poisson(0.3, size=keys.size)).astype(np.int32)
    M = sp.csr_matrix((data, cols, indptr.astype(index_dtype)), shape=(N_ROWS, N_COLS))
    a = rng.integers(0, K_A, N_ROWS)
    b = rng.integers(0, K_B, N_COLS)
    a[rng.random(N_ROWS) < 0.01] = -1  # a few unassigned people
    return M, a, b


# --- references ------------------------------------------------------------------------------


def onehot(labels, k):
    ok = np.flatnonzero(labels >= 0)
    return sp.csr_matrix((np.ones(ok.size, dtype=np.int64), (ok, labels[ok])), (labels.size, k))


def scipy_counts(M, za, zb):
    return np.asarray((za.T @ M @ zb).todense())


def numpy_counts(M, a, b, weighted):
    rows = np.repeat(np.where(a < 0, K_A, a), np.diff(M.indptr))
    cols = np.where(b < 0, K_B, b)[M.indices]
    key = rows * (K_B + 1) + cols
    w = M.data if weighted else None
    out = np.bincount(key, weights=w, minlength=(K_A + 1) * (K_B + 1))
    return out.reshape(K_A + 1, K_B + 1)[:K_A, :K_B].astype(np.int64)


@njit(nogil=True)
def _plain_numba(indptr, indices, data, a, b, ka, kb, weighted):
    out = np.zeros((ka, kb), dtype=np.int64)
    for i in range(indptr.shape[0] - 1):
        if a[i] < 0:
            continue
        for k in range(indptr[i], indptr[i + 1]):
            j = b[indices[k]]
            if j >= 0:
                out[a[i], j] += data[k] if weighted else 1
    return out


def plain_numba_counts(M, a, b, weighted):
    return _plain_numba(M.indptr, M.indices, M.data, a, b, K_A, K_B, weighted)


@njit(parallel=True, nogil=True)
def _read_indices(indices, bounds):
    total = np.uint64(0)
    for c in prange(bounds.shape[0] - 1):
        s = np.uint64(0)
        for k in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            s += np.uint64(indices[k])
        total += s
    return total


def read_indices(M):
    bounds = np.linspace(0, M.nnz, 65).astype(np.int64)
    return _read_indices(M.indices.view(np.uint32), bounds)


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def first_call_seconds(cold: bool) -> float:
    """Seconds of the first block_counts call in a fresh process (cold: empty numba cache)."""
    code = (
        "import time, numpy as np, scipy.sparse as sp\n"
        "from fastbip.blocks import block_counts\n"
        "M = sp.random(1000, 800, density=0.01, format='csr', random_state=0)\n"
        "M.data = np.ceil(M.data * 3).astype(np.int32)\n"
        "a = np.arange(1000) % 5; b = np.arange(800) % 4\n"
        "t = time.perf_counter(); block_counts(M, a, b); block_counts(M, a, b, weighted=False)\n"
        "print(time.perf_counter() - t)\n"
    )
    env = dict(os.environ)
    if cold:
        import tempfile

        env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="fastbip-numba-")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def make_events(M, seed: int = 1):
    """One timestamp per purchase, uniform on [0, 12), aligned with the entries of M."""
    rng = np.random.default_rng(seed)
    offsets = np.zeros(M.nnz + 1, dtype=np.int64)
    np.cumsum(M.data, out=offsets[1:])
    return SimpleNamespace(offsets=offsets, times=rng.uniform(0.0, 12.0, int(offsets[-1])))


def numpy_windows(M, events, a, b, edges):
    per_entry = np.diff(events.offsets)
    rows = np.repeat(np.repeat(np.where(a < 0, K_A, a), np.diff(M.indptr)), per_entry)
    cols = np.repeat(np.where(b < 0, K_B, b)[M.indices], per_entry)
    w = np.searchsorted(edges, events.times, side="right") - 1
    ok = (w >= 0) & (w < edges.size - 1)
    key = (w[ok] * (K_A + 1) + rows[ok]) * (K_B + 1) + cols[ok]
    out = np.bincount(key, minlength=(edges.size - 1) * (K_A + 1) * (K_B + 1))
    return out.reshape(edges.size - 1, K_A + 1, K_B + 1)[:, :K_A, :K_B]


# --- pytest-benchmark ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def problem():
    M, a, b = make_matrix()
    za, zb = onehot(a, K_A), onehot(b, K_B)
    return M, a, b, za, zb


@pytest.mark.parametrize("weighted", [False, True])
def test_block_counts_speed(benchmark, problem, weighted):
    M, a, b, za, zb = problem
    Mw = M if weighted else sp.csr_matrix((np.ones(M.nnz, np.int64), M.indices, M.indptr), M.shape)
    ea, eb = encode_labels(a, K_A), encode_labels(b, K_B)
    got = block_counts(M, ea, eb, weighted=weighted)  # compile outside the timing
    exact = bool(np.array_equal(got, scipy_counts(Mw, za, zb)))
    exact &= bool(np.array_equal(block_counts(M, a, b, weighted=weighted), got))
    t_ref_scipy = median_time(lambda: scipy_counts(Mw, za, zb), 3)
    t_ref_numpy = median_time(lambda: numpy_counts(M, a, b, weighted), 5)
    t_raw = median_time(lambda: block_counts(M, a, b, weighted=weighted), 9)
    t_read = median_time(lambda: read_indices(M), 9)
    benchmark(block_counts, M, ea, eb, weighted=weighted)
    if benchmark.stats:
        t = benchmark.stats.stats.median
    else:  # --benchmark-disable: time it here
        t = median_time(lambda: block_counts(M, ea, eb, weighted=weighted), 9)
    benchmark.extra_info.update(
        nnz=M.nnz,
        threads=numba.get_num_threads(),
        entries_per_s=M.nnz / t,
        entries_per_s_raw_labels=M.nnz / t_raw,
        speedup_vs_scipy=t_ref_scipy / t,
        speedup_vs_numpy_bincount=t_ref_numpy / t,
        fraction_of_index_read=t_read / t,
        fraction_of_5e9=M.nnz / t / BANDWIDTH_FIGURE,
        exact=exact,
    )
    assert exact


def test_block_counts_windows_speed(benchmark, problem):
    M, a, b, _, _ = problem
    events = make_events(M)
    edges = np.linspace(0.0, 12.0, 13)
    got = block_counts_windows(M, events, a, b, edges, K_A, K_B)
    exact = bool(np.array_equal(got, numpy_windows(M, events, a, b, edges)))
    t_ref = median_time(lambda: numpy_windows(M, events, a, b, edges), 3)
    benchmark(block_counts_windows, M, events, a, b, edges, K_A, K_B)
    if benchmark.stats:
        t = benchmark.stats.stats.median
    else:  # --benchmark-disable: time it here
        t = median_time(lambda: block_counts_windows(M, events, a, b, edges, K_A, K_B), 5)
    benchmark.extra_info.update(
        events=int(events.offsets[-1]),
        events_per_s=events.offsets[-1] / t,
        speedup_vs_numpy=t_ref / t,
        exact=exact,
    )
    assert exact


# --- value dtypes: time and memory ----------------------------------------------------------


def peak_bytes(fn) -> tuple[object, int]:
    """fn's result and the peak of what it allocated through numpy/Python (tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return out, peak


def dtype_table(M=None, a=None, b=None) -> None:
    """float64, float32 and int32 values: fastbip's time and allocations against scipy's
    ``Z_A.T @ M @ Z_B`` on the same matrix, and against converting float32 to float64 first
    (what block_counts did before it read float32 in place)."""
    if M is None:
        M, a, b = make_matrix()
    za, zb = onehot(a, K_A), onehot(b, K_B)
    ea, eb = encode_labels(a, K_A), encode_labels(b, K_B)
    print(f"\nvalue dtypes (nnz {M.nnz}, int32 indices, encoded labels); memory = peak")
    print("allocated during the call (tracemalloc) / bytes of the values")
    print("| values | fastbip ms | fastbip memory | scipy ms | scipy memory | scipy / fastbip |")
    print("|---|---|---|---|---|---|")
    ints = M.data.astype(np.int32)
    halves = (ints * 0.5).astype(np.float64)
    for label, data in (
        ("float64", halves),
        ("float32", halves.astype(np.float32)),
        ("int32", ints),
    ):
        Md = sp.csr_matrix((data, M.indices, M.indptr), shape=M.shape)
        zad = za.astype(data.dtype)
        zbd = zb.astype(data.dtype)
        got = block_counts(Md, ea, eb)
        ref, p_ref = peak_bytes(lambda Md=Md, zad=zad, zbd=zbd: scipy_counts(Md, zad, zbd))
        assert np.array_equal(got, ref), label
        _, p_fast = peak_bytes(lambda Md=Md: block_counts(Md, ea, eb))
        t_fast = median_time(lambda Md=Md: block_counts(Md, ea, eb), 9)
        t_ref = median_time(lambda Md=Md, zad=zad, zbd=zbd: scipy_counts(Md, zad, zbd), 3)
        nb = data.nbytes
        print(
            f"| {label} | {1e3 * t_fast:.1f} | {p_fast / nb:.4f} | {1e3 * t_ref:.1f} | "
            f"{p_ref / nb:.2f} | {t_ref / t_fast:.1f}x |"
        )
        if label == "float32":
            Md32 = Md

    def convert_first():
        return block_counts(Md32.astype(np.float64), ea, eb)

    _, p_conv = peak_bytes(convert_first)
    t_conv = median_time(convert_first, 5)
    t32 = median_time(lambda: block_counts(Md32, ea, eb), 9)
    print(
        f"float32 converted to float64 first: {1e3 * t_conv:.1f} ms, memory "
        f"{p_conv / Md32.data.nbytes:.2f} of the values ({t_conv / t32:.1f}x the time in place)"
    )


# --- script ----------------------------------------------------------------------------------


def main() -> None:
    if sys.argv[1:] == ["dtypes"]:
        dtype_table()
        return
    t0 = time.perf_counter()
    M, a, b = make_matrix()
    za, zb = onehot(a, K_A), onehot(b, K_B)
    print(
        f"matrix {M.shape[0]} x {M.shape[1]}, nnz {M.nnz}, {K_A} x {K_B} clusters, "
        f"{numba.get_num_threads()} threads, built in {time.perf_counter() - t0:.1f} s"
    )
    cold = first_call_seconds(cold=True)
    first_call_seconds(cold=False)  # fills the default cache when it is empty
    warm = first_call_seconds(cold=False)
    print(f"first call in a fresh process: {cold:.2f} s compiling, {warm:.2f} s from cache")
    t = time.perf_counter()
    ea, eb = encode_labels(a, K_A), encode_labels(b, K_B)
    print(f"encode_labels (both sides): {1e3 * (time.perf_counter() - t):.1f} ms (first call)")
    t_enc = median_time(lambda: (encode_labels(a, K_A), encode_labels(b, K_B)), 9)
    print(f"encode_labels (both sides): {1e3 * t_enc:.2f} ms median")
    t_read = median_time(lambda: read_indices(M), 15)
    print(f"read int32 indices (parallel sum): {M.nnz / t_read:.3g} /s")
    plain_numba_counts(M, a, b, True)
    plain_numba_counts(M, a, b, False)
    for weighted in (False, True):
        Mw = (
            M
            if weighted
            else sp.csr_matrix((np.ones(M.nnz, np.int64), M.indices, M.indptr), M.shape)
        )
        got = block_counts(M, ea, eb, weighted=weighted)
        ref = scipy_counts(Mw, za, zb)
        exact = np.array_equal(got, ref) and np.array_equal(numpy_counts(M, a, b, weighted), ref)
        exact = exact and np.array_equal(plain_numba_counts(M, a, b, weighted), ref)
        exact = exact and np.array_equal(block_counts(M, a, b, weighted=weighted), ref)
        t_scipy = median_time(lambda Mw=Mw: scipy_counts(Mw, za, zb), 3)
        t_numpy = median_time(lambda w=weighted: numpy_counts(M, a, b, w), 5)
        t_plain = median_time(lambda w=weighted: plain_numba_counts(M, a, b, w), 7)
        # interleave the two fastbip variants so that both see the same load
        t_enc_l, t_raw_l = [], []
        for _ in range(21):
            t_enc_l.append(median_time(lambda w=weighted: block_counts(M, ea, eb, weighted=w), 1))
            t_raw_l.append(median_time(lambda w=weighted: block_counts(M, a, b, weighted=w), 1))
        t_fast, t_raw = float(np.median(t_enc_l)), float(np.median(t_raw_l))
        t_fast_best = float(np.percentile(t_enc_l, 10))
        name = "weighted" if weighted else "unweighted"
        print(f"\n{name}: exact = {exact}")
        rows = [
            ("fastbip (encoded labels)", t_fast),
            ("fastbip (raw int64 labels)", t_raw),
            ("plain numba loop", t_plain),
            ("numpy bincount", t_numpy),
            ("scipy Z_A.T @ M @ Z_B", t_scipy),
        ]
        for label, tt in rows:
            print(
                f"  {label:28s} {1e3 * tt:9.1f} ms  {M.nnz / tt:10.3g} entries/s  "
                f"fastbip is {tt / t_fast:6.1f}x"
            )
        print(f"  fastbip 10th percentile (quietest runs): {M.nnz / t_fast_best:.3g} entries/s")
        print(
            f"  fraction of the index read measured here: {t_read / t_fast:.2f}; "
            f"of 5e9/s: {M.nnz / t_fast / BANDWIDTH_FIGURE:.2f} (median), "
            f"{M.nnz / t_fast_best / BANDWIDTH_FIGURE:.2f} (10th percentile)"
        )

    dtype_table(M, a, b)

    events = make_events(M)
    edges = np.linspace(0.0, 12.0, 13)
    got = block_counts_windows(M, events, a, b, edges, K_A, K_B)
    exact = np.array_equal(got, numpy_windows(M, events, a, b, edges))
    exact = exact and np.array_equal(got.sum(axis=0), block_counts(M, a, b))
    t_win = median_time(lambda: block_counts_windows(M, events, a, b, edges, K_A, K_B), 9)
    t_ref = median_time(lambda: numpy_windows(M, events, a, b, edges), 3)
    n_ev = int(events.offsets[-1])
    print(
        f"\nwindows (12 windows, {n_ev} events): exact = {exact}\n"
        f"  fastbip block_counts_windows {1e3 * t_win:9.1f} ms  {n_ev / t_win:10.3g} events/s\n"
        f"  numpy searchsorted + bincount {1e3 * t_ref:8.1f} ms  {n_ev / t_ref:10.3g} events/s  "
        f"fastbip is {t_ref / t_win:.1f}x"
    )


if __name__ == "__main__":
    main()
