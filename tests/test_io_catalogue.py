"""A catalogue of bad dataset files: every one is refused by ``load`` with the right exception
and a message naming the file and the member; random byte damage never ends otherwise.

Most files are rewritten *consistently*: an array is edited and its checksum (and dtype and
shape) in the manifest are updated to match, so only the meaning of the data can refuse it.
"""

from __future__ import annotations

import os
import re
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastbip.generate import generate
from fastbip.io import DatasetFormatError, load, save
from fastbip.io.fbp import read_manifest
from fastbip.spec import default_spec
from tests._bad_files import CASES, N_ITEMS, N_PEOPLE, _lying_header, _parts, _write


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    ds = generate(default_spec(n_people=N_PEOPLE, n_items=N_ITEMS, seed=3))
    path = save(ds, tmp_path_factory.mktemp("cat") / "good.fbp")
    return ds, path


@pytest.mark.parametrize(
    "change, sync, exc, member, what", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_file_is_refused(saved, tmp_path, change, sync, exc, member, what):
    _, good = saved
    m, arrays = _parts(good)
    raw = change(m, arrays)
    bad = _write(tmp_path / "bad.fbp", m, arrays, raw, sync=sync)
    named = re.escape(str(bad)) + (f": member {re.escape(member)}: " if member else ": ")
    with pytest.raises(exc, match=named + ".*" + what):
        load(bad)
    if (member == "manifest.json" or not member) and "spec" not in what:
        # info reads only the manifest (not the spec inside it): the same refusal
        with pytest.raises(exc, match=named + ".*" + what):
            read_manifest(bad)


def test_catalogue_is_large_and_unique():
    assert len(CASES) >= 50
    assert len({c[0] for c in CASES}) == len(CASES)


def test_the_rewriter_itself_writes_good_files(saved, tmp_path):
    ds, good = saved
    m, arrays = _parts(good)
    back = load(_write(tmp_path / "same.fbp", m, arrays))
    assert np.array_equal(back.purchases.indices, ds.purchases.indices)
    assert np.array_equal(back.events.times, ds.events.times)


def test_lying_header_allocates_nothing(saved, tmp_path):
    _, good = saved
    m, arrays = _parts(good)
    raw = _lying_header(True, "events.times")(m, arrays)
    bad = _write(tmp_path / "lie.fbp", m, arrays, raw, sync=False)
    tracemalloc.start()
    try:
        with pytest.raises(DatasetFormatError, match="events.times: is 47,.* bytes in the zip"):
            load(bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


@pytest.mark.parametrize(
    "content, what",
    [
        (b"", "not a fastbip dataset"),
        (b"hello", "not a fastbip dataset"),
        (b"PK\x05\x06" + b"\0" * 18, "no manifest.json"),  # an empty zip
    ],
    ids=["empty", "text", "empty-zip"],
)
def test_not_a_dataset(tmp_path, content, what):
    p = tmp_path / "x.fbp"
    p.write_bytes(content)
    with pytest.raises(DatasetFormatError, match=re.escape(str(p)) + ".*" + what):
        load(p)


def test_os_errors_are_not_format_errors(tmp_path):
    with pytest.raises(IsADirectoryError):
        load(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load(tmp_path / "missing.fbp")
    with pytest.raises(IsADirectoryError):
        read_manifest(tmp_path)


# --- random damage -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    ds = generate(default_spec(n_people=40, n_items=12, seed=1))
    path = save(ds, tmp_path_factory.mktemp("tiny") / "t.fbp")
    return ds, path.read_bytes(), tmp_path_factory.mktemp("mut")


def _equal(a, b) -> bool:
    same = all(
        getattr(a.purchases, x).dtype == getattr(b.purchases, x).dtype
        and np.array_equal(getattr(a.purchases, x), getattr(b.purchases, x))
        for x in ("indptr", "indices", "data")
    )
    same &= a.purchases.shape == b.purchases.shape
    same &= a.people.equals(b.people) and a.items.equals(b.items) and a.spec == b.spec
    for x in ("omega", "theta", "phi", "people_labels", "item_labels"):
        same &= np.array_equal(getattr(a.truth, x), getattr(b.truth, x))
    same &= a.truth.model == b.truth.model
    same &= np.array_equal(a.events.offsets, b.events.offsets)
    same &= np.array_equal(a.events.times, b.events.times)
    return bool(same)


_mutation = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.floats(0, 1, exclude_max=True), st.integers(1, 16)),
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True), st.just(0)),
    # the zip directory and the manifest are the last few KiB: flips counted from the end
    st.tuples(st.just("flip_end"), st.integers(1, 4000), st.integers(1, 255)),
)


@settings(
    max_examples=int(os.environ.get("FASTBIP_FUZZ_EXAMPLES", 300)),  # more for a longer hunt
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mutations=st.lists(_mutation, min_size=1, max_size=3))
def test_random_damage_is_refused_or_harmless(tiny, mutations):
    ds, raw, folder = tiny
    data = bytearray(raw)
    for kind, where, arg in mutations:
        i = int(where * len(data))
        if kind == "flip" and data:
            data[min(i, len(data) - 1)] ^= arg
        elif kind == "insert":
            data[i:i] = arg
        elif kind == "delete":
            del data[i : i + arg]
        elif kind == "truncate":
            del data[i:]
        elif kind == "flip_end" and data:
            data[-min(where, len(data))] ^= arg
    p = folder / "m.fbp"
    p.write_bytes(bytes(data))
    try:
        back = load(p)
    except DatasetFormatError as e:
        assert str(p) in str(e)
    else:
        assert _equal(ds, back)
