"""The block-model fit's spectral start (:class:`fastbip.algorithms.DCSBM`, step 1 of its
module docstring): the leading singular vectors of the regularised, normalised matrix, by
Lanczos or by the randomized solver that the distributed fit shares
(:mod:`fastbip.algorithms._gram`), then k-means on one side and each member of the other
side to its most likely cluster."""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh, svds
from sklearn.cluster import KMeans

from fastbip.algorithms import _gram
from fastbip.algorithms._base import largest_cluster, limit_threads
from fastbip.algorithms._dcsbm_kernels import _kernel
from fastbip.algorithms.regularized import regularization_tau

_MAX_KMEANS_SAMPLE = 20_000
_DENSE_SVD_SIZE = 400
# Relative accuracy asked of the Lanczos solver: the vectors only seed k-means.
_SVD_TOL = 1e-3


def _spectral_vectors(A, At, k, seed, edge=True, solver="arpack", n_iter=_gram.SVD_ITER):
    """Leading k left singular vectors of the regularised normalised matrix of A (CSR; At is
    its transpose, CSR) and the detectability ratio ``(s_2 / s_{k+1})^2`` of its singular
    values (inf when there is no (k+1)-th or k < 2: nothing to compare). ``solver``:
    "arpack" (Lanczos) or "randomized" (:mod:`fastbip.algorithms._gram`, the arithmetic of
    the distributed fit)."""
    n_r, n_c = A.shape
    d_r = np.asarray(A.sum(axis=1)).ravel()
    d_c = np.asarray(A.sum(axis=0)).ravel()
    # the regulariser of Dall'Amico et al. (2021), about the non-backtracking spectral radius
    # minus one; the mean degree (the earlier choice) is 5-10 times smaller on sparse,
    # heavy-tailed purchases and loses most of the signal near the detection threshold
    tau = max(regularization_tau(A), 1e-12)
    w_r = 1.0 / np.sqrt(d_r + tau)
    w_c = 1.0 / np.sqrt(d_c + tau)
    k = min(k, n_r, n_c)
    if solver == "randomized":
        return _randomized_vectors(At, w_c, w_r, k, seed, n_iter)
    # one more vector than k: the first one of the noise, whose singular value is the bulk's
    # edge (the detectability ratio below)
    kk = k + 1 if edge and k >= 2 and k + 1 < min(n_r, n_c) - 1 else k
    if min(n_r, n_c) <= _DENSE_SVD_SIZE or kk >= min(n_r, n_c) - 1:
        # small side: eigenvectors of the small Gram matrix, dense
        L = sp.diags(w_r) @ A @ sp.diags(w_c)
        if n_r <= n_c:
            G = (L @ L.T).toarray()
            vals, vecs = np.linalg.eigh(G)
            U = vecs[:, ::-1][:, :k]
        else:
            G = (L.T @ L).toarray()
            vals, vecs = np.linalg.eigh(G)
            V = vecs[:, ::-1][:, :k]
            s = np.sqrt(np.maximum(vals[::-1][:k], 0.0))
            U = (L @ V) / np.where(s > 0, s, 1.0)
        return np.ascontiguousarray(U), _ratio(vals[::-1], k)

    def matvec(x):
        return w_r * (A @ (w_c * np.ravel(x)))

    def rmatvec(y):
        return w_c * (At @ (w_r * np.ravel(y)))

    if n_r <= n_c:
        # the Gram operator L L^T of the smaller side: Lanczos (ARPACK) for its top k
        # eigenvectors, which are L's left singular vectors; nothing of the other side's size
        # beyond one vector per product
        def gram(x):
            return matvec(rmatvec(x))

        op = LinearOperator((n_r, n_r), matvec=gram, dtype=np.float64)
        v0 = np.random.default_rng(seed).uniform(-1.0, 1.0, n_r)
        vals, U = eigsh(op, k=kk, which="LA", v0=v0, tol=_SVD_TOL)
        order = np.argsort(-vals)
        return np.ascontiguousarray(U[:, order[:k]]), _ratio(vals[order], k)
    op = LinearOperator((n_r, n_c), matvec=matvec, rmatvec=rmatvec, dtype=np.float64)
    U, s, _ = svds(op, k=kk, solver="arpack", random_state=seed, tol=_SVD_TOL)
    order = np.argsort(-s)
    return np.ascontiguousarray(U[:, order[:k]]), _ratio(s[order] ** 2, k)


