"""Real purchase logs -> :class:`~fastbip.dataset.Dataset` (no planted truth).

A log is one row per purchase (or per purchase line with a quantity): who bought, what,
and optionally when. :func:`from_log` takes a pandas DataFrame or a mapping of column name
to array; :func:`read_log` reads CSV or Parquet (``pip install 'fastbip[io]'``).

People and items are numbered in sorted order of their ids; the original ids are kept in
``Population.ids``. Timestamps become float days (datetime64 columns are converted to days
since 1970-01-01) and are stored as :class:`~fastbip.generate.Events` aligned with the CSR
entries, so :meth:`Dataset.window` works as on generated data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from fastbip.dataset import Dataset
from fastbip.generate.events import Events
from fastbip.generate.population import Population

__all__ = ["from_log", "read_log"]


def _column(log: Any, name: str, role: str) -> np.ndarray:
    cols = list(log.columns) if hasattr(log, "columns") else list(log)
    if name not in cols:
        raise ValueError(f"the log has no {role} column {name!r}; its columns are {cols}")
    return np.asarray(log[name])


def _as_days(t: np.ndarray) -> np.ndarray:
    if np.issubdtype(t.dtype, np.datetime64):
        if np.isnat(t).any():
            raise ValueError("the log's time column has missing values (NaT)")
        return t.astype("datetime64[ns]").astype(np.int64) / 86_400e9
    if not np.issubdtype(t.dtype, np.number):
        raise ValueError(f"the log's time column must be numeric or datetime64; got {t.dtype}")
    t = t.astype(np.float64)
    if not np.isfinite(t).all():
        raise ValueError("the log's time column has missing or infinite values")
    return t


def from_log(
    log: Any,
    *,
    person: str = "person",
    item: str = "item",
    time: str | None = None,
    quantity: str | None = None,
) -> Dataset:
    """Build a dataset from a purchase log (DataFrame or mapping of columns)."""
    if not (hasattr(log, "columns") or isinstance(log, Mapping)):
        raise TypeError(
            f"log must be a pandas DataFrame or a mapping of columns; got {type(log).__name__}"
        )
    pid = _column(log, person, "person")
    iid = _column(log, item, "item")
    n_rows = pid.shape[0]
    if iid.shape[0] != n_rows:
        raise ValueError(
            f"the person and item columns differ in length: {n_rows} and {iid.shape[0]}"
        )
    if n_rows == 0:
        raise ValueError("the log is empty: no purchases")
    for col, role in ((pid, "person"), (iid, "item")):
        if col.dtype.kind == "f" and np.isnan(col).any():
            raise ValueError(f"the log's {role} column has missing values")
        if col.dtype == object and any(v is None for v in col):
            raise ValueError(f"the log's {role} column has missing values")
    if quantity is None:
        qty = np.ones(n_rows, dtype=np.int64)
    else:
        q = _column(log, quantity, "quantity")
        if not np.issubdtype(q.dtype, np.number) or (q < 0).any() or (q != np.round(q)).any():
            raise ValueError(
                f"the log's quantity column {quantity!r} must hold non-negative integers"
            )
        qty = q.astype(np.int64)
    people_ids, rows = np.unique(pid, return_inverse=True)
    item_ids, cols = np.unique(iid, return_inverse=True)
    n, m = people_ids.shape[0], item_ids.shape[0]
    idx_dtype = np.int32 if max(n, m, int(qty.sum())) < 2**31 - 1 else np.int64
    M = sp.coo_matrix((qty, (rows, cols)), shape=(n, m)).tocsr()
    M.sum_duplicates()
    M.eliminate_zeros()
    M.data = M.data.astype(np.int32 if M.data.max(initial=0) < 2**31 else np.int64)
    M.indices = M.indices.astype(idx_dtype, copy=False)
    M.indptr = M.indptr.astype(idx_dtype, copy=False)
    events = None
    if time is not None:
        t = _as_days(_column(log, time, "time"))
        keep = qty > 0
        r, c, tt, qq = rows[keep], cols[keep], t[keep], qty[keep]
        # one time per unit of quantity, sorted by (row, column, time): CSR entry order
        r, c, tt = np.repeat(r, qq), np.repeat(c, qq), np.repeat(tt, qq)
        order = np.lexsort((tt, c, r))
        offsets = np.zeros(M.nnz + 1, dtype=np.int64)
        np.cumsum(M.data, out=offsets[1:])
        events = Events(offsets, tt[order])
    people = Population("people", n, None, ids=people_ids)
    items = Population("items", m, None, ids=item_ids)
    return Dataset(people, items, M, truth=None, spec=None, events=events)


def read_log(path: str | Path, **kwargs: Any) -> Dataset:
    """Read a CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``) log with pandas and call
    :func:`from_log` with ``kwargs`` (column names)."""
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("reading logs needs pandas: pip install 'fastbip[io]'") from e
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"log file {str(path)!r} does not exist")
    name = path.name.lower()
    if name.endswith(".parquet"):
        df = pd.read_parquet(path)
    elif name.endswith((".csv", ".csv.gz")):
        df = pd.read_csv(path)
        time = kwargs.get("time")
        if time in df.columns and not (
            pd.api.types.is_numeric_dtype(df[time])
            or pd.api.types.is_datetime64_any_dtype(df[time])
        ):
            df[time] = pd.to_datetime(df[time])
    else:
        raise ValueError(f"log file {str(path)!r} must end in .csv, .csv.gz or .parquet")
    return from_log(df, **kwargs)
