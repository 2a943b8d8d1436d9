"""Progress bars for long work, on standard error, only where a person watches.

One function, :func:`progress`, wraps an iterable (or counts manual ``update`` calls) in a
tqdm bar when a bar should show and returns a silent stand-in otherwise. A bar shows when
all of these hold:

- the caller did not pass ``progress=False`` (``progress=True`` asks for a bar, ``None``
  means "where a person watches");
- the environment variable ``FASTBIP_PROGRESS`` is not ``0`` (``FASTBIP_PROGRESS=1`` shows
  the bar even when standard error is not a terminal, for tests and logs);
- standard error is a terminal (or ``FASTBIP_PROGRESS=1``);
- tqdm is installed (``pip install fastbip[progress]``): it is imported only when a bar is
  about to show, and without it there is no bar.

Nothing else in the library prints; a bar disappears when its work ends (``leave=False``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["enabled", "progress"]

ENV = "FASTBIP_PROGRESS"


def enabled(progress: bool | None = None) -> bool:
    """Whether a bar should show, given a function's ``progress`` argument.

    ``False`` never shows one; otherwise ``FASTBIP_PROGRESS=0`` turns bars off,
    ``FASTBIP_PROGRESS=1`` turns them on, and by default they show when standard error is
    a terminal. tqdm being installed is checked by :func:`progress`.
    """
    if progress is False:
        return False
    env = os.environ.get(ENV, "").strip().lower()
    if env in ("0", "false", "no", "off"):
        return False
    if env in ("1", "true", "yes", "on"):
        return True
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


class _Silent:
    """The stand-in when no bar shows: iterates and counts, prints nothing."""

    def __init__(self, iterable: Iterable | None) -> None:
        self._iterable = iterable
        self.n = 0

    def __iter__(self) -> Iterator:
        return iter(self._iterable if self._iterable is not None else ())

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str | None = None,
    unit: str = "it",
    enable: bool | None = None,
    unit_scale: bool = False,
) -> Any:
    """A progress bar over ``iterable`` (or over ``total`` manual ``update`` calls).

    Parameters
    ----------
    iterable : iterable or None
        What to iterate; None for a bar advanced with ``update(n)``.
    total : int or None
        Expected number of steps (taken from ``len(iterable)`` when it has one).
    desc : str or None
        Text in front of the bar, e.g. ``"generate"``.
    unit : str
        What one step is ("it", "rows", "fits", ...).
    enable : bool or None
        The calling function's ``progress`` argument (see :func:`enabled`).
    unit_scale : bool
        Show counts with SI prefixes (``unit="B"``: kB, MB, GB).

    Returns
    -------
    A ``tqdm.tqdm`` on standard error when a bar shows, else a silent object with the same
    ``__iter__``, ``update``, ``set_postfix_str``, ``close`` and context-manager methods.
    """
    if not enabled(enable):
        return _Silent(iterable)
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent(iterable)
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
        mininterval=0.2,
        unit_scale=unit_scale,
        unit_divisor=1024 if unit_scale and unit == "B" else 1000,
    )
