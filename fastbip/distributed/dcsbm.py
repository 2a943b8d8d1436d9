"""The block-model fit on row shards: the hard sweeps of :class:`fastbip.algorithms.DCSBM`.

One sweep (rows, then columns) on a sharded dataset:

1. **Rows**, one task per shard: each row takes its most likely cluster given the column
   labels (broadcast: one O(n_items) array per worker) and the smoothed K_A x K_B log
   profile (broadcast, small); the task keeps the shard's new row labels on its worker and
   returns the shard's block totals, its live members per cluster and whether a label moved.
2. **Column statistics**, one task per shard: each column's purchases by row cluster in the
   shard (n_items x K_A), summed on the workers: first on each worker, then across
   (:func:`~fastbip.distributed._client.local_sum`).
3. **Columns**, one task on the summed statistics: each column takes its most likely
   cluster; the new column labels stay on that worker (a future the next sweep's row tasks
   read); the K_B x K_A totals come back.

Per sweep, what moves: the column labels to each worker (8 n_items bytes), the column
statistics once per worker (8 n_items K_A bytes each), and K x K tables; the
purchases never move, and the row labels stay with their shards.

Equal to the local fit: the row and column updates are the local kernel's (the column update
repeats its arithmetic in the same order on the summed statistics), and every sum is a sum of
integer counts in float64, exact below 2**53; so :func:`dcsbm_sweeps_dask` returns the labels,
``omega_`` and ``log_likelihood_`` of ``DCSBM(k_a, k_b, init=init, soft_sweeps=0,
n_init=1).fit(M)`` exactly. The start is given here (labels here, or :class:`ShardedLabels`
on the workers); :func:`~fastbip.distributed.dcsbm_fit_dask` computes the spectral start on
the shards (:mod:`~fastbip.distributed.spectral`). The soft sweeps are not distributed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fastbip._kernels.dcsbm import _hard_assign_rows_csr
from fastbip._validation import check_int, check_n_clusters, check_real
from fastbip.algorithms._base import as_purchases, largest_cluster
from fastbip.algorithms.dcsbm import _check_init_labels, _log_p, profile_log_likelihood
from fastbip.blocks import block_counts
from fastbip.io import sharded as _sh

from ._client import get_client as _get_client
from ._client import local_sum as _local_sum
from ._client import one_kernel_thread as _one_kernel_thread
from ._client import release as _release
from ._client import wait as _wait
from ._progress import sweep_bar
from .labels import ShardedLabels
from .study import _check_sharded, open_shard, shard_handles

__all__ = ["DaskDCSBMResult", "dcsbm_sweeps_dask"]

_FAN_IN = 4


@dataclass(eq=False)
class DaskDCSBMResult:
    """The fitted labels and parameters, named as :class:`fastbip.algorithms.DCSBM`'s.

    The row labels stay on the workers (``labels.rows``, one future per shard) until
    ``row_labels_`` is read, which gathers them here (O(n_people)).

    Attributes
    ----------
    labels : ShardedLabels, the fitted labels (rows per shard on the workers, columns here).
    row_labels_ : int64 (n_people,), gathered on first use.
    column_labels_ : int64 (n_items,)
    omega_ : float64 (K_A, K_B), the block totals under the fit.
    log_likelihood_ : float, the profile log-likelihood of ``omega_``.
    n_iter_ : int, hard sweeps run.
    n_row_clusters_, n_col_clusters_ : int
    """

    labels: ShardedLabels
    omega_: np.ndarray
    log_likelihood_: float
    n_iter_: int
    n_row_clusters_: int
    n_col_clusters_: int

    @property
    def row_labels_(self) -> np.ndarray:
        return self.labels.row_labels()

    @property
    def column_labels_(self) -> np.ndarray:
        return self.labels.column_labels()


# --------------------------------------------------------------------------- tasks


@_one_kernel_thread
def _float_shard(h):
    """The shard as the fit's canonical float64 CSR (kept on the worker for every sweep)."""
    return as_purchases(open_shard(h)[0])


