"""Degree-corrected bipartite block-model fit (registry name ``dcsbm``) and choice of K.

The model: ``M[i, j] ~ Poisson(theta_i * phi_j * omega[a_i, b_j])`` with ``theta`` summing to 1
within each row cluster and ``phi`` within each column cluster. With ``theta``, ``phi`` and
``omega`` at their maximum-likelihood values for given labels, the log-likelihood is, up to
terms that do not depend on the labels (``sum_i d_i log d_i + sum_j e_j log e_j - E - sum log
M_ij!``)::

    L(a, b) = sum_kl C_kl log(C_kl / (R_k S_l))

where ``C = Z_A^T M Z_B`` are the block totals, ``R_k = sum_l C_kl`` and ``S_l = sum_k C_kl``.

Fit
---
1. Spectral start (``init="spectral"``). On the side with fewer members (the one with more
   purchases each), the K leading singular vectors of the regularised, normalised matrix
   ``(D_r + tau)^-1/2 M (D_c + tau)^-1/2`` (tau = the smaller of the two sides' mean degrees:
   it tames the low-degree side without washing out the high-degree one) are computed by
   Lanczos (ARPACK: ``scipy.sparse.linalg.eigsh`` on the Gram operator of that side, a
   ``LinearOperator`` over the sparse matrix: nothing dense; a side of at most 400 members
   uses the dense eigendecomposition of its Gram matrix), rows normalised to unit length, then
   k-means (K = that side's number of clusters). The other side starts from its purchase
   profile over these clusters: k-means (weighted by degree, on at most 20,000 members) gives
   cluster profiles, then each member takes its most likely cluster.
2. Optional soft sweeps (``soft_sweeps``) on hard instances (the best start needing more
   than 6 hard sweeps, or a start given by ``init``), from the best start's hard
   optimum (step 3 run on every start first): variational EM of the latent block model, both
   sides soft (each member's posterior over clusters given the other side's posteriors,
   mixing proportions included); then the argmax and hard sweeps again, kept if the
   likelihood is higher.
3. Hard sweeps, alternately over rows and columns. The row update, with column labels fixed, is
   the classification EM step for the profile likelihood above: each row ``i`` takes
   ``argmax_k sum_l x_il log p_kl`` where ``x_il`` are its counts by column cluster and
   ``p_kl = C_kl / R_k`` (smoothed as ``(C_kl + q_l) / (R_k + 1)`` with ``q_l = S_l / E`` so
   that no log is infinite). The degree term ``theta_i sum_l omega_kl phi_l = d_i`` is the same
   for every ``k`` and drops out. All rows move at once (a batch, Jacobi update; ``p`` is
   recomputed from the new labels before the columns move), which never lowers ``L`` (up to the
   smoothing) and makes the result independent of the order and of the number of threads.
   Each sweep is O(purchases + n K_A K_B). It stops when no label changes, when ``L`` improves
   by less than ``tol * |L|``, or after ``max_sweeps``.
4. ``n_init`` starts (k-means seeds), each swept 3 times; the one with the highest ``L``
   goes on to convergence.

The kernels run on one thread unless ``n_jobs`` asks for more (see the parameter).

People or items with no purchases get the label of the largest cluster of their side (the
cluster with most members that have purchases); they do not enter ``omega_`` or ``L``.
"""

import numbers
from contextlib import contextmanager

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh, svds
from scipy.special import gammaln
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from fastbip._kernels.dcsbm import (
    _hard_sweep,
    _profile_counts,
    _soft_assign,
    _soft_profile,
    _weighted_block_sum,
)
from fastbip._validation import as_purchases
from fastbip.blocks import block_counts
from fastbip.blocks.likelihood import degree_corrected_log_likelihood as _full_log_likelihood
from fastbip.blocks.likelihood import profile_log_likelihood

__all__ = ["DCSBM", "select_k", "profile_log_likelihood"]

