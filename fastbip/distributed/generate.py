"""Generation on Dask: the purchases (and events) by row shards, made where they stay.

* :func:`generate_purchases_dask`: the purchase matrix, computed by row shards on the
  workers and stacked on the client (for matrices that fit on the client).
* :func:`generate_dask`: a whole dataset as a :class:`~fastbip.io.sharded.ShardedDataset`
  whose row shards (purchases and events) stay on the workers, or are written by the
  workers to a sharded directory (:mod:`fastbip.io.sharded`). The client holds only
  futures and O(shards + K^2) facts: the plan (people, items, degrees, truth; steps 1-4 of
  :mod:`fastbip.generate.plan`, the very calls of one machine) is made by one task on a
  worker, from the root seed drawn here, and stays on the workers (or is written by that
  worker as ``base.fbp``).

The rows are cut into the fixed blocks of ``block_size`` rows that
:func:`fastbip.generate.sample_purchases` uses locally, each block having its own random
stream derived from the seed and the block index; a shard is a run of consecutive blocks
(``sample_purchases(..., row_blocks=(b0, b1))``), and its events are drawn on the same worker
by :func:`~fastbip.generate.sample_events` with ``first_block=b0``, whose streams are also
per row block. So the shards stacked in row order are ``fastbip.generate(spec)`` bit for bit
(``indptr``, ``indices``, ``data``, their dtypes, event offsets and times), whatever the
number of workers and the shard size. The large inputs (labels, ``theta``, ``phi``, affinity
features) are one future, copied to every worker that draws a shard, never sent through the
client. The plan itself is one serial task (its streams are sequential: a global
permutation of the people, one degree stream), as on one machine: O(n_people + n_items)
time and memory on that worker.

``model="exact"``: the local generator allocates each block pair's exact total over all the
pair's people with one serial stream per block pair (``exact_cluster_counts``), so a row
block's share depends on every draw before it and no shard can be drawn alone with the same
result. The purchases are therefore drawn as one task on one worker (O(purchases) time,
the whole matrix in that worker's memory), then cut into row shards on the workers, each
with its events drawn per shard as above; the result is still bit-identical.

``dask[distributed]`` is an optional dependency: ``pip install 'fastbip[dask]'``.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from fastbip.algorithms import _gram
from fastbip.generate import plan as _plan
from fastbip.generate import sample_events, sample_purchases
from fastbip.io import sharded as _sh
from fastbip.spec import Spec

from ._client import TASKS_PER_WORKER as _TASKS_PER_WORKER
from ._client import get_client as _get_client
from ._client import n_threads as _n_threads
from ._client import one_kernel_thread as _one_kernel_thread
from ._client import positive_int_or_none as _positive_int_or_none
from ._client import release as _release
from ._progress import wait_for

__all__ = ["generate_dask", "generate_purchases_dask"]

_BLOCK_SIZE = inspect.signature(_plan.check_purchase_args).parameters["block_size"].default


# --------------------------------------------------------------------------- purchases


@_one_kernel_thread
def _shard_task(a, b, theta, phi, omega, affinity, seed, model, block_size, b0, b1):
    """One task: the CSR shard of blocks [b0, b1) (all rows for b0 = None) and its draws."""
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
        row_blocks=None if b0 is None else (b0, b1),
    )
    if b0 is None:
        return M, None
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
    progress: bool | None = None,
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
    progress : bool or None
        A bar of the tasks finished on standard error: None shows it where standard error
        is a terminal, False never (also ``FASTBIP_PROGRESS=0``); see
        :mod:`fastbip._progress`.

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
        wait_for(futures, "generate (dask)", progress, unit="shard")
        results = client.gather(futures)
    finally:
        _release(futures, shared)
    if model == "exact":
        return results[0][0]
    return _plan.stack_shards([r[0] for r in results], sum(r[1] for r in results), m)


# --------------------------------------------------------------------------- dataset


def _finish_shard(M, n_draws, item_labels, ev, block_size, b0, rows, out, index):
    """The shard's events (drawn here, per row block), then the shard kept or written."""
    events = None
    if ev is not None:
        profiles, seed_events, start, end = ev
        events = sample_events(
            M,
            item_labels,
            profiles,
            seed=seed_events,
            start=start,
            end=end,
            block_size=block_size,
            first_block=b0,
        )
    meta = {
        "rows": list(rows),
        "nnz": int(M.nnz),
        "purchases": int(M.data.sum(dtype=np.int64)),
        "n_draws": int(n_draws),
    }
    if out is None:
        return M, events, meta
    meta.update(_sh.write_shard(out, index, _sh.shard_arrays(M, events)))
    return meta


