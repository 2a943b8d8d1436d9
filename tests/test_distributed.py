"""The Dask backend equals one machine bit for bit: generation (in worker memory and to a
sharded directory), the study and the DCSBM sweeps on shards, whatever the number of workers
and the shard size; a worker killed mid-generation changes nothing; a damaged sharded
directory is rejected naming the shard."""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

distributed = pytest.importorskip("distributed")

from fastbip.algorithms import DCSBM, _gram  # noqa: E402
from fastbip.blocks import (  # noqa: E402
    block_counts,
    block_counts_windows,
    block_stats,
    estimate_omega,
)
from fastbip.distributed import (  # noqa: E402
    ShardedDataset,
    ShardedLabels,
    block_counts_dask,
    block_counts_windows_dask,
    block_stats_dask,
    dcsbm_fit_dask,
    dcsbm_sweeps_dask,
    estimate_omega_dask,
    generate_dask,
    generate_purchases_dask,
    sharded_truth_labels,
)
from fastbip.generate import generate, plan  # noqa: E402
from fastbip.generate import purchases as fp  # noqa: E402
from fastbip.io import DatasetFormatError  # noqa: E402
from fastbip.io import sharded as fsh  # noqa: E402
from fastbip.spec import default_spec, planted_spec  # noqa: E402


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


# --------------------------------------------------------------------------- sharded datasets

# a spec with events (default_spec has a [time] section), an exact one, a bernoulli one with
# features and affinity-free clusters; 2 to 6 row blocks of 1024 rows
SPECS = {
    "events": default_spec(5000, 250, seed=2),
    "exact": planted_spec(3000, 200, 3, 2, seed=4, model="exact"),
    "bernoulli": planted_spec(2100, 150, 2, 3, seed=5, features=True, model="bernoulli"),
}


@pytest.fixture(scope="module")
def local():
    return {k: generate(s) for k, s in SPECS.items()}


