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
   ``(D_r + tau)^-1/2 M (D_c + tau)^-1/2`` (tau = ``sqrt(c_A c_B) - 1``,
   :func:`~fastbip.algorithms.regularized.regularization_tau`) are computed by
   Lanczos (ARPACK: ``scipy.sparse.linalg.eigsh`` on the Gram operator of that side, a
   ``LinearOperator`` over the sparse matrix: nothing dense; a side of at most 400 members
   uses the dense eigendecomposition of its Gram matrix) or, with ``svd_solver="randomized"``,
   by the distributed fit's randomized subspace iteration (:mod:`fastbip.algorithms._gram`);
   rows normalised to unit length, then
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
5. Near the detection threshold (``refine``): belief propagation, whose marginals' argmax
   are the labels. The spectral start's Lanczos run computes one
   singular value more than it needs, the first of the noise: ``(s_2 / s_{K+1})^2`` close to
   1 says the strongest structure barely stands out of the bulk.

The kernels run on one thread unless ``n_jobs`` asks for more (see the parameter).

People or items with no purchases get the label of the largest cluster of their side (the
cluster with most members that have purchases); they do not enter ``omega_`` or ``L``.
"""

import numpy as np
from sklearn.base import BaseEstimator

from fastbip._progress import progress as progress_bar
from fastbip._rng import check_random_state
from fastbip._validation import check_n_clusters
from fastbip.algorithms import _gram
from fastbip.algorithms._base import (
    CoclusterLabels,
    as_purchases,
    check_params,
    largest_cluster,
    limit_threads,
)
from fastbip.algorithms._dcsbm_kernels import _kernel
from fastbip.algorithms._dcsbm_start import _spectral_start, _spectral_vectors
from fastbip.blocks import block_counts
from fastbip.blocks.likelihood import profile_log_likelihood

__all__ = ["DCSBM", "select_k", "profile_log_likelihood"]  # noqa: F822 (select_k: see the end)

CRITERIA = ("icl", "mdl")
# Below this many stored entries the kernels run on one thread: a parallel region costs more
# than it saves there, and far more on a machine whose cores are busy. Results are the same.
_PARALLEL_MIN_NNZ = 500_000


# With several starts, each runs this many sweeps; the best one then runs to convergence.
_FIRST_SWEEPS = 3
_LOG_FLOOR = -1e300
# A start still moving after this many hard sweeps marks a hard instance (soft sweeps run).
_HARD_INSTANCE_SWEEPS = 6
# refine="auto": BP below this (s_2 / s_{K+1})^2; on planted_spec (K = 2, 5; mean 5, 20) it is
# 1.01-1.04 at snr 1.5, 1.04-1.07 at 2, 1.13-1.18 at 3, 1.35-1.56 at 5-6
_NEAR_THRESHOLD = 1.2
_BP_BLOCKS = 36  # and only up to this K_A K_B (BP costs O(nnz K_A K_B) per sweep)


# --- validation ---------------------------------------------------------------------------


def _check_init_labels(init, n_rows, n_cols):
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
    Y = _kernel("_row_soft_profile_csr")(At.indptr, At.indices, At.data, Qa)
    CT = _kernel("_transpose_product_dense")(Qb, Y)
    betas = np.linspace(beta0, 1.0, n_sweeps) if n_sweeps > 1 else np.ones(n_sweeps)
    for beta in betas:
        X = _kernel("_row_soft_profile_csr")(A.indptr, A.indices, A.data, Qb)
        pi = np.maximum(Qa[live_r].mean(axis=0), 1e-12) if live_r.any() else np.ones(k_a)
        Qa = _kernel("_soft_assign_dense")(
            X, beta * _log_p(CT.T.copy()), beta * np.log(pi / pi.sum()), a
        )
        Y = _kernel("_row_soft_profile_csr")(At.indptr, At.indices, At.data, Qa)
        CT = _kernel("_transpose_product_dense")(Qb, Y)
        pi = np.maximum(Qb[live_c].mean(axis=0), 1e-12) if live_c.any() else np.ones(k_b)
        Qb = _kernel("_soft_assign_dense")(Y, beta * _log_p(CT), beta * np.log(pi / pi.sum()), b)
        CT = _kernel("_transpose_product_dense")(Qb, Y)
    return a, b


def _hard_sweeps(A, At, a, b, k_a, k_b, max_sweeps, tol, bar=None):
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
        if bar is not None:
            bar.update(1)
        fill_a = largest_cluster(a[d_r > 0], k_a)
        a_new, C = _kernel("_hard_assign_rows_csr")(
            A.indptr, A.indices, A.data, b, _log_p(C), fill_a
        )
        fill_b = largest_cluster(b[d_c > 0], k_b)
        b_new, CT = _kernel("_hard_assign_rows_csr")(
            At.indptr, At.indices, At.data, a_new, _log_p(C.T.copy()), fill_b
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


# --- near the threshold: belief propagation ----------------------------------------------


def _bp_refine(A, k_a, k_b, seed):
    """Labels of BeliefPropagation (EM-learned, damped, from the regularised spectral start),
    or None where it breaks down (a cluster's share of the beliefs vanishes: seen on
    structure-free data, :class:`~fastbip.algorithms.bp.BeliefPropagationBreakdown`)."""
    from fastbip.algorithms.bp import BeliefPropagation, BeliefPropagationBreakdown

    try:
        bp = BeliefPropagation(k_a, k_b, random_state=seed).fit(A)
    except BeliefPropagationBreakdown:
        return None
    return bp.row_labels_.astype(np.int64), bp.column_labels_.astype(np.int64)


# --- estimator ----------------------------------------------------------------------------


class DCSBM(CoclusterLabels, BaseEstimator):
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
        (deterministic annealing). 1 is plain variational EM. Lower values did not help on the
        planted benchmarks (with ``soft_sweeps=50, soft_beta=0.7`` the soft sweeps never run
        for K = 2, whose fits converge in 4-5 sweeps, and lower the item ARI by 5-11 % for
        K = 5); below about 0.6 every cluster merges into one. Near the detection threshold
        use ``refine`` instead.
    init : "spectral" or (row_labels, column_labels)
        Start from the spectral start or from given labels (-1 = unassigned, placed by the
        first sweep); with given labels a single start is run.
    svd_solver : "arpack" or "randomized"
        The spectral start's eigensolver. "arpack": Lanczos (``scipy.sparse.linalg``) to a
        relative tolerance of 1e-3. "randomized": ``svd_iter`` steps of randomized subspace
        iteration (block width K + 10) on the spectral side's Gram matrix, whose products
        are summed over a fixed grid of rows in a fixed order: the arithmetic of
        :func:`fastbip.distributed.dcsbm_fit_dask`, which gives the same fit bit for bit
        (``soft_sweeps=0, refine=None``). Its vectors are as good as Lanczos' where the
        K-th singular value stands clear of the (K + 10)-th (planted data well above the
        threshold); near the threshold prefer "arpack". Its ``detectability_`` takes the
        (K + 1)-th Ritz value, which converges slowest: it is at least Lanczos' ratio
        (15 % above it on a clear 6,000 x 800 planted matrix).
    svd_iter : int >= 1
        Subspace iterations of ``svd_solver="randomized"``.
    refine : "auto", "bp" or None
        Near the detection threshold the likelihood's maximum is not the truth and the hard
        sweeps move away from it; the marginals of belief propagation do not.
        ``"auto"`` returns the labels of :class:`~fastbip.algorithms.bp.BeliefPropagation`
        (the registry's ``bp``: parameters learned by EM, damped, degree-corrected, from the
        regularised spectral start) when the spectral start's detectability ratio
        ``(s_2 / s_{K+1})^2`` (the strongest structure's singular value over the noise bulk's
        edge, squared; ``detectability_``) is below 1.2, about snr 3 on the planted family;
        ``"bp"`` always, None never. Near the threshold the fit then costs what ``bp`` costs,
        10 to 50 times the sweeps' time. Under ``"auto"``: never with given ``init`` labels,
        nor with more than 36 block pairs ``K_A K_B`` (the ratio is not computed then).
    criterion : "icl" or "mdl"
        Only used with ``"auto"``.
    k_max : int
        Largest K tried per side with ``"auto"``.
    n_jobs : None or int
        Threads for the numba kernels: None means 1 (the default: on a machine whose cores are
        busy with other work a parallel sweep can be several times slower than a serial one),
        -1 all of numba's threads. Results are bit-identical whatever the value.
    random_state : None, int, numpy SeedSequence or Generator
        (see :mod:`fastbip._rng`; a legacy RandomState is accepted too).
    progress : None or bool
        A progress bar over the sweeps (n_init starts, then the best one's) on standard
        error: None shows it where standard error is a terminal, False never (also
        ``FASTBIP_PROGRESS=0``); see :mod:`fastbip._progress`.

    Attributes
    ----------
    row_labels_, column_labels_ : int64 arrays
    omega_ : float64 (K_A, K_B), block totals C = Z_A^T M Z_B under the fit.
    log_likelihood_ : float, ``sum_kl C_kl log(C_kl / (R_k S_l))`` (see the module docstring).
    n_iter_ : int, hard sweeps of the kept run (the best start, or the run after the soft
        sweeps when that one has the higher likelihood).
    n_row_clusters_, n_col_clusters_ : int, the K used (differs from the parameter with "auto").
    detectability_ : float, the spectral start's ``(s_2 / s_{K+1})^2`` (inf with given
        ``init`` labels, K = 1 on the spectral side or K_A K_B > 36); see ``refine``.
    refined_ : bool, whether belief propagation gave the labels (then ``omega_`` and
        ``log_likelihood_`` are those of its labels).
    """

    _parameter_constraints = {
        "n_row_clusters": [("int", 1, "n_people"), ("choice", ("auto",))],
        "n_col_clusters": [("int", 1, "n_items"), ("choice", ("auto",))],
        "n_init": ("int", 1, None),
        "max_sweeps": ("int", 1, None),
        "tol": ("real", 0.0, None, "[]"),
        "soft_sweeps": ("int", 0, None),
        "soft_beta": ("real", 0.0, 1.0, "(]"),
        "init": [("choice", ("spectral",)), ("pair",)],
        "svd_solver": ("choice", ("arpack", "randomized")),
        "svd_iter": ("int", 1, None),
        "refine": [None, ("choice", ("auto", "bp"))],
        "criterion": ("choice", CRITERIA),
        "k_max": ("int", 1, None),
        "n_jobs": [None, ("int", None, -1), ("int", 1, None)],
        "random_state": ("random_state",),
        "progress": [None, ("choice", (True, False))],
    }

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
        svd_solver="arpack",
        svd_iter=_gram.SVD_ITER,
        refine="auto",
        criterion="icl",
        k_max=8,
        n_jobs=None,
        random_state=None,
        progress=None,
    ):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.n_init = n_init
        self.max_sweeps = max_sweeps
        self.tol = tol
        self.soft_sweeps = soft_sweeps
        self.soft_beta = soft_beta
        self.init = init
        self.svd_solver = svd_solver
        self.svd_iter = svd_iter
        self.refine = refine
        self.criterion = criterion
        self.k_max = k_max
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.progress = progress

    def fit(self, M, y=None):
        """Fit the model to the purchase matrix ``M`` (people x items, counts)."""
        check_params(self)
        A = as_purchases(M)
        if A.nnz == 0 or not A.data.any():
            import warnings

            warnings.warn(
                f"M has no purchases (all {A.shape[0]} x {A.shape[1]} entries are zero): every "
                "labelling explains it equally well, so the fit is meaningless",
                UserWarning,
                stacklevel=2,
            )
        with limit_threads(A.nnz, _PARALLEL_MIN_NNZ, self.n_jobs, kernels=True):
            return self._fit(A)

    def _fit(self, A):
        n_r, n_c = A.shape
        auto = [
            isinstance(k, str) and k == "auto" for k in (self.n_row_clusters, self.n_col_clusters)
        ]
        if any(auto):
            from fastbip.algorithms.select import select_k

            k_range_r = (
                range(1, min(self.k_max, n_r) + 1)
                if auto[0]
                else [check_n_clusters(self.n_row_clusters, "n_row_clusters", n_r, "people")]
            )
            k_range_c = (
                range(1, min(self.k_max, n_c) + 1)
                if auto[1]
                else [check_n_clusters(self.n_col_clusters, "n_col_clusters", n_c, "items")]
            )
            (k_a, k_b), _ = select_k(
                A,
                k_range_r,
                k_range_c,
                criterion=self.criterion,
                n_init=self.n_init,
                soft_sweeps=self.soft_sweeps,
                random_state=self.random_state,
                progress=self.progress,
            )
        else:
            k_a = check_n_clusters(self.n_row_clusters, "n_row_clusters", n_r, "people")
            k_b = check_n_clusters(self.n_col_clusters, "n_col_clusters", n_c, "items")
        rng = check_random_state(self.random_state)
        At = A.T.tocsr()
        starts = []
        if isinstance(self.init, str):  # "spectral" (the constraints allow nothing else)
            # spectral side: the one with fewer members, unless it has a single cluster
            flip = (n_c < n_r or k_a == 1) and k_b > 1
            P, Pt, kp, kq = (At, A, k_b, k_a) if flip else (A, At, k_a, k_b)
            U, ratio = (
                _spectral_vectors(
                    P,
                    Pt,
                    kp,
                    int(rng.integers(2**31 - 1)),
                    k_a * k_b <= _BP_BLOCKS,
                    self.svd_solver,
                    self.svd_iter,
                )
                if kp > 1
                else (np.zeros((P.shape[0], 1)), np.inf)
            )
            for _ in range(self.n_init):
                p, q = _spectral_start(P, Pt, kp, kq, U, int(rng.integers(2**31 - 1)))
                starts.append((q, p) if flip else (p, q))
        else:
            ratio = np.inf  # no spectrum computed: never taken for near the threshold
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
        # a bar over the sweeps: n_init starts x their first sweeps, then the best one's rest
        total = len(starts) * first + (self.max_sweeps - first if len(starts) > 1 else 0)
        with progress_bar(
            total=total, desc="DCSBM sweeps", unit="sweep", enable=self.progress
        ) as bar:
            for a, b in starts:
                res = _hard_sweeps(A, At, a, b, k_a, k_b, first, self.tol, bar)
                if best is None or res[3] > best[3]:
                    best = res
            if best[4] == first < self.max_sweeps:
                res = _hard_sweeps(
                    A, At, best[0], best[1], k_a, k_b, self.max_sweeps - first, self.tol, bar
                )
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
        self.detectability_ = ratio if k_a * k_b <= _BP_BLOCKS else np.inf
        refine = self.refine == "bp" or (
            self.refine == "auto" and self.detectability_ < _NEAR_THRESHOLD
        )
        refine = refine and min(k_a, k_b) > 1
        got = _bp_refine(A, k_a, k_b, int(rng.integers(2**31 - 1))) if refine else None
        self.refined_ = got is not None
        if self.refined_:
            a, b = got
            C = block_counts(A, a, b, k_a, k_b).astype(np.float64, copy=False)
            ll = profile_log_likelihood(C)
        # members with no purchases: the largest cluster of their side under the final labels
        d_r, d_c = np.diff(A.indptr), np.diff(At.indptr)
        a[d_r == 0] = largest_cluster(a[d_r > 0], k_a)
        b[d_c == 0] = largest_cluster(b[d_c > 0], k_b)
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


def __getattr__(name):
    # select_k lives in fastbip.algorithms.select (which imports this module); handed on here
    if name == "select_k":
        from fastbip.algorithms.select import select_k

        return select_k
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
