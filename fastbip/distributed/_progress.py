"""A progress bar for Dask work: the tasks of one step, counted as they finish.

The bar is :mod:`fastbip._progress`'s (tqdm on standard error, shown only where standard
error is a terminal, ``progress=False`` or ``FASTBIP_PROGRESS=0`` to turn it off), advanced
by :func:`distributed.as_completed` on the client. It is not ``distributed.progress``: that
one writes to standard output, ignores the terminal test and blocks on a text bar of its own.
"""

from __future__ import annotations

from typing import Any

from fastbip._progress import enabled
from fastbip._progress import progress as progress_bar

__all__ = ["sweep_bar", "wait_for"]


def wait_for(futures: list, desc: str, enable: bool | None, unit: str = "task") -> None:
    """Return once every future is finished (done, failed or cancelled), showing a bar of
    them when a bar should show; return at once otherwise (the caller's ``gather`` waits).
    Errors are not raised here: the caller's ``gather`` raises them."""
    if not futures or not enabled(enable):
        return
    from distributed import as_completed

    with progress_bar(total=len(futures), desc=desc, unit=unit, enable=enable) as bar:
        for _ in as_completed(futures):
            bar.update(1)


def sweep_bar(total: int, enable: bool | None) -> Any:
    """A bar of the block-model sweeps run on the workers (advanced by the caller)."""
    return progress_bar(total=total, desc="DCSBM sweeps (dask)", unit="sweep", enable=enable)
