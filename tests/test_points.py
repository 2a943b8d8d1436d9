"""The point kernels (fastbip._kernels.points): exact nearest centres on a grid, and the
standardisation's column sums in numpy's order."""

from __future__ import annotations

import numpy as np
import pytest

from fastbip.algorithms import _base, features


def _brute_nearest(X, C):
    d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1)  # the first (lowest index) of equal distances


@pytest.mark.parametrize("p", [1, 2, 3])
def test_grid_nearest_centre_is_exact(p):
    rng = np.random.default_rng(p)
    # clustered points, far outliers and a flat dimension: uneven cells
    X = np.concatenate(
        [rng.normal(size=(3000, p)), rng.normal(size=(3000, p)) * 0.1 + 5.0, [[40.0] * p]]
    )
    if p == 3:
        X[:, 1] = 2.0
    C = X[rng.choice(X.shape[0], 150, replace=False)]
    C = np.concatenate([C, C[:3]])  # duplicates: exact ties go to the lowest index
    got = features._nearest_centre_grid(np.ascontiguousarray(X), C)
    assert got is not None
    np.testing.assert_array_equal(got, _brute_nearest(X, C))
    assert got.max() < 150  # never a duplicate's higher index


def test_grid_gives_way_to_the_tree_when_cells_hold_too_many_centres(monkeypatch):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2000, 2))
    monkeypatch.setattr(features, "_GRID_MAX_CANDIDATES", 0)
    assert features._nearest_centre_grid(X, X[:50]) is None
    monkeypatch.setattr(features, "_GRID_MIN_POINTS", 100)
    np.testing.assert_array_equal(features._nearest_centre(X, X[:50]), _brute_nearest(X, X[:50]))


def test_standardise_kernel_is_bit_identical_to_numpy(monkeypatch):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50_001, 3)) * [1.0, 1e3, 0.0] + [0.0, 7.0, 3.0]
    numpy_way = _base.standardise(X)
    monkeypatch.setattr(_base, "_STANDARDISE_KERNEL_ROWS", 10)
    kernel_way = _base.standardise(X)
    assert kernel_way.tobytes() == numpy_way.tobytes()
    std = X.std(0)
    assert kernel_way.tobytes() == ((X - X.mean(0)) / np.where(std == 0, 1, std)).tobytes()
