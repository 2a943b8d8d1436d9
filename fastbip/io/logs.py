"""Real purchase logs -> :class:`~fastbip.dataset.Dataset` (no planted truth).

A log is one row per purchase (or per purchase line with a quantity): who bought, what,
optionally when, how many and a weight. :func:`read_log` reads CSV, gzipped CSV and
Parquet; :func:`from_log` takes a pandas DataFrame or a mapping of column name to 1-D array.
Both need pandas and pyarrow (``pip install 'fastbip[io]'``).

How a log is read
-----------------
Files are read once, in batches: a plain CSV in chunks of 64 MiB cut at line ends, a
gzipped CSV through pyarrow's streaming reader, Parquet by row groups. In a CSV chunk whose
lines are simple (comma delimited, no quotes, both id fields plain decimal integers) the ids
are parsed by a numba kernel and the other columns by ``pyarrow.csv.read_csv``
(multi-threaded, only those columns); any other chunk is parsed by ``read_csv`` alone (ids
as text; text that is all plain decimal integers then becomes int64). Each batch's ids are
checked and kept with the batch's values; then the ids are numbered: integer ids in a range
not much wider than the number of lines by a table over the range, others by one hash table
over all lines (``dictionary_encode`` of the chunked column); each line is then placed in
its person's slots (a counting sort) a batch at a time, each batch freed once placed. No COO
copy of the whole log is made; the peak memory is the ids and values of the lines (8 bytes a
line for integer ids, about 4 more than their text for text ids; 8 each for a time, a
quantity, a weight) beside the result.

* **Ids.** People and items are numbered in sorted order of their ids (numeric order for
  integer ids), or in the order of the people / items table when one is given. The
  original ids are kept in ``Population.ids``. Ids must be all integers or all strings; a
  CSV column is text, so CSV ids are strings, turned into integers when every id is a plain
  decimal integer (``"7"``, not ``"007"``). Blank or missing ids (``None``, ``NaN``,
  ``pd.NA``, ``""``), ids of mixed types, non-integer numeric ids and 2-D columns are
  errors that name the column (and the first rows concerned).
* **Duplicate rows** (the same person and item more than once) are summed: the count is
  the number of lines (or the sum of their quantities); each line keeps its time.
* **Quantities** must be integers >= 0; lines of quantity 0 are dropped.
* **Weights** (ratings, spend) are kept apart from the counts, as
  ``Dataset.weights``: a CSR matrix with exactly the pattern of ``Dataset.purchases``
  holding, for each (person, item), the sum of the weights of its lines (divide by the
  count for a mean rating). Weights must be finite numbers. (The dataset file of
  :func:`fastbip.io.save` does not store them yet.)
* **Times** become float days since 1970-01-01 (UTC). Datetimes (with or without a time
  zone; naive ones are taken as UTC) and dates are converted exactly; timedeltas by their
  unit (days since whatever origin they count from); numeric times need ``time_unit``
  (``"s"``, ``"ms"``, ``"us"``, ``"ns"`` or ``"D"``: unix seconds are ``time_unit="s"``)
  and are counted from the epoch in that unit. They are stored as
  :class:`~fastbip.generate.Events` aligned with the CSR entries (one time per unit of
  quantity), so :meth:`Dataset.window` works as on generated data.
* **People and item tables** (file paths or DataFrames, joined on the column ``id``)
  define the populations: members without purchases are kept (empty rows or columns) and
  every other column becomes a feature: integer, float and datetime columns are numeric
  (datetimes as days since the epoch; a missing value is an error), strings, booleans and
  categoricals are categorical (sorted categories; a missing value is the category
  ``"<missing>"``). A log id absent from its table is an error naming a few of them;
  duplicate table ids are an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from fastbip._kernels import logs as _kl
from fastbip._validation import check_choice
from fastbip.dataset import Dataset
from fastbip.generate.events import Events
from fastbip.generate.population import Population

from ._logcols import (
    TIME_UNITS,
    _arrow,
    _batch_ids,
    _canonical_ints,
    _days,
    _encode_ids,
    _features,
    _ids,
    _kind,
    _like,
    _quantity,
    _weights,
)
from ._logcsv import csv_chunks

__all__ = ["TIME_UNITS", "from_log", "read_log"]

_BATCH = 1 << 20  # rows a batch (memory and Parquet)
_CSV_BLOCK = 1 << 26  # bytes a CSV chunk (a gzipped CSV: a block of its streaming reader)


# ---------------------------------------------------------------- sources of record batches


class _Source:
    """Columns by role from a DataFrame, a mapping or a file, as batches."""

    def __init__(self, log: Any, what: str):
        self.what = what
        self.log = log

    def check(self, roles: dict[str, str]) -> None:
        missing = [(r, c) for r, c in roles.items() if c not in self.names]
        if missing:
            role, col = missing[0]
            raise ValueError(
                f"{self.what} has no {role} column {col!r}; its columns are {self.names}"
            )


class _MemorySource(_Source):
    def __init__(self, log: Any, roles: dict[str, str]):
        super().__init__(log, "the log")
        self.names = [str(c) for c in log.columns] if hasattr(log, "columns") else list(log)
        self.check(roles)
        self.cols = {role: _memory_column(log, col, role) for role, col in roles.items()}
        lengths = {role: len(a) for role, a in self.cols.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"the log's columns differ in length: {lengths}")
        self.n = next(iter(lengths.values()))

    def batches(self, roles: dict[str, str]) -> Iterator[tuple[int, dict]]:
        for lo in range(0, self.n, _BATCH):
            yield lo, {r: a.slice(lo, _BATCH) for r, a in self.cols.items()}


def _memory_column(log: Any, name: str, role: str, what: str = "the log's"):
    pa, _ = _arrow()
    v = log[name]
    if hasattr(v, "columns"):  # a DataFrame: repeated column names
        raise TypeError(
            f"{what} {role} column {name!r} is 2-D: {v.shape[1]} columns are named {name!r}"
        )
    if not hasattr(v, "dtype"):
        v = np.asarray(v)
    if getattr(v, "ndim", 1) != 1:
        raise TypeError(
            f"{what} {role} column {name!r} must be 1-D (one value per purchase); "
            f"got shape {v.shape}"
        )
    try:
        a = pa.array(v, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as e:
        kinds = sorted({type(x).__name__ for x in np.asarray(v, dtype=object)[:100_000]})
        raise TypeError(
            f"{what} {role} column {name!r} holds values of mixed types ({', '.join(kinds)})"
            f"; {'ids' if role in ('person', 'item') else 'its values'} must all be of one "
            f"type ({e})"
        ) from None
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


class _FileSource(_Source):
    def __init__(self, path: Path, roles: dict[str, str]):
        pa, _ = _arrow()
        super().__init__(path, f"log file {str(path)!r}")
        name = path.name.lower()
        self.parquet = name.endswith(".parquet")
        if self.parquet:
            import pyarrow.parquet as pq

            try:
                self.names = list(pq.ParquetFile(path).schema_arrow.names)
            except (pa.ArrowInvalid, OSError) as e:
                raise ValueError(f"{self.what} is not a readable Parquet file: {e}") from e
        else:
            try:
                self.names = list(self._open(None, block=1 << 20).schema.names)
            except pa.ArrowInvalid as e:
                raise ValueError(f"{self.what} is not a readable CSV file: {e}") from e
        self.check(roles)
        self.ids = [roles[r] for r in ("person", "item")]

    def _open(self, columns: list[str] | None, block: int | None = None):
        pa, _ = _arrow()
        import pyarrow.csv as pcsv

        types = {c: pa.string() for c in getattr(self, "ids", [])}
        conv = pcsv.ConvertOptions(
            include_columns=columns or [], column_types=types, strings_can_be_null=True
        )
        return pcsv.open_csv(
            self.log,
            read_options=pcsv.ReadOptions(block_size=block or _CSV_BLOCK),
            convert_options=conv,
        )

    def _chunks(self, columns: list[str]) -> Iterator[Any]:
        """The record batches of a plain CSV file (:func:`._logcsv.csv_chunks`)."""
        return csv_chunks(self.log, self.names, self.ids, columns, _CSV_BLOCK)

    def batches(self, roles: dict[str, str]) -> Iterator[tuple[int, dict]]:
        pa, _ = _arrow()
        columns = list(dict.fromkeys(roles.values()))
        if self.parquet:
            import pyarrow.parquet as pq

            it = pq.ParquetFile(self.log).iter_batches(batch_size=_BATCH, columns=columns)
        elif self.log.name.lower().endswith(".gz"):
            it = self._open(columns)
        else:
            it = self._chunks(columns)
        lo = 0
        while True:
            try:
                b = next(it)
            except StopIteration:
                return
            except pa.ArrowInvalid as e:
                msg = re.sub(r"column #(\d+)", lambda m: f"column {columns[int(m[1])]!r}", str(e))
                raise ValueError(f"{self.what} could not be read: {msg}") from None
            yield lo, {r: b.column(b.schema.get_field_index(c)) for r, c in roles.items()}
            lo += b.num_rows


# -------------------------------------------------------------------------------- tables


def _read_table(obj: Any, id_col: str, side: str):
    """A people or items table as (ids, {column: arrow array}) from a path or a frame."""
    pa, _ = _arrow()
    what = f"the {side} table"
    if isinstance(obj, (str, Path)):
        path = _check_path(obj, f"{side} table")
        what = f"{side} table {str(path)!r}"
        if path.name.lower().endswith(".parquet"):
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            import pyarrow.csv as pcsv

            conv = pcsv.ConvertOptions(column_types={id_col: pa.string()}, strings_can_be_null=True)
            try:
                table = pcsv.read_csv(path, convert_options=conv)
            except pa.ArrowInvalid as e:
                raise ValueError(f"{what} could not be read: {e}") from None
        names = list(table.column_names)
        cols = {c: table.column(c).combine_chunks() for c in names}
    elif hasattr(obj, "columns"):
        names = [str(c) for c in obj.columns]
        cols = None
    else:
        raise TypeError(
            f"{side} must be a file path or a pandas DataFrame; got {type(obj).__name__}"
        )
    if id_col not in names:
        raise ValueError(f"{what} has no id column {id_col!r}; its columns are {names}")
    if cols is None:
        cols = {c: _memory_column(obj, c, "feature", what=f"{what}'s") for c in names}
    ids = _ids(cols.pop(id_col), "id", id_col, 0, what=f"{what}'s")
    if isinstance(obj, (str, Path)):
        ids = _canonical_ints(ids)
    np_ids = ids.to_numpy(zero_copy_only=False)
    uniq, counts = np.unique(np_ids, return_counts=True)
    if (counts > 1).any():
        dup = uniq[counts > 1][:5].tolist()
        raise ValueError(f"{what} has duplicate ids in column {id_col!r}: {dup}")
    return ids, cols, what


class _Coder:
    """Codes of ids in a fixed key (the population's ids): one hash table, built once."""

    def __init__(self, key):
        import pandas as pd

        self.key = key
        self.index = pd.Index(key.to_numpy(zero_copy_only=False))

    def __call__(self, a) -> np.ndarray:
        pa, pc = _arrow()
        a = _like(a, self.key) if _kind(a) != _kind(self.key) else a
        if _kind(a) == "int":
            return self.index.get_indexer(a.to_numpy(zero_copy_only=False))
        enc = pc.dictionary_encode(a)  # hash the batch once, look up its distinct ids
        where = self.index.get_indexer(enc.dictionary.to_numpy(zero_copy_only=False))
        return where[enc.indices.to_numpy()]


def _align(log_ids, table_ids, side: str, what: str):
    """The key to match log ids against (the table's ids in the log ids' type)."""
    pa, pc = _arrow()
    if _kind(log_ids) != _kind(table_ids):
        key, log_ids = pc.cast(table_ids, pa.large_string()), pc.cast(log_ids, pa.large_string())
    else:
        key = table_ids
    missing = pc.invert(pc.is_in(log_ids, value_set=key))
    if pc.any(missing).as_py():
        bad = pc.filter(log_ids, missing)
        raise ValueError(
            f"{len(bad)} {side} id(s) of the log are not in {what}, such as "
            f"{bad.slice(0, 5).to_pylist()}"
        )
    return key


# ---------------------------------------------------------------------------------- build


def _check_path(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} file {str(p)!r} does not exist")
    if p.is_dir():
        raise IsADirectoryError(f"{what} file {str(p)!r} is a directory; expected a file")
    return p


def _roles(person, item, time, time_unit, quantity, weight) -> dict[str, str]:
    roles = {"person": person, "item": item, "time": time, "quantity": quantity, "weight": weight}
    for r, c in roles.items():
        if c is not None and not isinstance(c, str):
            raise TypeError(f"{r} must be a column name (str); got {type(c).__name__}")
    if time_unit is not None:
        if time is None:
            raise ValueError(f"time_unit={time_unit!r} was given without a time column (time=)")
        check_choice(time_unit, "time_unit", tuple(TIME_UNITS))
    return {r: c for r, c in roles.items() if c is not None}


def _build(src, roles, time_unit, people, items, id_col) -> Dataset:
    pa, pc = _arrow()
    text_ints = isinstance(src, _FileSource)
    # one pass: per batch, the checked ids and the values
    batches, starts = [], []
    n_lines = 0
    has = {r: r in roles for r in ("quantity", "time", "weight")}
    empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float64)
    for lo, b in src.batches(roles):
        rec = {r: _batch_ids(b[r], r, roles[r], lo, text_ints) for r in ("person", "item")}
        rec["quantity"] = (
            _quantity(b["quantity"], roles["quantity"], lo) if has["quantity"] else empty_i
        )
        rec["time"] = _days(b["time"], roles["time"], time_unit, lo) if has["time"] else empty_f
        rec["weight"] = _weights(b["weight"], roles["weight"], lo) if has["weight"] else empty_f
        n_lines += len(b["person"])
        batches.append(rec)
        starts.append(lo)
    if n_lines == 0:
        raise ValueError(f"{src.what} is empty: no purchases")
    pops, keys, codes = {}, {}, {}
    for r, table, side in (("person", people, "people"), ("item", items, "items")):
        arrays = [rec.pop(r) for rec in batches]
        u, codes[r] = _encode_ids(arrays, starts, r, roles[r], text_ints)
        del arrays
        if table is None:
            ids = u.take(pc.array_sort_indices(u))
            key, cols = ids, {}
            what = ""
        else:
            ids, cols, what = _read_table(table, id_col, side)
            key = _align(u, ids, side, what)
        keys[r] = key
        columns, kinds, cats = _features(cols, what)
        np_ids = ids.to_numpy(zero_copy_only=False)
        pops[r] = Population(side, len(ids), None, columns, kinds, cats, ids=np_ids)
        codes[r] = (u, codes[r])
    n, m = pops["person"].n, pops["item"].n
    col_dtype = np.int32 if m < 2**31 - 1 else np.int64
    # the population code of each distinct id, then of each line
    line_count = np.zeros(n, np.int64)
    row_dtype = np.int32 if n < 2**31 - 1 else np.int64
    for r, dt in (("person", row_dtype), ("item", col_dtype)):
        u, idx = codes.pop(r)
        lut = _Coder(keys[r])(u).astype(dt)
        for rec, x in zip(batches, idx, strict=True):
            rec[r] = lut[x]
            if r == "person":
                line_count += np.bincount(rec[r], minlength=n)
        del idx
    line_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(line_count, out=line_ptr[1:])
    # every line into its person's slots (a counting sort), a batch at a time
    slot_cols = np.empty(n_lines, col_dtype)
    slot_q = np.empty(n_lines if has["quantity"] else 0, np.int64)
    slot_t = np.empty(n_lines if has["time"] else 0, np.float64)
    slot_w = np.empty(n_lines if has["weight"] else 0, np.float64)
    fill = line_ptr[:-1].copy()
    batches.reverse()
    while batches:
        rec = batches.pop()  # freed once placed
        _kl.scatter_lines(
            rec["person"],
            rec["item"],
            rec["quantity"],
            rec["time"],
            rec["weight"],
            fill,
            slot_cols,
            slot_q,
            slot_t,
            slot_w,
        )
        del rec
    n_events = int(slot_q.sum()) if has["quantity"] else n_lines
    indptr = np.empty(n + 1, np.int64)
    indices = np.empty(n_lines, col_dtype)
    data = np.empty(n_lines, np.int32 if n_events < 2**31 else np.int64)
    wsum = np.empty(n_lines if has["weight"] else 0, np.float64)
    offsets = np.empty(n_lines + 1 if has["time"] else 1, np.int64)
    ev_times = np.empty(n_events if has["time"] else 0, np.float64)
    del fill
    nnz, n_ev = _kl.compress_lines(
        line_ptr,
        slot_cols,
        slot_q,
        slot_t,
        slot_w,
        indptr,
        indices,
        data,
        wsum,
        offsets,
        ev_times,
    )
    del slot_cols, slot_q, slot_t, slot_w
    return _assemble(pops, indptr, indices, data, wsum, offsets, ev_times, nnz, n_ev, has)


