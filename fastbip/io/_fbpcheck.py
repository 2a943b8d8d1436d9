"""What a dataset file must mean: the manifest's schema, the arrays it implies, and the
consistency of the arrays with each other (used by :mod:`fastbip.io.fbp`).

Every check raises :class:`Inconsistent` naming the member (``manifest.json`` or an array's
name) and what is wrong; :func:`fastbip.io.load` turns it into a ``DatasetFormatError`` that
also names the file, :func:`fastbip.io.save` into a ``ValueError`` before anything is written.
The checks that read every entry are single numba passes (the CSR structure and the event
offsets, shared with :mod:`fastbip._validation`) or reductions (value ranges): no
array-sized temporaries.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

MANIFEST = "manifest.json"

_DTYPE = re.compile(r"^[<>|=]?[biufU][0-9]{1,3}$")
_TRUTH = ("omega", "theta", "phi", "people_labels", "item_labels")


class Inconsistent(Exception):
    """One member of a dataset is malformed or contradicts another."""

    def __init__(self, member: str, message: str) -> None:
        super().__init__(message)
        self.member = member
        self.message = message


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _kind(v: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "nonneg":
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0
    return isinstance(v, {"str": str, "bool": bool, "list": list, "dict": dict}[kind])


_WHAT = {
    "int": "an integer",
    "nonneg": "an integer >= 0",
    "str": "a string",
    "bool": "true or false",
    "list": "a list",
    "dict": "an object",
}


def field(obj: dict, key: str, kind: str, where: str, *, null: bool = False) -> Any:
    """``obj[key]``, checked to be of ``kind`` (or None when ``null``)."""
    if key not in obj:
        raise Inconsistent(MANIFEST, f"{where} has no {key!r}")
    v = obj[key]
    if (v is None and null) or _kind(v, kind):
        return v
    what = _WHAT[kind] + (" or null" if null else "")
    raise Inconsistent(MANIFEST, f"{where}.{key} must be {what}; got {_short(v)}")


def _strings(v: Any, where: str) -> list[str]:
    if not all(isinstance(s, str) for s in v):
        raise Inconsistent(MANIFEST, f"{where} must hold strings only; got {_short(v)}")
    return v


def check_population(meta: Any, side: str) -> dict:
    """The manifest's ``people`` or ``items`` entry, checked."""
    if not isinstance(meta, dict):
        raise Inconsistent(MANIFEST, f"{side} must be an object; got {_short(meta)}")
    field(meta, "name", "str", side)
    field(meta, "n", "nonneg", side)
    field(meta, "has_labels", "bool", side)
    field(meta, "has_ids", "bool", side)
    cols = _strings(field(meta, "columns", "list", side), f"{side}.columns")
    if len(set(cols)) != len(cols):
        raise Inconsistent(MANIFEST, f"{side}.columns names a feature twice: {_short(cols)}")
    kinds = field(meta, "kinds", "dict", side)
    for c in cols:
        if kinds.get(c) not in ("numeric", "categorical"):
            raise Inconsistent(
                MANIFEST,
                f"{side}.kinds[{c!r}] must be 'numeric' or 'categorical'; got "
                f"{_short(kinds.get(c))}",
            )
    cats = field(meta, "categories", "dict", side)
    for c, names in cats.items():
        if not isinstance(names, list):
            raise Inconsistent(MANIFEST, f"{side}.categories[{c!r}] must be a list")
        _strings(names, f"{side}.categories[{c!r}]")
    for c in cols:
        if kinds[c] == "categorical" and c not in cats:
            raise Inconsistent(MANIFEST, f"{side}: categorical feature {c!r} has no categories")
    _strings(field(meta, "cluster_names", "list", side), f"{side}.cluster_names")
    return meta


def check_manifest(m: Any) -> None:
    """The manifest's fields beyond ``format`` and ``version``: present and of the right type."""
    if not isinstance(m, dict):
        raise Inconsistent(MANIFEST, f"the manifest must be a JSON object; got {_short(m)}")
    shape = field(m, "shape", "list", "the manifest")
    if len(shape) != 2 or not all(_kind(s, "nonneg") for s in shape):
        raise Inconsistent(MANIFEST, f"shape must be [n_people, n_items]; got {_short(shape)}")
    field(m, "spec", "dict", "the manifest", null=True)
    people = check_population(field(m, "people", "dict", "the manifest"), "people")
    items = check_population(field(m, "items", "dict", "the manifest"), "items")
    if shape != [people["n"], items["n"]]:
        raise Inconsistent(
            MANIFEST,
            f"shape {shape} disagrees with people.n={people['n']} and items.n={items['n']}",
        )
    truth = field(m, "truth", "dict", "the manifest", null=True)
    if truth is not None:
        from fastbip.spec.model import MODELS

        if field(truth, "model", "str", "truth") not in MODELS:
            raise Inconsistent(
                MANIFEST, f"truth.model must be one of {list(MODELS)}; got {truth['model']!r}"
            )
    field(m, "events", "bool", "the manifest")
    arrays = field(m, "arrays", "dict", "the manifest")
    for name, meta in arrays.items():
        where = f"arrays[{name!r}]"
        if not isinstance(meta, dict):
            raise Inconsistent(MANIFEST, f"{where} must be an object; got {_short(meta)}")
        dt = field(meta, "dtype", "str", where)
        if not _DTYPE.match(dt):
            raise Inconsistent(
                MANIFEST, f"{where}.dtype must be a plain numeric or unicode dtype; got {dt!r}"
            )
        sh = field(meta, "shape", "list", where)
        if not all(_kind(s, "nonneg") for s in sh):
            raise Inconsistent(
                MANIFEST, f"{where}.shape must be a list of integers >= 0; got {_short(sh)}"
            )
    from . import _checksum

    _checksum.check_fields(m, _checksum.algorithm(m.get("version", 2)))


