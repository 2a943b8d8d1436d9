"""The Dask backend equals one machine bit for bit (two worker processes on a LocalCluster)."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

distributed = pytest.importorskip("distributed")

from fastbip.blocks import block_counts  # noqa: E402
from fastbip.distributed import (  # noqa: E402
    block_counts_dask,
    generate_dask,
    generate_purchases_dask,
)
from fastbip.generate import generate, plan  # noqa: E402
from fastbip.generate import purchases as fp  # noqa: E402
from fastbip.spec import default_spec, planted_spec  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _inputs(n=3000, m=400, ka=3, kb=4, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, ka, n)
    b = rng.integers(0, kb, m)
    theta = rng.lognormal(0, 1, n)
    phi = rng.lognormal(0, 1, m)
    omega = rng.uniform(1, 5, (ka, kb)) * n * 5 / (ka * kb)
    return a, b, theta, phi, omega


def _same_csr(x, y):
    assert x.shape == y.shape
    for name in ("indptr", "indices", "data"):
        u, v = getattr(x, name), getattr(y, name)
        assert u.dtype == v.dtype, name
        np.testing.assert_array_equal(u, v, err_msg=name)


@pytest.mark.parametrize("model", ["poisson", "bernoulli"])
def test_purchases_equal_one_machine(client, model):
    a, b, theta, phi, omega = _inputs()
    want = fp.sample_purchases(a, b, theta, phi, omega, seed=7, model=model, block_size=256)
    for bpt in (None, 1, 3, 100):
        got = generate_purchases_dask(
            a,
            b,
            theta,
            phi,
            omega,
            seed=7,
            model=model,
            block_size=256,
            blocks_per_task=bpt,
            client=client,
        )
        _same_csr(got, want)


def test_purchases_affinity_exact_and_default_client(client):
    a, b, theta, phi, omega = _inputs(n=1500, m=300)
    rng = np.random.default_rng(1)
    aff = [(rng.normal(size=a.size), rng.normal(size=b.size), 1.0)]
    want = fp.sample_purchases(a, b, theta, phi, omega, seed=3, affinity=aff)
    got = generate_purchases_dask(
        a, b, theta, phi, omega, seed=3, affinity=aff, blocks_per_task=1
    )  # the default client
    _same_csr(got, want)
    want = fp.sample_purchases(a, b, theta, phi, omega, seed=3, model="exact")
    got = generate_purchases_dask(a, b, theta, phi, omega, seed=3, model="exact", client=client)
    _same_csr(got, want)


def test_shard_draws_and_index_dtype(monkeypatch):
    # the draws counted per shard are those of sample_purchases: their total is the
    # Poisson matrix's sum, for the Bernoulli model too (it caps the same draws at 1)
    a, b, theta, phi, omega = _inputs(n=900, m=40)
    v = plan.check_purchase_args(a, b, theta, phi, omega, seed=5, block_size=100)
    assert v.n_blocks == 9
    arrays = (v.people_labels, v.item_labels, v.theta, v.phi, v.omega)
    draws = [
        plan.shard_draw_count(*arrays, v.seed, 100, b0, min(9, b0 + 2)) for b0 in range(0, 9, 2)
    ]
    whole = fp.sample_purchases(a, b, theta, phi, omega, seed=5, block_size=100)
    assert sum(draws) == whole.data.sum()
    # int32 shards whose total needs int64 stack into int64 indices, as the whole matrix
    monkeypatch.setattr(fp, "_INT32_MAX", max(max(draws), 900))
    for model in ("poisson", "bernoulli"):
        shards = [
            fp.sample_purchases(
                a,
                b,
                theta,
                phi,
                omega,
                seed=5,
                model=model,
                block_size=100,
                row_blocks=(b0, min(9, b0 + 2)),
            )
            for b0 in range(0, 9, 2)
        ]
        assert all(s.indices.dtype == np.int32 for s in shards)
        want = fp.sample_purchases(a, b, theta, phi, omega, seed=5, model=model, block_size=100)
        assert want.indices.dtype == np.int64
        _same_csr(plan.stack_shards(shards, sum(draws), 40), want)


@pytest.mark.parametrize(
    "spec",
    [
        planted_spec(2500, 300, 3, 2, seed=4),
        planted_spec(1200, 200, 2, 3, seed=5, features=True, model="bernoulli"),
        default_spec(1500, 250, seed=2),
    ],
)
def test_generate_dask_equals_generate(client, spec):
    want = generate(spec)
    got = generate_dask(spec, client=client)
    _same_csr(got.purchases, want.purchases)
    for name in ("omega", "theta", "phi", "people_labels", "item_labels"):
        np.testing.assert_array_equal(getattr(got.truth, name), getattr(want.truth, name))
    for g, w in ((got.people, want.people), (got.items, want.items)):
        np.testing.assert_array_equal(g.labels, w.labels)
        assert list(g.columns) == list(w.columns)
        for k in w.columns:
            np.testing.assert_array_equal(g.columns[k], w.columns[k])
    assert (got.events is None) == (want.events is None)
    if want.events is not None:
        np.testing.assert_array_equal(got.events.offsets, want.events.offsets)
        np.testing.assert_array_equal(got.events.times, want.events.times)
    np.testing.assert_array_equal(
        generate_dask(spec, rng=11, client=client).purchases.data,
        generate(spec, rng=11).purchases.data,
    )


def test_block_counts_dask_equals_block_counts(client):
    a, b, theta, phi, omega = _inputs()
    M = fp.sample_purchases(a, b, theta, phi, omega, seed=1)
    rng = np.random.default_rng(2)
    rows = rng.integers(-1, 5, M.shape[0])
    cols = rng.integers(-1, 3, M.shape[1])
    for weighted in (True, False):
        want = block_counts(M, rows, cols, 5, 3, weighted=weighted)
        for rpt in (None, 1000, 7000):
            got = block_counts_dask(
                M, rows, cols, 5, 3, client, weighted=weighted, rows_per_task=rpt
            )
            assert got.dtype == want.dtype == np.int64
            np.testing.assert_array_equal(got, want)
    shards = [M[:1000], M[1000:1024], sp.csc_matrix(M[1024:])]
    np.testing.assert_array_equal(
        block_counts_dask(shards, rows, cols, client=client), block_counts(M, rows, cols)
    )


_M = sp.csr_matrix(np.ones((4, 3), np.int64))


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        *[
            (
                {"blocks_per_task": bad},
                ValueError,
                "blocks_per_task must be None or an integer",
            )
            for bad in (0, -1, 1.5, True)
        ],
        ({"model": "x"}, ValueError, "model must be one of"),
        ({"theta": "short"}, ValueError, "theta must have shape"),
        ({"client": "local"}, TypeError, "client must be a dask.distributed.Client"),
        (
            lambda c: block_counts_dask(_M, [0, 1, 0], [0, 1, 0], client=c),
            ValueError,
            "row_labels must have 4 entries",
        ),
        (
            lambda c: block_counts_dask([_M, _M[:, :2]], [0] * 8, [0, 1, 0], client=c),
            ValueError,
            "every shard must have 3 columns",
        ),
        (
            lambda c: block_counts_dask(_M, np.ones((4, 2)), [0, 1, 0], client=c),
            ValueError,
            "soft memberships are not supported",
        ),
    ],
)
def test_errors(client, call, exc, match):
    a, b, theta, phi, omega = _inputs(n=100, m=20)
    with pytest.raises(exc, match=match):
        if callable(call):
            call(client)
        else:
            kw = {"seed": 0, "client": client, **call}
            if kw.get("theta") == "short":
                kw["theta"] = theta[:-1]
            generate_purchases_dask(a, b, kw.pop("theta", theta), phi, omega, **kw)


def test_no_client_error():
    # run where no client exists at all (this test process has the module's client)
    code = (
        "import numpy as np, pytest\n"
        "from fastbip.distributed import generate_purchases_dask\n"
        "with pytest.raises(RuntimeError, match='no Dask client'):\n"
        "    generate_purchases_dask([0], [0], [1.0], [1.0], [[1.0]], seed=0)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_import_without_dask():
    code = (
        "import sys\n"
        "sys.modules['distributed'] = None\n"
        "import fastbip\n"
        "fastbip.generate, fastbip.block_counts\n"
        "assert 'dask' not in sys.modules, 'import fastbip imported dask'\n"
        "try:\n"
        "    import fastbip.distributed\n"
        "except ImportError as e:\n"
        "    assert \"pip install 'fastbip[dask]'\" in str(e), str(e)\n"
        "else:\n"
        "    raise AssertionError('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
