"""The sharded dataset directory (format ``fastbip-sharded``, version 2; version 1 is read).

A dataset too large for one file, or written by many machines at once, is a directory::

    DIR/
      manifest.json       format, version, spec, shape, shard row ranges, per-array dtype,
                          shape and XXH64 tree checksum of every shard (SHA-256 in
                          version 1); written last
      base.fbp            people, items, truth and spec (a :mod:`fastbip.io.fbp` file whose
                          purchase matrix is empty): O(n_people + n_items)
      shard-00000/        rows [r0, r1) of the purchases: indptr.npy, indices.npy, data.npy
        ...               (and events.offsets.npy, events.times.npy), checksum.json
      shard-00001/
      ...

Each shard is written by whoever made it (a Dask worker) into a temporary directory that is
renamed into place once complete, so a writer that dies leaves a temporary name (removed
when the manifest is written), never a half shard under a shard's name. The manifest is
written last, by the client, once every shard is in place: a directory without one is not
a dataset. :func:`load_sharded` opens a directory lazily (only the manifest is read; the base
on first use); each shard is read on demand and checked against the manifest (a missing, truncated
or altered shard raises :class:`~fastbip.io.DatasetFormatError` naming it), and
:meth:`ShardedDataset.to_dataset` gathers the shards into one :class:`~fastbip.Dataset`.

``fastbip.load(DIR)`` dispatches here when ``DIR`` is a directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fastbip import __version__
from fastbip._progress import progress as progress_bar
from fastbip.dataset import Dataset, Truth
from fastbip.generate.events import Events
from fastbip.generate.plan import stack_shards
from fastbip.generate.population import Population
from fastbip.generate.purchases import _wrap_csr
from fastbip.spec import Spec

from . import _checksum as _sum
from .fbp import DatasetFormatError, load, save

__all__ = [
    "SHARDED_FORMAT_NAME",
    "SHARDED_FORMAT_VERSION",
    "ShardedDataset",
    "load_sharded",
    "read_shard",
    "shard_name",
    "write_base",
    "write_manifest",
    "write_shard",
]

SHARDED_FORMAT_NAME = "fastbip-sharded"
SHARDED_FORMAT_VERSION = 2
_READ_VERSIONS = (1, 2)  # 1: SHA-256 per array; 2: XXH64 tree checksums (fastbip.io._checksum)
MANIFEST = "manifest.json"
BASE = "base.fbp"
_TMP = ".tmp"


def shard_name(i: int) -> str:
    """The directory name of shard ``i``: ``shard-00000``, ..."""
    return f"shard-{i:05d}"


def _digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return hashlib.sha256(memoryview(a).cast("B")).hexdigest()


def _checksum_of(a: np.ndarray, alg: str, chunk: int) -> str:
    if alg == _sum.SHA256:
        return _digest(a)
    return _sum.xxh64t_hexdigests({"a": np.ascontiguousarray(a)}, chunk)["a"]


def _write_array(path: Path, a: np.ndarray) -> None:
    """One ``.npy`` file (uncompressed, no pickle)."""
    with open(path, "wb") as fh:
        np.lib.format.write_array(fh, np.ascontiguousarray(a), allow_pickle=False)


def shard_arrays(M: sp.csr_matrix, events: Events | None) -> dict[str, np.ndarray]:
    """The arrays of a shard: its CSR arrays and, when it has events, their offsets and times
    (offsets local to the shard, starting at 0)."""
    arrays = {"indptr": M.indptr, "indices": M.indices, "data": M.data}
    if events is not None:
        arrays["events.offsets"] = events.offsets
        arrays["events.times"] = events.times
    return arrays


def write_shard(directory: str | os.PathLike, i: int, arrays: dict[str, np.ndarray]) -> dict:
    """Write shard ``i`` into ``directory`` atomically; returns its manifest entry's
    ``arrays`` (dtype, shape, XXH64 tree checksum per array) and ``checksum`` (the SHA-256
    of that small table).

    The arrays go to a temporary directory, renamed to :func:`shard_name` once complete; a
    shard already there (a task run twice) is replaced by the new, identical one."""
    directory = Path(directory)
    final = directory / shard_name(i)
    tmp = directory / f".{shard_name(i)}.{uuid.uuid4().hex}{_TMP}"
    tmp.mkdir(parents=True)
    try:
        meta = {}
        for name, a in arrays.items():
            _write_array(tmp / f"{name}.npy", a)
            digest = _checksum_of(a, _sum.XXH64T, _sum.CHUNK_BYTES)
            meta[name] = {"dtype": a.dtype.str, "shape": list(a.shape), _sum.XXH64T: digest}
        checksum = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()
        (tmp / "checksum.json").write_text(json.dumps({"arrays": meta, "checksum": checksum}))
        if final.exists():  # written by an earlier run of the same task: move it aside
            old = directory / f".{shard_name(i)}.{uuid.uuid4().hex}.old{_TMP}"
            os.replace(final, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"arrays": meta, "checksum": checksum, _sum.CHUNK_FIELD: _sum.CHUNK_BYTES}


def read_shard(
    directory: str | os.PathLike, i: int, entry: dict, *, verify: bool = True
) -> dict[str, np.ndarray]:
    """The arrays of shard ``i`` described by its manifest ``entry``, checked (dtype, shape
    and, with ``verify``, its checksums); :class:`DatasetFormatError` names the shard otherwise."""
    where = Path(directory) / shard_name(i)
    label = f"{str(directory)!r}: shard {i} ({shard_name(i)}, rows {entry['rows']})"
    if not where.is_dir():
        raise DatasetFormatError(f"{label} is missing")
    out = {}
    for name, meta in entry["arrays"].items():
        try:
            a = np.load(where / f"{name}.npy", allow_pickle=False)
        except FileNotFoundError as e:
            raise DatasetFormatError(f"{label} lacks array {name!r}") from e
        except (ValueError, OSError, EOFError) as e:
            raise DatasetFormatError(f"{label}: array {name!r} is damaged ({e})") from e
        if a.dtype.str != meta["dtype"] or list(a.shape) != meta["shape"]:
            raise DatasetFormatError(
                f"{label}: array {name!r} has dtype {a.dtype.str} shape {list(a.shape)}; "
                f"the manifest says {meta['dtype']} {meta['shape']}"
            )
        alg = _sum.XXH64T if _sum.XXH64T in meta else _sum.SHA256  # version 2 or 1
        chunk = entry.get(_sum.CHUNK_FIELD, _sum.CHUNK_BYTES)
        if verify and _checksum_of(a, alg, chunk) != meta.get(alg):
            raise DatasetFormatError(
                f"{label}: array {name!r} does not match its {_sum.describe(alg)} in the "
                "manifest: the shard was altered"
            )
        out[name] = a
    return out


def shard_from_arrays(
    arrays: dict[str, np.ndarray], n_cols: int
) -> tuple[sp.csr_matrix, Events | None]:
    """(CSR shard, its events or None) from :func:`shard_arrays`'s arrays."""
    indptr = arrays["indptr"]
    M = _wrap_csr(arrays["data"], arrays["indices"], indptr, (indptr.size - 1, n_cols))
    events = None
    if "events.offsets" in arrays:
        events = Events(arrays["events.offsets"], arrays["events.times"])
    return M, events