def expected_arrays(m: dict) -> dict[str, tuple[str, tuple | None]]:
    """Array name -> (allowed dtype kinds, required shape or None) that the manifest implies."""
    n, k = m["people"]["n"], m["items"]["n"]
    exp: dict[str, tuple[str, tuple | None]] = {
        "purchases.indptr": ("iu", (n + 1,)),
        "purchases.indices": ("iu", None),
        "purchases.data": ("biuf", None),
    }
    for side, size in (("people", n), ("items", k)):
        meta = m[side]
        if meta["has_labels"]:
            exp[f"{side}.labels"] = ("iu", (size,))
        for i, c in enumerate(meta["columns"]):
            kinds = "iu" if meta["kinds"][c] == "categorical" else "biuf"
            exp[f"{side}.col{i}"] = (kinds, (size,))
        if meta["has_ids"]:
            exp[f"{side}.ids"] = ("iuU", (size,))
    if m["truth"] is not None:
        exp["truth.omega"] = ("iuf", None)
        exp["truth.theta"] = ("iuf", (n,))
        exp["truth.phi"] = ("iuf", (k,))
        exp["truth.people_labels"] = ("iu", (n,))
        exp["truth.item_labels"] = ("iu", (k,))
    if m["events"]:
        exp["events.offsets"] = ("iu", None)
        exp["events.times"] = ("iuf", None)
    return exp


def check_listing(m: dict) -> None:
    """The manifest's ``arrays`` list exactly the arrays its other fields imply, with dtypes
    of the right kind and the shapes the populations fix."""
    exp = expected_arrays(m)
    listed = m["arrays"]
    for name in listed:
        if name not in exp:
            raise Inconsistent(name, "is listed in the manifest but no field of it needs it")
    for name, (kinds, shape) in exp.items():
        if name not in listed:
            raise Inconsistent(name, "is missing from the manifest's arrays")
        dt, sh = np.dtype(listed[name]["dtype"]), tuple(listed[name]["shape"])
        if dt.kind not in kinds:
            raise Inconsistent(name, f"has dtype {dt.str}; expected one of kinds {kinds!r}")
        if shape is not None and sh != shape:
            raise Inconsistent(name, f"has shape {list(sh)}; the populations imply {list(shape)}")
    nnz = listed["purchases.indices"]["shape"]
    if len(nnz) != 1 or listed["purchases.data"]["shape"] != nnz:
        raise Inconsistent(
            "purchases.data",
            f"has shape {listed['purchases.data']['shape']}; purchases.indices has {nnz} "
            "(both must be 1-D and of one length)",
        )
    if m["truth"] is not None:
        om = listed["truth.omega"]["shape"]
        if len(om) != 2 or min(om) < 1:
            raise Inconsistent("truth.omega", f"must be 2-D with K_A, K_B >= 1; got shape {om}")
    if m["events"]:
        off, t = listed["events.offsets"]["shape"], listed["events.times"]["shape"]
        if off != [nnz[0] + 1]:
            raise Inconsistent(
                "events.offsets", f"has shape {off}; one per purchase entry needs {[nnz[0] + 1]}"
            )
        if len(t) != 1:
            raise Inconsistent("events.times", f"must be 1-D; got shape {t}")


# --------------------------------------------------------------------------- values


def _range(a: np.ndarray, name: str, lo: float, hi: float | None, what: str) -> None:
    """Every value of ``a`` finite and in ``[lo, hi)`` (``hi`` None: no upper bound)."""
    if a.size == 0:
        return
    mn, mx = a.min(), a.max()  # NaN propagates into both
    if not mn >= lo:
        raise Inconsistent(name, f"holds {mn}; {what} must be >= {lo}")
    if hi is not None and not mx < hi:
        raise Inconsistent(name, f"holds {mx}; {what} must be < {hi}")
    if a.dtype.kind == "f" and not (np.isfinite(mn) and np.isfinite(mx)):
        bad = mx if np.isfinite(mn) else mn
        raise Inconsistent(name, f"holds {bad}; {what} must be finite")


