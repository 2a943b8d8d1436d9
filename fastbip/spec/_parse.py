"""Path-aware parsing helpers for spec files.

Each helper checks one value read from a spec table and, when it is wrong, raises
:class:`SpecError` whose message starts with the value's path in the file, for example
``people.clusters[2].share must be > 0; got -0.1``. ``path`` is always the full dotted path of
the value being checked (or of the table, for the table-level helpers).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["SpecError"]


class SpecError(ValueError):
    """A spec field is missing or wrong; the message starts with the field's path."""


def _fail(path: str, what: str, got: Any) -> SpecError:
    """The error ``"{path} {what}; got {got!r}"`` (returned, for the caller to raise)."""
    return SpecError(f"{path} {what}; got {got!r}")


def _require(d: Any, path: str) -> dict:
    """``d`` itself if it is a table (a dict), else an error naming its type."""
    if not isinstance(d, dict):
        raise _fail(path, "must be a table (mapping)", type(d).__name__)
    return d


def _no_extra(d: dict, allowed: set[str], path: str) -> None:
    """Fail if table ``d`` has keys outside ``allowed``."""
    extra = sorted(set(d) - allowed)
    if extra:
        raise SpecError(f"{path} has unknown field(s) {extra}; expected some of {sorted(allowed)}")


def _get(d: dict, key: str, path: str, default: Any = ...) -> Any:
    """``d[key]``, or ``default``; fail with ``{path}.{key} is required`` if there is none."""
    if key in d:
        return d[key]
    if default is ...:
        raise SpecError(f"{path}.{key} is required")
    return default


def _number(v: Any, path: str) -> float:
    """A finite real number (not a bool) as a float."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise _fail(path, "must be a number", v)
    v = float(v)
    if not math.isfinite(v):
        raise _fail(path, "must be finite", v)
    return v


def _positive(v: Any, path: str) -> float:
    """A finite number > 0 as a float."""
    v = _number(v, path)
    if v <= 0:
        raise _fail(path, "must be > 0", v)
    return v


def _nonneg(v: Any, path: str) -> float:
    """A finite number >= 0 as a float."""
    v = _number(v, path)
    if v < 0:
        raise _fail(path, "must be >= 0", v)
    return v


def _int(v: Any, path: str, low: int | None = None) -> int:
    """An integer (an integral float is accepted) that is at least ``low`` when given."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        else:
            raise _fail(path, "must be an integer", v)
    v = int(v)
    if low is not None and v < low:
        raise _fail(path, f"must be >= {low}", v)
    return v


def _str(v: Any, path: str, choices: tuple[str, ...] | None = None) -> str:
    """A string, one of ``choices`` when given."""
    if not isinstance(v, str):
        raise _fail(path, "must be a string", v)
    if choices is not None and v not in choices:
        raise _fail(path, f"must be one of {list(choices)}", v)
    return v


def _bool(v: Any, path: str) -> bool:
    """``True`` or ``False`` (nothing else)."""
    if not isinstance(v, bool):
        raise _fail(path, "must be true or false", v)
    return v


def _list(v: Any, path: str, min_len: int = 0) -> list:
    """A list (or tuple) of at least ``min_len`` elements, as a list."""
    if not isinstance(v, (list, tuple)):
        raise _fail(path, "must be a list", type(v).__name__)
    if len(v) < min_len:
        raise _fail(path, f"must have at least {min_len} element(s)", list(v))
    return list(v)


def _matrix(
    v: Any, path: str, shape: tuple[int, int] | None = None
) -> tuple[tuple[float, ...], ...]:
    """A non-empty rectangular matrix of finite numbers, of ``shape`` when given."""
    rows = _list(v, path, 1)
    out = []
    for i, row in enumerate(rows):
        row = _list(row, f"{path}[{i}]", 1)
        out.append(tuple(_number(x, f"{path}[{i}][{j}]") for j, x in enumerate(row)))
    widths = {len(r) for r in out}
    if len(widths) != 1:
        raise _fail(
            path, "must be a rectangular matrix (all rows the same length)", [len(r) for r in out]
        )
    if shape is not None and (len(out), len(out[0])) != shape:
        raise _fail(path, f"must have shape {shape}", (len(out), len(out[0])))
    return tuple(out)