_CRITERIA = ("icl", "mdl")
_MAX_KMEANS_SAMPLE = 20_000
_DENSE_SVD_SIZE = 400
# Below this many stored entries the kernels run on one thread: a parallel region costs more
# than it saves there, and far more on a machine whose cores are busy. Results are the same.
_PARALLEL_MIN_NNZ = 500_000
# With several starts, each runs this many sweeps; the best one then runs to convergence.
_FIRST_SWEEPS = 3
# Relative accuracy asked of the Lanczos solver: the vectors only seed k-means.
_SVD_TOL = 1e-3
_LOG_FLOOR = -1e300
# A start still moving after this many hard sweeps marks a hard instance (soft sweeps run).
_HARD_INSTANCE_SWEEPS = 6


@contextmanager
def _threads_for(nnz, n_jobs):
    """Run the kernels on ``n_jobs`` numba threads (None: 1, -1: all), 1 below
    _PARALLEL_MIN_NNZ stored entries, and BLAS/OpenMP on as many. The results do not depend
    on it."""
    old = numba.get_num_threads()
    avail = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None or nnz < _PARALLEL_MIN_NNZ:
        want = 1
    elif n_jobs < 0:
        want = max(1, avail + 1 + n_jobs)
    else:
        want = min(n_jobs, avail)
    numba.set_num_threads(want)
    try:
        # BLAS and OpenMP (Lanczos, k-means) on the same number of threads: their work here
        # is small, and idle spinning threads slow everything else down
        with threadpool_limits(limits=want):
            yield
    finally:
        numba.set_num_threads(old)


# --- validation ---------------------------------------------------------------------------


def _check_k(k, n, name, side):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name} must be an integer or 'auto'; got {k!r}")
    if not 1 <= k <= n:
        raise ValueError(f"{name} must be between 1 and n_{side}={n}; got {k}")
    return int(k)


def _check_params(est):
    for name in ("n_init", "max_sweeps"):
        v = getattr(est, name)
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {v!r}")
    v = est.n_jobs
    if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v == 0):
        raise ValueError(f"n_jobs must be None, -1 or an integer >= 1; got {v!r}")
    v = est.soft_sweeps
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
        raise ValueError(f"soft_sweeps must be an integer >= 0; got {v!r}")
    v = est.soft_beta
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v <= 1:
        raise ValueError(f"soft_beta must be a number in (0, 1]; got {v!r}")
    if not isinstance(est.tol, numbers.Real) or not est.tol >= 0:
        raise ValueError(f"tol must be a number >= 0; got {est.tol!r}")


def _check_init_labels(init, n_rows, n_cols):
    if not (isinstance(init, tuple | list) and len(init) == 2):
        raise ValueError(
            f"init must be 'spectral' or a pair (row_labels, col_labels); got {init!r:.80}"
        )
    out = []
    for lab, n, name in ((init[0], n_rows, "row"), (init[1], n_cols, "column")):
        lab = np.asarray(lab)
        if lab.ndim != 1 or lab.shape[0] != n:
            raise ValueError(
                f"init {name} labels must be a 1-D array of length {n}; got shape {lab.shape}"
            )
        if not np.issubdtype(lab.dtype, np.integer):
            raise TypeError(f"init {name} labels must be integers; got dtype {lab.dtype}")
        if lab.size and lab.min() < -1:
            raise ValueError(f"init {name} labels must be >= -1; got {lab.min()}")
        out.append(lab.astype(np.int64))
    return out


# --- likelihood ---------------------------------------------------------------------------


def _log_p(C):
    """Smoothed log of each row of C as a distribution: log((C_kl + q_l) / (R_k + 1))."""
    R = C.sum(axis=1)
    S = C.sum(axis=0)
    E = S.sum()
    q = S / E if E > 0 else np.full(C.shape[1], 1.0 / C.shape[1])
    with np.errstate(divide="ignore"):  # log 0 only where no row can have counts
        out = np.log((C + q[None, :]) / (R[:, None] + 1.0))
    return np.maximum(out, _LOG_FLOOR)  # finite: the kernels multiply it by counts that may be 0