def _signed(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "u":
        x = x.view(np.int64) if x.dtype.itemsize == 8 else x.astype(np.int64)
    return np.ascontiguousarray(x)


def _check_csr(indptr: np.ndarray, indices: np.ndarray, k: int) -> None:
    """Canonical CSR structure in one numba pass (the check every CSR kernel relies on)."""
    from fastbip._kernels import validate as kv

    if indptr[0] == 0 and indptr[-1] != indices.shape[0]:  # named before any decrease
        raise Inconsistent(
            "purchases.indptr",
            f"ends at {indptr[-1]}; it must end at nnz={indices.shape[0]}, the entries",
        )
    status, pos = kv._csr_structure_status(_signed(indptr), _signed(indices), int(k), True)
    if status == kv.CSR_OK:
        return
    if status == kv.CSR_FIRST_NOT_ZERO:
        raise Inconsistent("purchases.indptr", f"starts at {indptr[0]}; it must start at 0")
    if status == kv.CSR_DECREASING:
        raise Inconsistent(
            "purchases.indptr",
            f"decreases (indptr[{pos}] = {indptr[pos]} < indptr[{pos - 1}] = "
            f"{indptr[pos - 1]}); it must be non-decreasing",
        )
    if status == kv.CSR_LAST_NOT_NNZ:
        raise Inconsistent(
            "purchases.indptr",
            f"ends at {indptr[-1]}; it must end at nnz={indices.shape[0]}, the entries",
        )
    what = f"column indices (n_items={k})"
    if status == kv.CSR_INDEX_NEGATIVE:
        raise Inconsistent("purchases.indices", f"holds {indices[pos]}; {what} must be >= 0")
    if status == kv.CSR_INDEX_TOO_LARGE:
        raise Inconsistent("purchases.indices", f"holds {indices[pos]}; {what} must be < {k}")
    raise Inconsistent(
        "purchases.indices",
        f"is not sorted or repeats a column inside a row (at entry {pos}); canonical CSR is needed",
    )


def _check_offsets(off: np.ndarray, data: np.ndarray, nnz: int, n_times: int) -> None:
    """Event offsets from 0 to the number of times, one time per purchase, in one pass."""
    from fastbip._kernels import validate as kv

    if off[0] == 0 and off[-1] != n_times:
        raise Inconsistent(
            "events.offsets",
            f"ends at {off[-1]}; it must end at the number of times, {n_times}",
        )
    o = _signed(off)
    status, pos = kv._offsets_status(o, int(nnz), int(n_times))
    if status == 2:
        raise Inconsistent("events.offsets", f"starts at {off[0]}; it must start at 0")
    if status == 4:
        raise Inconsistent(
            "events.offsets",
            f"ends at {off[-1]}; it must end at the number of times, {n_times}",
        )
    e = kv._offsets_counts_status(o, np.ascontiguousarray(data)) if status == 0 else pos
    if status != 0 or e >= 0:
        raise Inconsistent(
            "events.offsets",
            "does not give each entry as many times as its purchases "
            f"(offsets[e + 1] - offsets[e] must equal purchases.data[e]; first at e = {e})",
        )


def check_values(m: dict, a: dict[str, np.ndarray]) -> None:
    """The arrays agree with each other: CSR structure, label ranges, event offsets."""
    n, k = m["people"]["n"], m["items"]["n"]
    indptr, indices, data = a["purchases.indptr"], a["purchases.indices"], a["purchases.data"]
    nnz = indices.shape[0]
    _check_csr(indptr, indices, k)
    _range(data, "purchases.data", 0, None, "purchase counts")
    truth = m["truth"] is not None
    if truth:
        ka, kb = a["truth.omega"].shape
        _range(a["truth.omega"], "truth.omega", 0, None, "block rates")
        _range(a["truth.theta"], "truth.theta", 0, None, "activities")
        _range(a["truth.phi"], "truth.phi", 0, None, "popularities")
        _range(a["truth.people_labels"], "truth.people_labels", 0, ka, f"labels (K_A={ka})")
        _range(a["truth.item_labels"], "truth.item_labels", 0, kb, f"labels (K_B={kb})")
    for side, size in (("people", n), ("items", k)):
        meta = m[side]
        if meta["has_labels"]:
            if truth:
                hi = ka if side == "people" else kb
            else:
                hi = max(size, len(meta["cluster_names"]))
            _range(a[f"{side}.labels"], f"{side}.labels", -1, hi, "labels (-1 = unassigned)")
        for i, c in enumerate(meta["columns"]):
            if meta["kinds"][c] == "categorical":
                hi = len(meta["categories"][c])
                _range(a[f"{side}.col{i}"], f"{side}.col{i}", -1, hi, f"codes of {c!r}")
    if m["events"]:
        off, times = a["events.offsets"], a["events.times"]
        _check_offsets(off, data, nnz, times.shape[0])
        _range(times, "events.times", -np.inf, None, "times")
