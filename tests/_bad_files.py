"""Bad dataset files for tests/test_io_catalogue.py: a rewriter that keeps checksums
consistent, the edits, and the table of cases (id, edit, sync, exception, member, what)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest

from fastbip.io import DatasetFormatError
from fastbip.io import _checksum as _sum

N_PEOPLE, N_ITEMS = 300, 80
TIB7 = 7 * 2**40


def _parts(path):
    with zipfile.ZipFile(path) as zf:
        m = json.loads(zf.read("manifest.json"))
        arrays = {
            n: np.lib.format.read_array(io.BytesIO(zf.read(f"arrays/{n}.npy"))) for n in m["arrays"]
        }
    return m, arrays


def _npy(a) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(a), allow_pickle=True)
    return buf.getvalue()


def _write(path, m, arrays, raw=None, sync=True):
    """A zip of ``arrays`` and ``m``; with ``sync`` the manifest's dtype, shape and checksum
    (SHA-256 for version 1, else the XXH64 tree digest) of every array present are made to
    match it. ``raw``: member name -> bytes, or a function
    that writes the member itself, to add or replace."""
    raw = dict(raw or {})
    if sync and isinstance(m.get("arrays"), dict):
        for n, a in arrays.items():
            a = np.ascontiguousarray(a)
            m["arrays"].setdefault(n, {})
            m["arrays"][n].update(dtype=a.dtype.str, shape=list(a.shape))
            if m.get("version") == 1:
                digest = hashlib.sha256(a.reshape(-1).view(np.uint8)).hexdigest()
                m["arrays"][n]["sha256"] = digest
            elif isinstance(m.get(_sum.CHUNK_FIELD), int):
                leaves = _sum.xxh64_leaves(a, m[_sum.CHUNK_FIELD])
                m["arrays"][n][_sum.XXH64T] = _sum._root(leaves)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for n, a in arrays.items():
            if f"arrays/{n}.npy" not in raw:
                zf.writestr(f"arrays/{n}.npy", _npy(a))
        if "manifest.json" not in raw:
            zf.writestr("manifest.json", json.dumps(m, indent=1))
        for name, value in raw.items():
            if callable(value):
                value(zf)
            elif value is not None:
                zf.writestr(name, value)
    return path


# --- the edits: each takes (manifest, arrays) and changes them in place; it may return raw
# members to write as they are


def _set(name, index, value, dtype=None):
    def change(m, a):
        x = a[name].astype(dtype) if dtype else a[name].copy()
        x[index] = value
        a[name] = x

    return change


def _cut_rows(m, a):  # 10 rows of purchases for 300 people
    ip = a["purchases.indptr"][:11].copy()
    a["purchases.indptr"] = ip
    a["purchases.indices"] = a["purchases.indices"][: ip[-1]]
    a["purchases.data"] = a["purchases.data"][: ip[-1]]
    a["events.offsets"] = a["events.offsets"][: ip[-1] + 1]
    a["events.times"] = a["events.times"][: a["events.offsets"][-1]]


def _consistent_rows(m, a):  # 10 rows, and the manifest says 10 people: labels then disagree
    _cut_rows(m, a)
    m["shape"][0] = m["people"]["n"] = 10


def _decreasing_indptr(m, a):
    ip = a["purchases.indptr"].copy()
    ip[5], ip[6] = ip[6] + 3, ip[5]
    a["purchases.indptr"] = ip


def _swap_in_row(m, a):
    ip, ix = a["purchases.indptr"], a["purchases.indices"].copy()
    r = int(np.flatnonzero(np.diff(ip) >= 2)[0])
    ix[ip[r]], ix[ip[r] + 1] = ix[ip[r] + 1], ix[ip[r]]
    a["purchases.indices"] = ix


def _dup_in_row(m, a):
    ip, ix = a["purchases.indptr"], a["purchases.indices"].copy()
    r = int(np.flatnonzero(np.diff(ip) >= 2)[0])
    ix[ip[r] + 1] = ix[ip[r]]
    a["purchases.indices"] = ix


def _offsets_plus(k):
    def change(m, a):
        off = a["events.offsets"].copy()
        off[5:] += k
        a["events.offsets"] = off

    return change


def _offsets_past_times(m, a):
    off = a["events.offsets"].copy()
    off[-1] += 7
    a["events.offsets"] = off


def _shorter(name, by=1):
    def change(m, a):
        a[name] = a[name][:-by]

    return change


def _drop_array(name):
    def change(m, a):
        del a[name]

    return change


def _manifest(edit):
    def change(m, a):
        edit(m)

    return change


def _delete_key(*keys):
    def edit(m):
        d = m
        for k in keys[:-1]:
            d = d[k]
        del d[keys[-1]]

    return _manifest(edit)


def _put(*keys, value):
    def edit(m):
        d = m
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return _manifest(edit)


def _raw_manifest(data: bytes):
    def change(m, a):
        return {"manifest.json": data}

    return change


def _padded_manifest(total):
    def change(m, a):
        text = json.dumps(m).encode()

        def write(zf):
            with zf.open("manifest.json", "w", force_zip64=True) as fh:
                fh.write(text[:-1])
                chunk = b" " * (1 << 20)
                left = total - len(text)
                while left > 0:
                    fh.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
                fh.write(b"}")

        return {"manifest.json": write}

    return change


def _lying_header(manifest_too, name="truth.theta"):
    def change(m, a):
        x = a[name]
        head = io.BytesIO()
        d = {"descr": x.dtype.str, "fortran_order": False, "shape": (TIB7 // 8,)}
        np.lib.format.write_array_header_1_0(head, d)
        if manifest_too:
            m["arrays"][name]["shape"] = [TIB7 // 8]
        return {f"arrays/{name}.npy": head.getvalue() + x.tobytes()}

    return change


def _header_with(**fields):
    def change(m, a):
        x = a["truth.theta"]
        head = io.BytesIO()
        d = {"descr": x.dtype.str, "fortran_order": False, "shape": x.shape} | fields
        np.lib.format.write_array_header_1_0(head, d)
        return {"arrays/truth.theta.npy": head.getvalue() + x.tobytes()}

    return change


def _raw_member(name, data):
    def change(m, a):
        return {name: data}

    return change


def _compressed(name):
    def change(m, a):
        if name == "manifest.json":
            data = json.dumps(m).encode()
        else:
            data = _npy(a[name])
            name_in_zip = f"arrays/{name}.npy"
        target = "manifest.json" if name == "manifest.json" else name_in_zip

        def write(zf):
            zf.writestr(target, data, compress_type=zipfile.ZIP_DEFLATED)

        return {target: write}

    return change


def _twice(m, a):
    data = _npy(a["truth.phi"])

    def write(zf):
        zf.writestr("arrays/truth.phi.npy", data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("arrays/truth.phi.npy", data)

    return {"arrays/truth.phi.npy": write}


def _pickled(m, a):
    obj = np.array([{"x": 1}] * N_PEOPLE, dtype=object)
    return {"arrays/truth.theta.npy": _npy(obj)}


def _trailing_bytes(m, a):
    return {"arrays/truth.phi.npy": _npy(a["truth.phi"]) + b"\0" * 64}


def _float_indices(m, a):
    a["purchases.indices"] = a["purchases.indices"].astype(np.float64)


def _with_nan_column(m, a):
    return _set("people.col1", 0, 99)(m, a)  # col1 is the categorical postcode


E = DatasetFormatError
CASES = [
    # (id, change, sync, exception, member, what)
    # --- consistent rewrites: arrays edited, checksums updated -----------------------------
    ("indptr-shape-vs-people", _shorter("purchases.indptr"), True, E, "purchases.indptr", "shape"),
    ("10-rows-for-300-people", _cut_rows, True, E, "purchases.indptr", "the populations imply"),
    ("10-people-but-300-labels", _consistent_rows, True, E, "people.labels", "shape"),
    ("decreasing-indptr", _decreasing_indptr, True, E, "purchases.indptr", "decreases"),
    ("indptr-starts-at-1", _set("purchases.indptr", 0, 1), True, E, "purchases.indptr", "start"),
    ("indptr-ends-early", _set("purchases.indptr", -1, 3), True, E, "purchases.indptr", "ends at"),
    (
        "index-past-last-column",
        _set("purchases.indices", 4, N_ITEMS),
        True,
        E,
        "purchases.indices",
        "must be <",
    ),
    (
        "index-far-past",
        _set("purchases.indices", 0, 2**31 - 1),
        True,
        E,
        "purchases.indices",
        "must be <",
    ),
    ("negative-index", _set("purchases.indices", 4, -1), True, E, "purchases.indices", ">= 0"),
    ("unsorted-row", _swap_in_row, True, E, "purchases.indices", "not sorted"),
    ("duplicate-in-row", _dup_in_row, True, E, "purchases.indices", "repeats"),
    ("indices-float", _float_indices, True, E, "purchases.indices", "kinds"),
    (
        "nan-purchases",
        _set("purchases.data", 2, np.nan, np.float64),
        True,
        E,
        "purchases.data",
        "nan",
    ),
    (
        "inf-purchases",
        _set("purchases.data", 2, np.inf, np.float64),
        True,
        E,
        "purchases.data",
        "finite",
    ),
    ("negative-purchases", _set("purchases.data", 2, -3), True, E, "purchases.data", ">= 0"),
    ("data-shorter", _shorter("purchases.data"), True, E, "purchases.data", "one length"),
    ("people-label-above-k", _set("people.labels", 0, 4), True, E, "people.labels", "< 4"),
    ("people-label-minus-2", _set("people.labels", 0, -2), True, E, "people.labels", ">= -1"),
    ("item-label-huge", _set("items.labels", 0, 10**9), True, E, "items.labels", "< 4"),
    (
        "truth-label-above-k",
        _set("truth.people_labels", 7, 4),
        True,
        E,
        "truth.people_labels",
        "K_A=4",
    ),
    (
        "truth-label-unassigned",
        _set("truth.item_labels", 7, -1),
        True,
        E,
        "truth.item_labels",
        ">= 0",
    ),
    ("truth-label-1e9", _set("truth.item_labels", 7, 10**9), True, E, "truth.item_labels", "K_B=4"),
    ("theta-length", _shorter("truth.theta"), True, E, "truth.theta", "shape"),
    ("phi-length", _shorter("truth.phi", 5), True, E, "truth.phi", "shape"),
    ("theta-nan", _set("truth.theta", 0, np.nan), True, E, "truth.theta", "nan"),
    ("omega-negative", _set("truth.omega", (0, 1), -1.0), True, E, "truth.omega", ">= 0"),
    ("omega-inf", _set("truth.omega", (0, 1), np.inf), True, E, "truth.omega", "finite"),
    (
        "omega-1d",
        lambda m, a: a.__setitem__("truth.omega", a["truth.omega"].ravel()),
        True,
        E,
        "truth.omega",
        "2-D",
    ),
    ("offsets-past-times", _offsets_past_times, True, E, "events.offsets", "ends at"),
    ("offsets-1e12", _offsets_plus(10**12), True, E, "events.offsets", "ends at"),
    ("offsets-not-from-0", _set("events.offsets", 0, 1), True, E, "events.offsets", "start"),
    ("offsets-decrease", _set("events.offsets", 9, 0), True, E, "events.offsets", "as many"),
    ("offsets-length", _shorter("events.offsets"), True, E, "events.offsets", "shape"),
    ("times-nan", _set("events.times", 3, np.nan), True, E, "events.times", "nan"),
    ("times-inf", _set("events.times", 3, -np.inf), True, E, "events.times", "finite"),
    ("category-code-past", _with_nan_column, True, E, "people.col1", "codes of 'postcode'"),
    ("column-length", _shorter("people.col0"), True, E, "people.col0", "shape"),
    (
        "extra-array-listed",
        lambda m, a: a.__setitem__("truth.extra", np.zeros(3)),
        True,
        E,
        "truth.extra",
        "no field",
    ),
    ("array-missing", _drop_array("truth.phi"), False, E, "truth.phi", "missing"),
    (
        "array-unlisted",
        _raw_member("arrays/stray.npy", _npy(np.zeros(2))),
        True,
        E,
        "arrays/stray.npy",
        "not listed",
    ),
    (
        "has-ids-without-ids",
        _put("people", "has_ids", value=True),
        True,
        E,
        "people.ids",
        "missing",
    ),
    # --- the manifest ----------------------------------------------------------------------
    ("no-arrays-key", _delete_key("arrays"), True, E, "manifest.json", "no 'arrays'"),
    ("no-shape-key", _delete_key("shape"), True, E, "manifest.json", "no 'shape'"),
    ("no-people-n", _delete_key("people", "n"), True, E, "manifest.json", "people has no 'n'"),
    ("no-truth-key", _delete_key("truth"), True, E, "manifest.json", "no 'truth'"),
    (
        "no-dtype",
        _delete_key("arrays", "truth.phi", "dtype"),
        False,
        E,
        "manifest.json",
        "no 'dtype'",
    ),
    (
        "people-n-string",
        _put("people", "n", value="300"),
        True,
        E,
        "manifest.json",
        "people.n must be an integer",
    ),
    ("people-n-negative", _put("people", "n", value=-1), True, E, "manifest.json", ">= 0"),
    ("shape-string", _put("shape", value="300x80"), True, E, "manifest.json", "a list"),
    ("shape-1d", _put("shape", value=[300]), True, E, "manifest.json", "n_people, n_items"),
    ("shape-vs-n", _put("shape", value=[299, 80]), True, E, "manifest.json", "disagrees"),
    ("version-3", _put("version", value=3), True, E, "manifest.json", "version 3"),
    ("version-string", _put("version", value="1"), True, E, "manifest.json", "version '1'"),
    ("version-bool", _put("version", value=True), True, E, "manifest.json", "version True"),
    ("no-version", _delete_key("version"), True, E, "manifest.json", "version None"),
    ("format-other", _put("format", value="npz"), True, E, "manifest.json", "format 'npz'"),
    (
        "model-unknown",
        _put("truth", "model", value="gauss"),
        True,
        E,
        "manifest.json",
        "truth.model",
    ),
    ("truth-list", _put("truth", value=[]), True, E, "manifest.json", "truth must be"),
    ("events-string", _put("events", value="yes"), True, E, "manifest.json", "true or false"),
    (
        "has-labels-int",
        _put("items", "has_labels", value=1),
        True,
        E,
        "manifest.json",
        "true or false",
    ),
    (
        "xxh64t-not-hex",
        _put("arrays", "truth.phi", "xxh64t", value="xyz"),
        False,
        E,
        "manifest.json",
        "16 hex",
    ),
    ("version-1-without-sha", _put("version", value=1), False, E, "manifest.json", "64 hex"),
    (
        "chunk-not-32",
        _put("xxh64t_chunk_bytes", value=1000),
        True,
        E,
        "manifest.json",
        "xxh64t_chunk_bytes must be a multiple of 32",
    ),
    (
        "dtype-object",
        _put("arrays", "truth.phi", "dtype", value="|O"),
        False,
        E,
        "manifest.json",
        "plain numeric",
    ),
    (
        "dtype-structured",
        _put("arrays", "truth.phi", "dtype", value="<i4,<i4"),
        False,
        E,
        "manifest.json",
        "plain numeric",
    ),
    (
        "array-shape-negative",
        _put("arrays", "truth.phi", "shape", value=[-80]),
        False,
        E,
        "manifest.json",
        "integers >= 0",
    ),
    (
        "array-entry-string",
        _put("arrays", "truth.phi", value="x"),
        False,
        E,
        "manifest.json",
        "must be an object",
    ),
    (
        "kind-unknown",
        _put("people", "kinds", "age", value="ordinal"),
        True,
        E,
        "manifest.json",
        "kinds",
    ),
    (
        "categories-missing",
        _put("people", "categories", value={}),
        True,
        E,
        "manifest.json",
        "no categories",
    ),
    (
        "columns-not-strings",
        _put("people", "columns", value=[1, 2, 3, 4]),
        True,
        E,
        "manifest.json",
        "strings",
    ),
    (
        "cluster-names-dict",
        _put("people", "cluster_names", value={}),
        True,
        E,
        "manifest.json",
        "a list",
    ),
    ("spec-malformed", _put("spec", value={"people": 5}), True, E, "manifest.json", "spec"),
    ("spec-list", _put("spec", value=[1]), True, E, "manifest.json", "spec must be"),
    ("manifest-a-list", _raw_manifest(b"[1, 2]"), True, E, "manifest.json", "JSON object"),
    ("manifest-not-json", _raw_manifest(b"{not json"), True, E, "manifest.json", "not valid"),
    (
        "manifest-not-utf8",
        _raw_manifest(b'{"format": "\xff"}'),
        True,
        E,
        "manifest.json",
        "not valid",
    ),
    (
        "manifest-nested",
        _raw_manifest(b"[" * 200_000 + b"]" * 200_000),
        True,
        E,
        "manifest.json",
        "not valid",
    ),
    (
        "manifest-padded-128MB",
        _padded_manifest(128 << 20),
        True,
        E,
        "manifest.json",
        "at most 16,777,216",
    ),
    ("manifest-padded-2MB", _padded_manifest(2 << 20), True, E, "manifest.json", "padded"),
    ("manifest-missing", _raw_member("manifest.json", None), True, E, "", "no manifest.json"),
    ("manifest-compressed", _compressed("manifest.json"), True, E, "manifest.json", "compressed"),
    # --- members and .npy headers ----------------------------------------------------------
    ("npy-claims-7TiB", _lying_header(False), True, E, "truth.theta", "header says"),
    (
        "npy-and-manifest-claim-7TiB",
        _lying_header(True, "events.times"),
        False,
        E,
        "events.times",
        "zip directory",
    ),
    (
        "npy-and-manifest-claim-7TiB-fixed-shape",
        _lying_header(True),
        False,
        E,
        "truth.theta",
        "the populations imply",
    ),
    ("npy-fortran", _header_with(fortran_order=True), True, E, "truth.theta", "Fortran"),
    ("npy-wrong-dtype", _header_with(descr="<f4"), True, E, "truth.theta", "header says"),
    (
        "npy-garbage",
        _raw_member("arrays/truth.theta.npy", b"\x93NUMPY\x01\x00\x10\x00{{{{"),
        True,
        E,
        "truth.theta",
        "damaged .npy header",
    ),
    (
        "npy-not-npy",
        _raw_member("arrays/truth.theta.npy", b"hello world"),
        True,
        E,
        "truth.theta",
        "damaged .npy header",
    ),
    (
        "npy-version-3",
        _raw_member("arrays/truth.theta.npy", b"\x93NUMPY\x03\x00" + b"\0" * 60),
        True,
        E,
        "truth.theta",
        "damaged .npy header",
    ),
    ("npy-pickled", _pickled, True, E, "truth.theta", "header says dtype \\|O"),
    ("member-trailing-bytes", _trailing_bytes, True, E, "truth.phi", "zip directory"),
    (
        "member-compressed",
        _compressed("purchases.indices"),
        True,
        E,
        "purchases.indices",
        "compressed",
    ),
    ("member-twice", _twice, True, E, "arrays/truth.phi.npy", "twice"),
]
