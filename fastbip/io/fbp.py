"""The dataset file format (version 2): :func:`save`, :func:`load` and :func:`read_manifest`.

On disk a dataset is one uncompressed zip file holding ``manifest.json`` (format name and
version, the spec, the names, shapes, dtypes and checksum of every array) and one ``.npy``
member per array (see ``docs/dataset-format.md``). :func:`save` streams each array once into
its member while hashing it, writes the manifest last, and renames a flushed and synced
temporary file into place, so a crash never leaves a half-written dataset. :func:`load`
checks every member's place, dtype and shape against the manifest before it maps anything,
maps the arrays from the file instead of copying them, checksums them as they are read
(XXH64 tree digests, :mod:`fastbip.io._checksum`; SHA-256 for version 1 files), and
checks that the arrays agree with each other; any failure is :class:`DatasetFormatError`
naming the file and the member.
"""

from __future__ import annotations

import io
import json
import math
import mmap
import os
import re
import struct
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fastbip import __version__
from fastbip._progress import progress as progress_bar

from . import _checksum as _sum
from . import _fbpcheck as _chk
from ._fbpcheck import MANIFEST, Inconsistent
from ._files import fsync_dir as _fsync_dir
from ._files import writable as _writable

if TYPE_CHECKING:
    from fastbip.dataset import Dataset

__all__ = [
    "DatasetFormatError",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_LIMIT",
    "load",
    "read_manifest",
    "save",
]

FORMAT_NAME = "fastbip-dataset"
FORMAT_VERSION = 2
READ_VERSIONS = (1, 2)  # version 1: SHA-256 per array; 2: XXH64 tree digests
MANIFEST_LIMIT = 16 << 20  # bytes: a manifest is a few KiB; anything past this is refused
_PADDED = re.compile(rb"[ \t\r\n]{1025}")  # a whitespace run no writer of JSON produces
_ALIGN = 64  # each member's data starts on a multiple of this, so arrays map aligned
_CHUNK = 16 << 20  # bytes per write / checksum step (a multiple of _checksum.CHUNK_BYTES)
_LOCAL = struct.Struct("<4s22xHH")  # a zip local file header: signature, name and extra sizes
_ALIGN_EXTRA = 0xD935  # the zip extra-field id used for alignment padding (as zipalign does)
# what a damaged zip directory can make zipfile raise besides BadZipFile
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    ValueError,
    EOFError,
    struct.error,
    OverflowError,
    IndexError,
    KeyError,
    NotImplementedError,
)


class DatasetFormatError(ValueError):
    """A dataset file is not a complete, unaltered, self-consistent fastbip dataset of a
    known version."""


def _err(file: str, member: str, message: str) -> DatasetFormatError:
    return DatasetFormatError(f"{file}: member {member}: {message}")


def _is_einval(e: OSError) -> bool:
    # a seek to a negative offset read from a damaged directory, not a failing disk
    return e.errno == 22


# --------------------------------------------------------------------------- reading


def _zip(fh, file: str) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    try:
        zf = zipfile.ZipFile(fh, "r")
        infos = zf.infolist()
    except _ZIP_ERRORS as e:
        raise DatasetFormatError(
            f"{file}: not a fastbip dataset (not a complete zip file: {e}); it may be truncated"
        ) from e
    except OSError as e:
        if not _is_einval(e):
            raise
        raise DatasetFormatError(f"{file}: not a fastbip dataset (damaged zip: {e})") from e
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in members:
            raise _err(file, info.filename, "is stored twice in the zip directory")
        members[info.filename] = info
    return zf, members


def _stored(info: zipfile.ZipInfo, file: str, member: str) -> None:
    if info.compress_type != zipfile.ZIP_STORED:
        raise _err(
            file, member, f"is compressed (method {info.compress_type}); members must be stored"
        )
    if info.flag_bits & 0x1:
        raise _err(file, member, "is encrypted; members must be stored in the clear")
    if info.compress_size != info.file_size:
        raise _err(
            file,
            member,
            f"has {info.compress_size} stored bytes for {info.file_size} bytes of content",
        )


