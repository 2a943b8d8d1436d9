"""The maximum-likelihood omega of a labelling on row shards: :func:`estimate_omega_dask`.

One task per shard computes, on the worker, the shard's block totals, its rows' degrees
(kept there), its columns' degrees, and the shard's shares of the log-likelihood's sums:
``sum log M!`` over its entries and ``sum d log d`` over its rows' degrees, each as the
histogram of the values (integer counts, exact when added). The client adds the K x K
totals and the column degrees, merges the histograms and sums ``n_v f(v)`` over the
distinct values once, in ascending order, as :func:`fastbip.blocks.estimate_omega` does
on the whole matrix: so for integer-valued purchases every number equals the local one bit
for bit, whatever the number of workers or the shard size. ``theta`` is then computed per
shard where the degrees are (element by element, like the local one), and comes back only
when the labels were held here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fastbip.blocks import OmegaEstimate, block_counts
from fastbip.blocks.likelihood import (
    log_likelihood_from_sums,
    member_shares,
    profile_log_likelihood,
    term_part,
    term_sum,
)
from fastbip.io import sharded as _sh

from ._client import get_client as _get_client
from ._client import one_kernel_thread as _one_kernel_thread
from ._client import release as _release
from .labels import columns_on_worker, rows_on_worker
from .study import (
    _check_sharded,
    _encode,
    _on_workers,
    _row_slice,
    _submit_on_workers,
    _worker_labels,
    open_shard,
)
from .vectors import ShardedVector

__all__ = ["ShardedOmegaEstimate", "estimate_omega_dask"]


@dataclass(frozen=True, repr=False)
class ShardedOmegaEstimate:
    """:class:`fastbip.blocks.OmegaEstimate` with the per-person vectors on the workers.

    Attributes
    ----------
    omega : float64 (K_A, K_B), the block totals (the MLE of ``omega``).
    theta : :class:`ShardedVector` of float64, one part per shard: row degree over its
        cluster's total (NaN when unassigned, 0 in a cluster without purchases).
    phi : float64 (n_cols,), the same for columns.
    log_likelihood, profile_log_likelihood : float, as in ``OmegaEstimate``.
    row_labels : :class:`ShardedVector` of int64, the row labels used (-1 = unassigned).
    column_labels : int64 (n_cols,), the column labels used.
    """

    omega: np.ndarray
    theta: ShardedVector
    phi: np.ndarray
    log_likelihood: float
    profile_log_likelihood: float
    row_labels: ShardedVector
    column_labels: np.ndarray

    def to_local(self) -> OmegaEstimate:
        """The :class:`OmegaEstimate` with ``theta`` and ``row_labels`` gathered here
        (O(n_rows) memory: for data that fits)."""
        return OmegaEstimate(
            omega=self.omega,
            theta=self.theta.gather(),
            phi=self.phi,
            log_likelihood=self.log_likelihood,
            profile_log_likelihood=self.profile_log_likelihood,
            row_labels=self.row_labels.gather(),
            column_labels=self.column_labels,
        )

    def release(self) -> None:
        """Release ``theta``'s and ``row_labels``' futures now."""
        self.theta.release()
        self.row_labels.release()

    def __repr__(self) -> str:
        ka, kb = self.omega.shape
        return (
            f"ShardedOmegaEstimate(K=({ka}, {kb}), n_rows={len(self.theta)}, "
            f"n_cols={self.phi.size}, log_likelihood={self.log_likelihood!r}, "
            f"theta={self.theta!r})"
        )


# --------------------------------------------------------------------------- on a worker


@_one_kernel_thread
def _omega_task(h, rows, cols, k_a, k_b):
    """Per shard, kept on the worker: the block totals, the degrees, the labels, and the
    shard's parts of ``sum log M!``, ``sum d log d`` and ``sum d`` (assigned entries)."""
    M = open_shard(h)[0]
    r, c = rows_on_worker(rows, k_a), columns_on_worker(cols, k_b)
    C = block_counts(M, r, c).astype(np.float64)  # checks the labels' lengths, naming them
    a, b = r.labels(), c.labels()
    row_ok = (a >= 0).astype(np.float64)
    col_ok = (b >= 0).astype(np.float64)
    Mf = M.astype(np.float64)
    d = np.asarray(Mf @ col_ok).ravel() * row_ok  # row by row, as on the whole matrix
    e = np.asarray(Mf.T @ row_ok).ravel() * col_ok
    entry_rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    x = M.data[(a[entry_rows] >= 0) & (b[M.indices] >= 0)]
    return {
        "C": C,
        "e": e,
        "log_factorial": term_part(x, "log_factorial"),
        "xlogx": term_part(d, "xlogx"),
        "total": float(d[d > 0].sum()),
        "d": d,
        "a": a,
    }


def _sums_task(t):
    """What comes back of a shard: everything but its per-row vectors."""
    return {k: v for k, v in t.items() if k not in ("d", "a")}


