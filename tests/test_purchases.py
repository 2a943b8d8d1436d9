"""fastbip.generate.purchases (sample_purchases): structure, reproducibility, dtypes, bad input."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from _problems import canonical_copy as _canonical_copy
from _problems import problem as _problem
from _reference import alias_table_probabilities, sample_purchases_reference

import fastbip.generate.purchases as P
from fastbip._kernels import sampling as KS
from fastbip.generate import sample_purchases


@pytest.mark.parametrize("model", ["poisson", "bernoulli", "exact"])
def test_output_is_canonical_csr(model):
    a, b, theta, phi, omega = _problem()
    M = sample_purchases(a, b, theta, phi, omega, seed=3, model=model)
    assert isinstance(M, sp.csr_matrix)
    assert M.shape == (a.size, b.size)
    assert M.data.dtype == np.int32
    assert M.indices.dtype == M.indptr.dtype == np.int32
    M.check_format(full_check=True)
    assert M.data.min() >= 1
    c = _canonical_copy(M)
    assert c.nnz == M.nnz  # no repeated (row, item) pair
    np.testing.assert_array_equal(c.indices, M.indices)
    rows = np.repeat(np.arange(a.size), np.diff(M.indptr))
    same_row = rows[1:] == rows[:-1]
    assert np.all(np.diff(M.indices)[same_row] > 0)  # strictly increasing within rows
    assert M.has_canonical_format


def test_same_seed_same_arrays_different_seed_differs():
    a, b, theta, phi, omega = _problem()
    m1 = sample_purchases(a, b, theta, phi, omega, seed=5)
    m2 = sample_purchases(a, b, theta, phi, omega, seed=np.random.SeedSequence(5))
    m3 = sample_purchases(a, b, theta, phi, omega, seed=6)
    for x in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(m1, x), getattr(m2, x))
    assert m1.nnz != m3.nnz or not np.array_equal(m1.indices, m3.indices)


def test_waves_chunks_and_index_dtype_do_not_change_the_result(monkeypatch):
    a, b, theta, phi, omega = _problem(n=3000, total=60000.0)
    ref = sample_purchases(a, b, theta, phi, omega, seed=9, block_size=64)
    monkeypatch.setattr(P, "_WAVE_DRAWS", 700)  # many small waves
    monkeypatch.setattr(P, "_CHUNK_DRAWS", 50)  # rows sorted a few at a time
    small = sample_purchases(a, b, theta, phi, omega, seed=9, block_size=64)
    monkeypatch.setattr(P, "_INT32_MAX", 100)  # force the int64 index path
    wide = sample_purchases(a, b, theta, phi, omega, seed=9, block_size=64)
    assert wide.indices.dtype == wide.indptr.dtype == np.int64
    for x in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(ref, x), getattr(small, x))
        np.testing.assert_array_equal(getattr(ref, x), getattr(wide, x))


@pytest.mark.parametrize("model", ["poisson", "bernoulli"])
def test_row_block_shards_stack_to_the_whole_matrix(model):
    a, b, theta, phi, omega = _problem(n=1000, total=30000.0)
    rng = np.random.default_rng(3)
    aff = [(rng.normal(size=a.size), rng.normal(size=b.size), 1.5)]
    kw = {"seed": 8, "model": model, "affinity": aff, "block_size": 64}
    whole = sample_purchases(a, b, theta, phi, omega, **kw)
    cuts = [0, 1, 5, 6, 16]  # 1000 rows = 16 blocks of 64 (the last one short)
    shards = [
        sample_purchases(a, b, theta, phi, omega, row_blocks=(c0, c1), **kw)
        for c0, c1 in zip(cuts[:-1], cuts[1:], strict=True)
    ]
    assert [s.shape[0] for s in shards] == [64, 256, 64, 1000 - 384]
    stacked = sp.vstack(shards, format="csr")
    for x in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(stacked, x), getattr(whole, x))
    empty = sample_purchases(a, b, theta, phi, omega, row_blocks=(3, 3), **kw)
    assert empty.shape == (0, b.size)


def test_block_size_is_part_of_the_seed():
    a, b, theta, phi, omega = _problem()
    m1 = sample_purchases(a, b, theta, phi, omega, seed=5, block_size=1024)
    m2 = sample_purchases(a, b, theta, phi, omega, seed=5, block_size=100)
    assert not (m1.nnz == m2.nnz and np.array_equal(m1.indices, m2.indices))


_HASH_SCRIPT = textwrap.dedent(
    """
    import hashlib, numpy as np
    from fastbip.generate import sample_purchases, sample_events
    rng = np.random.default_rng(1)
    n, m = 5000, 700
    a = rng.integers(0, 5, n); b = rng.integers(0, 3, m)
    th = rng.lognormal(0, 1.5, n); ph = rng.lognormal(0, 1.5, m)
    om = rng.uniform(0, 1, (5, 3)) * 8000
    h = hashlib.sha256()
    for model in ("poisson", "bernoulli", "exact"):
        M = sample_purchases(a, b, th, ph, om, seed=42, model=model, block_size=128)
        for x in (M.indptr, M.indices, M.data):
            h.update(x.tobytes())
    x = rng.normal(size=n); y = rng.normal(size=m)
    M = sample_purchases(a, b, th, ph, om, seed=42, affinity=[(x, y, 0.7)], block_size=128)
    prof = [{"base": 1.0, "trend": 0.5}, {"base": 0.5}, {"base": 1.0,
            "peaks": [{"center": 5.0, "width": 1.0, "height": 4.0}]}]
    E = sample_events(M, b, prof, seed=7, start=0.0, end=10.0, block_size=128)
    for x in (M.indptr, M.indices, M.data, E.offsets, E.times):
        h.update(x.tobytes())
    print(h.hexdigest())
    """
)


def test_bit_identical_across_thread_counts():
    digests = {}
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        out = subprocess.run(
            [sys.executable, "-c", _HASH_SCRIPT],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        digests[threads] = out.stdout.strip().splitlines()[-1]
    assert len(digests["1"]) == 64
    assert digests["1"] == digests["2"]


def test_structure_matches_numpy_twin():
    """Same model, independent sampler: totals, nnz and repeat structure agree."""
    a, b, theta, phi, omega = _problem(n=800, m=200, total=20000.0)
    ours = [sample_purchases(a, b, theta, phi, omega, seed=s) for s in range(10)]
    rng = np.random.default_rng(0)
    twin = [sample_purchases_reference(a, b, theta, phi, omega, rng) for _ in range(10)]
    for stat in (lambda M: M.data.sum(), lambda M: M.nnz, lambda M: (M.data > 1).sum()):
        x = np.mean([stat(M) for M in ours])
        y = np.mean([stat(M) for M in twin])
        assert abs(x - y) / y < 0.02, (x, y)
    # exact totals: the twin and the kernel put exactly the same count in every block pair
    Za = np.eye(omega.shape[0])[a]
    Zb = np.eye(omega.shape[1])[b]
    e1 = sample_purchases(a, b, theta, phi, omega, seed=1, model="exact")
    e2 = sample_purchases_reference(a, b, theta, phi, omega, rng, model="exact")
    np.testing.assert_array_equal(Za.T @ (e1 @ Zb), Za.T @ (e2 @ Zb))


def test_alias_tables_encode_the_weights():
    rng = np.random.default_rng(4)
    w = rng.lognormal(0, 2, 50)
    w[[3, 17]] = 0.0
    starts = np.array([0, 20, 20, 50], np.int64)
    ids = np.arange(100, 150, dtype=np.int64)
    table = np.full((50, 4), 7, np.uint32)
    KS.build_alias_tables(w, ids, starts, table)
    assert np.all(table[:, 3] == 0)
    got = alias_table_probabilities(table, starts)
    assert got[1] == {}
    for g in (0, 2):
        lo, hi = starts[g], starts[g + 1]
        want = w[lo:hi] / w[lo:hi].sum()
        p = np.array([got[g].get(int(i), 0.0) for i in ids[lo:hi]])
        np.testing.assert_allclose(p, want, atol=1e-8)


def test_zero_rates_and_empty_clusters():
    a, b, theta, phi, omega = _problem()
    omega = omega.copy()
    omega[1, :] = 0.0
    theta = theta.copy()
    theta[a == 2] = 0.0
    b = np.where(b == 1, 0, b)  # item-cluster 1 is empty
    M = sample_purchases(a, b, theta, phi, omega, seed=2)
    rows = M.getnnz(axis=1)
    assert rows[(a == 1) | (a == 2)].sum() == 0
    assert M.nnz > 0
    assert np.all(b[M.indices] != 1)
    empty = sample_purchases(a, b, theta, phi, np.zeros_like(omega), seed=2)
    assert empty.nnz == 0 and empty.shape == (a.size, b.size)


# --------------------------------------------------------------------------- bad input


def _args():
    a, b, theta, phi, omega = _problem(n=50, m=30)
    return {"people_labels": a, "item_labels": b, "theta": theta, "phi": phi, "omega": omega}


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        ({"theta": -np.ones(50)}, ValueError, r"theta must be >= 0"),
        ({"phi": np.full(30, np.nan)}, ValueError, r"phi must be finite"),
        ({"theta": np.ones(49)}, ValueError, r"theta must have shape \(50,\)"),
        ({"phi": np.ones((30, 1))}, ValueError, r"phi must have shape \(30,\)"),
        ({"people_labels": np.full(50, 7)}, ValueError, r"people_labels must be < n_clusters=4"),
        ({"item_labels": np.full(30, -1)}, ValueError, r"item_labels must be >= 0; got -1"),
        (
            {"item_labels": np.zeros(30) + 0.5},
            TypeError,
            r"item_labels must hold integer labels; got dtype float64",
        ),
        ({"people_labels": np.zeros((5, 10), int)}, ValueError, r"people_labels must be a 1-D"),
        ({"omega": np.full((4, 3), np.nan)}, ValueError, r"omega must be finite"),
        ({"omega": -np.ones((4, 3))}, ValueError, r"omega must be >= 0"),
        ({"omega": np.ones(12)}, ValueError, r"omega must be a 2-D"),
        ({"theta": np.array(["x"] * 50)}, TypeError, r"theta must be numeric"),
    ],
)
def test_bad_arrays(change, exc, match):
    kw = _args()
    kw.update(change)
    with pytest.raises(exc, match=match):
        sample_purchases(**kw, seed=0)


_X, _Y = np.zeros(50), np.zeros(30)


def _no_theta_in_cluster_0(kw):
    theta = kw["theta"].copy()
    theta[kw["people_labels"] == 0] = 0.0
    return {**kw, "theta": theta}


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        ({"seed": "1"}, TypeError, r"seed must be None, a non-negative int, a numpy.random.Seed"),
        ({"seed": -1}, ValueError, r"seed must be a non-negative integer; got -1"),
        ({"model": "gauss"}, ValueError, r"model must be one of 'poisson', 'bernoulli', 'exact'"),
        (
            {"row_blocks": (0, 2)},
            ValueError,
            r"row_blocks must be \(b0, b1\) with 0 <= b0 <= b1 <= 1",
        ),
        ({"row_blocks": 5}, ValueError, r"row_blocks must be \(b0, b1\)"),
        (
            {"model": "exact", "row_blocks": (0, 1)},
            ValueError,
            r"row_blocks is not available with model='exact'",
        ),
        ({"block_size": 0}, ValueError, r"block_size must be >= 1; got 0"),
        ({"block_size": 1.5}, TypeError, r"block_size must be an integer; got 1.5"),
        (
            {"affinity": [(_X, _Y, 0.0)]},
            ValueError,
            r"affinity\[0\] scale must be a finite number > 0",
        ),
        (
            {"affinity": [(_Y, _Y, 1.0)]},
            ValueError,
            r"affinity\[0\] x_people must have shape \(50,\)",
        ),
        (
            {"affinity": [(_X, _X, 1.0)]},
            ValueError,
            r"affinity\[0\] y_items must have shape \(30,\)",
        ),
        (
            {"affinity": [(_X + np.nan, _Y, 1.0)]},
            ValueError,
            r"affinity\[0\] features must be finite",
        ),
        (
            {"affinity": [_X]},
            TypeError,
            r"affinity\[0\] must be a \(x_people, y_items, scale\)",
        ),
        ({"affinity": 3}, TypeError, r"affinity must be None or a list"),
        (
            {"model": "exact", "affinity": [(_X, _Y, 1.0)]},
            ValueError,
            r"affinity is not supported with model='exact'",
        ),
        (
            {"model": "exact", "arrays": _no_theta_in_cluster_0},
            ValueError,
            r"model='exact' needs people with theta > 0 in cluster 0",
        ),
    ],
)
def test_bad_options(call, exc, match):
    call = dict(call)
    kw = call.pop("arrays", lambda kw: kw)(_args())
    kw = {"seed": 0, **kw, **call}
    with pytest.raises(exc, match=match):
        sample_purchases(**kw)
