"""sample_purchases / sample_events: structure, reproducibility, dtypes and bad input."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import (
    alias_table_probabilities,
    sample_purchases_reference,
    window_counts_reference,
)

import fastbip.purchases as P
from fastbip._kernels import generate as K
from fastbip.purchases import Events, sample_events, sample_purchases


def _problem(n=600, m=300, ka=4, kb=3, total=12000.0, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, ka, n)
    b = rng.integers(0, kb, m)
    theta = rng.lognormal(0.0, 1.0, n)
    phi = rng.lognormal(0.0, 1.0, m)
    omega = rng.uniform(0.2, 1.0, (ka, kb))
    omega *= total / omega.sum()
    return a, b, theta, phi, omega


PROFILES = [
    {"base": 1.0, "trend": 0.8},
    {"base": 0.2, "peaks": [{"center": 30.0, "width": 4.0, "height": 3.0}]},
    {"base": 1.0, "seasonal": [{"period": 7.0, "amplitude": 2.0, "phase": 1.0}]},
]


def _canonical_copy(M):
    c = sp.csr_matrix((M.data.copy(), M.indices.copy(), M.indptr.copy()), shape=M.shape)
    c.has_canonical_format = False
    c.sum_duplicates()
    return c


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
    from fastbip.purchases import sample_purchases, sample_events
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
    K.build_alias_tables(w, ids, starts, table)
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


def test_intensity_formula():
    prof = {
        "base": 2.0,
        "trend": 0.5,
        "peaks": [{"center": 3.0, "width": 1.0, "height": 4.0}],
        "seasonal": [{"period": 10.0, "amplitude": 0.5, "phase": 0.0}],
    }
    t = np.array([0.0, 3.0, 10.0])
    want = (
        2.0 * (1 + 0.5 * t / 10.0)
        + 4.0 * np.exp(-((t - 3.0) ** 2) / 2.0)
        + 2.0 * 0.5 * (1 + np.cos(2 * np.pi * t / 10.0)) / 2
    )
    np.testing.assert_allclose(P.intensity(t, prof, 0.0, 10.0), want)
    assert P.intensity(t, {"base": 1.0}, 0.0, 10.0).tolist() == [1.0, 1.0, 1.0]


def test_events_aligned_sorted_and_windows_sum_back():
    a, b, theta, phi, omega = _problem()
    M = sample_purchases(a, b, theta, phi, omega, seed=3)
    E = sample_events(M, b, PROFILES, seed=4, start=0.0, end=100.0)
    assert isinstance(E, Events)
    assert E.offsets.dtype == np.int64 and E.offsets.shape == (M.nnz + 1,)
    np.testing.assert_array_equal(np.diff(E.offsets), M.data)
    assert E.times.dtype == np.float64 and E.times.size == M.data.sum()
    assert E.times.min() >= 0.0 and E.times.max() < 100.0
    entry = np.repeat(np.arange(M.nnz), M.data)
    same = entry[1:] == entry[:-1]
    assert np.all(np.diff(E.times)[same] >= 0)
    cuts = [0.0, 10.0, 33.3, 70.0, 100.0]
    wins = [E.window(M, s, e) for s, e in zip(cuts[:-1], cuts[1:], strict=True)]
    total = wins[0]
    for w in wins[1:]:
        total = total + w
    assert abs(total - M).sum() == 0
    for w in wins:
        w.check_format(full_check=True)
        assert w.data.min() >= 1
    counts = K.window_counts(E.offsets, E.times, 10.0, 33.3)
    np.testing.assert_array_equal(counts, window_counts_reference(E.offsets, E.times, 10, 33.3))
    again = sample_events(M, b, PROFILES, seed=4, start=0.0, end=100.0)
    np.testing.assert_array_equal(again.times, E.times)
    other = sample_events(M, b, PROFILES, seed=5, start=0.0, end=100.0)
    assert not np.array_equal(other.times, E.times)


def test_window_of_heavy_entries_matches_numpy():
    """Entries with many events (binary-search path) and with few (scan path)."""
    a, b, theta, phi, omega = _problem(n=20, m=6, total=6000.0)
    M = sample_purchases(a, b, theta, phi, omega, seed=1)
    assert M.data.max() > 16 and M.data.min() <= 16
    E = sample_events(M, b, PROFILES, seed=2, start=0.0, end=100.0)
    for s_, e_ in ((0.0, 100.0), (12.5, 40.0), (99.0, 100.0), (50.0, 50.0)):
        W = E.window(M, s_, e_)
        want = window_counts_reference(E.offsets, E.times, s_, e_)
        dense = np.zeros(M.shape, np.int64)
        rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
        dense[rows, M.indices] = want
        np.testing.assert_array_equal(W.toarray(), dense)
        assert W.nnz == (want > 0).sum()


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
        ({"people_labels": np.full(50, 7)}, ValueError, r"people_labels must lie in \[0, 4\)"),
        ({"item_labels": np.full(30, -1)}, ValueError, r"item_labels must lie in \[0, 3\)"),
        ({"item_labels": np.zeros(30) + 0.5}, TypeError, r"item_labels must hold integers"),
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


def test_bad_options():
    kw = _args()
    with pytest.raises(TypeError, match=r"seed must be an int or a numpy.random.SeedSequence"):
        sample_purchases(**kw, seed="1")
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer; got -1"):
        sample_purchases(**kw, seed=-1)
    with pytest.raises(ValueError, match=r"model must be one of"):
        sample_purchases(**kw, seed=0, model="gauss")
    with pytest.raises(ValueError, match=r"row_blocks must be \(b0, b1\) with 0 <= b0 <= b1 <= 1"):
        sample_purchases(**kw, seed=0, row_blocks=(0, 2))
    with pytest.raises(ValueError, match=r"row_blocks must be \(b0, b1\)"):
        sample_purchases(**kw, seed=0, row_blocks=5)
    with pytest.raises(ValueError, match=r"row_blocks is not available with model='exact'"):
        sample_purchases(**kw, seed=0, model="exact", row_blocks=(0, 1))
    with pytest.raises(ValueError, match=r"block_size must be an integer >= 1"):
        sample_purchases(**kw, seed=0, block_size=0)
    x, y = np.zeros(50), np.zeros(30)
    with pytest.raises(ValueError, match=r"affinity\[0\] scale must be a finite number > 0"):
        sample_purchases(**kw, seed=0, affinity=[(x, y, 0.0)])
    with pytest.raises(ValueError, match=r"affinity\[0\] x_people must have shape \(50,\)"):
        sample_purchases(**kw, seed=0, affinity=[(y, y, 1.0)])
    with pytest.raises(ValueError, match=r"affinity\[0\] y_items must have shape \(30,\)"):
        sample_purchases(**kw, seed=0, affinity=[(x, x, 1.0)])
    with pytest.raises(ValueError, match=r"affinity\[0\] features must be finite"):
        sample_purchases(**kw, seed=0, affinity=[(x + np.nan, y, 1.0)])
    with pytest.raises(TypeError, match=r"affinity\[0\] must be a \(x_people, y_items, scale\)"):
        sample_purchases(**kw, seed=0, affinity=[x])
    with pytest.raises(TypeError, match=r"affinity must be None or a list"):
        sample_purchases(**kw, seed=0, affinity=3)
    with pytest.raises(ValueError, match=r"affinity is not supported with model='exact'"):
        sample_purchases(**kw, seed=0, model="exact", affinity=[(x, y, 1.0)])
    theta = kw["theta"].copy()
    theta[kw["people_labels"] == 0] = 0.0
    with pytest.raises(ValueError, match=r"model='exact' needs people with theta > 0 in cluster 0"):
        sample_purchases(**{**kw, "theta": theta}, seed=0, model="exact")


def test_bad_event_input():
    a, b, theta, phi, omega = _problem(n=50, m=30)
    M = sample_purchases(a, b, theta, phi, omega, seed=0)
    with pytest.raises(TypeError, match=r"M must be a scipy.sparse CSR matrix"):
        sample_events(M.toarray(), b, PROFILES, seed=0, start=0, end=1)
    with pytest.raises(ValueError, match=r"item_labels must have shape \(30,\)"):
        sample_events(M, b[:-1], PROFILES, seed=0, start=0, end=1)
    with pytest.raises(ValueError, match=r"item_labels must lie in \[0, 2\)"):
        sample_events(M, b, PROFILES[:2], seed=0, start=0, end=1)
    with pytest.raises(ValueError, match=r"M must hold non-negative integer counts"):
        sample_events(M * 0.5, b, PROFILES, seed=0, start=0, end=1)
    with pytest.raises(TypeError, match=r"profiles must be a list of dicts"):
        sample_events(M, b, PROFILES[0], seed=0, start=0, end=1)
    with pytest.raises(ValueError, match=r"end must be > start"):
        sample_events(M, b, PROFILES, seed=0, start=5, end=5)
    with pytest.raises(ValueError, match=r"profiles\[1\] has zero intensity"):
        sample_events(M, b, [PROFILES[0], {"base": 0.0}, PROFILES[2]], seed=0, start=0, end=1)
    with pytest.raises(ValueError, match=r"profiles\[0\]\['trend'\] must be >= -1"):
        sample_events(M, b, [{"base": 1, "trend": -2}] * 3, seed=0, start=0, end=1)
    with pytest.raises(ValueError, match=r"profiles\[0\]\['peaks'\]\[0\] needs finite center"):
        sample_events(
            M, b, [{"peaks": [{"center": 0, "width": 0, "height": 1}]}] * 3, seed=0, start=0, end=1
        )
    with pytest.raises(ValueError, match=r"has unknown keys \['bse'\]"):
        sample_events(M, b, [{"bse": 1}] * 3, seed=0, start=0, end=1)
    E = sample_events(M, b, PROFILES, seed=0, start=0, end=1)
    with pytest.raises(ValueError, match=r"end must be >= start"):
        E.window(M, 1, 0)
    with pytest.raises(ValueError, match=r"M has \d+ entries but the events describe"):
        E.window(M[:10], 0, 1)