@_one_kernel_thread
def _dataset_shard_task(pa, b0, b1, ev, out, index):
    """One row shard (blocks [b0, b1)) of a poisson or bernoulli dataset, with its events."""
    a, b, theta, phi, om = pa.people_labels, pa.item_labels, pa.theta, pa.phi, pa.omega
    bs = pa.block_size
    M = sample_purchases(
        a,
        b,
        theta,
        phi,
        om,
        seed=pa.seed,
        model=pa.model,
        affinity=pa.affinity,
        block_size=bs,
        row_blocks=(b0, b1),
    )
    n_draws = _plan.shard_draw_count(a, b, theta, phi, om, pa.seed, bs, b0, b1)
    rows = (b0 * bs, b0 * bs + M.shape[0])
    return _finish_shard(M, n_draws, b, ev, bs, b0, rows, out, index)


@_one_kernel_thread
def _exact_task(pa):
    """The whole matrix of model="exact" (its allocation couples all rows: one task)."""
    return sample_purchases(
        pa.people_labels,
        pa.item_labels,
        pa.theta,
        pa.phi,
        pa.omega,
        seed=pa.seed,
        model="exact",
        block_size=pa.block_size,
    )


@_one_kernel_thread
def _exact_shard_task(M_all, pa, ev, b0, b1, out, index):
    """Rows of blocks [b0, b1) cut from the exact model's matrix, with their events."""
    block_size = pa.block_size
    r0, r1 = b0 * block_size, min(M_all.shape[0], b1 * block_size)
    lo, hi = int(M_all.indptr[r0]), int(M_all.indptr[r1])
    indptr = M_all.indptr[r0 : r1 + 1] - M_all.indptr[r0]
    M = _plan.stack_shards(
        [
            sp.csr_matrix(
                (M_all.data[lo:hi], M_all.indices[lo:hi], indptr), (r1 - r0, M_all.shape[1])
            )
        ],
        0,
        M_all.shape[1],
    )
    # exact counts are not thinned: the draws are the purchases
    n_draws = int(M.data.sum(dtype=np.int64))
    return _finish_shard(M, n_draws, pa.item_labels, ev, block_size, b0, (r0, r1), out, index)


def _plan_task(spec, seed):
    """On a worker: steps 1-4 of :mod:`fastbip.generate.plan` (populations, degrees, omega),
    the very calls of one machine, so the arrays are the same bit for bit."""
    return _plan.make_plan(spec, seed)


def _args_task(plan):
    """On a worker: the checked arguments of ``sample_purchases`` for the plan."""
    args, kwargs = plan.purchase_args()
    return _plan.check_purchase_args(*args, **kwargs)


def _seed_events_task(plan):
    return plan.seed_events


def _base_task(plan):
    """On a worker: (people, items, truth), the dataset's O(n_people + n_items) part."""
    return plan.people, plan.items, plan.truth()


def _write_base_task(plan, path, spec):
    """On a worker: ``base.fbp`` of the sharded directory, written where the plan is."""
    _sh.write_base(path, plan.people, plan.items, plan.truth(), spec)
    return True


def _meta(shard):
    return shard[2]


