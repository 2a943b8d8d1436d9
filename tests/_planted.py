"""Planted degree-corrected Poisson block-model data for tests and benchmarks.

A small, dependency-free generator (numpy + scipy only) used by the block-model tests and
benchmarks: it plants people and item clusters, lognormal activity and popularity, and draws
the purchases block pair by block pair.
"""

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp


def _labels(n, k, rng, shares):
    """Labels with cluster sizes as close as possible to ``shares * n``, shuffled."""
    shares = np.full(k, 1.0 / k) if shares is None else np.asarray(shares, dtype=np.float64)
    shares = shares / shares.sum()
    sizes = np.floor(shares * n).astype(np.int64)
    sizes[: n - sizes.sum()] += 1
    labels = np.repeat(np.arange(k, dtype=np.int32), sizes)
    rng.shuffle(labels)
    return labels


def _weights(labels, k, rng, sigma):
    """Lognormal weights normalised to sum to 1 within each cluster."""
    w = rng.lognormal(0.0, sigma, labels.size) if sigma > 0 else np.ones(labels.size)
    tot = np.bincount(labels, weights=w, minlength=k)
    return w / tot[labels]


def diagonal_omega(k_people, k_items, n_purchases, ratio):
    """Block relation whose pairs ``(k, k mod k_items)`` are ``ratio`` times denser than the
    others, scaled so that its entries sum to ``n_purchases``."""
    omega = np.ones((k_people, k_items))
    d = np.arange(k_people)
    omega[d, d % k_items] = ratio
    return omega * (n_purchases / omega.sum())


def planted(
    n_people,
    n_items,
    k_people,
    k_items,
    n_purchases,
    ratio=10.0,
    seed=0,
    sigma=0.5,
    omega=None,
    people_shares=None,
    item_shares=None,
):
    """Draw a planted dataset.

    M[i, j] ~ Poisson(theta[i] * phi[j] * omega[a[i], b[j]]), drawn as: for each block pair
    (k, l) a Poisson(omega[k, l]) number of purchases, each placed on a person of k chosen in
    proportion to theta and an item of l chosen in proportion to phi (inverse CDF by
    searchsorted); repeats are summed into counts.

    Returns an object with ``purchases`` (canonical CSR, int64 counts) and ``truth``
    (``omega``, ``theta``, ``phi``, ``people_labels``, ``item_labels``, ``model``).
    """
    rng = np.random.default_rng(seed)
    a = _labels(n_people, k_people, rng, people_shares)
    b = _labels(n_items, k_items, rng, item_shares)
    theta = _weights(a, k_people, rng, sigma)
    phi = _weights(b, k_items, rng, sigma)
    if omega is None:
        omega = diagonal_omega(k_people, k_items, n_purchases, ratio)
    omega = np.asarray(omega, dtype=np.float64)
    counts = rng.poisson(omega)
    members_a = [np.flatnonzero(a == k) for k in range(k_people)]
    members_b = [np.flatnonzero(b == l) for l in range(k_items)]
    cum_a = [np.cumsum(theta[m]) for m in members_a]
    cum_b = [np.cumsum(phi[m]) for m in members_b]
    total = int(counts.sum())
    rows = np.empty(total, dtype=np.int64)
    cols = np.empty(total, dtype=np.int64)
    pos = 0
    for k in range(k_people):
        for l in range(k_items):
            c = int(counts[k, l])
            if c == 0:
                continue
            ca, cb = cum_a[k], cum_b[l]
            ia = np.searchsorted(ca, rng.random(c) * ca[-1], side="right")
            ib = np.searchsorted(cb, rng.random(c) * cb[-1], side="right")
            rows[pos : pos + c] = members_a[k][np.minimum(ia, ca.size - 1)]
            cols[pos : pos + c] = members_b[l][np.minimum(ib, cb.size - 1)]
            pos += c
    data = np.ones(total, dtype=np.int64)
    M = sp.csr_matrix((data, (rows, cols)), shape=(n_people, n_items))
    del rows, cols, data
    M.sum_duplicates()
    M.sort_indices()
    truth = SimpleNamespace(
        omega=omega, theta=theta, phi=phi, people_labels=a, item_labels=b, model="poisson"
    )
    return SimpleNamespace(purchases=M, truth=truth)


def dense_planted(rng, n, m, omega, sigma=0.5):
    """A tiny planted dataset sampled entry by entry with numpy (dense rates, for checks on a
    few hundred rows): uniform random labels, lognormal theta/phi normalised per cluster,
    ``M = Poisson(theta phi^T * omega[a][:, b])``. Returns ``purchases`` and ``truth``."""
    omega = np.asarray(omega, dtype=np.float64)
    ka, kb = omega.shape
    a = rng.integers(0, ka, n)
    b = rng.integers(0, kb, m)
    theta = rng.lognormal(0, sigma, n)
    phi = rng.lognormal(0, sigma, m)
    theta /= np.bincount(a, theta, ka)[a]
    phi /= np.bincount(b, phi, kb)[b]
    M = sp.csr_matrix(rng.poisson(theta[:, None] * phi[None, :] * omega[a][:, b]))
    truth = SimpleNamespace(
        omega=omega, theta=theta, phi=phi, people_labels=a, item_labels=b, model="poisson"
    )
    return SimpleNamespace(purchases=M, truth=truth)
