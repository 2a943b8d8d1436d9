"""Deprecated: moved to :mod:`fastbip.generate.population` (this shim goes in the next release)."""

import warnings

from fastbip.generate.population import Population, cluster_sizes, generate_population

__all__ = ["Population", "cluster_sizes", "generate_population"]

warnings.warn(
    "fastbip.population moved to fastbip.generate.population; the old module will be "
    "removed in the next release",
    DeprecationWarning,
    stacklevel=2,
)
