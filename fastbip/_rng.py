"""The one conversion of ``rng`` (functions) and ``random_state`` (estimators).

Functions take ``rng``: None (fresh entropy), a non-negative int, a
``numpy.random.SeedSequence`` or a ``numpy.random.Generator``. Estimators take
``random_state`` (scikit-learn's contract): the same, plus a legacy
``numpy.random.RandomState`` that a caller may pass; fastbip itself never creates one.
Kernels get integer seeds or 64-bit keys, never a generator.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["as_generator", "as_seed_sequence", "int_seed", "check_random_state"]

_SEED_TYPES = "None, a non-negative int, a numpy.random.SeedSequence or a numpy.random.Generator"


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def as_seed_sequence(rng: Any, name: str = "rng") -> np.random.SeedSequence:
    """A ``SeedSequence`` from ``rng``; a Generator gives one drawn from its stream."""
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if _is_int(rng):
        if int(rng) < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {rng}")
        return np.random.SeedSequence(int(rng))
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63 - 1)))
    if isinstance(rng, np.random.RandomState):
        return np.random.SeedSequence(int(rng.randint(2**31 - 1)))
    raise TypeError(f"{name} must be {_SEED_TYPES}; got {type(rng).__name__}")


def as_generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``rng`` (a Generator is returned as it is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.RandomState):
        return np.random.default_rng(int(rng.randint(2**31 - 1)))
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if _is_int(rng):
        if int(rng) < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be {_SEED_TYPES}; got {type(rng).__name__}")


def int_seed(rng: Any, name: str = "random_state") -> int | None:
    """An int seed in [0, 2**31 - 1) for libraries that take one (scikit-learn, ARPACK).

    An int is returned unchanged (so ``random_state=0`` means seed 0 everywhere); None stays
    None (fresh entropy downstream); a Generator, SeedSequence or RandomState gives one draw.
    """
    if rng is None:
        return None
    if _is_int(rng):
        if int(rng) < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {rng}")
        return int(rng)
    if isinstance(rng, np.random.RandomState):
        return int(rng.randint(2**31 - 1))
    return int(as_generator(rng, name).integers(2**31 - 1))


def check_random_state(random_state: Any, name: str = "random_state") -> np.random.Generator:
    """An estimator's ``random_state`` as a Generator (see :func:`as_generator`)."""
    return as_generator(random_state, name)