def _assemble(pops, indptr, indices, data, wsum, offsets, ev_times, nnz, n_ev, has) -> Dataset:
    n, m = pops["person"].n, pops["item"].n
    idx_dtype = np.int32 if max(n, m, nnz) < 2**31 - 1 else np.int64
    data_dtype = np.int32 if data[:nnz].max(initial=0) < 2**31 else np.int64
    M = sp.csr_matrix(
        (
            data[:nnz].astype(data_dtype, copy=False),
            indices[:nnz].astype(idx_dtype, copy=False),
            indptr.astype(idx_dtype),
        ),
        shape=(n, m),
    )
    M.has_canonical_format = True
    weights = None
    if has["weight"]:
        weights = sp.csr_matrix((wsum[:nnz].copy(), M.indices, M.indptr), shape=(n, m))
        weights.has_canonical_format = True
    events = None
    if has["time"]:
        events = Events(offsets[: nnz + 1].copy(), ev_times[:n_ev])
    return Dataset(
        pops["person"], pops["item"], M, truth=None, spec=None, events=events, weights=weights
    )


def from_log(
    log: Any,
    *,
    person: str = "person",
    item: str = "item",
    time: str | None = None,
    time_unit: str | None = None,
    quantity: str | None = None,
    weight: str | None = None,
    people: Any = None,
    items: Any = None,
    id: str = "id",  # noqa: A002 - the name of the tables' id column
) -> Dataset:
    """Build a dataset from a purchase log in memory.

    Parameters
    ----------
    log : pandas.DataFrame or mapping of column name to 1-D array
        One row per purchase line.
    person, item : str
        The columns of the person and item ids.
    time : str, optional
        The column of purchase times (datetimes, dates, timedeltas, or numbers with
        ``time_unit``); they become days since 1970-01-01 UTC.
    time_unit : {"s", "ms", "us", "ns", "D"}, optional
        What one unit of a numeric time column is; required for numeric times, refused
        for the others.
    quantity : str, optional
        The column of integer quantities >= 0 (default: each line is one purchase).
    weight : str, optional
        A column of numbers (ratings, spend) kept as ``Dataset.weights``, summed per
        (person, item).
    people, items : path or pandas.DataFrame, optional
        Tables of the members (with their features), joined on ``id``; they define the
        populations, so members without purchases are kept.
    id : str
        The id column of ``people`` and ``items``.

    Returns
    -------
    Dataset
        Without truth; ``purchases`` holds the counts (duplicate lines summed).

    Raises
    ------
    ValueError, TypeError
        For a defect of the log; the message names the column (see the module docstring).
    """
    if not (hasattr(log, "columns") or isinstance(log, Mapping)):
        raise TypeError(
            f"log must be a pandas DataFrame or a mapping of columns; got {type(log).__name__}"
        )
    roles = _roles(person, item, time, time_unit, quantity, weight)
    src = _MemorySource(log, roles)
    return _build(src, roles, time_unit, people, items, id)


def read_log(
    path: str | Path,
    *,
    person: str = "person",
    item: str = "item",
    time: str | None = None,
    time_unit: str | None = None,
    quantity: str | None = None,
    weight: str | None = None,
    people: Any = None,
    items: Any = None,
    id: str = "id",  # noqa: A002 - the name of the tables' id column
) -> Dataset:
    """Read a CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``) purchase log.

    The file is read once, in batches (see the module docstring); the arguments are those
    of :func:`from_log`.

    Parameters
    ----------
    path : str or Path
        The log file; its name says its format.
    person, item, time, time_unit, quantity, weight, people, items, id
        As in :func:`from_log`.

    Returns
    -------
    Dataset

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        If ``path`` is missing or a directory.
    ValueError, TypeError
        For an unknown suffix or a defect of the log (naming the column).
    """
    _arrow()
    p = _check_path(path, "log")
    if not p.name.lower().endswith((".csv", ".csv.gz", ".parquet")):
        raise ValueError(f"log file {str(p)!r} must end in .csv, .csv.gz or .parquet")
    roles = _roles(person, item, time, time_unit, quantity, weight)
    src = _FileSource(p, roles)
    return _build(src, roles, time_unit, people, items, id)
