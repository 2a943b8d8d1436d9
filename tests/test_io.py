"""fastbip.io.fbp: save and load, the versioned format, rejected files."""

import io
import os
import zipfile

import numpy as np
import pytest

from fastbip.dataset import Dataset
from fastbip.generate import generate
from fastbip.io import DatasetFormatError, load, save
from fastbip.spec import default_spec


@pytest.fixture(scope="module")
def small():
    return generate(default_spec(n_people=600, n_items=150, seed=5))


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
