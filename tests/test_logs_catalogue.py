"""Bad purchase logs, one row each: the exception type and a message naming the column or
input. Logs in memory go through ``from_log``, files through ``read_log``."""

from __future__ import annotations

import numpy as np
import pytest

from fastbip.io import from_log, read_log

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")


def frame(**over):
    d = {
        "person": ["a", "b", "c", "a"],
        "item": [1, 2, 1, 3],
        "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
        "qty": [1, 2, 1, 1],
        "w": [1.0, 2.0, 3.0, 4.0],
    }
    d.update(over)
    return pd.DataFrame(d)


def people(**over):
    d = {"id": ["a", "b", "c"], "age": [20.0, 30.0, 40.0]}
    d.update(over)
    return pd.DataFrame(d)


def dup_columns():
    df = frame()
    return pd.concat([df, df[["person"]]], axis=1)


# (id, kind, make the log, keyword arguments, exception, match)
CASES = [
    (
        "unknown-person",
        frame,
        {"person": "user"},
        ValueError,
        r"no person column 'user'; its columns are \['person', 'item'",
    ),
    ("unknown-item", frame, {"item": "sku"}, ValueError, r"no item column 'sku'"),
    ("unknown-time", frame, {"time": "ts"}, ValueError, r"no time column 'ts'"),
    ("unknown-quantity", frame, {"quantity": "q"}, ValueError, r"no quantity column 'q'"),
    ("unknown-weight", frame, {"weight": "rating"}, ValueError, r"no weight column 'rating'"),
    (
        "none-id",
        lambda: frame(person=["a", None, "c", "a"]),
        {},
        ValueError,
        r"person column 'person' has blank or missing ids .* at rows 1 ",
    ),
    (
        "nan-id",
        lambda: frame(item=[1.0, np.nan, 1.0, 3.0]),
        {},
        ValueError,
        r"item column 'item' has blank or missing ids",
    ),
    (
        "pd-na-id",
        lambda: frame(person=pd.array(["a", pd.NA, "c", "a"], dtype="string")),
        {},
        ValueError,
        r"person column 'person' has blank or missing ids",
    ),
    (
        "nullable-int-na-id",
        lambda: frame(item=pd.array([1, None, 2, 3], dtype="Int64")),
        {},
        ValueError,
        r"item column 'item' has blank or missing ids .* rows 1 ",
    ),
    (
        "empty-string-id",
        lambda: frame(person=["a", "", "c", "a"]),
        {},
        ValueError,
        r"person column 'person' has blank or missing ids",
    ),
    (
        "whitespace-id",
        lambda: frame(person=["a", "b", "  ", "a"]),
        {},
        ValueError,
        r"person column 'person' has blank .* at rows 2 ",
    ),
    (
        "mixed-int-str-person",
        lambda: frame(person=["a", 2, "c", "a"]),
        {},
        TypeError,
        r"person column 'person' holds values of mixed types \(int, str\)",
    ),
    (
        "mixed-int-str-item",
        lambda: frame(item=[1, "2", 1, 3]),
        {},
        TypeError,
        r"item column 'item' holds values of mixed types",
    ),
    (
        "fractional-id",
        lambda: frame(item=[1.0, 2.5, 1.0, 3.0]),
        {},
        ValueError,
        r"item column 'item' holds numbers that are not integers \(such as 2.5",
    ),
    (
        "bool-id",
        lambda: frame(item=[True, False, True, True]),
        {},
        TypeError,
        r"item column 'item' must hold integer or string ids; got bool",
    ),
    (
        "datetime-id",
        lambda: frame(person=pd.to_datetime(["2024-01-01"] * 4)),
        {},
        TypeError,
        r"person column 'person' must hold integer or string ids",
    ),
    (
        "2d-duplicate-column",
        dup_columns,
        {},
        TypeError,
        r"person column 'person' is 2-D: 2 columns are named 'person'",
    ),
    (
        "2d-array",
        lambda: {"person": np.zeros((4, 2)), "item": [1, 2, 3, 4]},
        {},
        TypeError,
        r"person column 'person' must be 1-D .* got shape \(4, 2\)",
    ),
    (
        "lengths-differ",
        lambda: {"person": [1, 2, 3], "item": [1, 2]},
        {},
        ValueError,
        r"columns differ in length: \{'person': 3, 'item': 2\}",
    ),
    ("empty-log", lambda: frame().iloc[:0], {}, ValueError, r"the log is empty"),
    (
        "not-a-frame",
        lambda: [1, 2, 3],
        {},
        TypeError,
        r"log must be a pandas DataFrame or a mapping of columns; got list",
    ),
    (
        "column-name-not-str",
        frame,
        {"person": 3},
        TypeError,
        r"person must be a column name \(str\); got int",
    ),
    (
        "numeric-time-no-unit",
        lambda: frame(when=[1.7e9, 1.7e9, 1.7e9, 1.7e9]),
        {"time": "when"},
        ValueError,
        r"time column 'when' is numeric \(double\): pass time_unit='s'",
    ),
    (
        "unit-with-datetimes",
        frame,
        {"time": "when", "time_unit": "s"},
        ValueError,
        r"time_unit='s' applies to numeric times, but the log's time column 'when' holds",
    ),
    (
        "bad-unit",
        lambda: frame(when=[1, 2, 3, 4]),
        {"time": "when", "time_unit": "hours"},
        ValueError,
        r"time_unit",
    ),
    (
        "unit-without-time",
        frame,
        {"time_unit": "s"},
        ValueError,
        r"time_unit='s' was given without a time column",
    ),
    (
        "nat-time",
        lambda: frame(when=pd.to_datetime(["2024-01-01", None, "2024-01-03", None])),
        {"time": "when"},
        ValueError,
        r"time column 'when' has missing times .* rows 1, 3 ",
    ),
    (
        "inf-time",
        lambda: frame(when=[1.0, np.inf, 2.0, 3.0]),
        {"time": "when", "time_unit": "D"},
        ValueError,
        r"time column 'when' has infinite times",
    ),
    (
        "text-time",
        lambda: frame(when=["2024-01-01", "soon", "2024-01-03", "2024-01-04"]),
        {"time": "when"},
        ValueError,
        r"time column 'when' holds text that is not a date",
    ),
    (
        "bool-time",
        lambda: frame(when=[True, False, True, True]),
        {"time": "when"},
        TypeError,
        r"time column 'when' must hold datetimes",
    ),
    (
        "negative-quantity",
        lambda: frame(qty=[1, -1, 1, 1]),
        {"quantity": "qty"},
        ValueError,
        r"quantity column 'qty' must hold non-negative integers; rows 1 ",
    ),
    (
        "fractional-quantity",
        lambda: frame(qty=[1, 1.5, 1, 1]),
        {"quantity": "qty"},
        ValueError,
        r"quantity column 'qty' must hold non-negative integers",
    ),
    (
        "nan-quantity",
        lambda: frame(qty=[1, np.nan, 1, 1]),
        {"quantity": "qty"},
        ValueError,
        r"quantity column 'qty' must hold non-negative integers",
    ),
    (
        "text-quantity",
        lambda: frame(qty=["1", "2", "1", "1"]),
        {"quantity": "qty"},
        TypeError,
        r"quantity column 'qty' must be numeric; got",
    ),
    (
        "nan-weight",
        lambda: frame(w=[1.0, np.nan, 1.0, 1.0]),
        {"weight": "w"},
        ValueError,
        r"weight column 'w' has missing or infinite values at rows 1 ",
    ),
    (
        "inf-weight",
        lambda: frame(w=[1.0, 1.0, -np.inf, 1.0]),
        {"weight": "w"},
        ValueError,
        r"weight column 'w' has missing or infinite values at rows 2 ",
    ),
    (
        "text-weight",
        lambda: frame(w=["good", "bad", "ok", "ok"]),
        {"weight": "w"},
        TypeError,
        r"weight column 'w' must be numeric",
    ),
    (
        "id-not-in-people-table",
        lambda: frame(person=["a", "z", "c", "y"]),
        {"people": people()},
        ValueError,
        r"2 people id\(s\) of the log are not in the people table, such as \['z', 'y'\]",
    ),
    (
        "people-table-no-id",
        frame,
        {"people": people(), "id": "key"},
        ValueError,
        r"people table has no id column 'key'; its columns are \['id', 'age'\]",
    ),
    (
        "people-table-duplicate-ids",
        frame,
        {"people": people(id=["a", "b", "a"])},
        ValueError,
        r"people table has duplicate ids in column 'id': \['a'\]",
    ),
    (
        "people-table-blank-id",
        frame,
        {"people": people(id=["a", None, "c"])},
        ValueError,
        r"people table's id column 'id' has blank or missing ids",
    ),
    (
        "people-table-nan-feature",
        frame,
        {"people": people(age=[1.0, np.nan, 3.0])},
        ValueError,
        r"people table's column 'age' has missing or infinite values at rows 1",
    ),
    (
        "people-table-mixed-feature",
        frame,
        {"people": people(age=[1, "x", 3])},
        TypeError,
        r"people table's feature column 'age' holds values of mixed types",
    ),
    (
        "items-table-not-a-table",
        frame,
        {"items": [1, 2, 3]},
        TypeError,
        r"items must be a file path or a pandas DataFrame; got list",
    ),
    (
        "items-table-missing-file",
        frame,
        {"items": "/nonexistent/items.csv"},
        FileNotFoundError,
        r"items table file '/nonexistent/items.csv' does not exist",
    ),
]


