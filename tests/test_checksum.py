"""The dataset files' checksum: the XXH64 kernel against the xxhash package and the published
vectors, the tree form against a Python tree, independence from the thread count, and load's
verification of version 2 (XXH64 tree) and version 1 (SHA-256) files."""

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from fastbip.generate import generate
from fastbip.io import DatasetFormatError, fbp, load, save
from fastbip.io import _checksum as cs
from fastbip.spec import default_spec

xxhash = pytest.importorskip("xxhash")  # the [dev] extra's oracle; the core does not need it

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
P32 = 2654435761
P64 = 11400714785074694797


def _sanity_buffer(n: int) -> bytes:
    """The byte generator of xxHash's own sanity checks (xxhsum.c)."""
    out, g = bytearray(), P32
    for _ in range(n):
        out.append(g >> 56)
        g = (g * P64) % (1 << 64)
    return bytes(out)


def _one(b: bytes, seed: int = 0) -> int:
    from fastbip._kernels import checksum as kc

    words, tail = cs._split(np.frombuffer(b, np.uint8) if b else np.empty(0, np.uint8))
    return int(kc._xxh64_words_tail(words, tail, np.uint64(seed)))


def _python_tree(b: bytes, chunk: int) -> str:
    leaves = [xxhash.xxh64_intdigest(b[s : s + chunk]) for s in range(0, len(b), chunk)]
    return xxhash.xxh64_hexdigest(b"".join(struct.pack("<Q", d) for d in leaves))


@pytest.mark.parametrize(
    "n, seed, digest",
    [  # XXH64 test vectors of xxHash's sanity checks
        (0, 0, 0xEF46DB3751D8E999),
        (1, 0, 0xE934A84ADB052768),
        (1, P32, 0x5014607643A9B4C3),
        (4, 0, 0x9136A0DCA57457EE),
        (14, 0, 0x8282DCC4994E35C8),
        (14, P32, 0xC3BD6BF63DEB6DF0),
        (222, 0, 0xB641AE8CB691C174),
        (222, P32, 0x20CB8AB7AE10C14A),
    ],
)
def test_xxh64_matches_the_published_vectors(n, seed, digest):
    assert _one(_sanity_buffer(n), seed) == digest


def test_xxh64_matches_the_xxhash_package_on_many_lengths_and_offsets():
    rng = np.random.default_rng(0)
    buf = rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    lengths = [*range(0, 72), 95, 96, 97, 127, 128, 129, 1000, 4093, 4999]
    for n in lengths:
        for off in (0, 1, 3, 7):  # unaligned starts are copied to aligned words
            b = buf[off : off + n]
            for seed in (0, 12345):
                assert _one(b, seed) == xxhash.xxh64_intdigest(b, seed), (n, off, seed)
    assert _one(b"abc") == xxhash.xxh64_intdigest(b"abc")


@pytest.mark.parametrize("chunk", [32, 64, 1024])
def test_tree_digest_matches_a_python_tree(chunk):
    rng = np.random.default_rng(1)
    buf = rng.integers(0, 256, 4 * 1024 + 13, dtype=np.uint8).tobytes()
    for n in (0, 1, 7, 8, 31, 32, 33, chunk - 1, chunk, chunk + 1, chunk + 5, 3 * chunk,
              3 * chunk + 4, 3 * chunk + 12, len(buf)):  # fmt: skip
        b = np.frombuffer(buf[:n], np.uint8)
        want = _python_tree(buf[:n], chunk)
        assert cs.xxh64t_hexdigests({"a": b}, chunk, threads=1)["a"] == want, n
        assert cs.xxh64t_hexdigests({"a": b}, chunk, threads=3)["a"] == want, n
        h = cs.TreeHasher(chunk)  # streamed in pieces of whole leaves, as save does
        for s in range(0, n, 2 * chunk):
            h.update(b[s : s + 2 * chunk])
        assert h.hexdigest() == want, n


def test_typed_arrays_hash_their_bytes_in_c_order():
    a = np.arange(1001, dtype=np.float64)
    got = cs.xxh64t_hexdigests({"a": a, "b": a[::-1].copy()}, 64, threads=2)
    assert got["a"] == _python_tree(a.tobytes(), 64)
    assert got["b"] == _python_tree(a[::-1].tobytes(), 64) != got["a"]


_CHILD = """
import numpy as np
from fastbip.io import _checksum as cs
a = np.random.default_rng(2).integers(0, 256, 200_003, dtype=np.uint8)
b = np.arange(30_001, dtype=np.int64)
print(cs.xxh64t_hexdigests({"a": a, "b": b}, 1024))
"""