def _largest(labels, degree, k):
    counts = np.bincount(labels[(degree > 0) & (labels >= 0)], minlength=k)
    return int(np.argmax(counts))


# --- spectral start -----------------------------------------------------------------------


def _spectral_vectors(A, At, k, seed):
    """Leading k left singular vectors of the regularised normalised matrix of A (CSR; At is
    its transpose, CSR)."""
    n_r, n_c = A.shape
    d_r = np.asarray(A.sum(axis=1)).ravel()
    d_c = np.asarray(A.sum(axis=0)).ravel()
    tau = max(min(d_r.mean(), d_c.mean()), 1e-12)
    w_r = 1.0 / np.sqrt(d_r + tau)
    w_c = 1.0 / np.sqrt(d_c + tau)
    k = min(k, n_r, n_c)
    if min(n_r, n_c) <= _DENSE_SVD_SIZE or k >= min(n_r, n_c) - 1:
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
        return np.ascontiguousarray(U)

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
        v0 = np.random.RandomState(seed).uniform(-1.0, 1.0, n_r)
        vals, U = eigsh(op, k=k, which="LA", v0=v0, tol=_SVD_TOL)
        order = np.argsort(-vals)
        return np.ascontiguousarray(U[:, order])
    op = LinearOperator((n_r, n_c), matvec=matvec, rmatvec=rmatvec, dtype=np.float64)
    U, s, _ = svds(op, k=k, solver="arpack", random_state=seed, tol=_SVD_TOL)
    order = np.argsort(-s)
    return np.ascontiguousarray(U[:, order])


def _kmeans(X, k, seed, weight=None):
    """k-means labels and centres of X (rows), fitted on at most _MAX_KMEANS_SAMPLE rows."""
    rs = np.random.RandomState(seed)
    n = X.shape[0]
    if n > _MAX_KMEANS_SAMPLE:
        idx = np.sort(rs.choice(n, _MAX_KMEANS_SAMPLE, replace=False))
        Xs = X[idx]
        ws = None if weight is None else weight[idx]
    else:
        Xs, ws = X, weight
    k = min(k, Xs.shape[0])
    km = KMeans(n_clusters=k, n_init=1, random_state=rs.randint(2**31 - 1))
    # one thread: the sample is small, and a parallel k-means is slower than a serial one on
    # a busy machine
    with threadpool_limits(limits=1):
        km.fit(Xs, sample_weight=ws)
        labels = km.labels_ if Xs is X else km.predict(X)
    return labels.astype(np.int64), km.cluster_centers_


def _spectral_start(A, At, k_a, k_b, U, seed):
    """Labels of both sides: k-means on U (the spectral side, A's rows), then the other side
    (A's columns) from its profile over those clusters."""
    rs = np.random.RandomState(seed)
    n_r, n_c = A.shape
    d_r = np.diff(A.indptr)
    a = np.full(n_r, -1, dtype=np.int64)
    live = d_r > 0
    if k_a == 1:
        a[:] = 0
    elif live.any():
        E = U[live, :k_a]
        norms = np.linalg.norm(E, axis=1, keepdims=True)
        E = E / np.where(norms > 0, norms, 1.0)
        a[live], _ = _kmeans(E, k_a, rs.randint(2**31 - 1))
    a[~live] = _largest(a, d_r, k_a) if live.any() else 0
    if k_b == 1:
        return a, np.zeros(n_c, dtype=np.int64)
    X = _profile_counts(At.indptr, At.indices, At.data, a, k_a)
    deg = X.sum(axis=1)
    live_c = deg > 0
    b = np.zeros(n_c, dtype=np.int64)
    if live_c.any():
        P = X[live_c] / deg[live_c, None]
        _, centres = _kmeans(P, k_b, rs.randint(2**31 - 1), weight=deg[live_c])
        log_p = np.log(np.maximum(centres, 0.0) + 1e-3 / k_a)
        b, _ = _hard_sweep(At.indptr, At.indices, At.data, a, log_p, 0)
        b[~live_c] = _largest(b, deg, k_b)
    return a, b


