"""Datasets x algorithms -> :class:`Results`.

:func:`run_study` scores algorithms on one planted dataset, :func:`recovery_sweep` on the
planted family across difficulty and seeds, :func:`analyze` studies a real log without a
truth (stability in its place); all three fit through the one runner
(:mod:`fastbip.study._fit`) and return one :class:`Results` type with the same columns
(:data:`COLUMNS`). :func:`fit_spec` fits a planted twin (a :class:`~fastbip.spec.Spec`) to a
log, so that the planted study can run on data shaped like it.
"""

from __future__ import annotations

import warnings
from typing import Any

from .analyze import analyze
from .planted import run_study
from .results import COLUMNS, ORACLES, DegenerateClustersWarning, Entry, Results
from .sweep import recovery_sweep
from .twin import fit_spec

__all__ = [
    "COLUMNS",
    "ORACLES",
    "DegenerateClustersWarning",
    "Entry",
    "Results",
    "StudyResult",
    "analyze",
    "fit_spec",
    "format_table",
    "recovery_sweep",
    "run_study",
]

_DEPRECATED = {"StudyResult": "Results"}


def format_table(rows: Any) -> str:
    """Deprecated: the text table of study rows; use :meth:`Results.table`."""
    warnings.warn(
        "fastbip.study.format_table is deprecated; use Results.table()",
        DeprecationWarning,
        stacklevel=2,
    )
    res = rows if isinstance(rows, Results) else Results.from_rows(rows)
    return res.table()


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        warnings.warn(
            f"fastbip.study.{name} is deprecated; use fastbip.study.{_DEPRECATED[name]}",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[_DEPRECATED[name]]
    raise AttributeError(f"module 'fastbip.study' has no attribute {name!r}")
