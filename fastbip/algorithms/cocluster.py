"""Deprecated: the co-clustering estimators live in :mod:`fastbip.algorithms.spectral`.

This module re-exports them (and the helpers it used to define, now in
:mod:`fastbip.algorithms._base`) for one release.
"""

import warnings

from fastbip._rng import int_seed as _seed  # noqa: F401
from fastbip._validation import check_n_clusters  # noqa: F401
from fastbip.algorithms._base import (  # noqa: F401
    SMALL_ROWS,
    CoclusterLabels,
    as_purchases,
    fill_empty,
    split_empty,
)
from fastbip.algorithms._base import limit_threads as _limit_threads
from fastbip.algorithms.spectral import (  # noqa: F401
    SpectralBicluster,
    SpectralCocluster,
    SVDKMeans,
    regularised_embedding,
    top_singular,
)

__all__ = ["SpectralCocluster", "SpectralBicluster", "SVDKMeans", "regularised_embedding"]

warnings.warn(
    "fastbip.algorithms.cocluster is deprecated; import from fastbip.algorithms.spectral "
    "(or fastbip.algorithms)",
    DeprecationWarning,
    stacklevel=2,
)


def few_threads(n_rows):
    """Deprecated: :func:`fastbip.algorithms._base.limit_threads` ``(n_rows, SMALL_ROWS)``."""
    return _limit_threads(n_rows)
