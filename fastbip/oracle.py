"""Deprecated: the oracle moved to :mod:`fastbip.truth` (``fastbip.truth.oracle_labels``).

This module re-exports it for one release; importing it warns with a DeprecationWarning.
"""

import warnings

from fastbip.truth import oracle_labels

__all__ = ["oracle_labels"]

warnings.warn(
    "fastbip.oracle is deprecated; import oracle_labels from fastbip.truth (or fastbip)",
    DeprecationWarning,
    stacklevel=2,
)