def write_base(
    directory: str | os.PathLike,
    people: Population,
    items: Population,
    truth: Truth | None,
    spec: Spec | None,
) -> Path:
    """``base.fbp``: the populations, truth and spec (a dataset file with no purchases)."""
    empty = sp.csr_matrix((people.n, items.n), dtype=np.int32)
    return save(Dataset(people, items, empty, truth, spec, None), Path(directory) / BASE)


def write_manifest(
    directory: str | os.PathLike,
    *,
    shape: tuple[int, int],
    spec: Spec | None,
    shards: list[dict],
    n_draws: int,
    events: bool,
    block_size: int,
) -> Path:
    """Write ``manifest.json`` (atomically, last) and remove temporary names left by writers
    that died. ``shards``: per shard ``rows`` [r0, r1), ``nnz``, ``purchases``, and the
    ``arrays`` and ``checksum`` that :func:`write_shard` returned."""
    directory = Path(directory)
    manifest = {
        "format": SHARDED_FORMAT_NAME,
        "version": SHARDED_FORMAT_VERSION,
        "fastbip_version": __version__,
        "shape": list(shape),
        "spec": spec.to_dict() if spec is not None else None,
        "base": BASE,
        "n_draws": int(n_draws),
        "events": bool(events),
        "block_size": int(block_size),
        "shards": shards,
    }
    tmp = directory / f".{MANIFEST}.{uuid.uuid4().hex}{_TMP}"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, directory / MANIFEST)
    for p in directory.iterdir():
        if p.name.startswith(".") and p.name.endswith(_TMP):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    return directory / MANIFEST


