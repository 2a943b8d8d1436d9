"""Scale-out on Dask: the purchase generator and the block counts on ``dask.distributed``.

What is distributed
-------------------
* :func:`generate_purchases_dask`: the rows are cut into the same fixed blocks of
  ``block_size`` rows that :func:`fastbip.generate.sample_purchases` uses locally, each
  block having its own random stream derived from the seed and the block index. One task per
  group of ``blocks_per_task`` consecutive blocks computes that group's rows on a worker
  (``sample_purchases(..., row_blocks=(b0, b1))``); the shards are stacked in row order.
  The large inputs (labels, ``theta``, ``phi``, affinity features) are scattered to every
  worker once, not embedded in each task.
* :func:`block_counts_dask`: the block counts as a sum over row shards, each counted on a
  worker by :func:`fastbip.blocks.block_counts`.
* :func:`generate_dask`: :func:`fastbip.generate.generate` with its purchases from
  :func:`generate_purchases_dask`.

What is not
-----------
* People, items, degrees and the planted ``omega`` are drawn on the client, by the same
  plan as locally (:mod:`fastbip.generate.plan`), and so are the events and the assembly.
* Events (purchase times, for specs with a ``[time]`` section) are computed on the client
  with :func:`fastbip.generate.sample_events`, as :func:`~fastbip.generate.generate` does.
* ``model="exact"`` allocates each block pair's total over all people at once, so it
  cannot be cut into row shards: it runs as one task on one worker.
* The stacked matrix is gathered on the client (its memory is needed there, plus the
  shards while they are stacked).

Results do not depend on the number of workers nor on ``blocks_per_task``: the purchases
equal ``sample_purchases`` on one machine bit for bit (``indptr``, ``indices``, ``data``
and their dtypes), so :func:`generate_dask` equals :func:`~fastbip.generate.generate`, and
integer block counts equal :func:`~fastbip.blocks.block_counts` exactly.

``dask[distributed]`` is an optional dependency: ``pip install 'fastbip[dask]'``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

try:
    import distributed as _dd
except ImportError as e:  # pragma: no cover - exercised only without dask installed
    raise ImportError(
        "fastbip.distributed needs dask.distributed, which is not installed; install it "
        "with: pip install 'fastbip[dask]'"
    ) from e

from fastbip.blocks import EncodedLabels, block_counts, encode_labels
from fastbip.dataset import Dataset
from fastbip.generate import plan as _plan
from fastbip.generate import sample_purchases
from fastbip.spec import Spec

__all__ = ["block_counts_dask", "generate_dask", "generate_purchases_dask"]

# tasks per worker thread when blocks_per_task / rows_per_task is None (only the task size changes:
# the result does not depend on it)
_TASKS_PER_WORKER = 4


def _get_client(client):
    if client is not None:
        if not isinstance(client, _dd.Client):
            raise TypeError(
                f"client must be a dask.distributed.Client or None; got {type(client).__name__}"
            )
        return client
    try:
        return _dd.get_client()
    except ValueError:
        raise RuntimeError(
            "no Dask client: pass client=..., or create one first, e.g. "
            "distributed.Client(distributed.LocalCluster())"
        ) from None


def _n_threads(client) -> int:
    """Worker threads in the cluster (at least 1): only sets the default task size."""
    return max(1, sum(client.nthreads().values()))


def _positive_int_or_none(x, name):
    if x is None:
        return None
    if isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 1:
        return int(x)
    raise ValueError(f"{name} must be None or an integer >= 1; got {x!r}")


# --------------------------------------------------------------------------- purchases


def _shard_task(a, b, theta, phi, omega, affinity, seed, model, block_size, b0, b1):
    """One task: the CSR shard of blocks [b0, b1) (all rows for b0 = None) and its draws."""
    if b0 is None:
        M = sample_purchases(
            a,
            b,
            theta,
            phi,
            omega,
            seed=seed,
            model=model,
            affinity=affinity,
            block_size=block_size,
        )
        return M, None
    M = sample_purchases(
        a,
        b,
        theta,
        phi,
        omega,
        seed=seed,
        model=model,
        affinity=affinity,
        block_size=block_size,
        row_blocks=(b0, b1),
    )
    return M, _plan.shard_draw_count(a, b, theta, phi, omega, seed, block_size, b0, b1)


def generate_purchases_dask(
    people_labels: ArrayLike,
    item_labels: ArrayLike,
    theta: ArrayLike,
    phi: ArrayLike,
    omega: ArrayLike,
    *,
    seed: int | np.random.SeedSequence | np.random.Generator | None,
    model: str = "poisson",
    affinity: list | None = None,
    block_size: int = 1024,
    blocks_per_task: int | None = None,
    client: Any = None,
) -> sp.csr_matrix:
    """:func:`fastbip.generate.sample_purchases` computed by row shards on Dask workers.

    The rows are cut into blocks of ``block_size`` rows (the local generator's blocks, each
    with its own random stream), and one task per ``blocks_per_task`` consecutive blocks
    computes those rows on a worker; the shards are gathered and stacked in row order.
    ``people_labels``, ``item_labels``, ``theta``, ``phi`` and ``affinity`` are validated
    here, then scattered once to every worker.

    Parameters
    ----------
    people_labels, item_labels, theta, phi, omega, seed, model, affinity, block_size :
        as in :func:`~fastbip.generate.sample_purchases` (``block_size`` is part of the
        seed). ``model="exact"`` cannot be split into rows: it runs as one task.
    blocks_per_task : int >= 1 or None
        Row blocks per task. None: about 4 tasks per worker thread.
    client : dask.distributed.Client or None
        None uses the current default client (``distributed.get_client()``).

    Returns
    -------
    scipy.sparse.csr_matrix (n_people, n_items), equal bit for bit (``indptr``,
    ``indices``, ``data`` and their dtypes) to ``sample_purchases`` with the same
    arguments on one machine, whatever the number of workers and ``blocks_per_task``.
    """
    blocks_per_task = _positive_int_or_none(blocks_per_task, "blocks_per_task")
    # checked once here rather than on every worker; the seed becomes a SeedSequence, so
    # that every worker draws the same streams
    args = _plan.check_purchase_args(
        people_labels,
        item_labels,
        theta,
        phi,
        omega,
        seed=seed,
        model=model,
        affinity=affinity,
        block_size=block_size,
    )
    a, b, theta, phi, om = args.people_labels, args.item_labels, args.theta, args.phi, args.omega
    seed, model, block_size = args.seed, args.model, args.block_size
    client = _get_client(client)

    n, m = a.size, b.size
    nb = -(-n // block_size)
    if nb == 0:  # no people: nothing to distribute
        return sample_purchases(
            a, b, theta, phi, om, seed=seed, model=model, affinity=affinity, block_size=block_size
        )
    if model == "exact":
        groups = [(None, None)]
    else:
        if blocks_per_task is None:
            blocks_per_task = -(-nb // (_TASKS_PER_WORKER * _n_threads(client)))
        groups = [(g, min(nb, g + blocks_per_task)) for g in range(0, nb, blocks_per_task)]
    # a list (a dict's keys would become the data's keys); unique keys, released below
    shared = client.scatter([a, b, theta, phi, om, affinity], broadcast=True, hash=False)
    futures = [
        client.submit(_shard_task, *shared, seed, model, block_size, b0, b1, pure=False)
        for b0, b1 in groups
    ]
    try:
        results = client.gather(futures)
    finally:
        for f in (*futures, *shared):
            f.release()
    if model == "exact":
        return results[0][0]
    return _plan.stack_shards([r[0] for r in results], sum(r[1] for r in results), m)


# --------------------------------------------------------------------------- dataset


def generate_dask(spec: Spec, rng: Any = None, client: Any = None) -> Dataset:
    """:func:`fastbip.generate.generate` with the purchases generated on Dask workers.

    Everything but the purchases is computed on the client exactly as ``generate`` does
    (same code), including the events when ``spec`` has a ``[time]`` section: events are
    not distributed yet. The purchases come from :func:`generate_purchases_dask` with the
    local generator's block size, so the dataset equals ``generate(spec, rng)`` bit for bit,
    whatever the number of workers.
    """
    plan = _plan.make_plan(spec, rng)
    args, kwargs = plan.purchase_args()
    purchases = generate_purchases_dask(*args, **kwargs, client=client)
    return _plan.assemble(spec, plan, purchases)


# --------------------------------------------------------------------------- block counts


def _counts_task(M, rows, cols, weighted):
    return block_counts(M, rows, cols, weighted=weighted)


def block_counts_dask(
    shards_or_matrix: Any,
    row_labels: Any,
    col_labels: Any,
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
    shards_or_matrix : a scipy.sparse matrix, or a list of scipy.sparse matrices with the
        same number of columns whose rows, stacked in order, are the rows of the matrix
        (e.g. the row shards of a generated dataset).
    row_labels, col_labels : int labels (n_rows,), (n_cols,), -1 = unassigned, or
        :class:`~fastbip.blocks.EncodedLabels`; hard labels only (no soft memberships).
    n_row_clusters, n_col_clusters : int or None (largest label + 1).
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
    if sp.issparse(shards_or_matrix):
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
            "shards_or_matrix must be a scipy.sparse matrix or a non-empty list "
            f"of them; got {type(shards_or_matrix).__name__}"
        )
    for lab, name in ((row_labels, "row_labels"), (col_labels, "col_labels")):
        if not isinstance(lab, EncodedLabels) and np.ndim(lab) != 1:
            raise ValueError(
                f"{name} must be 1-D hard labels (soft memberships are not "
                f"supported here); got {np.ndim(lab)} dimensions"
            )
    rows = encode_labels(row_labels, n_row_clusters, name="row_labels")
    cols = encode_labels(col_labels, n_col_clusters, name="col_labels")
    if len(rows) != n_rows:
        raise ValueError(f"row_labels must have {n_rows} entries (one per row); got {len(rows)}")
    if len(cols) != n_cols:
        raise ValueError(f"col_labels must have {n_cols} entries (one per column); got {len(cols)}")
    client = _get_client(client)

    if shards is None:
        step = rows_per_task or max(1, -(-n_rows // (_TASKS_PER_WORKER * _n_threads(client))))
        M = M.tocsr() if M.format != "csr" else M
        bounds = list(range(0, n_rows, step)) + [n_rows] if n_rows else [0, 0]
        shards = [M[r0:r1] for r0, r1 in zip(bounds[:-1], bounds[1:], strict=True)]
    starts = np.concatenate([[0], np.cumsum([s.shape[0] for s in shards])])
    cols_f = client.scatter(cols, broadcast=True, hash=False)
    shard_f = client.scatter(shards, hash=False)
    futures = [
        client.submit(
            _counts_task,
            shard_f[i],
            EncodedLabels(rows.codes[starts[i] : starts[i + 1]], rows.n_clusters),
            cols_f,
            weighted,
            pure=False,
        )
        for i in range(len(shards))
    ]
    try:
        tables = client.gather(futures)
    finally:
        for f in (*futures, *shard_f, cols_f):
            f.release()
    out = tables[0].copy()
    for t in tables[1:]:
        out += t
    return out
