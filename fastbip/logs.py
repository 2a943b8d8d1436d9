"""Deprecated: moved to :mod:`fastbip.io.logs` (this shim goes in the next release)."""

import warnings

from fastbip.io.logs import from_log, read_log

__all__ = ["from_log", "read_log"]

warnings.warn(
    "fastbip.logs moved to fastbip.io.logs; the old module will be removed in the next release",
    DeprecationWarning,
    stacklevel=2,
)