@pytest.mark.parametrize(
    "make, kwargs, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_log_in_memory(make, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        from_log(make(), **kwargs)


def _csv(tmp_path, text, name="log.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD_CSV = "person,item,when\na,1,2024-01-01\nb,2,2024-01-02\n"

FILE_CASES = [
    (
        "missing-file",
        lambda t: t / "nope.csv",
        {},
        FileNotFoundError,
        r"log file '.*nope.csv' does not exist",
    ),
    ("directory", lambda t: t, {}, IsADirectoryError, r"log file '.*' is a directory"),
    (
        "bad-suffix",
        lambda t: _csv(t, GOOD_CSV, "log.txt"),
        {},
        ValueError,
        r"log file '.*log.txt' must end in .csv, .csv.gz or .parquet",
    ),
    (
        "csv-unknown-column",
        lambda t: _csv(t, GOOD_CSV),
        {"person": "user"},
        ValueError,
        r"log file '.*log.csv' has no person column 'user'; its columns are \['person'",
    ),
    (
        "csv-blank-id",
        lambda t: _csv(t, "person,item\na,1\n,2\nc,\n"),
        {},
        ValueError,
        r"person column 'person' has blank or missing ids .* at rows 1 ",
    ),
    (
        "csv-blank-item",
        lambda t: _csv(t, "person,item\na,1\nb,2\nc,\n"),
        {},
        ValueError,
        r"item column 'item' has blank or missing ids .* at rows 2 ",
    ),
    (
        "csv-unix-seconds-no-unit",
        lambda t: _csv(t, "person,item,ts\na,1,1700000000\n"),
        {"time": "ts"},
        ValueError,
        r"time column 'ts' is numeric \(int64\): pass time_unit",
    ),
    (
        "csv-text-time",
        lambda t: _csv(t, "person,item,ts\na,1,yesterday\n"),
        {"time": "ts"},
        ValueError,
        r"time column 'ts' holds text that is not a date",
    ),
    (
        "csv-text-quantity",
        lambda t: _csv(t, "person,item,q\na,1,two\n"),
        {"quantity": "q"},
        TypeError,
        r"quantity column 'q' must be numeric",
    ),
    (
        "parquet-garbage",
        lambda t: _csv(t, "not parquet", "log.parquet"),
        {},
        ValueError,
        r"log file '.*log.parquet' is not a readable Parquet file",
    ),
    (
        "parquet-null-id",
        lambda t: _parquet(t, pd.DataFrame({"person": ["a", None], "item": [1, 2]})),
        {},
        ValueError,
        r"person column 'person' has blank or missing ids",
    ),
    (
        "parquet-people-table-missing-id",
        lambda t: _parquet(t, pd.DataFrame({"person": [1, 2, 3], "item": [1, 2, 3]})),
        {"people": pd.DataFrame({"id": [1, 2]})},
        ValueError,
        r"1 people id\(s\) of the log are not in the people table, such as \[3\]",
    ),
]


def _parquet(tmp_path, df):
    p = tmp_path / "log.parquet"
    df.to_parquet(p)
    return p


@pytest.mark.parametrize(
    "make, kwargs, exc, match", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_bad_log_file(tmp_path, make, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        read_log(make(tmp_path), **kwargs)


def test_catalogue_size():
    assert len(CASES) + len(FILE_CASES) >= 30
