import io
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

from fastbip.dataset import (
    Dataset,
    DatasetFormatError,
    generate,
    load,
    planted_omega,
    save,
)
from fastbip.population import cluster_sizes
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
    with pytest.raises(TypeError, match="rng must be None"):
        generate(spec, rng="seven")
    with pytest.raises(TypeError, match="spec must be a fastbip Spec"):
        generate({"people": 1})


def test_window_sums_back(small):
    ds = small
    parts = [ds.window(a, b) for a, b in ((0, 100), (100, 250), (250, 365.0001))]
    total = parts[0] + parts[1] + parts[2]
    assert (total != ds.purchases).nnz == 0


def _same(a: Dataset, b: Dataset) -> None:
    for attr in ("indptr", "indices", "data"):
        x, y = getattr(a.purchases, attr), getattr(b.purchases, attr)
        assert x.dtype == y.dtype and np.array_equal(x, y)
    assert a.people.equals(b.people) and a.items.equals(b.items)
    for name in ("omega", "theta", "phi", "people_labels", "item_labels"):
        assert np.array_equal(getattr(a.truth, name), getattr(b.truth, name))
    assert a.truth.model == b.truth.model
    assert a.spec == b.spec
    if a.events is not None:
        assert np.array_equal(a.events.offsets, b.events.offsets)
        assert np.array_equal(a.events.times, b.events.times)


def test_save_load_round_trip(small, tmp_path):
    p = save(small, tmp_path / "d.fbp")
    back = load(p)
    _same(small, back)
    assert not list(tmp_path.glob(".*.tmp"))
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask


def test_truncated_file_is_rejected(small, tmp_path):
    p = save(small, tmp_path / "d.fbp")
    raw = p.read_bytes()
    for cut in (len(raw) // 2, len(raw) - 10, 100):
        q = tmp_path / f"cut{cut}.fbp"
        q.write_bytes(raw[:cut])
        with pytest.raises(DatasetFormatError, match="truncated|incomplete|damaged"):
            load(q)


def _rewrite_member(src, dst, member, change):
    """Copy the zip ``src`` to ``dst`` with ``member``'s bytes passed through ``change``: a valid
    zip whose content was altered."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, change(data) if item.filename == member else data)
    return dst


def test_altered_file_is_rejected(small, tmp_path):
    p = save(small, tmp_path / "d.fbp")

    # rewrite one array member with a changed value but a valid zip: only the SHA-256 catches it
    def bump_first(data):
        arr = np.lib.format.read_array(io.BytesIO(data))
        arr[0] += 1
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr)
        return buf.getvalue()

    q = _rewrite_member(p, tmp_path / "altered.fbp", "arrays/purchases.data.npy", bump_first)
    with pytest.raises(DatasetFormatError, match=r"'purchases.data' does not match its SHA-256"):
        load(q)
    # flip a byte in place: the zip CRC or the hash catches it
    raw = bytearray(p.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    r = tmp_path / "flipped.fbp"
    r.write_bytes(bytes(raw))
    with pytest.raises(DatasetFormatError):
        load(r)


def test_wrong_version_and_not_a_dataset(small, tmp_path):
    p = save(small, tmp_path / "d.fbp")
    q = _rewrite_member(
        p,
        tmp_path / "v99.fbp",
        "manifest.json",
        lambda data: data.replace(b'"version": 1', b'"version": 99'),
    )
    with pytest.raises(DatasetFormatError, match="has format version 99"):
        load(q)
    t = tmp_path / "text.fbp"
    t.write_text("hello")
    with pytest.raises(DatasetFormatError, match="not a fastbip dataset"):
        load(t)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load(tmp_path / "none.fbp")


def test_failed_save_leaves_no_file(small, tmp_path, monkeypatch):
    target = tmp_path / "d.fbp"

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", boom)
    with pytest.raises(OSError, match="disk full"):
        save(small, target)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_generation_identical_across_thread_counts(tmp_path):
    code = (
        "import hashlib, numpy as np\n"
        "from fastbip.dataset import generate\nfrom fastbip.spec import default_spec\n"
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