@dataclass(eq=False)
class ShardedDataset:
    """A dataset whose purchases are cut into row shards, held elsewhere: on Dask workers
    (``futures``) or in a sharded directory (``path``). Only the manifest's small facts are
    held here; people, items and truth (O(n_people + n_items)) are read on first use
    (``base.fbp`` of the directory, or the workers' ``base_future``), and the shards one at
    a time on demand.

    Attributes
    ----------
    people, items : Population (read on first use)
    truth : Truth or None (read on first use)
    spec : Spec or None
    shape : (n_people, n_items)
    shards : list of dict, one per shard in row order: ``rows`` [r0, r1), ``nnz``,
        ``purchases`` (and on disk ``arrays``, ``checksum``).
    n_draws : int, the draws of the whole matrix (sets its index dtype when gathered).
    has_events : bool
    block_size : int, the rows of a random stream (every shard starts on a block).
    path : Path or None, the sharded directory.
    futures : list of dask futures or None, one per shard, each of (CSR, Events or None).
    base_future : a dask future of (people, items, truth), or None (in a directory).
    """

    spec: Spec | None
    shape: tuple[int, int]
    shards: list[dict]
    n_draws: int
    has_events: bool
    block_size: int = 1024
    path: Path | None = None
    futures: list | None = field(default=None, repr=False)
    base_future: object = field(default=None, repr=False)
    _base: tuple | None = field(default=None, init=False, repr=False)

    def _load_base(self, progress: bool | None = None) -> tuple:
        if self._base is None:
            if self.base_future is not None:
                self._base = tuple(self.base_future.result())
            elif self.path is not None:
                base = load(self.path / BASE, progress=progress)
                self._base = (base.people, base.items, base.truth)
            else:
                raise ValueError("this ShardedDataset has neither a base future nor a path")
        return self._base

    @property
    def people(self) -> Population:
        """The people (read here on first use: O(n_people))."""
        return self._load_base()[0]

    @property
    def items(self) -> Population:
        """The items (read here on first use: O(n_items))."""
        return self._load_base()[1]

    @property
    def truth(self) -> Truth | None:
        """The planted truth, or None (read here on first use: O(n_people + n_items))."""
        return self._load_base()[2]

    @property
    def n_shards(self) -> int:
        """Number of row shards."""
        return len(self.shards)

    @property
    def row_bounds(self) -> np.ndarray:
        """int64 (n_shards + 1,): shard ``s`` holds rows ``row_bounds[s]:row_bounds[s + 1]``."""
        return np.array([0] + [s["rows"][1] for s in self.shards], dtype=np.int64)

    @property
    def nnz(self) -> int:
        """Stored (person, item) pairs."""
        return sum(int(s["nnz"]) for s in self.shards)

    @property
    def n_purchases(self) -> int:
        """Total purchases."""
        return sum(int(s["purchases"]) for s in self.shards)

    def read_shard(self, i: int, *, verify: bool = True) -> tuple[sp.csr_matrix, Events | None]:
        """Shard ``i`` here: (CSR rows of the shard, their events or None)."""
        if not 0 <= i < self.n_shards:
            raise IndexError(f"shard index must be in [0, {self.n_shards}); got {i}")
        if self.futures is not None:
            M, events = self.futures[i].result()[:2]
            return M, events
        if self.path is None:
            raise ValueError("this ShardedDataset has neither futures nor a path")
        return shard_from_arrays(
            read_shard(self.path, i, self.shards[i], verify=verify), self.shape[1]
        )

    def to_dataset(self, *, progress: bool | None = None) -> Dataset:
        """Gather every shard into one :class:`~fastbip.Dataset` (it must fit in memory here):
        equal bit for bit to the dataset generated on one machine. ``progress``: a bar of the
        shards gathered, as in :func:`fastbip.io.load`."""
        self._load_base(progress)
        Ms, evs = [], []
        for i in progress_bar(range(self.n_shards), desc="gather", unit="shard", enable=progress):
            M, ev = self.read_shard(i)
            Ms.append(M)
            evs.append(ev)
        if not Ms:
            purchases = sp.csr_matrix(self.shape, dtype=np.int32)
        else:
            purchases = stack_shards(Ms, self.n_draws, self.shape[1])
        events = None
        if self.has_events:
            offs, base = [], 0
            for ev in evs:
                offs.append(ev.offsets[:-1] + base)
                base += int(ev.offsets[-1])
            offs.append(np.array([base], np.int64))
            times = np.concatenate([ev.times for ev in evs]) if evs else np.zeros(0)
            events = Events(np.concatenate(offs).astype(np.int64, copy=False), times)
        return Dataset(self.people, self.items, purchases, self.truth, self.spec, events)

    def summary(self) -> str:
        """One line: sizes, purchases, shards and where they are."""
        n, m = self.shape
        where = str(self.path) if self.path is not None else "Dask workers"
        return (
            f"{n:,} people x {m:,} items, {self.n_purchases:,} purchases in {self.nnz:,} pairs, "
            f"{self.n_shards} row shards on {where}"
        )


