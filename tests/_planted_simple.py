"""A small numpy planted generator for the algorithm tests.

It draws a degree-corrected Poisson block model the plain way (one Poisson count per block
pair, then endpoints inside the blocks in proportion to theta and phi) and returns an object
with the same attributes as ``fastbip.dataset.Truth``. It is deliberately independent of the
package's own generator so that the algorithm tests do not depend on it.
"""

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp


def _labels_by_shares(n, k, rng):
    shares = np.full(k, 1.0 / k)
    counts = np.floor(shares * n).astype(np.int64)
    counts[: n - counts.sum()] += 1
    labels = np.repeat(np.arange(k), counts)
    return rng.permutation(labels)


def _weights(labels, k, rng, sigma):
    w = rng.lognormal(0.0, sigma, size=labels.size)
    sums = np.bincount(labels, weights=w, minlength=k)
    return w / sums[labels]


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

    ``omega`` defaults to 1 off the diagonal and ``ratio`` on the diagonal (first
    ``min(k_people, k_items)`` pairs; extra clusters get a cyclic diagonal), scaled so that
    the expected total is ``n_people * mean_purchases``.
    """
    rng = np.random.default_rng(seed)
    a = _labels_by_shares(n_people, k_people, rng)
    b = _labels_by_shares(n_items, k_items, rng)
    theta = _weights(a, k_people, rng, sigma)
    phi = _weights(b, k_items, rng, sigma)
    if omega is None:
        omega = np.ones((k_people, k_items))
        for k in range(max(k_people, k_items)):
            omega[k % k_people, k % k_items] = ratio
    omega = np.asarray(omega, dtype=np.float64)
    omega = omega * (n_people * mean_purchases / omega.sum())
    rows, cols = [], []
    for k in range(k_people):
        members_a = np.flatnonzero(a == k)
        cdf_a = np.cumsum(theta[members_a])
        for l in range(k_items):
            members_b = np.flatnonzero(b == l)
            cdf_b = np.cumsum(phi[members_b])
            m = rng.poisson(omega[k, l])
            ia = np.searchsorted(cdf_a, rng.random(m) * cdf_a[-1], side="right")
            ib = np.searchsorted(cdf_b, rng.random(m) * cdf_b[-1], side="right")
            rows.append(members_a[np.minimum(ia, members_a.size - 1)])
            cols.append(members_b[np.minimum(ib, members_b.size - 1)])
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    data = np.ones(rows.size, dtype=np.int64)
    M = sp.coo_matrix((data, (rows, cols)), shape=(n_people, n_items)).tocsr()
    M.sum_duplicates()
    M.sort_indices()
    truth = SimpleNamespace(
        omega=omega,
        theta=theta,
        phi=phi,
        people_labels=a,
        item_labels=b,
        model="poisson",
    )
    return M, truth


def blobs(n=300, k=3, p=3, spread=8.0, seed=0):
    """Well separated Gaussian blobs: returns ``(X, labels)``."""
    rng = np.random.default_rng(seed)
    labels = _labels_by_shares(n, k, rng)
    centres = rng.normal(0.0, spread, size=(k, p))
    X = centres[labels] + rng.normal(size=(n, p))
    return X, labels
