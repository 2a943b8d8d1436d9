"""The study on row shards: block counts, counts per time window and block statistics, one
task per shard, only small tables coming back (the maximum-likelihood omega on shards is
:mod:`~fastbip.distributed.omega`, built on the shard loop here).

Every function takes a :class:`~fastbip.io.sharded.ShardedDataset` (shards on the workers
or in a sharded directory, which the workers read and verify themselves) and hard labels of
all rows and columns: arrays here, or labels that stay on the workers (``"truth"``, a
:class:`ShardedLabels`; see :mod:`~fastbip.distributed.labels`). Row labels held here are
cut by the shards' row ranges; column labels held here are scattered to every worker
once. Integer results (block counts, windows) are the local functions' results exactly;
float results are sums over shards, whose last bits may differ from one pass over the
whole matrix where noted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from fastbip.blocks import (
    BlockStats,
    EncodedLabels,
    block_counts,
    block_counts_windows,
    block_stats,
    encode_labels,
)
from fastbip.io import sharded as _sh

from ._client import TASKS_PER_WORKER as _TASKS_PER_WORKER
from ._client import get_client as _get_client
from ._client import n_threads as _n_threads
from ._client import one_kernel_thread as _one_kernel_thread
from ._client import positive_int_or_none as _positive_int_or_none
from ._client import release as _release
from .labels import ShardedLabels, base_handle, columns_on_worker, rows_on_worker, truth_k

__all__ = [
    "block_counts_dask",
    "block_counts_windows_dask",
    "block_stats_dask",
]


# --------------------------------------------------------------------------- shards


def shard_handles(sds: _sh.ShardedDataset) -> list:
    """What a task needs to reach each shard: its future, or (path, index, entry, n_cols)
    of a shard on disk (read and verified on the worker)."""
    if sds.futures is not None:
        return list(sds.futures)
    if sds.path is None:
        raise ValueError("the ShardedDataset has neither futures nor a path")
    return [("disk", str(sds.path), i, e, sds.shape[1]) for i, e in enumerate(sds.shards)]


def open_shard(h: Any) -> tuple[sp.csr_matrix, Any]:
    """On a worker: (CSR shard, events or None) from a resolved handle."""
    if isinstance(h, tuple) and len(h) == 5 and h[0] == "disk":
        _, path, i, entry, n_cols = h
        return _sh.shard_from_arrays(_sh.read_shard(path, i, entry), n_cols)
    return h[0], h[1]


def _check_sharded(x: Any, name: str = "sharded") -> _sh.ShardedDataset:
    if not isinstance(x, _sh.ShardedDataset):
        raise TypeError(
            f"{name} must be a ShardedDataset (from generate_dask or load_sharded); got "
            f"{type(x).__name__}"
        )
    return x


def _hard(lab: Any, name: str) -> None:
    if not isinstance(lab, EncodedLabels) and np.ndim(lab) != 1:
        raise ValueError(
            f"{name} must be 1-D hard labels (soft memberships are not supported here); got "
            f"{np.ndim(lab)} dimensions"
        )


def _encode(row_labels, column_labels, n_rows, n_cols, n_row_clusters, n_col_clusters):
    if column_labels is None:
        raise ValueError(
            "column_labels is required with row_labels held here (an array); it may be left "
            'out only with row_labels="truth" or a ShardedLabels, which carry their own'
        )
    _hard(row_labels, "row_labels")
    _hard(column_labels, "column_labels")
    rows = encode_labels(row_labels, n_row_clusters, name="row_labels")
    cols = encode_labels(column_labels, n_col_clusters, name="column_labels")
    if len(rows) != n_rows:
        raise ValueError(f"row_labels must have {n_rows} entries (one per row); got {len(rows)}")
    if len(cols) != n_cols:
        raise ValueError(
            f"column_labels must have {n_cols} entries (one per column); got {len(cols)}"
        )
    return rows, cols


def _row_slice(rows: EncodedLabels, r0: int, r1: int) -> EncodedLabels:
    return EncodedLabels(rows.codes[r0:r1], rows.n_clusters)


def _map_shards(client, func, handles, bounds, rows, extra) -> list:
    """Submit func(handle, row labels of the shard, *extra) per shard; gather the results."""
    futures = [
        client.submit(func, h, _row_slice(rows, int(r0), int(r1)), *extra, pure=False)
        for h, r0, r1 in zip(handles, bounds[:-1], bounds[1:], strict=True)
    ]
    try:
        return client.gather(futures)
    finally:
        _release(futures)


def _is_future(x: Any) -> bool:
    return hasattr(x, "key") and hasattr(x, "result")


def _is_truth(x: Any) -> bool:
    return isinstance(x, str) and x == "truth"


def _on_workers(row_labels: Any, column_labels: Any) -> bool:
    """Whether the labels are kept on the workers ("truth" or ShardedLabels)."""
    return isinstance(row_labels, ShardedLabels) or _is_truth(row_labels)


def _worker_labels(sds, row_labels, column_labels, n_row_clusters, n_col_clusters):
    """Per-shard row arguments, the column argument and (K_A, K_B) for labels that stay on
    the workers: ``"truth"`` (read there) or a :class:`ShardedLabels` (its futures)."""
    if isinstance(row_labels, ShardedLabels):
        if len(row_labels.rows) != sds.n_shards:
            raise ValueError(
                f"row_labels has {len(row_labels.rows)} shards; the dataset has {sds.n_shards}"
            )
        rows = list(row_labels.rows)
        cols = row_labels.columns if column_labels is None else column_labels
        k = (row_labels.n_row_clusters, row_labels.n_col_clusters)
    else:
        if not (column_labels is None or _is_truth(column_labels)):
            raise ValueError(
                'row_labels="truth" reads both sides\' planted labels on the workers: give '
                f"column_labels='truth' or None; got {type(column_labels).__name__}"
            )
        h = base_handle(sds)
        b = sds.row_bounds
        rows = [("truth", h, int(r0), int(r1)) for r0, r1 in zip(b[:-1], b[1:], strict=True)]
        cols = ("truth", h)
        k = truth_k(sds)
    if isinstance(cols, str):
        raise ValueError(f"column_labels={cols!r} needs row_labels={cols!r}")
    if not (_is_future(cols) or (isinstance(cols, tuple) and cols[:1] == ("truth",))):
        cols = np.asarray(cols)
    k_a = k[0] if n_row_clusters is None else int(n_row_clusters)
    k_b = k[1] if n_col_clusters is None else int(n_col_clusters)
    return rows, cols, k_a, k_b


@_one_kernel_thread
def _counts_labels_task(h, rows, cols, k_a, k_b, weighted):
    """Block counts of a shard whose labels are resolved here (truth or futures)."""
    M = open_shard(h)[0]
    return block_counts(
        M, rows_on_worker(rows, k_a), columns_on_worker(cols, k_b), weighted=weighted
    )


def _submit_on_workers(client, sds, task, rows, cols, k_a, k_b, *extra):
    """Per shard in row order, a future of ``task(h, rows, cols, k_a, k_b, *extra)`` for
    labels resolved on the workers (:func:`rows_on_worker`, :func:`columns_on_worker`).

    Returns (futures, the column argument the tasks got, the scattered column labels to
    release with the futures or None): column labels held here (an array or
    EncodedLabels) are scattered once to every worker, not sent with each task.
    """
    scattered = None
    if isinstance(cols, (np.ndarray, EncodedLabels)):  # one copy per worker
        cols = scattered = client.scatter(cols, broadcast=True, hash=False)
    futures = [
        client.submit(task, h, r, cols, k_a, k_b, *extra, pure=False)
        for h, r in zip(shard_handles(sds), rows, strict=True)
    ]
    return futures, cols, scattered


def _counts_on_workers(client, sds, task, rows, cols, k_a, k_b, *extra, empty=()):
    """The sum over shards of ``task(h, rows, cols, k_a, k_b, *extra)`` for labels that stay
    on the workers; zeros of shape ``(*empty, k_a, k_b)`` without shards."""
    if sds.n_shards == 0:
        return np.zeros((*empty, k_a, k_b), np.int64)
    futures, _, scattered = _submit_on_workers(client, sds, task, rows, cols, k_a, k_b, *extra)
    try:
        return _sum(client.gather(futures))
    finally:
        _release(futures, scattered)


def _sum(tables: list) -> np.ndarray:
    out = tables[0].copy()
    for t in tables[1:]:
        out += t
    return out


# --------------------------------------------------------------------------- block counts


@_one_kernel_thread
def _counts_task(h, rows, cols, weighted):
    M = h if sp.issparse(h) else open_shard(h)[0]
    return block_counts(M, rows, cols, weighted=weighted)


def block_counts_dask(
    shards_or_matrix: Any,
    row_labels: Any,
    column_labels: Any = None,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
    client: Any = None,
    *,
    weighted: bool = True,
    rows_per_task: int | None = None,
) -> np.ndarray:
    """:func:`fastbip.blocks.block_counts` as a sum over row shards counted on Dask workers.

    Parameters
    ----------
    shards_or_matrix : ShardedDataset, a scipy.sparse matrix, or a list of scipy.sparse
        matrices with the same number of columns whose rows, stacked in order, are the rows
        of the matrix. A ShardedDataset is counted where its shards are (worker memory, or
        read on the workers from its directory); a matrix or list here is scattered first.
    row_labels, column_labels : int labels (n_rows,), (n_cols,), -1 = unassigned, or
        :class:`~fastbip.blocks.EncodedLabels`; hard labels only (no soft memberships). With
        a ShardedDataset also labels that stay on the workers (:mod:`.labels`):
        ``"truth"`` (both, the planted labels read there) or a :class:`ShardedLabels` as
        ``row_labels`` (``column_labels`` None: its own).
    n_row_clusters, n_col_clusters : int or None (largest label + 1; for labels on the
        workers, the truth's or the ShardedLabels' K).
    client : dask.distributed.Client or None (the default client).
    weighted : as in ``block_counts``.
    rows_per_task : int >= 1 or None; only for a single matrix, which is cut into shards of
        this many rows (None: about 4 shards per worker thread).

    Returns
    -------
    ndarray (K_A, K_B): int64 for integer data or ``weighted=False``, then equal to
    ``block_counts`` on the whole matrix exactly, whatever the number of workers. For float
    data the per-shard sums are added in shard order, so the last bits may differ from
    ``block_counts`` and depend on how the rows are cut.
    """
    rows_per_task = _positive_int_or_none(rows_per_task, "rows_per_task")
    handles = None
    if _on_workers(row_labels, column_labels):
        sds = _check_sharded(shards_or_matrix, "shards_or_matrix (with labels on the workers)")
        rows, cols, k_a, k_b = _worker_labels(
            sds, row_labels, column_labels, n_row_clusters, n_col_clusters
        )
        return _counts_on_workers(
            _get_client(client), sds, _counts_labels_task, rows, cols, k_a, k_b, weighted
        )
    if isinstance(shards_or_matrix, _sh.ShardedDataset):
        sds = shards_or_matrix
        n_rows, n_cols = sds.shape
        handles, bounds = shard_handles(sds), sds.row_bounds
    elif sp.issparse(shards_or_matrix):
        shards = None
        M = shards_or_matrix
        n_rows, n_cols = M.shape
    elif isinstance(shards_or_matrix, (list, tuple)) and shards_or_matrix:
        shards = list(shards_or_matrix)
        for i, s in enumerate(shards):
            if not sp.issparse(s):
                raise TypeError(
                    f"shards_or_matrix[{i}] must be a scipy.sparse matrix; got {type(s).__name__}"
                )
        n_cols = shards[0].shape[1]
        bad = [i for i, s in enumerate(shards) if s.shape[1] != n_cols]
        if bad:
            raise ValueError(
                f"every shard must have {n_cols} columns like shard 0; shard "
                f"{bad[0]} has {shards[bad[0]].shape[1]}"
            )
        n_rows = sum(s.shape[0] for s in shards)
    else:
        raise TypeError(
            "shards_or_matrix must be a ShardedDataset, a scipy.sparse matrix or a non-empty "
            f"list of them; got {type(shards_or_matrix).__name__}"
        )
    rows, cols = _encode(row_labels, column_labels, n_rows, n_cols, n_row_clusters, n_col_clusters)
    client = _get_client(client)
    scattered = []
    if handles is None:
        if shards is None:
            step = rows_per_task or max(1, -(-n_rows // (_TASKS_PER_WORKER * _n_threads(client))))
            M = M.tocsr() if M.format != "csr" else M
            cuts = list(range(0, n_rows, step)) + [n_rows] if n_rows else [0, 0]
            shards = [M[r0:r1] for r0, r1 in zip(cuts[:-1], cuts[1:], strict=True)]
        bounds = np.concatenate([[0], np.cumsum([s.shape[0] for s in shards])])
        handles = scattered = client.scatter(shards, hash=False)
    if len(handles) == 0:
        return np.zeros((rows.n_clusters, cols.n_clusters), np.int64)
    cols_f = client.scatter(cols, broadcast=True, hash=False)
    try:
        tables = _map_shards(client, _counts_task, handles, bounds, rows, (cols_f, weighted))
    finally:
        _release(scattered, cols_f)
    return _sum(tables)


def block_stats_dask(
    sharded: _sh.ShardedDataset,
    row_labels: Any,
    column_labels: Any = None,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
    client: Any = None,
    *,
    alpha: float = 0.05,
    correction: str = "fdr_bh",
) -> BlockStats:
    """:func:`fastbip.blocks.block_stats` of the block counts of a sharded dataset.

    The counts come from :func:`block_counts_dask` (so the labels are arrays here, or stay
    on the workers: ``"truth"`` or a :class:`ShardedLabels`), and the statistics are
    computed here on K x K: equal to ``block_stats(block_counts(M, ...))`` exactly.

    Parameters
    ----------
    sharded : ShardedDataset
    row_labels, column_labels, n_row_clusters, n_col_clusters, client :
        as in :func:`block_counts_dask`.
    alpha, correction : as in :func:`fastbip.blocks.block_stats`.

    Returns
    -------
    BlockStats
    """
    C = block_counts_dask(
        _check_sharded(sharded), row_labels, column_labels, n_row_clusters, n_col_clusters, client
    )
    return block_stats(C, alpha=alpha, correction=correction)


# --------------------------------------------------------------------------- windows


@_one_kernel_thread
def _windows_task(h, rows, cols, edges):
    M, events = open_shard(h)
    return block_counts_windows(M, events, rows, cols, edges)


@_one_kernel_thread
def _windows_labels_task(h, rows, cols, k_a, k_b, edges):
    """Counts per window of a shard whose labels are resolved here (truth or futures)."""
    M, events = open_shard(h)
    return block_counts_windows(
        M, events, rows_on_worker(rows, k_a), columns_on_worker(cols, k_b), edges
    )


def block_counts_windows_dask(
    sharded: _sh.ShardedDataset,
    row_labels: Any,
    column_labels: Any,
    edges: ArrayLike,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
    client: Any = None,
) -> np.ndarray:
    """:func:`fastbip.blocks.block_counts_windows` from the shards' events, per shard on
    the workers: int64 (T, K_A, K_B), equal to the local result exactly. The labels are
    arrays, or stay on the workers as in :func:`block_counts_dask` (``"truth"`` or a
    :class:`ShardedLabels`)."""
    sds = _check_sharded(sharded)
    if not sds.has_events:
        raise ValueError(
            "the sharded dataset has no purchase times (its spec has no [time] section), so "
            "it has no time windows"
        )
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.shape[0] < 2:
        raise ValueError(f"edges must be a 1-D array of at least 2 boundaries; got {edges.shape}")
    if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be finite and strictly increasing")
    client = _get_client(client)
    if _on_workers(row_labels, column_labels):
        rows_w, cols_w, k_a, k_b = _worker_labels(
            sds, row_labels, column_labels, n_row_clusters, n_col_clusters
        )
        return _counts_on_workers(
            client, sds, _windows_labels_task, rows_w, cols_w, k_a, k_b, edges,
            empty=(edges.size - 1,),
        )  # fmt: skip
    n_rows, n_cols = sds.shape
    rows, cols = _encode(row_labels, column_labels, n_rows, n_cols, n_row_clusters, n_col_clusters)
    if sds.n_shards == 0:
        return np.zeros((edges.size - 1, rows.n_clusters, cols.n_clusters), np.int64)
    cols_f = client.scatter(cols, broadcast=True, hash=False)
    try:
        tables = _map_shards(
            client, _windows_task, shard_handles(sds), sds.row_bounds, rows, (cols_f, edges)
        )
    finally:
        _release(cols_f)
    return _sum(tables)
