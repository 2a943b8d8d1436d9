"""The Dask client and the task-size defaults shared by the distributed modules."""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any

try:
    import distributed as _dd
except ImportError as e:  # pragma: no cover - exercised only without dask installed
    raise ImportError(
        "fastbip.distributed needs dask.distributed, which is not installed; install it "
        "with: pip install 'fastbip[dask]'"
    ) from e

# tasks per worker thread when the shard size is not given (only the task size changes:
# results do not depend on it)
TASKS_PER_WORKER = 4


def get_client(client: Any) -> Any:
    """``client`` checked, or the current default client."""
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


def n_threads(client: Any) -> int:
    """Worker threads in the cluster (at least 1): only sets the default task size."""
    return max(1, sum(client.nthreads().values()))


def positive_int_or_none(x: Any, name: str) -> int | None:
    """``x`` as an int >= 1, or None."""
    if x is None:
        return None
    if isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 1:
        return int(x)
    raise ValueError(f"{name} must be None or an integer >= 1; got {x!r}")


def wait(futures: list) -> None:
    """Wait until every future is computed (``distributed.wait``)."""
    _dd.wait(futures)


def release(*futures: Any) -> None:
    """Release futures (and lists of them) now rather than at garbage collection."""
    for f in futures:
        if isinstance(f, (list, tuple)):
            release(*f)
        elif f is not None:
            f.release()


def one_kernel_thread(func: Callable) -> Callable:
    """Run a task with numba's kernels on one thread (results do not depend on it).

    Dask runs one task per worker thread; a kernel that also starts a thread per core
    oversubscribes the machine (threads spinning for each other's cores: a 5000-row shard's
    sweep took 1-3 s instead of milliseconds on 2 worker processes of a 2-core machine), so
    each task's kernels get one thread, as dask gives BLAS and OpenMP one thread per worker.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import numba

        old = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return func(*args, **kwargs)
        finally:
            numba.set_num_threads(old)

    return wrapper


def add_arrays(*parts: Any) -> Any:
    """The sum of arrays, as a new array (a task's body)."""
    out = parts[0].copy()
    for p in parts[1:]:
        out += p
    return out


def local_sum(client: Any, futures: list) -> Any:
    """One future of the sum of ``futures`` (arrays): first per worker (each worker adds
    the arrays it holds, so one array per worker moves), then across workers. The order of
    the float sum depends on where the tasks ran: exact for integer counts (below 2**53),
    within rounding otherwise."""
    _dd.wait(futures)
    where = client.who_has(futures)
    groups: dict = {}
    for f in futures:
        w = (where.get(f.key) or ("?",))[0]
        groups.setdefault(w, []).append(f)
    partial = [
        g[0]
        if len(g) == 1
        else client.submit(
            add_arrays,
            *g,
            workers=None if w == "?" else [w],
            allow_other_workers=True,  # a worker lost meanwhile: added elsewhere
            pure=False,
        )
        for w, g in groups.items()
    ]
    if len(partial) == 1:
        return partial[0]
    return client.submit(add_arrays, *partial, pure=False)