def test_digests_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(2)
    want = {
        "a": _python_tree(rng.integers(0, 256, 200_003, dtype=np.uint8).tobytes(), 1024),
        "b": _python_tree(np.arange(30_001, dtype=np.int64).tobytes(), 1024),
    }
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads, PYTHONPATH=ROOT)
        out = subprocess.run(
            [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == repr(want), threads


@pytest.fixture(scope="module")
def small():
    return generate(default_spec(n_people=400, n_items=100, seed=7))


def _flip(src, dst, member: str, where: str) -> None:
    """Copy ``src`` to ``dst`` with one byte of ``member``'s array data changed."""
    with open(src, "rb") as fh:
        zf, members = fbp._zip(fh, str(src))
        m = fbp._manifest(zf, members, str(src))
        size = os.fstat(fh.fileno()).st_size
        info = members[f"arrays/{member}.npy"]
        offset, dtype, shape = fbp._locate(fh, size, info, member, m["arrays"][member], str(src))
    nbytes = int(np.prod(shape)) * dtype.itemsize
    pos = {"first": 0, "last": nbytes - 1, "tail": nbytes - (nbytes % 64 or 64) // 2}[where]
    raw = bytearray(open(src, "rb").read())
    raw[offset + pos] ^= 0x10
    open(dst, "wb").write(bytes(raw))


def test_new_files_record_xxh64t_and_their_leaf_size(small, tmp_path):
    p = save(small, tmp_path / "d.fbp")
    m = fbp.read_manifest(p)
    assert m["version"] == fbp.FORMAT_VERSION == 2
    assert m[cs.CHUNK_FIELD] == cs.CHUNK_BYTES
    back = load(p)
    t = back.events.times
    assert m["arrays"]["events.times"]["xxh64t"] == _python_tree(t.tobytes(), cs.CHUNK_BYTES)
    assert all("sha256" not in a for a in m["arrays"].values())


@pytest.mark.parametrize("member", ["purchases.indices", "events.times", "truth.theta"])
@pytest.mark.parametrize("where", ["first", "last", "tail"])
def test_an_altered_byte_in_any_leaf_is_rejected(small, tmp_path, monkeypatch, member, where):
    monkeypatch.setattr(cs, "CHUNK_BYTES", 64)  # many leaves, the last one short
    p = save(small, tmp_path / "d.fbp")
    assert fbp.read_manifest(p)[cs.CHUNK_FIELD] == 64
    monkeypatch.undo()  # the reader follows the manifest's leaf size
    load(p)
    q = tmp_path / "bad.fbp"
    _flip(p, q, member, where)
    with pytest.raises(
        DatasetFormatError, match=rf"bad.fbp: member {member}: does not match its XXH64 tree"
    ):
        load(q)
    if member != "purchases.indices":  # feature bytes: only the checksum sees the change
        assert load(q, verify=False) is not None


def _as_version_1(src, dst) -> None:
    """``src`` rewritten as the code before version 2 wrote it: ``sha256`` per array."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        m = json.loads(zin.read("manifest.json"))
        m["version"] = 1
        del m[cs.CHUNK_FIELD]
        for name, meta in m["arrays"].items():
            data = zin.read(f"arrays/{name}.npy")
            a = np.lib.format.read_array(io.BytesIO(data))
            del meta["xxh64t"]
            meta["sha256"] = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
            zout.writestr(f"arrays/{name}.npy", data)
        zout.writestr("manifest.json", json.dumps(m, indent=1))


def test_version_1_files_still_load_and_verify_with_sha256(small, tmp_path):
    p = save(small, tmp_path / "d.fbp")
    old = tmp_path / "old.fbp"
    _as_version_1(p, old)
    assert fbp.read_manifest(old)["version"] == 1
    back = load(old)
    assert np.array_equal(back.purchases.indices, small.purchases.indices)
    assert np.array_equal(back.events.times, small.events.times)
    bad = tmp_path / "bad.fbp"
    _flip(old, bad, "truth.phi", "last")
    with pytest.raises(
        DatasetFormatError, match=r"bad.fbp: member truth.phi: does not match its SHA-256"
    ):
        load(bad)


def test_shards_use_xxh64t_and_version_1_shards_still_verify(tmp_path):
    from fastbip.io import sharded as sh

    arrays = {"indptr": np.array([0, 2, 3]), "indices": np.array([0, 4, 1]), "data": np.ones(3)}
    entry = {"rows": [0, 2], **sh.write_shard(tmp_path, 0, arrays)}
    assert entry[cs.CHUNK_FIELD] == cs.CHUNK_BYTES
    want = _python_tree(arrays["indices"].tobytes(), cs.CHUNK_BYTES)
    assert entry["arrays"]["indices"]["xxh64t"] == want
    old = json.loads(json.dumps(entry))
    for name, meta in old["arrays"].items():
        del meta["xxh64t"]
        meta["sha256"] = hashlib.sha256(arrays[name].tobytes()).hexdigest()
    for e in (entry, old):
        assert np.array_equal(sh.read_shard(tmp_path, 0, e)["indices"], arrays["indices"])
    f = tmp_path / sh.shard_name(0) / "data.npy"
    raw = bytearray(f.read_bytes())
    raw[-1] ^= 0x01
    f.write_bytes(bytes(raw))
    for e, what in ((entry, "XXH64 tree checksum"), (old, "SHA-256")):
        with pytest.raises(DatasetFormatError, match=rf"array 'data' does not match its {what}"):
            sh.read_shard(tmp_path, 0, e)