def load_sharded(
    path: str | os.PathLike, *, verify: bool = False, progress: bool | None = None
) -> ShardedDataset:
    """Open a sharded dataset directory lazily (see the module docstring).

    The manifest is read and the presence of ``base.fbp`` and of every shard checked; the
    base and the shards themselves are read (and their checksums checked) only when used, so
    opening a directory costs O(shards) memory here. With ``verify`` the base and every
    shard are read and checked now, with a bar of the shards read (``progress`` as in
    :func:`fastbip.io.load`). Raises :class:`DatasetFormatError` for a directory that is
    not a complete fastbip sharded dataset, naming the missing or altered shard."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"sharded dataset directory {str(path)!r} does not exist")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError as e:
        raise DatasetFormatError(
            f"{str(path)!r} has no {MANIFEST}: not a sharded dataset, or its writing did not finish"
        ) from e
    except (ValueError, OSError) as e:
        raise DatasetFormatError(f"{str(path)!r}: {MANIFEST} is damaged ({e})") from e
    if manifest.get("format") != SHARDED_FORMAT_NAME:
        raise DatasetFormatError(
            f"{str(path)!r} has format {manifest.get('format')!r}; expected {SHARDED_FORMAT_NAME!r}"
        )
    if manifest.get("version") not in _READ_VERSIONS or isinstance(manifest["version"], bool):
        raise DatasetFormatError(
            f"{str(path)!r} has sharded format version {manifest.get('version')!r}; this "
            f"fastbip {__version__} reads versions {', '.join(map(str, _READ_VERSIONS))}"
        )
    if not (path / manifest["base"]).is_file():
        raise DatasetFormatError(f"{str(path)!r}: {manifest['base']} is missing")
    shards = manifest["shards"]
    for i, entry in enumerate(shards):
        if not (path / shard_name(i)).is_dir():
            raise DatasetFormatError(
                f"{str(path)!r}: shard {i} ({shard_name(i)}, rows {entry['rows']}) is missing"
            )
    spec = Spec.from_dict(manifest["spec"]) if manifest["spec"] is not None else None
    out = ShardedDataset(
        spec=spec,
        shape=tuple(manifest["shape"]),
        shards=shards,
        n_draws=int(manifest["n_draws"]),
        has_events=bool(manifest["events"]),
        block_size=int(manifest["block_size"]),
        path=path,
    )
    if verify:
        out._load_base(progress)
        for i in progress_bar(range(out.n_shards), desc="load", unit="shard", enable=progress):
            read_shard(path, i, shards[i], verify=True)
    return out