@_one_kernel_thread
def _setup_task(A, a0, b0, k_a, k_b):
    """Start: the shard's block totals, live rows per cluster, and column entry counts."""
    a0 = np.asarray(a0[0] if isinstance(a0, tuple) else a0, dtype=np.int64)
    b0 = np.asarray(b0[0] if isinstance(b0, tuple) else b0, dtype=np.int64)
    if a0.shape != (A.shape[0],) or b0.shape != (A.shape[1],):
        raise ValueError(
            f"init labels of a shard must have shapes ({A.shape[0]},) and ({A.shape[1]},); "
            f"got {a0.shape} and {b0.shape}"
        )
    if (
        a0.max(initial=-1) >= k_a
        or b0.max(initial=-1) >= k_b
        or min(a0.min(initial=0), b0.min(initial=0)) < -1
    ):
        raise ValueError(
            f"init labels must be in [-1, {k_a}) and [-1, {k_b}); got rows in "
            f"[{a0.min(initial=0)}, {a0.max(initial=-1)}], columns in "
            f"[{b0.min(initial=0)}, {b0.max(initial=-1)}]"
        )
    live = np.diff(A.indptr) > 0
    C = block_counts(A, a0, b0, k_a, k_b).astype(np.float64, copy=False)
    lab = a0[live]
    count = np.bincount(lab[lab >= 0], minlength=k_a)
    return C, count, np.bincount(A.indices, minlength=A.shape[1]).astype(np.int64)


@_one_kernel_thread
def _row_task(A, a_prev, b, log_p, fill):
    """Row update of one shard: (labels, C, live members per cluster, changed)."""
    if isinstance(a_prev, tuple):
        a_prev = a_prev[0]
    if isinstance(b, tuple):
        b = b[0]
    a, C = _hard_assign_rows_csr(A.indptr, A.indices, A.data, b, log_p, fill)
    live = np.diff(A.indptr) > 0
    count = np.bincount(a[live], minlength=log_p.shape[0])
    return a, C, count, not np.array_equal(a, a_prev)


def _row_small(r):
    return r[1], r[2], r[3]


@_one_kernel_thread
def _column_stats_task(A, r, k_a):
    """n_cols x K_A: each column's purchases in the shard by the rows' new clusters."""
    a = r[0]
    rows = np.repeat(a, np.diff(A.indptr))
    flat = A.indices.astype(np.int64) * k_a + rows
    X = np.bincount(flat, weights=A.data, minlength=A.shape[1] * k_a)
    return X.reshape(A.shape[1], k_a)


def _add_task(*parts):
    out = parts[0].copy()
    for p in parts[1:]:
        out += p
    return out


def _column_task(X, log_p, fill, b_prev, col_nnz, k_b):
    """Column update on the summed statistics, the arithmetic of ``_hard_assign_rows_csr``
    (``s = sum_k x_k log_p[l, k]`` accumulated in k order; first maximum; columns without
    counts take ``fill``): (labels, C^T, the next fill, changed)."""
    if isinstance(b_prev, tuple):
        b_prev = b_prev[0]
    m, k_a = X.shape
    best = np.zeros(m, np.int64)
    best_s = np.full(m, -np.inf)
    for l in range(k_b):
        s = np.zeros(m)
        for k in range(k_a):
            s += X[:, k] * log_p[l, k]
        better = s > best_s
        best[better] = l
        best_s[better] = s[better]
    tot = np.zeros(m)
    for k in range(k_a):
        tot += X[:, k]
    b = np.where(tot > 0.0, best, fill)
    CT = np.zeros((k_b, k_a))
    for l in range(k_b):
        CT[l] = X[(b == l) & (tot > 0.0)].sum(axis=0)
    next_fill = largest_cluster(b[col_nnz > 0], k_b)
    return b, CT, next_fill, not np.array_equal(b, b_prev)


def _column_small(r):
    return r[1], r[2], r[3]


def _fill_rows_task(A, r, fill):
    a = r[0].copy() if isinstance(r, tuple) else np.array(r, dtype=np.int64)
    a[np.diff(A.indptr) == 0] = fill
    return a


def _fill_columns_task(r, col_nnz, k_b):
    b = (r[0] if isinstance(r, tuple) else r).astype(np.int64, copy=True)
    b[col_nnz == 0] = largest_cluster(b[col_nnz > 0], k_b)
    return b


def _tree_sum(client, futures):
    """One future of the sum of ``futures`` (arrays), added on the workers, fan-in 4."""
    level = list(futures)
    made = []
    while len(level) > 1:
        level = [
            client.submit(_add_task, *level[i : i + _FAN_IN], pure=False)
            for i in range(0, len(level), _FAN_IN)
        ]
        made.extend(level)
    return level[0], made[:-1] if made else []


# --------------------------------------------------------------------------- sweeps


