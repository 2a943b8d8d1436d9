"""Plain numpy/scipy twins of the numba kernels, used as oracles in the tests.

Each section belongs to one kernel module; integer results are compared exactly. The
generation section also holds the one planted sampler that the tests and the benchmarks
share (:func:`planted`, :func:`planted_pair`, :func:`dense_planted`, :func:`blobs`), numpy
only, so that neither depends on fastbip's own generator.
"""

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp

# --- block counts (fastbip/_kernels/blocks.py) -------------------------------


def onehot(labels, n_clusters):
    """(n, K) one-hot CSR of labels; rows with label -1 are empty."""
    labels = np.asarray(labels, dtype=np.int64)
    ok = np.flatnonzero(labels >= 0)
    return sp.csr_matrix(
        (np.ones(ok.size, dtype=np.int64), (ok, labels[ok])), shape=(labels.size, n_clusters)
    )


def block_counts_ref(M, row_labels, col_labels, n_row, n_col, weighted=True):
    """Z_A^T M Z_B with scipy (int64 for integer data or weighted=False, float64 otherwise)."""
    M = sp.csr_matrix(M)
    if not weighted:
        M = sp.csr_matrix((np.ones(M.nnz, dtype=np.int64), M.indices, M.indptr), shape=M.shape)
    elif np.issubdtype(M.dtype, np.integer) or M.dtype == np.bool_:
        M = M.astype(np.int64)
    else:
        M = M.astype(np.float64)
    za = onehot(row_labels, n_row).astype(M.dtype)
    zb = onehot(col_labels, n_col).astype(M.dtype)
    return np.asarray((za.T @ M @ zb).todense())


def block_counts_windows_ref(M, offsets, times, row_labels, col_labels, edges, n_row, n_col):
    """Per-window block counts: expand events to (row, col, window) and count with numpy."""
    M = sp.csr_matrix(M)
    entry_rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    per_entry = np.diff(offsets)
    ev_rows = np.repeat(entry_rows, per_entry)
    ev_cols = np.repeat(M.indices, per_entry)
    w = np.searchsorted(edges, times, side="right") - 1
    a = np.asarray(row_labels)[ev_rows]
    b = np.asarray(col_labels)[ev_cols]
    ok = (w >= 0) & (w < len(edges) - 1) & (a >= 0) & (b >= 0)
    out = np.zeros((len(edges) - 1, n_row, n_col), dtype=np.int64)
    np.add.at(out, (w[ok], a[ok], b[ok]), 1)
    return out


# --- generation (fastbip/_kernels/generate.py) ------------------------------


def sample_purchases_reference(people_labels, item_labels, theta, phi, omega, rng, model="poisson"):
    """Vectorised numpy sampler of the block model (twin of ``sample_purchases``).

    The one planted sampler of the tests and the benchmarks. Every block pair's count is
    drawn first, ``rng.poisson(omega)`` in C order (``np.rint(omega)`` for
    ``model="exact"``); then, pair by pair in C order, the endpoints of its purchases by
    ``searchsorted`` on the cumulative theta of people-cluster k and phi of item-cluster l
    (theta and phi act as weights within their clusters). COO -> canonical CSR with int64
    counts, repeats summed (set to 1 for ``model="bernoulli"``). Pairs with an empty or
    weightless cluster get no purchases.
    """
    a = np.asarray(people_labels, np.int64)
    b = np.asarray(item_labels, np.int64)
    theta = np.asarray(theta, np.float64)
    phi = np.asarray(phi, np.float64)
    omega = np.asarray(omega, np.float64)
    ka, kb = omega.shape
    counts = np.rint(omega).astype(np.int64) if model == "exact" else rng.poisson(omega)
    pe = [np.flatnonzero(a == k) for k in range(ka)]
    it = [np.flatnonzero(b == l) for l in range(kb)]
    cth = [np.cumsum(theta[p]) for p in pe]
    cph = [np.cumsum(phi[q]) for q in it]
    rows, cols = [], []
    for k in range(ka):
        for l in range(kb):
            c = int(counts[k, l])
            if c == 0 or pe[k].size == 0 or it[l].size == 0 or cth[k][-1] <= 0 or cph[l][-1] <= 0:
                continue
            r = np.searchsorted(cth[k], rng.random(c) * cth[k][-1], side="right")
            q = np.searchsorted(cph[l], rng.random(c) * cph[l][-1], side="right")
            rows.append(pe[k][np.minimum(r, pe[k].size - 1)])
            cols.append(it[l][np.minimum(q, it[l].size - 1)])
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    M = sp.csr_matrix((np.ones(rows.size, np.int64), (rows, cols)), shape=(a.size, b.size))
    del rows, cols
    M.sum_duplicates()
    M.sort_indices()
    if model == "bernoulli":
        M.data[:] = 1
    return M


