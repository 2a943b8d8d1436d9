"""Labels that stay with the shards: :class:`ShardedLabels`, and where a task finds its rows'.

The study functions on shards take row and column labels in three forms:

* arrays here (as the local functions do): the row labels are cut by the shards' row
  ranges and each task gets its slice; the column labels are scattered once;
* ``"truth"``: the dataset's planted labels, read on the workers (from the workers' base in
  memory, or from ``base.fbp`` in the directory, opened once per worker process), never
  here;
* a :class:`ShardedLabels`: one future per shard of that shard's row labels (what
  :func:`~fastbip.distributed.dcsbm_fit_dask` and the sweeps return), and the column labels
  as an array or a future.

So a study of a dataset much larger than the client's memory never brings an O(n_people)
array here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fastbip.blocks import EncodedLabels, encode_labels
from fastbip.io import sharded as _sh

__all__ = ["ShardedLabels", "sharded_truth_labels"]


@dataclass(eq=False)
class ShardedLabels:
    """Row labels kept on the workers, one future per row shard, and the column labels.

    Attributes
    ----------
    rows : list of dask futures, one per shard in row order, each of an int64 array of the
        shard's row labels (-1 = unassigned).
    columns : int64 ndarray (n_items,) or a dask future of one.
    n_row_clusters, n_col_clusters : int
    """

    rows: list
    columns: Any
    n_row_clusters: int
    n_col_clusters: int
    _gathered: np.ndarray | None = field(default=None, init=False, repr=False)

    def row_labels(self) -> np.ndarray:
        """All row labels gathered here (O(n_people) memory: for data that fits)."""
        if self._gathered is None:
            parts = [f.result() for f in self.rows]
            self._gathered = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return self._gathered

    def row_labels_parts(self) -> list[np.ndarray]:
        """The row labels gathered here, one array per shard."""
        return [np.asarray(f.result()) for f in self.rows]

    def column_labels(self) -> np.ndarray:
        """The column labels here."""
        c = self.columns
        return np.asarray(c.result() if hasattr(c, "result") else c)

    def release(self) -> None:
        """Release the futures now (the labels can no longer be read)."""
        for f in self.rows:
            f.release()
        if hasattr(self.columns, "release"):
            self.columns.release()


# --------------------------------------------------------------------------- on a worker


@functools.lru_cache(maxsize=4)
def _base_on_disk(path: str, mtime_ns: int) -> tuple:
    """(people, items, truth) of a sharded directory's base, opened once per process."""
    base = _sh.load(Path(path) / _sh.BASE)
    return base.people, base.items, base.truth


def base_of(h: Any) -> tuple:
    """On a worker: (people, items, truth) from a base handle (its resolved future, or
    ("disk", path))."""
    if isinstance(h, tuple) and len(h) == 2 and h[0] == "disk":
        p = Path(h[1]) / _sh.BASE
        return _base_on_disk(str(h[1]), p.stat().st_mtime_ns)
    return tuple(h)


def base_handle(sds: _sh.ShardedDataset) -> Any:
    """What a task needs to reach the dataset's base: its future, or ("disk", path)."""
    if sds.base_future is not None:
        return sds.base_future
    if sds.path is not None:
        return ("disk", str(sds.path))
    raise ValueError("the ShardedDataset has neither a base future nor a path")


def _truth(base: tuple, side: str) -> np.ndarray:
    truth = base[2]
    if truth is None:
        raise ValueError('labels="truth": the dataset has no planted truth (a real log?)')
    return truth.people_labels if side == "rows" else truth.item_labels


def rows_on_worker(x: Any, k: int) -> EncodedLabels:
    """On a worker: a shard's row labels as EncodedLabels, from what the client sent."""
    if isinstance(x, EncodedLabels):
        return x
    if isinstance(x, tuple) and len(x) == 4 and isinstance(x[0], str) and x[0] == "truth":
        _, h, r0, r1 = x
        return encode_labels(_truth(base_of(h), "rows")[r0:r1], k, name="row_labels")
    return encode_labels(x, k, name="row_labels")


def columns_on_worker(x: Any, k: int) -> EncodedLabels:
    """On a worker: the column labels as EncodedLabels."""
    if isinstance(x, EncodedLabels):
        return x
    if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) and x[0] == "truth":
        return encode_labels(_truth(base_of(x[1]), "columns"), k, name="column_labels")
    return encode_labels(x, k, name="column_labels")


def _truth_rows_task(h, r0, r1):
    return _truth(base_of(h), "rows")[r0:r1].astype(np.int64)


def _truth_columns_task(h):
    return _truth(base_of(h), "columns").astype(np.int64)


def truth_k(sds: _sh.ShardedDataset) -> tuple[int, int]:
    """(K_A, K_B) of the planted truth, from the spec (nothing read)."""
    if sds.spec is None:
        raise ValueError('labels="truth": the sharded dataset has no spec, hence no truth')
    return int(sds.spec.people.k), int(sds.spec.items.k)


def sharded_truth_labels(sds: _sh.ShardedDataset, client: Any = None) -> ShardedLabels:
    """The planted labels as :class:`ShardedLabels`, cut per shard on the workers."""
    from ._client import get_client

    client = get_client(client)
    h = base_handle(sds)
    b = sds.row_bounds
    rows = [
        client.submit(_truth_rows_task, h, int(r0), int(r1), pure=False)
        for r0, r1 in zip(b[:-1], b[1:], strict=True)
    ]
    cols = client.submit(_truth_columns_task, h, pure=False)
    return ShardedLabels(rows, cols, *truth_k(sds))
