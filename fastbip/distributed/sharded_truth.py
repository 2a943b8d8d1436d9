"""The planted truth's side of a sharded study, on the workers: cluster sizes, contingency
tables and the purchases oracle (:func:`fastbip.truth.oracle_labels`) shard by shard.

The oracle of a person reads that person's purchases, the planted parameters and the
planted item labels, so each shard's people are assigned where the shard lies, with the
small terms (log omega, the masses, the log prior: K-sized) computed once on a worker from
the base's truth, the same way as for the whole matrix (``fastbip.truth._oracle_terms``):
the labels equal the local oracle's exactly. The items' oracle reads each item's purchases
by true people-cluster (n_items x K_A): summed over the shards on the workers (exact for
integer counts), assigned there; only the n_items labels come back. Nothing of size
n_people reaches the client.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastbip import _small
from fastbip import truth as _tr
from fastbip._kernels import oracle as _ko
from fastbip._validation import check_choice
from fastbip.io import sharded as _sh

from ._client import get_client as _get_client
from ._client import local_sum as _local_sum
from ._client import one_kernel_thread as _one_kernel_thread
from ._client import release as _release
from .labels import ShardedLabels, _truth, _truth_columns_task, base_handle, base_of, rows_on_worker
from .study import open_shard, shard_handles

__all__ = ["label_sizes", "row_contingency", "sharded_oracle_labels"]


# --------------------------------------------------------------------------- on a worker


def _planted(h) -> tuple:
    """(omega, theta, phi, a, b) of the base's truth, labels narrowed as the oracle reads
    them."""
    truth = base_of(h)[2]
    if truth is None:
        raise ValueError("the oracle needs a planted truth; the sharded dataset has none")
    omega, theta, phi, a, b = _tr.truth_arrays(truth, "truth", labels_dtype=None)
    return omega, theta, phi, _tr._narrow_labels(a), _tr._narrow_labels(b)


def _terms_task(h, side, nnz):
    """The oracle's K-sized terms (log_w, mass, log_prior) of ``side``."""
    omega, theta, phi, a, b = _planted(h)
    log_w, _, mass, log_prior = _tr._oracle_terms(omega, theta, phi, a, b, side, nnz)
    return log_w, mass, log_prior


@_one_kernel_thread
def _people_task(hs, h, r0, r1, terms, nnz):
    """The purchases oracle's labels of the people of one shard (rows r0:r1)."""
    M = open_shard(hs)[0]
    truth = base_of(h)[2]  # checked whole once by _terms_task: here only this shard's part
    weight = np.ascontiguousarray(np.asarray(truth.theta[r0:r1], np.float64))
    b = _tr._narrow_labels(np.asarray(truth.item_labels))
    log_w, mass, log_prior = terms
    return _tr._assign_rows(M.indptr, M.indices, M.data, b, log_w, weight, mass, log_prior, nnz)


@_one_kernel_thread
def _column_profile_task(hs, h, r0, r1, k_a):
    """float64 (n_items, K_A): each item's purchases by true people-cluster, in one shard."""
    M = open_shard(hs)[0]
    a = _tr._narrow_labels(np.asarray(_truth(base_of(h), "rows")[r0:r1]))
    n_b = M.shape[1]
    if M.nnz < _small.SMALL:
        rows = np.repeat(np.arange(M.shape[0], dtype=np.int64), np.diff(M.indptr))
        cell = M.indices.astype(np.int64) * k_a + a[rows]
        w = M.data.astype(np.float64)
        return np.bincount(cell, weights=w, minlength=n_b * k_a).reshape(n_b, k_a)
    return _ko._column_profile_csr(M.indptr, M.indices, _tr._values(M.data), a, k_a, n_b)


@_one_kernel_thread
def _items_task(X, h, nnz):
    """The purchases oracle's labels of the items from their summed profile ``X``."""
    omega, theta, phi, a, b = _planted(h)
    terms = _tr._oracle_terms(omega, theta, phi, a, b, "items", nnz)
    return _tr._assign_dense(X, *terms, nnz)


