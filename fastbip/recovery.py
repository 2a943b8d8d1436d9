"""Deprecated: the recovery sweep moved to :mod:`fastbip.study`.

``fastbip.recovery.recovery_sweep`` is :func:`fastbip.study.recovery_sweep`, which returns a
:class:`fastbip.study.Results` (iterating over it gives the rows); ``format_table(rows)`` is
``Results.table()`` and ``rows_to_json(rows)`` the rows as a JSON list, as before.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

__all__ = ["COLUMNS", "recovery_sweep", "format_table", "rows_to_json"]  # noqa: F822 (see __getattr__)


def _results(rows: Any):
    from .study import Results

    return rows if isinstance(rows, Results) else Results.from_rows(rows)


def format_table(rows: Any) -> str:
    """Deprecated: use :meth:`fastbip.study.Results.table`."""
    warnings.warn(
        "fastbip.recovery.format_table is deprecated; use Results.table()",
        DeprecationWarning,
        stacklevel=2,
    )
    return _results(rows).table()


def rows_to_json(rows: Any) -> str:
    """Deprecated: the rows as a JSON list (NaN as null); use
    :meth:`fastbip.study.Results.to_json`."""
    warnings.warn(
        "fastbip.recovery.rows_to_json is deprecated; use Results.to_json()",
        DeprecationWarning,
        stacklevel=2,
    )
    return json.dumps(_results(rows).to_dict()["rows"], indent=2)


def __getattr__(name: str) -> Any:
    if name in ("recovery_sweep", "COLUMNS"):
        warnings.warn(
            f"fastbip.recovery.{name} is deprecated; use fastbip.study.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        from . import study

        return getattr(study, name)
    raise AttributeError(f"module 'fastbip.recovery' has no attribute {name!r}")
