"""The cost of checking a purchase matrix's structure, as a ratio to a block count.

Every public function that hands a CSR matrix to a kernel first checks its structure
(``indptr`` from 0 to nnz and non-decreasing, every column index in ``[0, n_items)``). The
block counts check the row pointers in an O(n_rows) pre-pass and the column indices inside
their own kernel, as they read them; the other kernels keep the separate one-pass check
(:func:`fastbip._validation.check_csr_structure`). This measures, on the matrix of
``benchmarks/bench_blocks.py`` (10^6 x 10^5, 2*10^7 entries, 20 x 15 clusters):

- ``check``: the separate full check (row pointers and indices), for the other kernels;
- ``indptr``: the pre-pass that ``block_counts`` keeps;
- ``count``: ``block_counts`` itself (checks included), weighted and unweighted;
- ``unchecked``: the block-count kernel as it was before it compared the indices (a copy
  below), called on the arrays without any pre-pass: the reference the checks are measured
  against, so ``count / unchecked - 1`` is the whole cost of the checks in ``block_counts``.

Run as a script (``python benchmarks/bench_validation.py``) for the table, or with
pytest-benchmark (``pytest benchmarks/bench_validation.py``). ``FASTBIP_BENCH_NNZ`` etc. set
the size as in ``bench_blocks.py``. Every time is a median of repetitions in one process.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest
from numba import njit, prange

sys.path.insert(0, os.path.dirname(__file__))

from bench_blocks import K_A, K_B, N_COLS, N_ROWS, NNZ, make_matrix  # noqa: E402

import fastbip.blocks.counts as _bc  # noqa: E402
from fastbip._validation import check_csr_structure  # noqa: E402
from fastbip.blocks import block_counts, encode_labels  # noqa: E402


def median_time(f, reps: int = 7) -> float:
    f()  # compile / warm
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


@njit(parallel=True, nogil=True)
def _block_sums_nocheck(indptr, indices, data, row_codes, col_codes, n_row, n_col, bounds, out):
    # the kernel as it was before it checked the indices (the reference)
    n_chunks = bounds.shape[0] - 1
    stride = np.uint64(n_col + 1)
    skip = np.uint64(n_row)
    one = np.uint64(1)
    two = np.uint64(2)
    for c in prange(n_chunks):
        acc0 = np.zeros(out.shape[2], dtype=out.dtype)
        acc1 = np.zeros(out.shape[2], dtype=out.dtype)
        for i in range(np.uint64(bounds[c]), np.uint64(bounds[c + 1])):
            rc = np.uint64(row_codes[i])
            if rc == skip:
                continue
            base = rc * stride
            k = np.uint64(indptr[i])
            end = np.uint64(indptr[i + one])
            if data is None:
                while k + one < end:
                    acc0[base + np.uint64(col_codes[indices[k]])] += 1
                    acc1[base + np.uint64(col_codes[indices[k + one]])] += 1
                    k += two
                if k < end:
                    acc0[base + np.uint64(col_codes[indices[k]])] += 1
            else:
                while k + one < end:
                    acc0[base + np.uint64(col_codes[indices[k]])] += data[k]
                    acc1[base + np.uint64(col_codes[indices[k + one]])] += data[k + one]
                    k += two
                if k < end:
                    acc0[base + np.uint64(col_codes[indices[k]])] += data[k]
        out[c, 0, :] = acc0
        out[c, 1, :] = acc1


def _indptr_only(M):
    check_csr_structure(M, indices=False)


def _unchecked(M, rows, cols, weighted):
    """``block_counts`` as it was before any check: the same conversion and chunking, the
    kernel without the guard column, no pre-pass."""
    ka, kb = rows.n_clusters, cols.n_clusters
    cells = (ka + 1) * (kb + 1)
    bounds = _bc._chunk_bounds(M.indptr, 2 * cells)
    data = M.data
    if weighted and not _bc._all_ones(data):
        out = np.zeros((bounds.shape[0] - 1, 2, cells), dtype=np.int64)
        data = np.ascontiguousarray(data)
    else:
        out = np.zeros((bounds.shape[0] - 1, 2, cells), dtype=np.int64)
        data = None
    _block_sums_nocheck(
        _bc._unsigned(M.indptr),
        _bc._unsigned(M.indices),
        data,
        rows.codes,
        cols.codes,
        ka,
        kb,
        bounds,
        out,
    )
    return out.sum(axis=(0, 1)).reshape(ka + 1, kb + 1)[:ka, :kb]


def measure(reps: int = 11) -> dict:
    M, a, b = make_matrix()
    rows, cols = encode_labels(a, K_A), encode_labels(b, K_B)
    res = {"shape": M.shape, "nnz": int(M.nnz)}
    res["check"] = median_time(lambda: check_csr_structure(M), reps)
    res["indptr"] = median_time(lambda: _indptr_only(M), reps)
    for weighted in (True, False):
        key = "weighted" if weighted else "unweighted"
        got = block_counts(M, rows, cols, weighted=weighted)
        ref = _unchecked(M, rows, cols, weighted)
        res[f"exact_{key}"] = bool(np.array_equal(got, ref))
        # interleaved, so that a neighbour's load falls on both alike
        t_c, t_u = [], []
        for _ in range(reps):
            t_c.append(median_time(lambda w=weighted: block_counts(M, rows, cols, weighted=w), 1))
            t_u.append(median_time(lambda w=weighted: _unchecked(M, rows, cols, w), 1))
        res[f"count_{key}"] = float(np.median(t_c))
        res[f"unchecked_{key}"] = float(np.median(t_u))
    return res


def main() -> None:
    import numba

    r = measure()
    print(
        f"# structural checks, {N_ROWS:,} x {N_COLS:,}, {r['nnz']:,} entries, "
        f"K = {K_A} x {K_B}, {numba.get_num_threads()} threads"
    )
    for key in ("weighted", "unweighted"):
        c, u = r[f"count_{key}"], r[f"unchecked_{key}"]
        print(
            f"{key:>10}: block_counts {c * 1e3:7.1f} ms (checks fused), without checks "
            f"{u * 1e3:7.1f} ms -> fused checks cost {100 * (c / u - 1):+5.1f}%; a separate "
            f"full check {r['check'] * 1e3:5.1f} ms would cost {100 * r['check'] / u:5.1f}%; "
            f"indptr pre-pass {r['indptr'] * 1e3:5.2f} ms; "
            f"exact {r[f'exact_{key}']}"
        )


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
def test_block_counts_checked(benchmark, weighted):
    M, a, b = make_matrix()
    rows, cols = encode_labels(a, K_A), encode_labels(b, K_B)
    got = benchmark(block_counts, M, rows, cols, weighted=weighted)
    benchmark.extra_info["exact"] = bool(np.array_equal(got, _unchecked(M, rows, cols, weighted)))


def test_separate_check(benchmark):
    M, _, _ = make_matrix()
    benchmark(check_csr_structure, M)
    benchmark.extra_info["nnz"] = int(NNZ)


if __name__ == "__main__":
    main()