def _contingency_task(found_rows, truth_rows, k_found, k_true):
    f = np.asarray(found_rows, dtype=np.int64)
    t = rows_on_worker(truth_rows, k_true).labels()
    keep = (f >= 0) & (t >= 0)
    table = np.bincount(f[keep] * k_true + t[keep], minlength=k_found * k_true)
    return table.reshape(k_found, k_true)


def _sizes_task(rows, k):
    """int64 (k + 1,): the count of each label, the unassigned (-1) last."""
    f = np.asarray(rows, dtype=np.int64)
    return np.bincount(np.where(f >= 0, f, k), minlength=k + 1)[: k + 1]


# --------------------------------------------------------------------------- on the client


def _gather_sum(client, futures) -> np.ndarray:
    try:
        tables = client.gather(futures)
    finally:
        _release(futures)
    out = tables[0].copy()
    for t in tables[1:]:
        out += t
    return out


def row_contingency(client: Any, sds: _sh.ShardedDataset, rows: list, k_found: int) -> np.ndarray:
    """int64 (k_found, K_true): people by found cluster (``rows``: one future or array per
    shard) and planted cluster, counted per shard on the workers."""
    h = base_handle(sds)
    k_true = int(sds.spec.people.k)
    b = sds.row_bounds
    futures = [
        client.submit(
            _contingency_task, f, ("truth", h, int(r0), int(r1)), k_found, k_true, pure=False
        )
        for f, r0, r1 in zip(rows, b[:-1], b[1:], strict=True)
    ]
    if not futures:
        return np.zeros((k_found, k_true), np.int64)
    return _gather_sum(client, futures)


def label_sizes(client: Any, rows: list, k: int) -> np.ndarray:
    """int64 (k + 1,): the people of each cluster of ``rows`` (one future or array per
    shard), the unassigned last, counted per shard on the workers."""
    futures = [client.submit(_sizes_task, f, int(k), pure=False) for f in rows]
    if not futures:
        return np.zeros(k + 1, np.int64)
    return _gather_sum(client, futures)


def sharded_oracle_labels(
    sharded: _sh.ShardedDataset, side: str = "people", *, client: Any = None
) -> ShardedLabels | np.ndarray:
    """The purchases oracle of a sharded dataset, computed on the workers.

    Equals :func:`fastbip.truth.oracle_labels` ``(dataset, side, using="purchases")`` of the
    gathered dataset exactly.

    Parameters
    ----------
    sharded : ShardedDataset with a planted truth (generated).
    side : {"people", "items"}
    client : dask.distributed.Client or None (the default client).

    Returns
    -------
    ShardedLabels (people: one future per shard, kept on the workers; its columns are the
    planted item labels' future) or int64 ndarray (n_items,) (items).
    """
    check_choice(side, "side", ("people", "items"))
    if not isinstance(sharded, _sh.ShardedDataset):
        raise TypeError(f"sharded must be a ShardedDataset; got {type(sharded).__name__}")
    if sharded.spec is None:
        raise ValueError("the oracle needs a planted truth; the sharded dataset has no spec")
    client = _get_client(client)
    h, nnz = base_handle(sharded), int(sharded.nnz)
    b = sharded.row_bounds
    ka, kb = int(sharded.spec.people.k), int(sharded.spec.items.k)
    if side == "people":
        terms = client.submit(_terms_task, h, "people", nnz, pure=False)
        rows = [
            client.submit(_people_task, hs, h, int(r0), int(r1), terms, nnz, pure=False)
            for hs, r0, r1 in zip(shard_handles(sharded), b[:-1], b[1:], strict=True)
        ]
        cols = client.submit(_truth_columns_task, h, pure=False)
        return ShardedLabels(rows, cols, ka, kb)
    parts = [
        client.submit(_column_profile_task, hs, h, int(r0), int(r1), ka, pure=False)
        for hs, r0, r1 in zip(shard_handles(sharded), b[:-1], b[1:], strict=True)
    ]
    if not parts:
        X = client.scatter(np.zeros((sharded.shape[1], ka)))
    else:
        X = _local_sum(client, parts)
    try:
        return np.asarray(client.submit(_items_task, X, h, nnz, pure=False).result(), np.int64)
    finally:
        _release(parts, X)