def _check_out(out: Any) -> Path:
    try:
        path = Path(os.fspath(out))
    except TypeError:
        raise TypeError(f"out must be a path or None; got {type(out).__name__}") from None
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(
            f"out={str(path)!r} exists and is not an empty directory; a sharded dataset is "
            "written into a new or empty one"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def generate_dask(
    spec: Spec,
    rng: Any = None,
    client: Any = None,
    *,
    out: str | os.PathLike | None = None,
    blocks_per_shard: int | None = None,
    progress: bool | None = None,
) -> _sh.ShardedDataset:
    """:func:`fastbip.generate.generate` on Dask workers, the shards left where they are made.

    Parameters
    ----------
    spec : Spec
    rng : as in ``generate`` (None: ``spec.seed``).
    client : dask.distributed.Client or None (the default client).
    out : path or None
        None: the row shards (purchases and events) stay in the workers' memory, as futures.
        A path (a new or empty directory): each worker writes its shards there, and the
        client writes the manifest last (:mod:`fastbip.io.sharded`); the shards leave no
        worker's disk through the client.
    blocks_per_shard : int >= 1 or None
        Row blocks of 1024 rows per shard. None: about 4 shards per worker thread, cut on
        the grid of row chunks of the block model's spectral products (whole chunks, or a
        power of two dividing one: ``fastbip.algorithms._gram.aligned_blocks``), so that a
        shard of a chunk or more moves no partial sum to another. Any size gives the same
        data and the same fit.
    progress : bool or None
        A bar of the shards made, as in :func:`generate_purchases_dask`.

    Returns
    -------
    ShardedDataset
        The shards on the workers (``futures``; people, items and truth in ``base_future``,
        read here only on first use) or on disk (``path``, opened as by
        :func:`~fastbip.io.sharded.load_sharded`).
        ``.to_dataset()`` equals ``generate(spec, rng)`` bit for bit (purchases, their index
        dtypes and the events included), whatever the number of workers and the shard size.
    """
    blocks_per_shard = _positive_int_or_none(blocks_per_shard, "blocks_per_shard")
    if not isinstance(spec, Spec):
        raise TypeError(
            f"spec must be a fastbip Spec (see load_spec, default_spec); got {type(spec).__name__}"
        )
    # the root seed here (a Generator given as rng is drawn from once, here); everything
    # made from it, the populations, degrees and truth included, is made on the workers
    root = _plan.root_seed(spec, rng)
    client = _get_client(client)
    path = None if out is None else _check_out(out)
    bs = _BLOCK_SIZE  # the plan's: purchase_args leaves sample_purchases' default
    n, m = spec.people.n, spec.items.n
    nb = -(-n // bs)
    if blocks_per_shard is None:
        # about _TASKS_PER_WORKER shards per worker thread, cut on the fit's grid of row
        # chunks (no chunk across two shards: nothing moves between shards in its products)
        blocks_per_shard = max(1, -(-nb // (_TASKS_PER_WORKER * _n_threads(client))))
        # the grid's chunks from the expected purchases, which bound the stored entries
        # (repeat purchases merge): the coarser of the grids for it and its half, both
        # powers of two, so that either one's chunk bounds are shard bounds
        expected = int(n * spec.relation.mean_purchases)
        chunk = max(_gram.chunk_rows_for(n, m, e) for e in (expected, expected // 2))
        blocks_per_shard = _gram.aligned_blocks(blocks_per_shard, bs, chunk)
    groups = [(g, min(nb, g + blocks_per_shard)) for g in range(0, nb, blocks_per_shard)]
    plan_f = client.submit(_plan_task, spec, root, pure=False)
    pa_f = client.submit(_args_task, plan_f, pure=False)
    made = [plan_f, pa_f]
    ev = None
    try:
        if spec.time is not None:
            seed_events = client.submit(_seed_events_task, plan_f, pure=False).result()
            ev = (list(spec.time.profiles), seed_events, spec.time.start, spec.time.end)
        if path is not None:
            made.append(client.submit(_write_base_task, plan_f, path, spec, pure=False))
            base_f = None
        else:
            base_f = client.submit(_base_task, plan_f, pure=False)
        if spec.relation.model == "exact" and groups:
            full = client.submit(_exact_task, pa_f, pure=False)
            made.append(full)
            tasks = [
                client.submit(_exact_shard_task, full, pa_f, ev, b0, b1, path, i, pure=False)
                for i, (b0, b1) in enumerate(groups)
            ]
        else:
            tasks = [
                client.submit(_dataset_shard_task, pa_f, b0, b1, ev, path, i, pure=False)
                for i, (b0, b1) in enumerate(groups)
            ]
        if path is not None:
            made[2].result()  # base.fbp written (or its error raised) before the manifest
        elif not groups:
            base_f.result()  # errors of the plan surface here
    except BaseException:
        _release(made)
        raise
    try:
        wait_for(tasks, "generate (dask)", progress, unit="shard")
        if path is not None:
            metas = client.gather(tasks)
        else:
            getters = [client.submit(_meta, t, pure=False) for t in tasks]
            metas = client.gather(getters)
            _release(getters)
    except BaseException:
        _release(tasks, base_f)
        raise
    finally:
        _release(made)
    n_draws = sum(s.pop("n_draws") for s in metas)
    if path is not None:
        _release(tasks)
        _sh.write_manifest(
            path,
            shape=(n, m),
            spec=spec,
            shards=metas,
            n_draws=n_draws,
            events=ev is not None,
            block_size=bs,
        )
        return _sh.load_sharded(path)
    return _sh.ShardedDataset(
        spec=spec,
        shape=(n, m),
        shards=metas,
        n_draws=n_draws,
        has_events=ev is not None,
        block_size=bs,
        futures=tasks,
        base_future=base_f,
    )