def check_fit_args(sharded, n_row_clusters, n_col_clusters, max_sweeps, tol):
    """(the ShardedDataset, K_A, K_B, max_sweeps, tol) of a block-model fit on shards,
    each checked as ``DCSBM`` checks it."""
    sds = _check_sharded(sharded)
    n_r, n_c = sds.shape
    k_a = check_n_clusters(n_row_clusters, "n_row_clusters", n_r, "people")
    k_b = check_n_clusters(n_col_clusters, "n_col_clusters", n_c, "items")
    return sds, k_a, k_b, check_int(max_sweeps, "max_sweeps", 1), check_real(tol, "tol", 0.0)


def float_shards(client: Any, sds: _sh.ShardedDataset) -> list:
    """One future per shard of its canonical float64 CSR (the fit's input, kept on the
    workers)."""
    empty = np.flatnonzero(np.diff(sds.row_bounds) == 0)
    if empty.size:
        raise ValueError(
            f"shard {int(empty[0])} of the sharded dataset has no rows: the block-model fit "
            "needs people in every shard (write the dataset again with generate_dask, or "
            "leave the empty shard out of the manifest)"
        )
    return [client.submit(_float_shard, h, pure=False) for h in shard_handles(sds)]


def run_sweeps(client, A, a_parts, b_cur, k_a, k_b, max_sweeps, tol, *, raw=False, bar=None):
    """The hard sweeps on futures: ``A`` (float shards), ``a_parts`` (row labels per
    shard) and ``b_cur`` (column labels, a future). Returns (ShardedLabels of the best
    state, members without purchases filled as the local fit fills them; omega, L, sweeps
    run), with ``raw`` preceded by the best state as the sweeps left it (to sweep on from,
    as the local fit does after its first sweeps). ``bar`` (a progress bar or None) is
    advanced once per sweep. The futures given are not released; every one made here but
    the result's is."""
    owned: list = []
    try:
        setup = [
            client.submit(_setup_task, f, a, b_cur, k_a, k_b, pure=False)
            for f, a in zip(A, a_parts, strict=True)
        ]
        owned += setup
        parts = client.gather([client.submit(_setup_small, s, pure=False) for s in setup])
        nnz_f, made = _tree_sum(client, [client.submit(_setup_nnz, s, pure=False) for s in setup])
        owned += [nnz_f, *made]
        C = sum((p[0] for p in parts[1:]), parts[0][0].copy())
        fill_a = int(np.argmax(sum(p[1] for p in parts)))
        fill_b = client.submit(_column_fill_task, b_cur, nnz_f, k_b, pure=False).result()
        ll_old = profile_log_likelihood(C)
        best = None
        n_done = 0
        given = (list(a_parts), b_cur)
        for _ in range(max_sweeps):
            n_done += 1
            if bar is not None:
                bar.update(1)
            rows = [
                client.submit(_row_task, f, a, b_cur, _log_p(C), fill_a, pure=False)
                for f, a in zip(A, a_parts, strict=True)
            ]
            stats = [
                client.submit(_column_stats_task, f, r, k_a, pure=False)
                for f, r in zip(A, rows, strict=True)
            ]
            X = _local_sum(client, stats)
            made = []
            small = client.gather([client.submit(_row_small, r, pure=False) for r in rows])
            C_rows = sum((p[0] for p in small[1:]), small[0][0].copy())
            col = client.submit(
                _column_task, X, _log_p(C_rows.T.copy()), fill_b, b_cur, nnz_f, k_b, pure=False
            )
            CT, fill_b, changed_b = client.submit(_column_small, col, pure=False).result()
            _release(stats, made, X)
            C = np.ascontiguousarray(CT.T)
            ll = profile_log_likelihood(C)
            changed = changed_b or any(p[2] for p in small)
            fill_a = int(np.argmax(sum(p[1] for p in small)))
            keep = best is not None and best[0] is a_parts
            if not keep and a_parts is not given[0]:  # the previous state: no longer needed
                _release(a_parts, b_cur)
            a_parts, b_cur = rows, col
            if best is None or ll > best[3]:
                if best is not None:
                    _release(best[0], best[1])
                best = (a_parts, b_cur, C, ll, fill_a)
            if not changed or ll - ll_old <= tol * abs(ll_old):
                break
            ll_old = ll
        if best[0] is not a_parts:
            owned += [*a_parts, b_cur]
        a_best, b_best, C, ll, fill_best = best
        if not raw:
            owned += [*a_best, b_best]
        a = [
            client.submit(_fill_rows_task, f, r, fill_best, pure=False)
            for f, r in zip(A, a_best, strict=True)
        ]
        b = client.submit(_fill_columns_task, b_best, nnz_f, k_b, pure=False).result()
        _wait(a)  # computed before the shards and labels they read are released
    finally:
        _release(owned)
    labels = ShardedLabels(a, b, k_a, k_b)
    if raw:
        return ShardedLabels(a_best, b_best, k_a, k_b), labels, C, ll, n_done
    return labels, C, ll, n_done