def _theta_task(t, R):
    return member_shares(t["d"], t["a"], R)


def _row_labels_task(t):
    return t["a"]


def _column_labels_task(cols, k_b):
    return columns_on_worker(cols, k_b).labels()


# --------------------------------------------------------------------------- here


def estimate_omega_dask(
    sharded: _sh.ShardedDataset,
    row_labels: Any,
    column_labels: Any = None,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
    client: Any = None,
) -> OmegaEstimate | ShardedOmegaEstimate:
    """:func:`fastbip.blocks.estimate_omega` on a sharded dataset, one task per shard.

    Parameters
    ----------
    sharded : ShardedDataset (shards in worker memory or in a sharded directory).
    row_labels, column_labels : hard labels, as in
        :func:`~fastbip.distributed.block_counts_dask`: int arrays (n_rows,), (n_cols,)
        (-1 = unassigned) or EncodedLabels held here; or labels that stay on the workers,
        ``"truth"`` (``column_labels`` "truth" or None) or a :class:`ShardedLabels` as
        ``row_labels`` (``column_labels`` None: its own, or an array).
    n_row_clusters, n_col_clusters : int or None (largest label + 1; for labels on the
        workers, the truth's or the ShardedLabels' K).
    client : dask.distributed.Client or None (the default client).

    Returns
    -------
    OmegaEstimate
        For labels held here (``theta`` comes back: O(n_rows), like the labels given).
    ShardedOmegaEstimate
        For labels on the workers: ``theta`` and the row labels stay there
        (:class:`ShardedVector`); here only ``omega`` (K x K), ``phi`` and the column
        labels (n_cols) and the histograms of the entries' and the row degrees' values.

    Notes
    -----
    For integer-valued purchases every field equals ``estimate_omega`` on the whole matrix
    exactly, the log-likelihoods included, whatever the number of workers and the shard
    size (the sums are exact or taken over merged histograms; see
    :func:`fastbip.blocks.likelihood.term_sum`). For non-integer values the block totals,
    the cluster totals that ``theta`` and ``phi`` divide by, and the log-likelihoods are
    sums over shards in shard order: equal within rounding (about 1e-15 relative for
    ``theta``, ``phi`` and ``omega``, 1e-12 for the log-likelihoods).

    Raises
    ------
    TypeError
        ``sharded`` is not a ShardedDataset.
    ValueError
        Labels of the wrong length, out of range, soft, a ShardedLabels with another number
        of shards than the dataset, or ``"truth"`` on a dataset without a planted truth.
    """
    sds = _check_sharded(sharded)
    client = _get_client(client)
    here = not _on_workers(row_labels, column_labels)
    if here:
        n_rows, n_cols = sds.shape
        rows_e, cols = _encode(
            row_labels, column_labels, n_rows, n_cols, n_row_clusters, n_col_clusters
        )
        k_a, k_b = rows_e.n_clusters, cols.n_clusters
        b = sds.row_bounds
        rows = [_row_slice(rows_e, int(r0), int(r1)) for r0, r1 in zip(b[:-1], b[1:], strict=True)]
    else:
        rows, cols, k_a, k_b = _worker_labels(
            sds, row_labels, column_labels, n_row_clusters, n_col_clusters
        )
    shards, cols, scattered = _submit_on_workers(client, sds, _omega_task, rows, cols, k_a, k_b)
    small = [client.submit(_sums_task, t, pure=False) for t in shards]
    col_f = client.submit(_column_labels_task, cols, k_b, pure=False)
    try:
        C, e = np.zeros((k_a, k_b)), np.zeros(sds.shape[1])
        lgf, xlogx, total = [], [], 0.0
        for f in small:  # in shard order, one shard's sums here at a time
            p = f.result()
            C += p["C"]
            e += p["e"]
            lgf.append(p["log_factorial"])
            xlogx.append(p["xlogx"])
            total += p["total"]
        b_lab = col_f.result()
        R = C.sum(axis=1)
        theta = [client.submit(_theta_task, t, R, pure=False) for t in shards]
        labels = [client.submit(_row_labels_task, t, pure=False) for t in shards]
    finally:
        _release(small, col_f, shards, scattered)
    theta_v = ShardedVector(theta, sds.row_bounds, np.float64)
    labels_v = ShardedVector(labels, sds.row_bounds, np.int64)
    x_col = term_sum([term_part(e, "xlogx")], "xlogx")
    ll = log_likelihood_from_sums(C, term_sum(xlogx, "xlogx"), x_col, float(total))
    est = ShardedOmegaEstimate(
        omega=C,
        theta=theta_v,
        phi=member_shares(e, b_lab, C.sum(axis=0)),
        log_likelihood=ll - term_sum(lgf, "log_factorial"),
        profile_log_likelihood=profile_log_likelihood(C),
        row_labels=labels_v,
        column_labels=b_lab,
    )
    if not here:
        return est
    try:
        return est.to_local()
    finally:
        est.release()