def _same_dataset(got, want):
    _same_csr(got.purchases, want.purchases)
    for name in ("omega", "theta", "phi", "people_labels", "item_labels"):
        np.testing.assert_array_equal(getattr(got.truth, name), getattr(want.truth, name))
    assert got.truth.model == want.truth.model
    for g, w in ((got.people, want.people), (got.items, want.items)):
        np.testing.assert_array_equal(g.labels, w.labels)
        assert list(g.columns) == list(w.columns)
        for k in w.columns:
            np.testing.assert_array_equal(g.columns[k], w.columns[k])
    assert (got.events is None) == (want.events is None)
    if want.events is not None:
        for name in ("offsets", "times"):
            u, v = getattr(got.events, name), getattr(want.events, name)
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("name", list(SPECS))
def test_generate_dask_equals_generate(client, one_worker, local, name, tmp_path):
    spec, want = SPECS[name], local[name]
    results = []
    for c, bps in ((client, None), (client, 1), (one_worker, 2), (one_worker, 100)):
        got = generate_dask(spec, client=c, blocks_per_shard=bps)
        assert isinstance(got, ShardedDataset) and got.futures is not None
        assert got.n_shards == -(-want.shape[0] // (1024 * (bps or 1))) or bps is None
        assert got.n_purchases == want.n_purchases and got.nnz == want.purchases.nnz
        results.append(got.to_dataset())
    on_disk = generate_dask(spec, client=client, out=tmp_path / "d", blocks_per_shard=1)
    assert on_disk.path == tmp_path / "d" and on_disk.futures is None
    results.append(fsh.load_sharded(tmp_path / "d", verify=True).to_dataset())
    for got in results:
        _same_dataset(got, want)
    np.testing.assert_array_equal(
        generate_dask(spec, rng=11, client=one_worker).to_dataset().purchases.data,
        generate(spec, rng=11).purchases.data,
    )


def _starts(want, p=0.4, seed=0):
    """Truth labels with a share p replaced at random (a start the sweeps must repair)."""
    rng = np.random.default_rng(seed)
    a, b = want.truth.people_labels.astype(np.int64), want.truth.item_labels.astype(np.int64)
    ka, kb = want.truth.shape
    a0 = np.where(rng.random(a.size) < p, rng.integers(0, ka, a.size), a)
    b0 = np.where(rng.random(b.size) < p, rng.integers(0, kb, b.size), b)
    a0[:7] = -1  # unassigned members: placed by the first sweep
    return a0, b0


@pytest.mark.parametrize("name", ["events", "exact"])
def test_study_on_shards_equals_one_machine(client, one_worker, local, name, tmp_path):
    spec, want = SPECS[name], local[name]
    M = want.purchases
    rng = np.random.default_rng(3)
    rows = rng.integers(-1, 4, M.shape[0])
    cols = rng.integers(-1, 3, M.shape[1])
    a, b = want.truth.people_labels, want.truth.item_labels
    ka, kb = want.truth.shape
    a0, b0 = _starts(want, p=0.3)
    fit = DCSBM(ka, kb, init=(a0, b0), soft_sweeps=0).fit(M)
    assert fit.n_iter_ > 1  # the start is repaired over several sweeps
    om = estimate_omega(M, rows, cols, 4, 3)
    # shards in the memory of 2 worker processes (1 block each), and on disk (2 blocks each)
    # read by 1 in-process worker
    memory = generate_dask(spec, client=client, blocks_per_shard=1)
    disk = generate_dask(spec, client=one_worker, out=tmp_path / "d", blocks_per_shard=2)
    for sds, c in ((memory, client), (disk, one_worker)):
        np.testing.assert_array_equal(
            block_counts_dask(sds, rows, cols, 4, 3, c), block_counts(M, rows, cols, 4, 3)
        )
        st, st0 = block_stats_dask(sds, a, b, client=c), block_stats(block_counts(M, a, b))
        np.testing.assert_array_equal(st.adjusted_residuals, st0.adjusted_residuals)
        assert st.chi2 == st0.chi2
        got = estimate_omega_dask(sds, rows, cols, 4, 3, c)
        for attr in ("omega", "theta", "phi", "row_labels", "column_labels"):
            np.testing.assert_array_equal(getattr(got, attr), getattr(om, attr), err_msg=attr)
        assert got.profile_log_likelihood == om.profile_log_likelihood
        assert got.log_likelihood == om.log_likelihood  # log M! over merged histograms
        if want.events is not None:
            edges = np.linspace(spec.time.start, spec.time.end, 6)
            np.testing.assert_array_equal(
                block_counts_windows_dask(sds, rows, cols, edges, 4, 3, c),
                block_counts_windows(M, want.events, rows, cols, edges, 4, 3),
            )
        res = dcsbm_sweeps_dask(sds, ka, kb, (a0, b0), client=c)
        np.testing.assert_array_equal(res.row_labels_, fit.row_labels_)
        np.testing.assert_array_equal(res.column_labels_, fit.column_labels_)
        np.testing.assert_array_equal(res.omega_, fit.omega_)
        assert res.log_likelihood_ == fit.log_likelihood_
        assert res.n_iter_ == fit.n_iter_


def _die_once(marker):
    """On a worker: the next shard array written kills the worker half-way (once in all)."""
    import fastbip.io.sharded as sh

    write = sh._write_array

    def dying(path, a):
        if not os.path.exists(marker):
            open(marker, "w").close()
            with open(path, "wb") as fh:
                fh.write(b"\x93NUMPY half a shard")
            os._exit(1)
        write(path, a)

    sh._write_array = dying


def test_worker_killed_mid_write_changes_nothing(client, local, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    marker = str(tmp_path / "killed")
    client.run(_die_once, marker)
    out = tmp_path / "d"
    sds = generate_dask(SPECS["events"], client=client, out=out, blocks_per_shard=1)
    assert os.path.exists(marker)  # a worker did die mid-shard
    names = sorted(p.name for p in out.iterdir())
    assert names == ["base.fbp", "manifest.json"] + [fsh.shard_name(i) for i in range(5)]
    _same_dataset(fsh.load_sharded(out, verify=True).to_dataset(), local["events"])
    assert sds.n_shards == 5
    client.wait_for_workers(2, timeout=30)


def test_damaged_sharded_directory_is_rejected(client, tmp_path):
    out = tmp_path / "d"
    spec = SPECS["bernoulli"]
    generate_dask(spec, client=client, out=out, blocks_per_shard=1)
    sds = fsh.load_sharded(out)
    labels = (sds.truth.people_labels, sds.truth.item_labels)
    # an altered shard: one byte of its data flipped
    f = out / fsh.shard_name(1) / "data.npy"
    raw = bytearray(f.read_bytes())
    raw[-1] ^= 1
    f.write_bytes(bytes(raw))
    with pytest.raises(DatasetFormatError, match=r"shard 1 \(shard-00001.*altered"):
        sds.to_dataset()
    with pytest.raises(DatasetFormatError, match=r"shard 1 \(shard-00001.*altered"):
        block_counts_dask(sds, *labels, client=client)  # read on a worker
    with pytest.raises(DatasetFormatError, match="shard 1 .*altered"):
        fsh.load_sharded(out, verify=True)
    # a truncated array, then a missing shard
    (out / fsh.shard_name(2) / "indices.npy").write_bytes(b"\x93NUMPY")
    with pytest.raises(DatasetFormatError, match=r"shard 2 .*indices.* damaged"):
        sds.read_shard(2)
    for i in (1, 2):
        for p in (out / fsh.shard_name(i)).iterdir():
            p.unlink()
        (out / fsh.shard_name(i)).rmdir()
    with pytest.raises(
        DatasetFormatError, match=r"shard 1 \(shard-00001, rows \[1024, 2048\]\) is missing"
    ):
        fsh.load_sharded(out)
    (out / "manifest.json").unlink()
    with pytest.raises(DatasetFormatError, match="has no manifest.json"):
        fsh.load_sharded(out)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (
            lambda c, d: generate_dask(SPECS["bernoulli"], client=c, out=d),
            FileExistsError,
            "not an empty directory",
        ),
        (
            lambda c, d: generate_dask(SPECS["bernoulli"], client=c, blocks_per_shard=0),
            ValueError,
            "blocks_per_shard must be None or an integer",
        ),
        (
            lambda c, d: block_counts_windows_dask(_M, [0] * 4, [0] * 3, [0, 1], client=c),
            TypeError,
            "must be a ShardedDataset",
        ),
        (
            lambda c, d: dcsbm_sweeps_dask(fsh.load_sharded(d), 2, 3, ([0], [0])),
            ValueError,
            "init row labels must be a 1-D array of length 2100",
        ),
        (lambda c, d: fsh.load_sharded(d / "nowhere"), FileNotFoundError, "does not exist"),
    ],
)
def test_sharded_errors(client, tmp_path, call, exc, match):
    d = tmp_path / "d"
    generate_dask(SPECS["bernoulli"], client=client, out=d, blocks_per_shard=1)
    with pytest.raises(exc, match=match):
        call(client, d)


