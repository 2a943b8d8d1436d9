"""Test data for the algorithm tests: planted purchases as ``(M, truth)`` and Gaussian blobs.

The purchases come from :func:`_planted.planted`, a plain numpy generator independent of
the package's own, so that the algorithm tests do not depend on it.
"""

import numpy as np
from _planted import _labels
from _planted import planted as _planted


def planted(
    n_people=300,
    n_items=200,
    k_people=3,
    k_items=3,
    mean_purchases=20.0,
    ratio=10.0,
    sigma=0.5,
    seed=0,
    omega=None,
):
    """Planted purchases: returns ``(M, truth)``.

    ``omega`` defaults to ``ratio`` on the pairs ``(k, k mod k_items)`` and 1 elsewhere; a
    given ``omega`` is a relative pattern. Either is scaled so that the expected total is
    ``n_people * mean_purchases``.
    """
    n_purchases = n_people * mean_purchases
    if omega is not None:
        omega = np.asarray(omega, dtype=np.float64)
        omega = omega * (n_purchases / omega.sum())
    d = _planted(
        n_people,
        n_items,
        k_people,
        k_items,
        n_purchases,
        ratio=ratio,
        seed=seed,
        sigma=sigma,
        omega=omega,
    )
    return d.purchases, d.truth


def blobs(n=300, k=3, p=3, spread=8.0, seed=0):
    """Well separated Gaussian blobs: returns ``(X, labels)``."""
    rng = np.random.default_rng(seed)
    labels = _labels(n, k, rng, None)
    centres = rng.normal(0.0, spread, size=(k, p))
    X = centres[labels] + rng.normal(size=(n, p))
    return X, labels
