"""Spec -> Dataset: :func:`generate`, and the stages it runs.

* :mod:`~fastbip.generate.plan`: the steps before and after the purchases (seeds,
  populations, degrees, the planted omega; events and assembly), shared with the Dask backend;
* :mod:`~fastbip.generate.population`: people and items, labels and features;
* :mod:`~fastbip.generate.relation`: planted omega, degrees, expected block totals;
* :mod:`~fastbip.generate.purchases`: the purchase matrix (:func:`sample_purchases`);
* :mod:`~fastbip.generate.events`: purchase times (:func:`sample_events`, :class:`Events`).

Randomness: one ``numpy.random.SeedSequence`` for the whole dataset, spawned into
independent children for the people, the items, the degrees, the purchases and the events.
The same seed gives bit-identical arrays whatever the number of threads or Dask workers.

This package imports :mod:`fastbip.spec` and :mod:`fastbip.dataset`, never the reverse.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from fastbip.dataset import Dataset
from fastbip.spec import Spec

from .events import Events, intensity, sample_events
from .plan import assemble, make_plan
from .population import Population, cluster_sizes, generate_population
from .purchases import MODELS, sample_purchases
from .relation import degree_moment, draw_degrees, expected_block_totals, planted_omega

__all__ = [
    "MODELS",
    "Events",
    "Population",
    "cluster_sizes",
    "degree_moment",
    "draw_degrees",
    "expected_block_totals",
    "generate",
    "generate_population",
    "intensity",
    "planted_omega",
    "sample_events",
    "sample_purchases",
]


def generate(spec: Spec, rng: Any = None, *, progress: bool | None = None) -> Dataset:
    """Generate people, items, purchases (and events) from ``spec``.

    Parameters
    ----------
    spec : Spec
        What is planted (see :func:`fastbip.load_spec`, :func:`fastbip.default_spec`).
    rng : None, int >= 0, numpy.random.SeedSequence or numpy.random.Generator
        None uses ``spec.seed`` (fresh entropy when that is None too); an int or a
        ``SeedSequence`` seeds everything; a ``Generator`` is drawn from once.
    progress : bool or None
        A progress bar while the purchases are drawn (see :func:`sample_purchases`).

    Returns
    -------
    Dataset
        With its planted :class:`~fastbip.dataset.Truth`, and events when ``spec`` has a
        ``[time]`` section.
    """
    plan = make_plan(spec, rng)
    args, kwargs = plan.purchase_args()
    return assemble(spec, plan, sample_purchases(*args, progress=progress, **kwargs))


class _CallableModule(types.ModuleType):
    """``fastbip.generate`` is both this package and the function :func:`generate`.

    Importing a submodule (``fastbip.generate.plan``) binds the package to the attribute
    ``generate`` of ``fastbip``, where the function is expected; calling the package calls
    the function, so ``fastbip.generate(spec)`` works whichever of the two is bound.
    """

    def __call__(self, spec: Spec, rng: Any = None, *, progress: bool | None = None) -> Dataset:
        return generate(spec, rng, progress=progress)


sys.modules[__name__].__class__ = _CallableModule