def test_windows_need_events(client):
    sds = generate_dask(SPECS["bernoulli"], client=client)
    with pytest.raises(ValueError, match="no purchase times"):
        block_counts_windows_dask(sds, [0] * 2100, [0] * 150, [0, 1], client=client)


def test_cli_generate_on_a_scheduler(client, tmp_path, capsys):
    from fastbip.cli import main

    out = tmp_path / "d"
    address = client.scheduler.address
    args = ["generate", "--n-people", "2100", "--n-items", "150", "--seed", "3", "--out", str(out)]
    assert main([*args, "--scheduler", address]) == 0
    assert "row shards on" in capsys.readouterr().out
    sds = fsh.load_sharded(out, verify=True)
    assert main([*args[:-1], str(tmp_path / "one.fbp")]) == 0
    from fastbip.io import load

    _same_dataset(sds.to_dataset(), load(tmp_path / "one.fbp"))
    assert main([*args[:-1], str(tmp_path / "e"), "--workers", "0"]) == 2
    assert "--workers must be >= 1; got 0" in capsys.readouterr().err


# --------------------------------------------------------------------------- labels on workers


@pytest.mark.parametrize("where", ["memory", "disk"])
def test_labels_stay_on_the_workers(client, local, where, tmp_path):
    """ "truth" and ShardedLabels give the local results, and the client never reads the
    people, the items or the truth (the base is not loaded here)."""
    spec, want = SPECS["events"], local["events"]
    M, t = want.purchases, want.truth
    out = tmp_path / "d" if where == "disk" else None
    sds = generate_dask(spec, client=client, out=out, blocks_per_shard=2)
    C = block_counts(M, t.people_labels, t.item_labels)
    np.testing.assert_array_equal(block_counts_dask(sds, "truth", "truth", client=client), C)
    truth = sharded_truth_labels(sds, client)
    assert isinstance(truth, ShardedLabels) and len(truth.rows) == sds.n_shards
    np.testing.assert_array_equal(block_counts_dask(sds, truth, client=client), C)
    a0, b0 = _starts(want, p=0.3)
    fit = DCSBM(*t.shape, init=(a0, b0), soft_sweeps=0).fit(M)
    cut = [
        client.scatter(a0[r0:r1])
        for r0, r1 in zip(sds.row_bounds[:-1], sds.row_bounds[1:], strict=True)
    ]
    res = dcsbm_sweeps_dask(sds, *t.shape, ShardedLabels(cut, b0, *t.shape), client=client)
    # the fitted labels are on the workers: block counts under them, then gathered
    np.testing.assert_array_equal(
        block_counts_dask(sds, res.labels, client=client),
        block_counts(M, fit.row_labels_, fit.column_labels_),
    )
    # counts per time window under labels on the workers, as under the gathered arrays
    edges = np.linspace(want.events.times.min(), want.events.times.max() + 1e-9, 4)
    W = block_counts_windows(M, want.events, t.people_labels, t.item_labels, edges)
    got_w = block_counts_windows_dask(sds, "truth", "truth", edges, client=client)
    np.testing.assert_array_equal(got_w, W)
    got_w = block_counts_windows_dask(sds, truth, None, edges, client=client)
    np.testing.assert_array_equal(got_w, W)
    assert sds._base is None  # nothing of the people, items or truth came here
    np.testing.assert_array_equal(res.row_labels_, fit.row_labels_)
    np.testing.assert_array_equal(res.omega_, fit.omega_)
    np.testing.assert_array_equal(truth.row_labels(), t.people_labels)
    with pytest.raises(ValueError, match="init labels must be in"):
        bad = ShardedLabels([client.scatter(x + 9) for x in truth.row_labels_parts()], b0, 3, 3)
        dcsbm_sweeps_dask(sds, 3, 3, bad, client=client)