def _manifest(zf: zipfile.ZipFile, members: dict, file: str) -> dict:
    """The checked manifest: size, padding and JSON before its fields, then every field."""
    info = members.get(MANIFEST)
    if info is None:
        raise DatasetFormatError(f"{file}: has no manifest.json: not a fastbip dataset")
    _stored(info, file, MANIFEST)
    if info.file_size > MANIFEST_LIMIT:
        raise _err(
            file, MANIFEST, f"is {info.file_size:,} bytes; a manifest is at most {MANIFEST_LIMIT:,}"
        )
    try:
        raw = zf.read(info)
    except _ZIP_ERRORS as e:
        raise _err(file, MANIFEST, f"is damaged ({e})") from e
    except OSError as e:
        if not _is_einval(e):
            raise
        raise _err(file, MANIFEST, f"is damaged ({e})") from e
    if _PADDED.search(raw):
        raise _err(file, MANIFEST, "is padded with a run of over 1024 blank characters")
    try:
        m = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _err(file, MANIFEST, f"is not valid JSON ({e})") from e
    if not isinstance(m, dict):
        raise _err(file, MANIFEST, f"must be a JSON object; got {type(m).__name__}")
    if m.get("format") != FORMAT_NAME:
        raise _err(file, MANIFEST, f"has format {m.get('format')!r}; expected {FORMAT_NAME!r}")
    version = m.get("version")
    if version not in READ_VERSIONS or isinstance(version, bool):
        raise _err(
            file,
            MANIFEST,
            f"has format version {version!r}; this fastbip {__version__} reads versions "
            f"{', '.join(map(str, READ_VERSIONS))}",
        )
    try:
        _chk.check_manifest(m)
        _chk.check_listing(m)
    except Inconsistent as e:
        raise _err(file, e.member, e.message) from None
    return m


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a dataset file, checked, without reading any array.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    dict
        The manifest (see ``docs/dataset-format.md``): its fields are present and of the right
        types and its ``arrays`` are those the other fields imply. No checksum is verified and
        no array is read, so this takes the same time whatever the file's size.

    Raises
    ------
    DatasetFormatError
        The file is not a zip, or its manifest is missing, too large, padded, not JSON, of
        another format or version, or malformed.
    FileNotFoundError, IsADirectoryError, PermissionError
        From the operating system, unchanged.
    """
    path = Path(path)
    with _open(path) as fh:
        zf, members = _zip(fh, str(path))
        return _manifest(zf, members, str(path))


def _open(path: Path):
    if not os.path.lexists(path):
        raise FileNotFoundError(2, f"dataset file {str(path)!r} does not exist", str(path))
    return open(path, "rb")  # noqa: SIM115 - OS errors (directory, permission) stay as they are


def _locate(fh, size: int, info: zipfile.ZipInfo, name: str, meta: dict, file: str):
    """(offset of the array's data in the file, dtype, shape), after checking the member's
    local header and its ``.npy`` header against the zip directory and the manifest."""
    _stored(info, file, name)
    head = os.pread(fh.fileno(), _LOCAL.size, info.header_offset)
    if len(head) != _LOCAL.size:
        raise _err(file, name, "its local zip header lies past the end of the file: truncated")
    sig, n_name, n_extra = _LOCAL.unpack(head)
    raw_name = os.pread(fh.fileno(), n_name, info.header_offset + _LOCAL.size)
    if sig != b"PK\x03\x04" or raw_name.decode("utf-8", "replace") != info.orig_filename:
        raise _err(file, name, "its local zip header is damaged")
    start = info.header_offset + _LOCAL.size + n_name + n_extra
    if start + info.file_size > size:
        raise _err(file, name, "runs past the end of the file: the file is truncated")
    prefix = os.pread(fh.fileno(), min(info.file_size, 1 << 16), start)
    buf = io.BytesIO(prefix)
    try:
        major, _ = np.lib.format.read_magic(buf)
        if major == 1:
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(buf, 1 << 16)
        elif major == 2:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(buf, 1 << 16)
        else:
            raise ValueError(f".npy version {major} is not written by fastbip")
    except Exception as e:  # noqa: BLE001 - numpy's parser of 64 KiB at most: any failure
        raise _err(file, name, f"has a damaged .npy header ({type(e).__name__}: {e})") from e
    want_shape, want_dtype = tuple(meta["shape"]), meta["dtype"]
    if dtype.str != want_dtype or shape != want_shape or fortran:
        raise _err(
            file,
            name,
            f"its .npy header says dtype {dtype.str} shape {list(shape)}"
            f"{' (Fortran order)' if fortran else ''}; the manifest says {want_dtype} "
            f"{list(want_shape)}",
        )
    nbytes = math.prod(shape) * dtype.itemsize
    if info.file_size != buf.tell() + nbytes:
        raise _err(
            file,
            name,
            f"is {info.file_size:,} bytes in the zip directory; its header and the "
            f"manifest's dtype {want_dtype} and shape {list(want_shape)} need "
            f"{buf.tell() + nbytes:,}",
        )
    return start + buf.tell(), dtype, shape


def _bytes(a: np.ndarray) -> memoryview:
    return memoryview(a.reshape(-1).view(np.uint8)) if a.size else memoryview(b"")


def load(path: str | os.PathLike, *, verify: bool = True, progress: bool | None = None) -> Dataset:
    """Read a dataset written by :func:`save`.

    Parameters
    ----------
    path : str or path-like
        The file, or the directory of a sharded dataset (one holding ``manifest.json``, as
        written by :func:`fastbip.distributed.generate_dask` with ``out=``): that is opened
        lazily by :func:`fastbip.io.sharded.load_sharded` and returned as a
        ``ShardedDataset`` (``.to_dataset()`` gathers it).
    verify : bool, default True
        Check every array's checksum against the manifest while it is read (the file is
        read once; an XXH64 tree digest on every core, or SHA-256 for a version 1 file).
        False skips the checksums, for a file you trust (one you wrote yourself): the arrays
        are then mapped but not read until used. The structural checks (each member's
        place, dtype and shape, the CSR structure, label ranges, event offsets) run either
        way; they read the index and label arrays, not the feature columns or times' bytes
        beyond a min/max.
    progress : bool or None
        A bar of the bytes checked (with ``verify``; a sharded directory: of the shards
        read) on standard error: None shows it where standard error is a terminal, False
        never (also ``FASTBIP_PROGRESS=0``); see :mod:`fastbip._progress`.

    Returns
    -------
    Dataset
        Equal to the one saved. Its arrays are mapped copy-on-write from the file (version 1
        files written by an older fastbip, whose members are not aligned, are read into memory
        instead): writing to them changes the loaded dataset only, never the file. The file
        must not be changed in place while the dataset is in use (:func:`save` replaces files
        by renaming, which is safe).

    Raises
    ------
    DatasetFormatError
        The file is not a complete, unaltered fastbip dataset of this version, or its arrays
        contradict each other (``<file>: member <name>: <what is wrong>``).
    FileNotFoundError, IsADirectoryError, PermissionError
        From the operating system, unchanged.
    """
    path = Path(path)
    if path.is_dir() and (path / "manifest.json").is_file():
        from .sharded import load_sharded

        return load_sharded(path, verify=verify, progress=progress)
    file = str(path)
    with _open(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        zf, members = _zip(fh, file)
        m = _manifest(zf, members, file)
        places = {}
        for name, meta in m["arrays"].items():
            info = members.get(f"arrays/{name}.npy")
            if info is None:
                raise _err(file, name, "is missing from the file: the file is incomplete")
            try:
                places[name] = _locate(fh, size, info, name, meta, file)
            except DatasetFormatError:
                raise
            except (OverflowError, ValueError) as e:  # offsets no file can have
                raise _err(file, name, f"has a damaged zip header ({e})") from e
            except OSError as e:
                if not _is_einval(e):
                    raise
                raise _err(file, name, f"has a damaged zip header ({e})") from e
        extra = sorted(set(members) - {MANIFEST} - {f"arrays/{n}.npy" for n in m["arrays"]})
        if extra:
            raise _err(file, extra[0], "is not listed in the manifest")
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)
        arrays: dict[str, np.ndarray] = {}
        for name, (offset, dtype, shape) in places.items():
            count = math.prod(shape)
            if count == 0:
                arrays[name] = np.empty(shape, dtype)
            elif offset % max(dtype.alignment, 1) == 0:
                arrays[name] = np.frombuffer(mm, dtype, count, offset).reshape(shape)
            else:  # an unaligned member (an older writer): one read into a new array
                a = np.empty(shape, dtype)
                got = os.preadv(fh.fileno(), [_bytes(a)], offset)
                if got != a.nbytes:
                    raise _err(file, name, "is shorter than its header says: truncated")
                arrays[name] = a
    if verify:
        alg = _sum.algorithm(m["version"])
        names = sorted(arrays, key=lambda n: -arrays[n].nbytes)
        total = sum(arrays[n].nbytes for n in names)
        digests = {}
        with progress_bar(
            total=total, desc="load", unit="B", unit_scale=True, enable=progress
        ) as bar:
            for name in names:  # one member at a time (its leaves on threads), for the bar
                digests.update(_sum.hexdigests(alg, {name: _bytes(arrays[name])}, m))
                bar.update(arrays[name].nbytes)
        for name in names:
            if digests[name] != m["arrays"][name][alg]:
                raise _err(
                    file,
                    name,
                    f"does not match its {_sum.describe(alg)} in the manifest: the file was "
                    "altered",
                )
    for name, a in arrays.items():
        if not a.dtype.isnative:
            arrays[name] = a.astype(a.dtype.newbyteorder("="))
    try:
        _chk.check_values(m, arrays)
        return _assemble(m, arrays)
    except Inconsistent as e:
        raise _err(file, e.member, e.message) from None


def _assemble(m: dict, arrays: dict[str, np.ndarray]) -> Dataset:
    import scipy.sparse as sp

    from fastbip.dataset import Dataset, Truth
    from fastbip.generate.events import Events
    from fastbip.generate.population import Population
    from fastbip.spec import Spec

    shape = tuple(m["shape"])
    purchases = sp.csr_matrix(
        (arrays["purchases.data"], arrays["purchases.indices"], arrays["purchases.indptr"]),
        shape=shape,
        copy=False,
    )
    purchases.has_sorted_indices = True  # checked by check_values
    purchases.has_canonical_format = True

    def population(side: str) -> Population:
        meta = m[side]
        try:
            return Population(
                name=meta["name"],
                n=meta["n"],
                labels=arrays[f"{side}.labels"] if meta["has_labels"] else None,
                columns={c: arrays[f"{side}.col{i}"] for i, c in enumerate(meta["columns"])},
                kinds={c: meta["kinds"][c] for c in meta["columns"]},
                categories={k: tuple(v) for k, v in meta["categories"].items()},
                cluster_names=tuple(meta["cluster_names"]),
                ids=arrays[f"{side}.ids"] if meta["has_ids"] else None,
            )
        except (ValueError, TypeError) as e:
            raise Inconsistent(MANIFEST, f"{side}: {e}") from None

    people, items = population("people"), population("items")
    truth = None
    if m["truth"] is not None:
        truth = Truth(**{n: arrays[f"truth.{n}"] for n in _chk._TRUTH}, model=m["truth"]["model"])
    spec = None
    if m["spec"] is not None:
        try:
            spec = Spec.from_dict(m["spec"])
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise Inconsistent(MANIFEST, f"spec: {e}") from None
    events = Events(arrays["events.offsets"], arrays["events.times"]) if m["events"] else None
    return Dataset(people, items, purchases, truth, spec, events)


# --------------------------------------------------------------------------- writing


def _population_meta(p, side: str, arrays: dict[str, np.ndarray]) -> dict:
    if p.labels is not None:
        arrays[f"{side}.labels"] = p.labels
    for i, col in enumerate(p.columns.values()):
        arrays[f"{side}.col{i}"] = col
    if p.ids is not None:
        ids = p.ids
        if ids.dtype.kind not in "iuU":
            ids = ids.astype(str)  # object ids (strings) are stored as unicode
        arrays[f"{side}.ids"] = ids
    return {
        "name": p.name,
        "n": p.n,
        "has_labels": p.labels is not None,
        "has_ids": p.ids is not None,
        "columns": list(p.columns),
        "kinds": p.kinds,
        "categories": {k: list(v) for k, v in p.categories.items()},
        "cluster_names": list(p.cluster_names),
    }


def _contents(ds: Dataset) -> tuple[dict, dict[str, np.ndarray]]:
    """The manifest (without checksums) and the arrays of ``ds``, checked as load checks."""
    m = ds.purchases.tocsr()
    if not m.has_canonical_format:
        if ds.events is not None:
            raise ValueError(
                "the dataset's purchases are not canonical CSR (sorted, no duplicates) and its "
                "events are aligned with the entries as they are, so it cannot be saved"
            )
        m = m.copy()
        m.sum_duplicates()
    arrays: dict[str, np.ndarray] = {
        "purchases.indptr": m.indptr,
        "purchases.indices": m.indices,
        "purchases.data": m.data,
    }
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "fastbip_version": __version__,
        "shape": [int(s) for s in m.shape],
        "spec": ds.spec.to_dict() if ds.spec is not None else None,
        "people": _population_meta(ds.people, "people", arrays),
        "items": _population_meta(ds.items, "items", arrays),
        "truth": None if ds.truth is None else {"model": ds.truth.model},
        "events": ds.events is not None,
        _sum.CHUNK_FIELD: _sum.CHUNK_BYTES,
    }
    if ds.truth is not None:
        for name in _chk._TRUTH:
            arrays[f"truth.{name}"] = getattr(ds.truth, name)
    if ds.events is not None:
        arrays["events.offsets"] = ds.events.offsets
        arrays["events.times"] = ds.events.times
    arrays = {k: np.ascontiguousarray(a) for k, a in arrays.items()}
    manifest["arrays"] = {
        k: {"dtype": a.dtype.str, "shape": list(a.shape), _sum.XXH64T: "0" * 16}
        for k, a in arrays.items()
    }
    try:
        _chk.check_manifest(manifest)
        _chk.check_listing(manifest)
        _chk.check_values(manifest, arrays)
    except Inconsistent as e:
        raise ValueError(f"the dataset cannot be saved: {e.member} {e.message}") from None
    return manifest, arrays


def _write_member(zf: zipfile.ZipFile, fh, name: str, a: np.ndarray, pool, bar) -> str:
    """Stream ``a`` as ``.npy`` into the member ``name``, its data aligned; its checksum.

    Each chunk is hashed on ``pool``'s thread while this one writes it (zipfile's CRC-32 and
    the write), so the array is read once and the two passes overlap."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    base = fh.tell() + 30 + len(name.encode()) + 20 + 6  # + zip64 extra + our extra's head
    info.extra = struct.pack("<HHH", _ALIGN_EXTRA, 2 + (-base) % _ALIGN, _ALIGN)
    info.extra += b"\0" * ((-base) % _ALIGN)
    h = _sum.TreeHasher(_sum.CHUNK_BYTES)  # _CHUNK is a whole number of its leaves
    with zf.open(info, "w", force_zip64=True) as member:
        d = np.lib.format.header_data_from_array_1_0(a)
        try:
            np.lib.format.write_array_header_1_0(member, d)
        except ValueError:  # a header over 64 KiB
            np.lib.format.write_array_header_2_0(member, d)
        view = _bytes(a)
        for s in range(0, len(view), _CHUNK):
            chunk = view[s : s + _CHUNK]
            hashed = pool.submit(h.update, chunk)
            member.write(chunk)
            hashed.result()
            bar.update(len(chunk))
    return h.hexdigest()