def _setup_small(r):
    return r[0], r[1]


def _setup_nnz(r):
    return r[2]


def _column_fill_task(b, col_nnz, k_b):
    b = b[0] if isinstance(b, tuple) else np.asarray(b)
    return largest_cluster(b[col_nnz > 0], k_b)


def dcsbm_sweeps_dask(
    sharded: _sh.ShardedDataset,
    n_row_clusters: int,
    n_col_clusters: int,
    init: tuple[Any, Any] | ShardedLabels,
    *,
    max_sweeps: int = 100,
    tol: float = 1e-6,
    client: Any = None,
    progress: bool | None = None,
) -> DaskDCSBMResult:
    """The hard sweeps of :class:`~fastbip.algorithms.DCSBM` on a sharded dataset, from a
    given start (see the module docstring for what runs where).

    Parameters
    ----------
    sharded : ShardedDataset (shards on the workers or in a sharded directory).
    n_row_clusters, n_col_clusters : int, K_A and K_B.
    init : (row_labels (n_people,), column_labels (n_items,)), ints, -1 = unassigned; or a
        :class:`ShardedLabels` (row labels on the workers, checked there).
    max_sweeps, tol : as in ``DCSBM``.
    client : dask.distributed.Client or None (the default client).
    progress : bool or None
        A bar of the sweeps on standard error: None shows it where standard error is a
        terminal, False never (also ``FASTBIP_PROGRESS=0``); see :mod:`fastbip._progress`.

    Returns
    -------
    DaskDCSBMResult, equal to ``DCSBM(n_row_clusters, n_col_clusters, init=init,
    soft_sweeps=0, max_sweeps=max_sweeps, tol=tol).fit(M)`` exactly (labels, ``omega_``,
    ``log_likelihood_``, ``n_iter_``); its row labels stay on the workers until read.
    """
    sds, k_a, k_b, max_sweeps, tol = check_fit_args(
        sharded, n_row_clusters, n_col_clusters, max_sweeps, tol
    )
    n_r, n_c = sds.shape
    sharded_init = isinstance(init, ShardedLabels)
    if not sharded_init:
        if not (isinstance(init, (tuple, list)) and len(init) == 2):
            raise TypeError(
                f"init must be a (row_labels, column_labels) pair or ShardedLabels; got "
                f"{init!r:.60}"
            )
        a0, b0 = _check_init_labels(init, n_r, n_c)
        if a0.max(initial=-1) >= k_a or b0.max(initial=-1) >= k_b:
            raise ValueError(
                f"init labels must be below n_row_clusters={k_a} and n_col_clusters={k_b}; "
                f"got maxima {a0.max()} and {b0.max()}"
            )
    elif len(init.rows) != sds.n_shards:
        raise ValueError(f"init has {len(init.rows)} shards; the dataset has {sds.n_shards}")
    if sds.n_shards == 0:
        raise ValueError("the sharded dataset has no shards (no people) to fit")
    client = _get_client(client)
    bounds = sds.row_bounds
    owned: list = []  # every future made here, released at the end
    bar = sweep_bar(max_sweeps, progress)
    try:
        A = float_shards(client, sds)
        owned += A
        if sharded_init:
            a_parts, b_cur = list(init.rows), init.columns
            if not hasattr(b_cur, "key"):
                b_cur = client.scatter(np.asarray(b_cur), broadcast=True, hash=False)
                owned.append(b_cur)
        else:
            a_parts = client.scatter(
                [a0[r0:r1] for r0, r1 in zip(bounds[:-1], bounds[1:], strict=True)], hash=False
            )
            b_cur = client.scatter(b0, broadcast=True, hash=False)
            owned += [*a_parts, b_cur]
        labels, C, ll, n_done = run_sweeps(
            client, A, a_parts, b_cur, k_a, k_b, max_sweeps, tol, bar=bar
        )
    finally:
        bar.close()
        _release(owned)
    return DaskDCSBMResult(labels, C, ll, n_done, k_a, k_b)
