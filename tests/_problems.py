"""Small planted problems shared by the generator's tests (not collected: no test_ prefix)."""

import numpy as np
import scipy.sparse as sp

PROFILES = [
    {"base": 1.0, "trend": 0.8},
    {"base": 0.2, "peaks": [{"center": 30.0, "width": 4.0, "height": 3.0}]},
    {"base": 1.0, "seasonal": [{"period": 7.0, "amplitude": 2.0, "phase": 1.0}]},
]


def problem(n=600, m=300, ka=4, kb=3, total=12000.0, seed=0):
    """Random labels, lognormal degrees and a uniform omega summing to ``total``."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, ka, n)
    b = rng.integers(0, kb, m)
    theta = rng.lognormal(0.0, 1.0, n)
    phi = rng.lognormal(0.0, 1.0, m)
    omega = rng.uniform(0.2, 1.0, (ka, kb))
    omega *= total / omega.sum()
    return a, b, theta, phi, omega


def canonical_copy(M):
    """A copy of ``M`` canonicalised by scipy (repeats summed, indices sorted)."""
    c = sp.csr_matrix((M.data.copy(), M.indices.copy(), M.indptr.copy()), shape=M.shape)
    c.has_canonical_format = False
    c.sum_duplicates()
    return c
