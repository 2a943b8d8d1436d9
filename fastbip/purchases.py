"""Deprecated: moved to :mod:`fastbip.generate.purchases`, :mod:`fastbip.generate.events` and
:mod:`fastbip.generate.relation` (this shim goes in the next release)."""

import warnings

from fastbip.generate.events import Events, intensity, sample_events
from fastbip.generate.purchases import MODELS, sample_purchases
from fastbip.generate.relation import expected_block_totals

__all__ = [
    "MODELS",
    "Events",
    "expected_block_totals",
    "intensity",
    "sample_events",
    "sample_purchases",
]

warnings.warn(
    "fastbip.purchases moved to fastbip.generate (purchases, events, relation); the old "
    "module will be removed in the next release",
    DeprecationWarning,
    stacklevel=2,
)
