"""fastbip.generate: generate(), the plan it shares with the Dask backend, and the old paths."""

import importlib
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import fastbip
from fastbip.generate import cluster_sizes, generate, planted_omega
from fastbip.generate import plan as _plan
from fastbip.spec import default_spec, planted_spec


@pytest.fixture(scope="module")
def small():
    return generate(default_spec(n_people=600, n_items=150, seed=5))


def test_generate_structure(small):
    ds = small
    M = ds.purchases
    assert isinstance(M, sp.csr_matrix) and M.shape == (600, 150)
    assert M.has_canonical_format
    assert np.issubdtype(M.data.dtype, np.integer) and M.data.min() >= 1
    t = ds.truth
    assert t.omega.shape == (4, 4)
    assert np.isclose(t.omega.sum(), 600 * 20.0)
    for labels, w in ((t.people_labels, t.theta), (t.item_labels, t.phi)):
        assert np.allclose(np.bincount(labels, weights=w), 1.0)
    assert ds.people.columns.keys() == {"age", "postcode", "income", "something"}
    assert ds.events is not None
    assert ds.events.times.shape[0] == M.data.sum()


def test_planted_omega_blends_toward_uniform():
    spec = planted_spec(1000, 500, 2, 2, mean_purchases=10, mixing=1.0, ratio=9.0)
    om = planted_omega(
        spec.relation,
        cluster_sizes(1000, spec.people.shares),
        cluster_sizes(500, spec.items.shares),
    )
    assert np.allclose(om, om[0, 0])  # no structure at mixing = 1
    spec0 = planted_spec(1000, 500, 2, 2, mean_purchases=10, mixing=0.0, ratio=9.0)
    om0 = planted_omega(spec0.relation, [500, 500], [250, 250])
    assert np.isclose(om0[0, 0] / om0[0, 1], 9.0) and np.isclose(om0.sum(), 10_000)


def test_same_seed_same_dataset_and_rng_argument():
    spec = planted_spec(800, 300, 3, 3, seed=2)
    a, b = generate(spec), generate(spec)
    for attr in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a.purchases, attr), getattr(b.purchases, attr))
    assert np.array_equal(a.truth.theta, b.truth.theta)
    c = generate(spec, rng=3)
    assert (c.purchases != a.purchases).nnz > 0


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: generate(planted_spec(80, 30, 2, 2), rng="seven"), TypeError, "rng must be None"),
        (lambda: generate(planted_spec(80, 30, 2, 2), rng=-1), ValueError, "rng must be a non-neg"),
        (lambda: generate({"people": 1}), TypeError, "spec must be a fastbip Spec"),
    ],
)
def test_bad_generate_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_plan_then_assemble_is_generate():
    spec = planted_spec(500, 200, 2, 3, seed=4, model="bernoulli")
    ds = generate(spec, rng=8)
    plan = _plan.make_plan(spec, 8)
    args, kwargs = plan.purchase_args()
    again = _plan.assemble(spec, plan, fastbip.sample_purchases(*args, **kwargs))
    for attr in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(ds.purchases, attr), getattr(again.purchases, attr))
    assert again.truth.model == "bernoulli"
    # a Generator seeds the root from four of its words: the same state gives the same data
    g1 = generate(spec, rng=np.random.default_rng(3))
    g2 = generate(spec, rng=np.random.default_rng(3))
    assert (g1.purchases != g2.purchases).nnz == 0


def test_generate_is_the_function_and_the_package():
    spec = planted_spec(120, 40, 2, 2, seed=1)
    import fastbip.generate as pkg

    a = fastbip.generate(spec)
    b = pkg(spec)  # the package is callable: it calls the function
    assert (a.purchases != b.purchases).nnz == 0
    assert callable(fastbip.generate)


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("fastbip.population", ["Population", "cluster_sizes", "generate_population"]),
        (
            "fastbip.purchases",
            ["Events", "expected_block_totals", "intensity", "sample_events", "sample_purchases"],
        ),
        ("fastbip.logs", ["from_log", "read_log"]),
    ],
)
def test_old_modules_still_work_and_warn(module, names):
    sys.modules.pop(module, None)
    with pytest.warns(DeprecationWarning, match="moved to"):
        mod = importlib.import_module(module)
    new = importlib.import_module("fastbip.io" if module == "fastbip.logs" else "fastbip.generate")
    for name in names:
        assert getattr(mod, name) is getattr(new, name)


@pytest.mark.parametrize(
    ("name", "new"),
    [
        ("generate", "fastbip.generate"),
        ("planted_omega", "fastbip.generate.relation"),
        ("draw_degrees", "fastbip.generate.relation"),
        ("save", "fastbip.io.fbp"),
        ("load", "fastbip.io.fbp"),
        ("FORMAT_VERSION", "fastbip.io.fbp"),
    ],
)
def test_old_dataset_names_resolve_with_a_warning(name, new):
    import fastbip.dataset as old

    with pytest.warns(DeprecationWarning, match=f"fastbip.dataset.{name} moved to {new}"):
        value = getattr(old, name)
    assert value is getattr(importlib.import_module(new), name)


def test_dataset_format_error_still_importable_from_dataset():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from fastbip.dataset import DatasetFormatError
    assert DatasetFormatError is fastbip.io.DatasetFormatError


def test_generation_identical_across_thread_counts(tmp_path):
    code = (
        "import hashlib, numpy as np\n"
        "from fastbip.generate import generate\nfrom fastbip.spec import default_spec\n"
        "ds = generate(default_spec(n_people=3000, n_items=400, seed=11))\n"
        "h = hashlib.sha256()\n"
        "for a in (ds.purchases.indptr, ds.purchases.indices, ds.purchases.data,"
        " ds.events.offsets, ds.events.times, *ds.people.columns.values()):\n"
        "    h.update(np.ascontiguousarray(a).tobytes())\n"
        "print(h.hexdigest())\n"
    )
    digests = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1] and len(digests[0]) == 64