# --- sweeps -------------------------------------------------------------------------------


def _soft_sweeps(A, At, a, b, k_a, k_b, n_sweeps, beta0=1.0):
    """Variational EM, both sides soft, from hard labels; returns the argmax labels.

    The posteriors are tempered: sweep t uses inverse temperature beta_t rising linearly from
    ``beta0`` to 1 (deterministic annealing; beta0 = 1 is plain variational EM).

    Block totals are always formed on the column side (C^T = Qb^T At Qa, O(n_cols K_A K_B))
    from the column profiles that the column update needs anyway."""
    n_r, n_c = A.shape
    a = a.copy()
    b = b.copy()
    Qa = np.zeros((n_r, k_a))
    Qa[np.arange(n_r), a] = 1.0
    Qb = np.zeros((n_c, k_b))
    Qb[np.arange(n_c), b] = 1.0
    live_r = np.diff(A.indptr) > 0
    live_c = np.diff(At.indptr) > 0
    Y = _soft_profile(At.indptr, At.indices, At.data, Qa)
    CT = _weighted_block_sum(Qb, Y)
    betas = np.linspace(beta0, 1.0, n_sweeps) if n_sweeps > 1 else np.ones(n_sweeps)
    for beta in betas:
        X = _soft_profile(A.indptr, A.indices, A.data, Qb)
        pi = np.maximum(Qa[live_r].mean(axis=0), 1e-12) if live_r.any() else np.ones(k_a)
        Qa = _soft_assign(X, beta * _log_p(CT.T.copy()), beta * np.log(pi / pi.sum()), a)
        Y = _soft_profile(At.indptr, At.indices, At.data, Qa)
        CT = _weighted_block_sum(Qb, Y)
        pi = np.maximum(Qb[live_c].mean(axis=0), 1e-12) if live_c.any() else np.ones(k_b)
        Qb = _soft_assign(Y, beta * _log_p(CT), beta * np.log(pi / pi.sum()), b)
        CT = _weighted_block_sum(Qb, Y)
    return a, b


def _hard_sweeps(A, At, a, b, k_a, k_b, max_sweeps, tol):
    """Alternating batch sweeps; returns (a, b, C, L, n_sweeps) of the best state seen.

    Each row sweep also returns the block totals under the new row labels, and each column
    sweep those under both new labels: two passes over the purchases per sweep."""
    d_r = np.diff(A.indptr)
    d_c = np.diff(At.indptr)
    C = block_counts(A, a, b, k_a, k_b).astype(np.float64, copy=False)
    ll_old = profile_log_likelihood(C)
    best = None  # the start itself may leave members at -1: never kept as it is
    n_done = 0
    for _ in range(max_sweeps):
        n_done += 1
        a_new, C = _hard_sweep(A.indptr, A.indices, A.data, b, _log_p(C), _largest(a, d_r, k_a))
        b_new, CT = _hard_sweep(
            At.indptr, At.indices, At.data, a_new, _log_p(C.T.copy()), _largest(b, d_c, k_b)
        )
        C = np.ascontiguousarray(CT.T)
        ll = profile_log_likelihood(C)
        changed = not (np.array_equal(a_new, a) and np.array_equal(b_new, b))
        a, b = a_new, b_new
        if best is None or ll > best[3]:
            best = (a, b, C, ll)
        if not changed or ll - ll_old <= tol * abs(ll_old):
            break
        ll_old = ll
    return best[0], best[1], best[2], best[3], n_done


# --- estimator ----------------------------------------------------------------------------


