"""Spec: the validated, immutable description of a planted study.

A spec says who the people and the items are (clusters, shares, per-cluster feature
distributions, correlations between numeric features), how people-clusters buy from
item-clusters (the relation's relative ``rates``), when purchases happen (time profiles) and
the seed. It is loaded from TOML or JSON (:func:`load_spec`) or built in Python
(:func:`default_spec`, :func:`planted_spec`, :meth:`Spec.from_dict`). Every field error raises
:class:`SpecError` whose message starts with the field's path in the file, for example
``people.clusters[2].share must be > 0; got -0.1``.

The file format (every field, its type, default and constraint, with a full example) is
described in ``docs/spec-format.md``.

Modules: :mod:`~fastbip.spec.model` (the pieces and the lists of allowed names),
:mod:`~fastbip.spec.time` (the typed time profiles), :mod:`~fastbip.spec._parse`
(path-aware parsing helpers), :mod:`~fastbip.spec.presets` (the built-in specs).
"""

from __future__ import annotations

from ._parse import SpecError
from ._spec import Spec, load_spec
from .model import (
    DEGREE_DISTS,
    FEATURE_KINDS,
    MODELS,
    NUMERIC_DISTS,
    AffinityTerm,
    ClusterSpec,
    DegreeSpec,
    Distribution,
    FeatureSpec,
    PopulationSpec,
    RelationSpec,
)
from .presets import default_spec, planted_spec
from .time import Histogram, Peak, Seasonal, TimeProfile, TimeSpec

__all__ = [
    "SpecError",
    "FeatureSpec",
    "Distribution",
    "ClusterSpec",
    "PopulationSpec",
    "DegreeSpec",
    "AffinityTerm",
    "RelationSpec",
    "Peak",
    "Seasonal",
    "Histogram",
    "TimeProfile",
    "TimeSpec",
    "Spec",
    "load_spec",
    "default_spec",
    "planted_spec",
    "MODELS",
    "NUMERIC_DISTS",
    "DEGREE_DISTS",
    "FEATURE_KINDS",
]