def _dense_gram(n, k):
    """Whether the randomized start forms the dense n x n Gram matrix (at most
    _DENSE_SVD_SIZE members, or K >= n - 1: no room for a subspace) rather than iterating;
    one machine and the distributed fit decide alike."""
    return n <= _DENSE_SVD_SIZE or k >= n - 1


def _randomized_vectors(At, w_c, w_r, k, seed, n_iter):
    """``_spectral_vectors`` by the randomized solver: the eigenvectors of the Gram matrix
    of A's rows as a sum over At's rows (dense with at most _DENSE_SVD_SIZE rows, as the
    distributed fit decides)."""
    if _dense_gram(At.shape[1], k):
        vals, U = _gram.top_eigen(_gram.gram_matrix(At, w_c, w_r), k)
    else:
        U, vals = _gram.randomized_vectors(At, w_c, w_r, k, seed, n_iter)
    return U, _ratio(vals, k)


def _ratio(vals, k):
    """``vals[1] / vals[k]`` (squared singular values, largest first): the strongest
    structure's singular value against the bulk's edge, squared; inf when undefined."""
    if k < 2 or vals.size <= k or not vals[k] > 0:
        return np.inf
    return float(vals[1] / vals[k])


def _kmeans(X, k, seed, weight=None):
    """k-means labels and centres of X (rows), fitted on at most _MAX_KMEANS_SAMPLE rows."""
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    if n > _MAX_KMEANS_SAMPLE:
        idx = np.sort(rng.choice(n, _MAX_KMEANS_SAMPLE, replace=False))
        Xs = X[idx]
        ws = None if weight is None else weight[idx]
    else:
        Xs, ws = X, weight
    k = min(k, Xs.shape[0])
    km = KMeans(n_clusters=k, n_init=1, random_state=int(rng.integers(2**31 - 1)))
    # one thread (at most _MAX_KMEANS_SAMPLE rows, below SMALL_ROWS): the sample is small, and a
    # parallel k-means is slower than a serial one on a busy machine
    with limit_threads(Xs.shape[0]):
        km.fit(Xs, sample_weight=ws)
        labels = km.labels_ if Xs is X else km.predict(X)
    return labels.astype(np.int64), km.cluster_centers_


def _embedding_labels(U, live, k, rng):
    """Labels from a spectral embedding ``U`` (rows: members): k-means (its seed drawn from
    ``rng``) on the unit-normalised first ``k`` columns of the ``live`` rows, the others the
    largest cluster. The Dask start calls it too, so both fits label alike."""
    a = np.full(U.shape[0], -1, dtype=np.int64)
    if k == 1:
        a[:] = 0
    elif live.any():
        E = U[live, :k]
        norms = np.linalg.norm(E, axis=1, keepdims=True)
        E = E / np.where(norms > 0, norms, 1.0)
        a[live], _ = _kmeans(E, k, int(rng.integers(2**31 - 1)))
    a[~live] = largest_cluster(a[live], k)
    return a


def _spectral_start(A, At, k_a, k_b, U, seed):
    """Labels of both sides: k-means on U (the spectral side, A's rows), then the other side
    (A's columns) from its profile over those clusters."""
    rng = np.random.default_rng(seed)
    n_r, n_c = A.shape
    d_r = np.diff(A.indptr)
    a = _embedding_labels(U, d_r > 0, k_a, rng)
    if k_b == 1:
        return a, np.zeros(n_c, dtype=np.int64)
    X = _kernel("_row_profile_csr")(At.indptr, At.indices, At.data, a, k_a)
    deg = X.sum(axis=1)
    live_c = deg > 0
    b = np.zeros(n_c, dtype=np.int64)
    if live_c.any():
        P = X[live_c] / deg[live_c, None]
        _, centres = _kmeans(P, k_b, int(rng.integers(2**31 - 1)), weight=deg[live_c])
        log_p = np.log(np.maximum(centres, 0.0) + 1e-3 / k_a)
        b, _ = _kernel("_hard_assign_rows_csr")(At.indptr, At.indices, At.data, a, log_p, 0)
        b[~live_c] = largest_cluster(b[deg > 0], k_b)
    return a, b