def save(ds: Dataset, path: str | os.PathLike, *, progress: bool | None = None) -> Path:
    """Write ``ds`` to one file (conventionally ``.fbp``), atomically.

    Parameters
    ----------
    ds : Dataset
        The dataset. Its arrays are checked as :func:`load` checks them, so a file that
        :func:`save` writes always loads.
    path : str or path-like
        The file. Its folder is created if needed. An existing file is replaced by renaming a
        complete, flushed and synced temporary file over it (the folder is synced too), so a
        crash leaves the old file or the new one, never a mix. A write-protected file (no
        write permission bit, or not writable by this user) is refused with
        ``PermissionError`` before anything is written. A symbolic link is written through:
        the file it points to is replaced and the link is kept (a dangling link creates its
        target).
    progress : bool or None
        A bar of the bytes written on standard error: None shows it where standard error is
        a terminal, False never (also ``FASTBIP_PROGRESS=0``); see :mod:`fastbip._progress`.

    Returns
    -------
    Path
        ``path`` as given.

    Raises
    ------
    TypeError
        ``ds`` is not a Dataset.
    ValueError
        The dataset's arrays contradict each other (the member and what is wrong).
    IsADirectoryError, PermissionError
        ``path`` is a folder, or a write-protected file.
    """
    from fastbip.dataset import Dataset

    if not isinstance(ds, Dataset):
        raise TypeError(f"save expects a Dataset; got {type(ds).__name__}")
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    _writable(target)
    manifest, arrays = _contents(ds)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        total = sum(a.nbytes for a in arrays.values())
        with (
            os.fdopen(fd, "wb") as fh,
            ThreadPoolExecutor(max_workers=1) as pool,
            progress_bar(
                total=total, desc="save", unit="B", unit_scale=True, enable=progress
            ) as bar,
        ):
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                for k, a in arrays.items():
                    digest = _write_member(zf, fh, f"arrays/{k}.npy", a, pool, bar)
                    manifest["arrays"][k][_sum.XXH64T] = digest
                zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; give it the usual mode
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    return path