# --------------------------------------------------------------------------- spectral fit


@pytest.mark.parametrize(
    ("n", "m", "k", "bps"),
    [(3000, 300, (3, 3), 1), (12000, 1000, (4, 4), 3), (12000, 1000, (4, 4), -1)],
)  # a dense and a randomized solve; shards of 3,072 and 1,024 rows
def test_spectral_fit_on_shards_equals_one_machine(client, one_worker, monkeypatch, n, m, k, bps):
    if bps > 0:  # chunks of 2,500 rows across the shards (read by the client's plan only)
        monkeypatch.setattr(_gram, "GRAM_ROWS", 2500)
    else:  # the grid of the data (here chunks of 2,048 rows), one in-process worker
        client, bps = one_worker, -bps
    spec = planted_spec(n, m, *k, mean_purchases=12.0, seed=8)
    M = generate(spec).purchases
    want = DCSBM(*k, soft_sweeps=0, refine=None, svd_solver="randomized", random_state=4).fit(M)
    sds = generate_dask(spec, client=client, blocks_per_shard=bps)
    got = dcsbm_fit_dask(sds, *k, random_state=4, client=client)
    np.testing.assert_array_equal(got.row_labels_, want.row_labels_)
    np.testing.assert_array_equal(got.column_labels_, want.column_labels_)
    np.testing.assert_array_equal(got.omega_, want.omega_)
    assert got.log_likelihood_ == want.log_likelihood_  # bit for bit, numbering included
    assert got.n_iter_ == want.n_iter_
    with pytest.raises(ValueError, match="fewer items than people"):
        dcsbm_fit_dask(sds, k[0], 1, client=client)