class DCSBM(BaseEstimator):
    """Degree-corrected bipartite block model, fitted by a spectral start and likelihood sweeps.

    Parameters
    ----------
    n_row_clusters, n_col_clusters : int or "auto"
        Number of people (row) and item (column) clusters. ``"auto"`` chooses it with
        :func:`select_k` (``criterion``, over 1..``k_max``; the other side fixed when it is
        given, else both sides over the grid: up to ``k_max**2`` fits).
    n_init : int
        Number of starts (k-means seeds on the same spectral vectors); the best likelihood wins.
    max_sweeps : int
        Maximum number of hard sweeps (one sweep = all rows, then all columns).
    tol : float
        Stop when a sweep improves the log-likelihood by less than ``tol * |L|``.
    soft_sweeps : int
        Variational-EM sweeps (both sides soft) between the start and the hard sweeps; a few
        help on hard instances near the detection threshold.
    soft_beta : float in (0, 1]
        Inverse temperature of the first soft sweep, rising linearly to 1 at the last
        (deterministic annealing). 1 is plain variational EM. Near the detection threshold
        ``soft_sweeps=50, soft_beta=0.7`` climbs out of poor starts (see benchmarks/RESULTS.md);
        too low a value (below about 0.6 on the benchmarks) merges every cluster into one.
    init : "spectral" or (row_labels, col_labels)
        Start from the spectral start or from given labels (-1 = unassigned, placed by the
        first sweep); with given labels a single start is run.
    criterion : "icl" or "mdl"
        Only used with ``"auto"``.
    k_max : int
        Largest K tried per side with ``"auto"``.
    n_jobs : None or int
        Threads for the numba kernels: None means 1 (the default: on a machine whose cores are
        busy with other work a parallel sweep can be several times slower than a serial one),
        -1 all of numba's threads. Results are bit-identical whatever the value.
    random_state : None, int or numpy RandomState

    Attributes
    ----------
    row_labels_, column_labels_ : int64 arrays
    omega_ : float64 (K_A, K_B), block totals C = Z_A^T M Z_B under the fit.
    log_likelihood_ : float, ``sum_kl C_kl log(C_kl / (R_k S_l))`` (see the module docstring).
    n_iter_ : int, hard sweeps of the kept run (the best start, or the run after the soft
        sweeps when that one has the higher likelihood).
    n_row_clusters_, n_col_clusters_ : int, the K used (differs from the parameter with "auto").
    """

    def __init__(
        self,
        n_row_clusters=3,
        n_col_clusters=3,
        *,
        n_init=3,
        max_sweeps=100,
        tol=1e-6,
        soft_sweeps=3,
        soft_beta=1.0,
        init="spectral",
        criterion="icl",
        k_max=8,
        n_jobs=None,
        random_state=None,
    ):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.n_init = n_init
        self.max_sweeps = max_sweeps
        self.tol = tol
        self.soft_sweeps = soft_sweeps
        self.soft_beta = soft_beta
        self.init = init
        self.criterion = criterion
        self.k_max = k_max
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, M, y=None):
        """Fit the model to the purchase matrix ``M`` (people x items, counts)."""
        _check_params(self)
        A = as_purchases(M, dtype=np.float64, counts=True)
        with _threads_for(A.nnz, self.n_jobs):
            return self._fit(A)

    def _fit(self, A):
        n_r, n_c = A.shape
        auto = [
            isinstance(k, str) and k == "auto" for k in (self.n_row_clusters, self.n_col_clusters)
        ]
        if any(auto):
            if self.criterion not in _CRITERIA:
                raise ValueError(f"criterion must be one of {_CRITERIA}; got {self.criterion!r}")
            if (
                isinstance(self.k_max, bool)
                or not isinstance(self.k_max, numbers.Integral)
                or self.k_max < 1
            ):
                raise ValueError(f"k_max must be an integer >= 1; got {self.k_max!r}")
            k_range_r = (
                range(1, min(self.k_max, n_r) + 1)
                if auto[0]
                else [_check_k(self.n_row_clusters, n_r, "n_row_clusters", "people")]
            )
            k_range_c = (
                range(1, min(self.k_max, n_c) + 1)
                if auto[1]
                else [_check_k(self.n_col_clusters, n_c, "n_col_clusters", "items")]
            )
            (k_a, k_b), _ = select_k(
                A,
                k_range_r,
                k_range_c,
                criterion=self.criterion,
                n_init=self.n_init,
                soft_sweeps=self.soft_sweeps,
                random_state=self.random_state,
            )
        else:
            k_a = _check_k(self.n_row_clusters, n_r, "n_row_clusters", "people")
            k_b = _check_k(self.n_col_clusters, n_c, "n_col_clusters", "items")
        rs = check_random_state(self.random_state)
        At = A.T.tocsr()
        starts = []
        if isinstance(self.init, str):
            if self.init != "spectral":
                raise ValueError(
                    f"init must be 'spectral' or a pair (row_labels, col_labels); got {self.init!r}"
                )
            # spectral side: the one with fewer members, unless it has a single cluster
            flip = (n_c < n_r or k_a == 1) and k_b > 1
            P, Pt, kp, kq = (At, A, k_b, k_a) if flip else (A, At, k_a, k_b)
            U = (
                _spectral_vectors(P, Pt, kp, rs.randint(2**31 - 1))
                if kp > 1
                else np.zeros((P.shape[0], 1))
            )
            for _ in range(self.n_init):
                p, q = _spectral_start(P, Pt, kp, kq, U, rs.randint(2**31 - 1))
                starts.append((q, p) if flip else (p, q))
        else:
            a0, b0 = _check_init_labels(self.init, n_r, n_c)
            if a0.max(initial=-1) >= k_a or b0.max(initial=-1) >= k_b:
                raise ValueError(
                    f"init labels must be below n_row_clusters={k_a} and "
                    f"n_col_clusters={k_b}; got maxima {a0.max()} and {b0.max()}"
                )
            starts.append((a0, b0))
        # every start for a few sweeps, then the best one on to convergence
        best = None
        first = min(_FIRST_SWEEPS, self.max_sweeps) if len(starts) > 1 else self.max_sweeps
        for a, b in starts:
            res = _hard_sweeps(A, At, a, b, k_a, k_b, first, self.tol)
            if best is None or res[3] > best[3]:
                best = res
        if best[4] == first < self.max_sweeps:
            res = _hard_sweeps(A, At, best[0], best[1], k_a, k_b, self.max_sweeps - first, self.tol)
            best = (*res[:4], first + res[4]) if res[3] >= best[3] else best
        if self.soft_sweeps and (best[4] > _HARD_INSTANCE_SWEEPS or len(starts) == 1):
            # a hard instance (the best start still moving after its first sweeps, or a given
            # start): soft sweeps from the best hard optimum, then hard sweeps again; kept
            # only if the likelihood improves
            a, b = _soft_sweeps(A, At, best[0], best[1], k_a, k_b, self.soft_sweeps, self.soft_beta)
            res = _hard_sweeps(A, At, a, b, k_a, k_b, self.max_sweeps, self.tol)
            if res[3] > best[3]:
                best = res
        a, b, C, ll, n_iter = best
        # members with no purchases: the largest cluster of their side under the final labels
        d_r, d_c = np.diff(A.indptr), np.diff(At.indptr)
        a[d_r == 0] = _largest(a, d_r, k_a) if (d_r > 0).any() else 0
        b[d_c == 0] = _largest(b, d_c, k_b) if (d_c > 0).any() else 0
        self.row_labels_ = a
        self.column_labels_ = b
        self.omega_ = C
        self.log_likelihood_ = ll
        self.n_iter_ = n_iter
        self.n_row_clusters_ = k_a
        self.n_col_clusters_ = k_b
        self.n_features_in_ = n_c
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        return tags

    def fit_predict(self, M, y=None):
        """Fit and return the row (people) labels."""
        return self.fit(M).row_labels_


