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

    # rewrite one array member with a changed value but a valid zip: only the checksum catches it
    def bump_first(data):
        arr = np.lib.format.read_array(io.BytesIO(data))
        arr[0] += 1
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr)
        return buf.getvalue()

    q = _rewrite_member(p, tmp_path / "altered.fbp", "arrays/purchases.data.npy", bump_first)
    with pytest.raises(DatasetFormatError, match=r"altered.fbp: member purchases.data: does not"):
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
        lambda data: data.replace(b'"version": 2', b'"version": 99'),
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

    monkeypatch.setattr(np.lib.format, "write_array_header_1_0", boom)
    with pytest.raises(OSError, match="disk full"):
        save(small, target)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_loaded_arrays_are_mapped_aligned_and_private(small, tmp_path):
    p = save(small, tmp_path / "d.fbp")
    back = load(p)
    for a in (back.purchases.indices, back.events.times, back.truth.theta):
        assert a.flags.aligned and a.flags.writeable and not a.flags.owndata
    before = p.read_bytes()
    back.purchases.data[0] += 100  # copy-on-write: the file is untouched
    assert p.read_bytes() == before
    _same(small, load(p))


def test_verify_false_skips_checksums_but_not_structure(small, tmp_path):
    p = save(small, tmp_path / "d.fbp")
    _same(small, load(p, verify=False))

    def bump_first(data):
        arr = np.lib.format.read_array(io.BytesIO(data))
        arr[0] += 1
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr)
        return buf.getvalue()

    q = _rewrite_member(p, tmp_path / "altered.fbp", "arrays/truth.theta.npy", bump_first)
    assert load(q, verify=False).truth.theta[0] == small.truth.theta[0] + 1
    with pytest.raises(DatasetFormatError, match="XXH64 tree checksum"):
        load(q)

    def bad_index(data):
        arr = np.lib.format.read_array(io.BytesIO(data))
        arr[3] = 10**6
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr)
        return buf.getvalue()

    r = _rewrite_member(p, tmp_path / "idx.fbp", "arrays/purchases.indices.npy", bad_index)
    with pytest.raises(DatasetFormatError, match=r"idx.fbp: member purchases.indices: holds"):
        load(r, verify=False)


def test_unaligned_members_of_older_writers_still_load(small, tmp_path):
    # zipfile's writestr places members wherever they fall, as fastbip 0.1.0 did
    p = save(small, tmp_path / "d.fbp")
    q = tmp_path / "old.fbp"
    with zipfile.ZipFile(p) as zin, zipfile.ZipFile(q, "w") as zout:
        for name in ["manifest.json"] + [n for n in zin.namelist() if n != "manifest.json"]:
            zout.writestr(name, zin.read(name))
    with zipfile.ZipFile(q) as zf:
        assert all(not i.extra for i in zf.infolist())
    back = load(q)
    _same(small, back)
    assert any(a.flags.owndata for a in (back.purchases.indices, back.events.times))


def test_read_manifest_reads_no_array(small, tmp_path, monkeypatch):
    p = save(small, tmp_path / "d.fbp")
    from fastbip.io import fbp

    monkeypatch.setattr(fbp._sum, "hexdigests", lambda *a: pytest.fail("hashed"))
    m = fbp.read_manifest(p)
    assert m["shape"] == [600, 150] and m["version"] == fbp.FORMAT_VERSION
    assert m["arrays"]["events.times"]["shape"] == [small.n_purchases]


def test_os_errors_stay_what_they_are(small, tmp_path):
    with pytest.raises(IsADirectoryError):
        load(tmp_path)
    p = save(small, tmp_path / "d.fbp")
    if os.geteuid() != 0:  # root reads anything
        p.chmod(0)
        with pytest.raises(PermissionError):
            load(p)


def test_save_fsyncs_file_and_folder_before_and_after_the_rename(small, tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b)))
    save(small, tmp_path / "d.fbp")
    assert calls == ["fsync", "replace", "fsync"]


def test_save_refuses_a_write_protected_file(small, tmp_path):
    target = tmp_path / "d.fbp"
    target.write_bytes(b"keep me")
    target.chmod(0o444)
    with pytest.raises(PermissionError, match="d.fbp.*write-protected"):
        save(small, target)
    assert target.read_bytes() == b"keep me"
    assert sorted(tmp_path.iterdir()) == [target]  # no temporary file left


def test_save_writes_through_a_symlink(small, tmp_path):
    real = tmp_path / "runs" / "r1.fbp"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "latest.fbp"
    link.symlink_to(real)
    assert save(small, link) == link
    assert link.is_symlink() and os.readlink(link) == str(real)
    _same(small, load(real))
    dangling = tmp_path / "next.fbp"
    dangling.symlink_to(tmp_path / "runs" / "r2.fbp")
    save(small, dangling)
    assert dangling.is_symlink() and (tmp_path / "runs" / "r2.fbp").is_file()
    assert not list((tmp_path / "runs").glob(".*.tmp"))


def test_save_refuses_a_dataset_that_could_not_be_loaded(small):
    import dataclasses

    import scipy.sparse as sp

    m = small.purchases.copy()
    m.data = m.data.astype(float)
    m.data[0] = np.nan
    bad = dataclasses.replace(small, purchases=sp.csr_matrix(m), events=None)
    with pytest.raises(ValueError, match="purchases.data holds nan"):
        save(bad, "never-written.fbp")
    assert not os.path.exists("never-written.fbp")


def test_info_reads_the_manifest_only(small, tmp_path, capsys, monkeypatch):
    from fastbip.cli import main
    from fastbip.io import fbp

    p = save(small, tmp_path / "d.fbp")
    monkeypatch.setattr(fbp._sum, "hexdigests", lambda *a: pytest.fail("info hashed an array"))
    assert main(["info", str(p)]) == 0
    out = capsys.readouterr().out
    assert f"600 people x 150 items, {small.purchases.nnz:,} (person, item) pairs" in out
    assert f"{small.n_purchases:,} purchases" in out and "not verified" in out
    monkeypatch.undo()
    assert main(["info", "--verify", str(p)]) == 0
    out = capsys.readouterr().out
    assert small.summary() in out and "verified" in out
    assert main(["info", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"fastbip: error: {tmp_path}: Is a directory"


def test_permission_error_is_not_a_format_error(small, tmp_path, monkeypatch):
    from fastbip.io import fbp

    p = save(small, tmp_path / "d.fbp")

    def denied(path, mode="r"):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(fbp, "open", denied, raising=False)
    with pytest.raises(PermissionError, match="Permission denied") as info:
        load(p)
    assert not isinstance(info.value, DatasetFormatError)


def test_round_trip_of_an_empty_dataset_without_truth(tmp_path):
    import scipy.sparse as sp

    from fastbip.generate.population import Population

    ids = np.array(["a", "bb", "ccc"])
    ds = Dataset(
        Population("people", 3, None, ids=ids),
        Population("items", 0, None),
        sp.csr_matrix((3, 0), dtype=np.int32),
    )
    back = load(save(ds, tmp_path / "e.fbp"))
    assert back.shape == (3, 0) and back.purchases.nnz == 0 and back.truth is None
    assert np.array_equal(back.people.ids, ids) and back.events is None