def test_cli_analyze_and_report_on_dask(client, tmp_path, capsys):
    """``analyze`` and ``report`` of a sharded directory fit it on the cluster; their
    results equal the fit on one machine."""
    import json

    from fastbip.cli import main
    from fastbip.metrics import adjusted_rand

    data = tmp_path / "d"
    address = client.scheduler.address
    args = ["generate", "--planted", "--n-people", "3000", "--n-items", "250", "--seed", "2"]
    args += ["--k-people", "3", "--k-items", "3", "--out", str(data), "--scheduler", address]
    assert main(args) == 0
    out = tmp_path / "a"
    assert main(["analyze", str(data), "--out", str(out), "--scheduler", address]) == 0
    facts = json.loads((out / "results.json").read_text())
    ds = fsh.load_sharded(data).to_dataset()
    want = DCSBM(3, 3, soft_sweeps=0, refine=None, svd_solver="randomized", random_state=0)
    want.fit(ds.purchases)
    rows = np.concatenate([np.load(p) for p in sorted((out / "row_labels").glob("*.npy"))])
    np.testing.assert_array_equal(rows, want.row_labels_)
    np.testing.assert_array_equal(np.load(out / "column_labels.npy"), want.column_labels_)
    np.testing.assert_array_equal(np.asarray(facts["omega"]), want.omega_)
    assert facts["ari_people"] == pytest.approx(adjusted_rand(ds.truth.people_labels, rows))
    np.testing.assert_array_equal(
        facts["truth_block_counts"],
        block_counts(ds.purchases, ds.truth.people_labels, ds.truth.item_labels),
    )
    page = tmp_path / "page.html"
    assert main(["report", str(data), "--out", str(page), "--scheduler", address]) == 0
    text = page.read_text()
    assert "ARI people" in text and f"{facts['ari_people']:.4f}" in text
    # a page named after the dataset's directory: the results go beside it, not into it
    assert main(["report", str(data), "--out", str(tmp_path / "d.html"), "--workers", "1"]) == 0
    assert (tmp_path / "d.results" / "results.json").is_file()
    assert main(["report", str(data), "--out", str(tmp_path / "pg"), "--workers", "1"]) == 0
    assert (tmp_path / "pg").is_file() and (tmp_path / "pg.results" / "results.json").is_file()
    assert not (data / "results.json").exists() and fsh.load_sharded(data, verify=True).n_shards
    capsys.readouterr()
    assert main(["analyze", str(data), "--out", str(tmp_path / "b")]) == 2
    assert "give --scheduler ADDRESS or --workers N" in capsys.readouterr().err
    bad = ["report", str(data), "--algorithms", "dcsbm", "--workers", "1"]
    assert main(bad) == 2
    assert "--algorithms and --twin do not apply" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_a_plain_directory_is_not_taken_for_a_sharded_dataset(command, tmp_path, capsys):
    from fastbip.cli import main

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "page.html").write_text("<html></html>")
    args = [command, str(tmp_path / "d"), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "is a directory without manifest.json, not a fastbip sharded dataset" in err
    assert not (tmp_path / "o").exists()


def test_a_scheduler_that_is_not_there_is_named(tmp_path, capsys):
    from fastbip.cli import main

    args = ["generate", "--planted", "--n-people", "500", "--n-items", "50"]
    assert main([*args, "--out", str(tmp_path / "d"), "--scheduler", "no-port"]) == 2
    assert "'no-port' is not a Dask scheduler address" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
