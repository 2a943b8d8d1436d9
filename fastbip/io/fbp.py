"""The dataset file format (version 1): :func:`save` and :func:`load`.

On disk a dataset is one uncompressed zip file holding ``manifest.json`` (format name and
version, the spec, the names, shapes, dtypes and SHA-256 of every array) and one ``.npy``
member per array. It is written to a temporary file and renamed into place, so a crash
never leaves a half-written dataset; a truncated or altered file is rejected on load with
:class:`DatasetFormatError`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from fastbip import __version__
from fastbip.dataset import Dataset, Truth
from fastbip.generate.events import Events
from fastbip.generate.population import Population
from fastbip.spec import Spec

__all__ = ["DatasetFormatError", "FORMAT_NAME", "FORMAT_VERSION", "load", "save"]

FORMAT_NAME = "fastbip-dataset"
FORMAT_VERSION = 1


class DatasetFormatError(ValueError):
    """A dataset file is not a complete, unaltered fastbip dataset of a known version."""


# --------------------------------------------------------------------------- save / load


def _population_meta(p: Population, prefix: str, arrays: dict[str, np.ndarray]) -> dict:
    if p.labels is not None:
        arrays[f"{prefix}.labels"] = p.labels
    for i, col in enumerate(p.columns.values()):
        arrays[f"{prefix}.col{i}"] = col
    if p.ids is not None:
        ids = p.ids
        if ids.dtype.kind not in "iuU":
            ids = ids.astype(str)  # object ids (strings) are stored as unicode
        arrays[f"{prefix}.ids"] = ids
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


def _population_from(meta: dict, prefix: str, arrays: dict[str, np.ndarray]) -> Population:
    return Population(
        name=meta["name"],
        n=meta["n"],
        labels=arrays[f"{prefix}.labels"] if meta["has_labels"] else None,
        columns={name: arrays[f"{prefix}.col{i}"] for i, name in enumerate(meta["columns"])},
        kinds=dict(meta["kinds"]),
        categories={k: tuple(v) for k, v in meta["categories"].items()},
        cluster_names=tuple(meta["cluster_names"]),
        ids=arrays[f"{prefix}.ids"] if meta["has_ids"] else None,
    )


def _digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return hashlib.sha256(memoryview(a).cast("B")).hexdigest()


def save(ds: Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` (one file; conventionally ``.fbp``), atomically."""
    if not isinstance(ds, Dataset):
        raise TypeError(f"save expects a Dataset; got {type(ds).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot save a dataset to {str(path)!r}: it is a directory")
    arrays: dict[str, np.ndarray] = {}
    m = ds.purchases.tocsr()
    m.sort_indices()
    arrays["purchases.indptr"] = m.indptr
    arrays["purchases.indices"] = m.indices
    arrays["purchases.data"] = m.data
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "fastbip_version": __version__,
        "shape": list(m.shape),
        "spec": ds.spec.to_dict() if ds.spec is not None else None,
        "people": _population_meta(ds.people, "people", arrays),
        "items": _population_meta(ds.items, "items", arrays),
        "truth": None,
        "events": ds.events is not None,
    }
    if ds.truth is not None:
        t = ds.truth
        manifest["truth"] = {"model": t.model}
        for name in ("omega", "theta", "phi", "people_labels", "item_labels"):
            arrays[f"truth.{name}"] = getattr(t, name)
    if ds.events is not None:
        arrays["events.offsets"] = ds.events.offsets
        arrays["events.times"] = ds.events.times
    manifest["arrays"] = {
        k: {
            "dtype": np.asarray(a).dtype.str,
            "shape": list(np.shape(a)),
            "sha256": _digest(np.asarray(a)),
        }
        for k, a in arrays.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with (
            os.fdopen(fd, "wb") as fh,
            zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf,
        ):
            zf.writestr("manifest.json", json.dumps(manifest, indent=1))
            for k, a in arrays.items():
                with zf.open(f"arrays/{k}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(a), allow_pickle=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load(path: str | os.PathLike) -> Dataset:
    """Read a dataset written by :func:`save`, checking format, version and every array's
    SHA-256; a truncated or altered file raises :class:`DatasetFormatError`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dataset file {str(path)!r} does not exist")
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError) as e:
        raise DatasetFormatError(
            f"{str(path)!r} is not a fastbip dataset (not a complete zip "
            f"file: {e}); it may be truncated"
        ) from e
    with zf:
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except KeyError as e:
            raise DatasetFormatError(
                f"{str(path)!r} has no manifest.json: not a fastbip dataset"
            ) from e
        except (zipfile.BadZipFile, ValueError, OSError) as e:
            raise DatasetFormatError(f"{str(path)!r}: manifest.json is damaged ({e})") from e
        if manifest.get("format") != FORMAT_NAME:
            raise DatasetFormatError(
                f"{str(path)!r} has format {manifest.get('format')!r}; expected {FORMAT_NAME!r}"
            )
        version = manifest.get("version")
        if version != FORMAT_VERSION:
            raise DatasetFormatError(
                f"{str(path)!r} has format version {version!r}; this "
                f"fastbip {__version__} reads version {FORMAT_VERSION}"
            )
        arrays: dict[str, np.ndarray] = {}
        for name, meta in manifest["arrays"].items():
            member = f"arrays/{name}.npy"
            try:
                with zf.open(member) as fh:
                    a = np.lib.format.read_array(io.BufferedReader(fh), allow_pickle=False)
            except KeyError as e:
                raise DatasetFormatError(
                    f"{str(path)!r} lacks array {name!r}: the file is incomplete"
                ) from e
            except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
                raise DatasetFormatError(
                    f"{str(path)!r}: array {name!r} is damaged or truncated ({e})"
                ) from e
            if a.dtype.str != meta["dtype"] or list(a.shape) != meta["shape"]:
                raise DatasetFormatError(
                    f"{str(path)!r}: array {name!r} has dtype {a.dtype.str} shape "
                    f"{list(a.shape)}; the manifest says {meta['dtype']} {meta['shape']}"
                )
            if _digest(a) != meta["sha256"]:
                raise DatasetFormatError(
                    f"{str(path)!r}: array {name!r} does not match its "
                    "SHA-256 in the manifest: the file was altered"
                )
            arrays[name] = a
    shape = tuple(manifest["shape"])
    purchases = sp.csr_matrix(
        (arrays["purchases.data"], arrays["purchases.indices"], arrays["purchases.indptr"]),
        shape=shape,
        copy=False,
    )
    people = _population_from(manifest["people"], "people", arrays)
    items = _population_from(manifest["items"], "items", arrays)
    truth = None
    if manifest["truth"] is not None:
        truth = Truth(
            **{
                n: arrays[f"truth.{n}"]
                for n in ("omega", "theta", "phi", "people_labels", "item_labels")
            },
            model=manifest["truth"]["model"],
        )
    spec = Spec.from_dict(manifest["spec"]) if manifest["spec"] is not None else None
    events = None
    if manifest["events"]:
        events = Events(arrays["events.offsets"], arrays["events.times"])
    return Dataset(people, items, purchases, truth, spec, events)