# --- planted datasets (numpy only, independent of fastbip's generator) -----------------------


def planted_labels(n, k, rng, shares=None):
    """Labels with cluster sizes as close as possible to ``shares * n`` (equal shares by
    default), shuffled: int32 array of shape (n,)."""
    shares = np.full(k, 1.0 / k) if shares is None else np.asarray(shares, dtype=np.float64)
    shares = shares / shares.sum()
    sizes = np.floor(shares * n).astype(np.int64)
    sizes[: n - sizes.sum()] += 1
    labels = np.repeat(np.arange(k, dtype=np.int32), sizes)
    rng.shuffle(labels)
    return labels


def planted_weights(labels, k, rng, sigma):
    """Lognormal(0, sigma) weights normalised to sum to 1 within each cluster (all equal
    for ``sigma=0``): float64 array shaped like ``labels``."""
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
    """Draw a planted dataset: ``M[i, j] ~ Poisson(theta[i] * phi[j] * omega[a[i], b[j]])``.

    Labels by :func:`planted_labels`, lognormal theta and phi by :func:`planted_weights`,
    ``omega`` by :func:`diagonal_omega` unless given (then taken as the expected counts),
    purchases by :func:`sample_purchases_reference`, all from ``np.random.default_rng(seed)``.

    Returns an object with ``purchases`` (canonical CSR, int64 counts) and ``truth``
    (``omega``, ``theta``, ``phi``, ``people_labels``, ``item_labels``, ``model``).
    """
    rng = np.random.default_rng(seed)
    a = planted_labels(n_people, k_people, rng, people_shares)
    b = planted_labels(n_items, k_items, rng, item_shares)
    theta = planted_weights(a, k_people, rng, sigma)
    phi = planted_weights(b, k_items, rng, sigma)
    if omega is None:
        omega = diagonal_omega(k_people, k_items, n_purchases, ratio)
    omega = np.asarray(omega, dtype=np.float64)
    M = sample_purchases_reference(a, b, theta, phi, omega, rng)
    truth = SimpleNamespace(
        omega=omega, theta=theta, phi=phi, people_labels=a, item_labels=b, model="poisson"
    )
    return SimpleNamespace(purchases=M, truth=truth)