# --- choosing K ---------------------------------------------------------------------------


def _criterion(name, C, a, b, d_r, d_c):
    k_a, k_b = C.shape
    ll = _full_log_likelihood(C, d_r, d_c)
    n_a = int(np.count_nonzero(d_r > 0))
    n_b = int(np.count_nonzero(d_c > 0))
    N_a = np.bincount(a[d_r > 0], minlength=k_a).astype(np.float64)
    N_b = np.bincount(b[d_c > 0], minlength=k_b).astype(np.float64)
    if name == "icl":
        ent = 0.0
        for N, n in ((N_a, n_a), (N_b, n_b)):
            nz = N[N > 0]
            ent += float(np.sum(nz * np.log(nz / n)))
        pen = (
            0.5 * k_a * k_b * np.log(max(n_a * n_b, 2))
            + 0.5 * (k_a - 1) * np.log(max(n_a, 2))
            + 0.5 * (k_b - 1) * np.log(max(n_b, 2))
        )
        return ll + ent - pen
    E = float(C.sum())
    dl = -ll
    dl += gammaln(k_a * k_b + E) - gammaln(E + 1) - gammaln(k_a * k_b)  # block totals
    for N, n, k in ((N_a, n_a, k_a), (N_b, n_b, k_b)):
        dl += gammaln(n) - gammaln(k) - gammaln(n - k + 1) if n >= k else 0.0  # sizes
        dl += gammaln(n + 1) - float(np.sum(gammaln(N + 1)))  # the partition given sizes
        dl += np.log(max(n, 1))  # K itself
    return dl