def planted_pair(
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
    """:func:`planted` by mean purchases per person: returns ``(M, truth)``.

    ``omega`` defaults to ``ratio`` on the pairs ``(k, k mod k_items)`` and 1 elsewhere; a
    given ``omega`` is a relative pattern. Either is scaled so that the expected total is
    ``n_people * mean_purchases``.
    """
    n_purchases = n_people * mean_purchases
    if omega is not None:
        omega = np.asarray(omega, dtype=np.float64)
        omega = omega * (n_purchases / omega.sum())
    d = planted(
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


def blobs(n=300, k=3, p=3, spread=8.0, seed=0):
    """Well separated Gaussian blobs: returns ``(X, labels)``."""
    rng = np.random.default_rng(seed)
    labels = planted_labels(n, k, rng)
    centres = rng.normal(0.0, spread, size=(k, p))
    X = centres[labels] + rng.normal(size=(n, p))
    return X, labels


def alias_table_probabilities(table, starts):
    """Probability of each id implied by packed alias tables (twin of the drawing rule).

    table: uint32 (N, 4) rows (threshold, own id, alias id, 0); starts: group bounds.
    Returns a dict {id: probability} per group, as a list.
    """
    out = []
    for g in range(len(starts) - 1):
        lo, hi = int(starts[g]), int(starts[g + 1])
        probs = {}
        for t in range(lo, hi):
            keep = float(table[t, 0]) / 2.0**32
            own, other = int(table[t, 1]), int(table[t, 2])
            if own == other:
                keep = 1.0
            probs[own] = probs.get(own, 0.0) + keep / (hi - lo)
            probs[other] = probs.get(other, 0.0) + (1.0 - keep) / (hi - lo)
        out.append(probs)
    return out


def window_counts_reference(offsets, times, start, end):
    """Events per entry in [start, end), with plain numpy (twin of the counts of ``window_csr``)."""
    entry = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    inside = (times >= start) & (times < end)
    return np.bincount(entry[inside], minlength=offsets.size - 1)


# --- block-model fit (fastbip/_kernels/dcsbm.py) ----------------------------


def dcsbm_profile_counts(M, col_labels, k_cols):
    """Counts of each row by column cluster: M @ Z (columns labelled -1 left out)."""
    M = sp.csr_matrix(M, dtype=np.float64)
    keep = col_labels >= 0
    Z = sp.csr_matrix(
        (np.ones(keep.sum()), (np.flatnonzero(keep), col_labels[keep])), shape=(M.shape[1], k_cols)
    )
    return np.asarray((M @ Z).todense())


def dcsbm_hard_sweep(M, col_labels, log_p, fallback):
    """argmax_k X_i . log_p[k] per row; rows without counts get ``fallback``."""
    X = dcsbm_profile_counts(M, col_labels, log_p.shape[1])
    out = np.argmax(X @ log_p.T, axis=1)
    out[X.sum(axis=1) <= 0] = fallback
    return out


def dcsbm_soft_profile(M, col_resp):
    """M @ R, dense (n_rows, k)."""
    return np.asarray(sp.csr_matrix(M, dtype=np.float64) @ col_resp)


def dcsbm_soft_assign(X, log_p, log_prior):
    """Row-wise softmax of log_prior + X @ log_p.T, and its argmax."""
    S = log_prior[None, :] + X @ log_p.T
    S = S - S.max(axis=1, keepdims=True)
    R = np.exp(S)
    return R / R.sum(axis=1, keepdims=True), np.argmax(S, axis=1)


def dcsbm_oracle_assign(X, log_w, weight, mass, log_prior):
    """argmax_k log_prior[k] + X_i . log_w[k] - weight_i mass[k]."""
    S = log_prior[None, :] + X @ log_w.T - weight[:, None] * mass[None, :]
    return np.argmax(S, axis=1)


# --- weighted linkage (fastbip/_kernels/linkage.py) -------------------------------------------


def weighted_linkage_labels_ref(centres, weights, n_clusters, linkage):
    """scipy's linkage on the centres repeated ``weights`` times (integer weights), cut at
    ``n_clusters``; returns one label per centre (the label of its copies)."""
    from scipy.cluster.hierarchy import fcluster
    from scipy.cluster.hierarchy import linkage as scipy_linkage

    weights = np.asarray(weights, dtype=np.int64)
    points = np.repeat(np.asarray(centres, dtype=np.float64), weights, axis=0)
    if points.shape[0] == 1:
        return np.zeros(1, dtype=np.int64)
    labels = fcluster(scipy_linkage(points, linkage), n_clusters, "maxclust")
    first = np.concatenate([[0], np.cumsum(weights)[:-1]])
    return labels[first] - 1