def select_k(
    M,
    k_range_rows,
    k_range_cols,
    criterion="icl",
    *,
    n_init=3,
    soft_sweeps=0,
    max_sweeps=50,
    random_state=None,
):
    """Choose the number of clusters of each side by a model-selection criterion.

    Fits :class:`DCSBM` for every pair (K_A, K_B) in ``k_range_rows x k_range_cols`` and scores
    it (members with no purchases are left out of the scores):

    - ``"icl"`` (maximised): integrated classification likelihood, BIC form, of the
      degree-corrected Poisson model: ``L_full + sum_k N_k log(N_k / n_A) + sum_l N_l log(N_l /
      n_B) - K_A K_B / 2 log(n_A n_B) - (K_A - 1) / 2 log n_A - (K_B - 1) / 2 log n_B``, with
      ``L_full`` the Poisson log-likelihood at the MLE (up to ``-sum log M_ij!``).
    - ``"mdl"`` (minimised): a description length in nats: ``-L_full`` + the block totals
      (a multiset of E purchases over K_A K_B pairs) + each side's cluster sizes (a composition
      of n into K parts), its partition given the sizes (multinomial) and K itself (log n).

    Returns
    -------
    (k_rows, k_cols) : the chosen pair.
    table : float64 array (len(k_range_rows), len(k_range_cols)), the criterion of each pair.
    """
    if criterion not in _CRITERIA:
        raise ValueError(f"criterion must be one of {_CRITERIA}; got {criterion!r}")
    A = as_purchases(M, dtype=np.float64, counts=True)
    n_r, n_c = A.shape
    ks_r = [_check_k(k, n_r, "k_range_rows values", "people") for k in k_range_rows]
    ks_c = [_check_k(k, n_c, "k_range_cols values", "items") for k in k_range_cols]
    if not ks_r or not ks_c:
        raise ValueError(f"k_range_rows and k_range_cols must not be empty; got {ks_r} and {ks_c}")
    rs = check_random_state(random_state)
    seed = rs.randint(2**31 - 1)
    d_r = np.asarray(A.sum(axis=1)).ravel()
    d_c = np.asarray(A.sum(axis=0)).ravel()
    table = np.empty((len(ks_r), len(ks_c)))
    for i, k_a in enumerate(ks_r):
        for j, k_b in enumerate(ks_c):
            est = DCSBM(
                k_a,
                k_b,
                n_init=n_init,
                soft_sweeps=soft_sweeps,
                max_sweeps=max_sweeps,
                random_state=seed,
            ).fit(A)
            table[i, j] = _criterion(
                criterion, est.omega_, est.row_labels_, est.column_labels_, d_r, d_c
            )
    flat = np.argmax(table) if criterion == "icl" else np.argmin(table)
    i, j = np.unravel_index(flat, table.shape)
    return (ks_r[i], ks_c[j]), table
