"""Belief propagation for the degree-corrected bipartite Poisson block model.

The model (README, "The model")::

    M[i, j] ~ Poisson(theta_i phi_j omega[a_i, b_j]),   P(a_i = k) = pi_A[k],  P(b_j = l) = pi_B[l]

The posterior of the labels factorises over the pairs ``(i, j)``: each pair contributes
``omega[a_i, b_j] ** M_ij * exp(-theta_i phi_j omega[a_i, b_j])`` (the factors
``(theta_i phi_j) ** M_ij / M_ij!`` do not depend on the labels). Belief propagation
(Decelle, Krzakala, Moore and Zdeborova, "Asymptotic analysis of the stochastic block model
for modular networks and its algorithmic applications", Phys. Rev. E 84, 066106, 2011)
passes messages along the stored entries only:

- a person ``i`` tells item ``j`` its belief about ``a_i`` without ``j``'s evidence::

      psi^{i->j}(k) ~ pi_A[k] exp(-theta_i h_A[k])
                      prod_{j' in di minus j} sum_l psi^{j'->i}(l) omega[k, l] ** M_ij'

  and items tell people the same way (``B`` and ``A`` exchanged, ``omega`` transposed);
- the pairs without a purchase enter through the mean-field "external field" of Decelle et
  al. (their ``exp(-h_t)``), here degree-corrected and bipartite: the factor
  ``prod_j exp(-theta_i phi_j omega[k, b_j])`` over every item is replaced by
  ``exp(-theta_i h_A[k])`` with ``h_A[k] = sum_l omega[k, l] sum_j phi_j P(b_j = l)``, the
  marginals of all items weighted by their popularity (``h_B`` likewise). The degree
  correction is exactly this: a person's activity scales the field and the count's own
  likelihood ``omega ** M``, so a heavy buyer is not taken for a member of a busy cluster;
- the marginal of ``a_i`` is the product of all of its incoming messages with the prior and
  the field; the labels are its argmax.

The update is in log space (a person with thousands of purchases multiplies thousands of
factors), alternating: all person -> item messages from the current item -> person ones,
then all item -> person messages from the new ones, each damped
(``new = damping * old + (1 - damping) * update``), and the cluster masses of the field
(``sum_j phi_j P(b_j = l)``) follow the marginals with the same damping. Both matter with the
lognormal activity and popularity of :func:`fastbip.planted_spec` (measured on it while
building this):

- undamped, EM-learned BP near the threshold keeps swinging: at snr 1.7 on 10^4 x 2 10^3
  (mean 5 purchases) the largest message change was still 0.8 after 5 EM steps of 100
  sweeps (ARI 0), where damping 0.5 converged in 157 sweeps (ARI 0.057); far from the
  threshold both converge, the undamped run in fewer sweeps;
- at the uninformative fixed point the field's pull on a side's total mass cancels the
  edges' pull to first order (both are ``sum_j phi_j^2 (omega_kk - omega_kl)`` in
  expectation). With undamped masses against damped messages the two act with different
  lags, the cancellation fails, and the whole of each side's mass swings between the
  clusters; with masses held fixed nothing stops the edges from pulling every member into
  one cluster. Damping the masses exactly like the messages keeps the cancellation.

It stops when the mean over entries of the largest change of a message is below ``tol`` or
after ``max_sweeps``; near the threshold convergence slows down (the informative mode's
growth rate goes to 0 there), so ``converged_`` may be False at SNR close to 1. One sweep
costs O(nnz K_A K_B) time (each message sums over the other side's clusters for each of its
own) and O(nnz (K_A + K_B)) memory.

Parameters are either given (``omega``, ``theta``, ``phi``: the Bayes-optimal reference,
:func:`bp_reference`) or learned by expectation-maximisation from a start (Decelle et al.,
section V): the rates ``W[k, l] = C[k, l] / (kappa_k eta_l)`` with ``C`` the block totals
and ``kappa``, ``eta`` the degree totals of the clusters, with every member's weight its
degree (the maximum-likelihood ``theta_i = d_i / kappa_k`` of Karrer and Newman, Phys. Rev. E
83, 016107, 2011, folded into ``W``), and the priors the mean marginals. The first M-step
reads the start's hard labels (the regularised-Laplacian spectral labels by default): hard
labels overstate the contrast of ``W`` a little, which starts BP on the informative side of
its own threshold, while the softened start memberships would understate it and can leave BP
at the uninformative fixed point from which EM never leaves. Each later M-step reads the BP
edge and node marginals after at most 10 sweeps of BP from the current messages (BP need
not converge between M-steps), until the rates change by less than 0.1 % of their largest
value and BP has converged, or ``max_em`` steps, or ``max_sweeps`` sweeps in all.
A random start learns nothing (its block totals are flat); it is meant for given parameters.

Near the detection threshold (:func:`fastbip.snr` = 1, the Kesten-Stigum bound) BP with the
planted parameters is the reference: Decelle et al. (2011) conjecture, from the cavity
method, that its fixed point gives the Bayes-optimal overlap of the sparse block model and
that in the symmetric two-group case the uninformative fixed point is stable exactly below
the threshold; Mossel, Neeman and Sly ("Belief propagation, robust reconstruction and
optimal recovery of block models", COLT 2014) prove that BP started from a good partial
labelling is optimal in the two-group case once the signal is above a (large) constant. The
tests check the threshold on the symmetric two-group case with constant degrees
(``snr = eps^2 sqrt(c_A c_B)``, Florescu and Perkins, COLT 2016): from the truth or from a
random start, ARI about 0 at snr 0.6 and clearly positive at snr 3. With heavy-tailed
degrees nothing here is proven; the reference is then "BP with the true parameters", an
upper yardstick for the estimators that learn them, not a certified optimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from fastbip._kernels.bp import _bp_edge_counts, _bp_half_sweep
from fastbip._rng import as_generator, int_seed
from fastbip._validation import (
    as_labels,
    check_choice,
    check_int,
    check_n_clusters,
    check_real,
    truth_arrays,
)
from fastbip.algorithms._base import CoclusterLabels, as_purchases, check_params


class BeliefPropagationBreakdown(ValueError):
    """Belief propagation's parameters became undefined on ``M``: a cluster's share of the
    beliefs vanished (structure-free data for the clusters asked, typically), so its rates
    are 0 / 0 and no labels can be read from the messages."""


__all__ = ["BeliefPropagation", "BPReference", "bp_reference"]

_RATE_FLOOR = 1e-12
_START_STRENGTH = 0.5
_SWEEPS_PER_EM = 10


class _Graph:
    """The CSR arrays of ``M`` in the kernels' dtypes and the column order of its entries."""

    def __init__(self, M: sp.csr_matrix) -> None:
        self.shape = M.shape
        self.indptr = M.indptr.astype(np.int64)
        self.data = M.data.astype(np.float64)
        indices = M.indices.astype(np.int64)
        self.row_edges = np.arange(M.nnz, dtype=np.int64)
        self.col_edges = np.argsort(indices, kind="stable").astype(np.int64)
        self.col_ptr = np.zeros(M.shape[1] + 1, dtype=np.int64)
        np.cumsum(np.bincount(indices, minlength=M.shape[1]), out=self.col_ptr[1:])
        self.rows = np.repeat(np.arange(M.shape[0], dtype=np.int64), np.diff(self.indptr))
        self.cols = indices


def _rates(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The floored rates, the rates over their maximum and its log."""
    top = float(R.max())
    rel = np.maximum(R / top if top > 0 else np.ones_like(R), _RATE_FLOOR)
    return np.ascontiguousarray(rel * max(top, 1e-300)), rel, np.log(rel)


def _soft(labels: np.ndarray, k: int, strength: float) -> np.ndarray:
    """Memberships ``strength * one_hot + (1 - strength) / k``; label -1 gives uniform."""
    out = np.full((labels.size, k), 1.0 / k)
    ok = labels >= 0
    out[ok] *= 1.0 - strength
    out[np.flatnonzero(ok), labels[ok]] += strength
    return out


def run_bp(
    g: _Graph,
    x: np.ndarray,
    y: np.ndarray,
    R: np.ndarray,
    prior_a: np.ndarray,
    prior_b: np.ndarray,
    marg_a: np.ndarray,
    marg_b: np.ndarray,
    msg_ab: np.ndarray,
    msg_ba: np.ndarray,
    damping: float,
    tol: float,
    max_sweeps: int,
) -> tuple[int, bool, float]:
    """Sweeps of BP until the mean largest message change is below ``tol``; in place.

    ``x``, ``y`` are the degree weights and ``R`` the rates (``E[M_ij] = x_i y_j R[a_i, b_j]``).
    The cluster masses of the field (``sum_i x_i P(a_i = k)``) start from the marginals given
    and follow them with the messages' damping. Returns ``(sweeps, converged, last_change)``.
    """
    R, rel, log_rel = _rates(R)
    Rt, rel_t, log_rel_t = (np.ascontiguousarray(a.T) for a in (R, rel, log_rel))
    lp_a = np.log(np.maximum(prior_a, 1e-300))
    lp_b = np.log(np.maximum(prior_b, 1e-300))
    mass_a, mass_b = x @ marg_a, y @ marg_b
    keep = 1.0 - damping
    change = np.inf
    for sweep in range(1, max_sweeps + 1):
        ca = _bp_half_sweep(
            g.indptr, g.row_edges, g.data, x, np.ascontiguousarray(R @ mass_b), rel, log_rel,
            lp_a, msg_ba, msg_ab, marg_a, damping,
        )  # fmt: skip
        mass_a = damping * mass_a + keep * (x @ marg_a)
        cb = _bp_half_sweep(
            g.col_ptr, g.col_edges, g.data, y, np.ascontiguousarray(Rt @ mass_a), rel_t,
            log_rel_t, lp_b, msg_ab, msg_ba, marg_b, damping,
        )  # fmt: skip
        mass_b = damping * mass_b + keep * (y @ marg_b)
        change = max(ca[0], cb[0])
        if change < tol:
            return sweep, True, float(change)
    return max_sweeps, False, float(change)


class BeliefPropagation(CoclusterLabels, BaseEstimator):
    """Belief propagation for the degree-corrected bipartite Poisson block model.

    See the module docstring for the method and its sources.

    Parameters
    ----------
    n_row_clusters : int
        Number of people clusters K_A (with ``omega`` given: its number of rows).
    n_col_clusters : int or None
        Number of item clusters K_B (None: ``n_row_clusters``).
    omega, theta, phi : array-like or None
        The planted parameters, all three or none: ``omega`` (K_A, K_B) expected block totals,
        ``theta`` (n_people,) activities, ``phi`` (n_items,) popularities. Given, they are
        fixed; None, they are learned by EM.
    row_prior, col_prior : array-like or None
        Cluster shares (None: uniform with given parameters, learned otherwise).
    init : "spectral", "random" or a pair (row_labels, column_labels)
        The start: :class:`~fastbip.algorithms.regularized.RegularizedSpectral` labels,
        random memberships (Dirichlet(1)), or given labels (e.g. the truth; -1 = unknown).
    damping : float in [0, 1)
        Weight of the old message in each update.
    tol : float > 0
        Convergence: mean over entries of the largest change of a message.
    max_sweeps : int
        Sweeps in all (given parameters: of the one BP run; learned: over all EM steps).
    max_em : int
        EM steps when the parameters are learned; each runs at most 10 sweeps of BP from the
        current messages, then re-estimates the parameters.
    random_state : None, int, Generator, SeedSequence or RandomState
        Seeds the start.

    Attributes
    ----------
    row_labels_, column_labels_ : int64 (n_people,), (n_items,)
    row_marginals_, column_marginals_ : float64 (n_people, K_A), (n_items, K_B)
    omega_ : float64 (K_A, K_B), the rates used (``W`` when learned: ``E[M_ij] = d_i e_j W``)
    row_prior_, col_prior_ : float64
    n_sweeps_ : int, BP sweeps in all
    converged_ : bool, whether the last BP run met ``tol``
    """

    _parameter_constraints = {
        "n_row_clusters": ("int", 1, "n_people"),
        "n_col_clusters": [None, ("int", 1, "n_items")],
        "omega": [None, ("array", 2)],
        "theta": [None, ("array", 1)],
        "phi": [None, ("array", 1)],
        "row_prior": [None, ("array", 1)],
        "col_prior": [None, ("array", 1)],
        "init": [("choice", ("spectral", "random")), ("pair",)],
        "damping": ("real", 0.0, 1.0, "[)"),
        "tol": ("real", 0.0, None, "(]"),
        "max_sweeps": ("int", 1, None),
        "max_em": ("int", 1, None),
        "random_state": ("random_state",),
    }

    def __init__(
        self,
        n_row_clusters: int = 2,
        n_col_clusters: int | None = None,
        *,
        omega: Any = None,
        theta: Any = None,
        phi: Any = None,
        row_prior: Any = None,
        col_prior: Any = None,
        init: Any = "spectral",
        damping: float = 0.5,
        tol: float = 1e-4,
        max_sweeps: int = 300,
        max_em: int = 100,
        random_state: Any = None,
    ) -> None:
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.omega = omega
        self.theta = theta
        self.phi = phi
        self.row_prior = row_prior
        self.col_prior = col_prior
        self.init = init
        self.damping = damping
        self.tol = tol
        self.max_sweeps = max_sweeps
        self.max_em = max_em
        self.random_state = random_state

    # ----------------------------------------------------------------- checks

    def _check_params(self, M: sp.csr_matrix) -> dict:
        check_params(self)
        n, m = M.shape
        k_a = check_n_clusters(self.n_row_clusters, "n_row_clusters", n, "people")
        k_b_in = self.n_row_clusters if self.n_col_clusters is None else self.n_col_clusters
        k_b = check_n_clusters(k_b_in, "n_col_clusters", m, "items")
        p = {
            "k_a": k_a,
            "k_b": k_b,
            "damping": check_real(self.damping, "damping", 0.0, 1.0, high_open=True),
            "tol": check_real(self.tol, "tol", 0.0, low_open=True),
            "max_sweeps": check_int(self.max_sweeps, "max_sweeps", 1),
            "max_em": check_int(self.max_em, "max_em", 1),
        }
        given = [v is not None for v in (self.omega, self.theta, self.phi)]
        if any(given) and not all(given):
            raise ValueError(
                "omega, theta and phi must be given together (fixed parameters) or all be None "
                f"(learned); got omega={'set' if given[0] else None}, "
                f"theta={'set' if given[1] else None}, phi={'set' if given[2] else None}"
            )
        p["fixed"] = all(given)
        if p["fixed"]:
            omega = np.asarray(self.omega, dtype=np.float64)
            if omega.shape != (k_a, k_b):
                raise ValueError(
                    f"omega must have shape (n_row_clusters, n_col_clusters)=({k_a}, {k_b}); "
                    f"got {omega.shape}"
                )
            if not np.all(np.isfinite(omega)) or omega.min() < 0 or omega.max() <= 0:
                raise ValueError("omega must be finite, non-negative and not all zero")
            p["omega"] = omega
            for name, v, size in (("theta", self.theta, n), ("phi", self.phi, m)):
                w = np.asarray(v, dtype=np.float64)
                if w.shape != (size,):
                    raise ValueError(f"{name} must have shape ({size},); got {w.shape}")
                if not np.all(np.isfinite(w)) or (w.size and w.min() < 0):
                    raise ValueError(f"{name} must be finite and >= 0")
                p[name] = np.ascontiguousarray(w)
        for name, v, k in (("row_prior", self.row_prior, k_a), ("col_prior", self.col_prior, k_b)):
            if v is None:
                p[name] = np.full(k, 1.0 / k)
                continue
            w = np.asarray(v, dtype=np.float64)
            if w.shape != (k,) or not np.all(np.isfinite(w)) or w.min() < 0 or w.sum() <= 0:
                raise ValueError(
                    f"{name} must be {k} finite non-negative shares, not all zero; got {v!r}"
                )
            p[name] = w / w.sum()
        return p

    def _start(self, M: sp.csr_matrix, k_a: int, k_b: int) -> tuple:
        """Start memberships of both sides, (n, K_A) and (m, K_B), and the hard ones: the
        start labels as one-hot rows (the random start: the soft memberships)."""
        init = self.init
        if isinstance(init, str):
            check_choice(init, "init", ("spectral", "random"))
            if init == "random":
                rng = as_generator(self.random_state, "random_state")
                out = []
                for size, k in ((M.shape[0], k_a), (M.shape[1], k_b)):
                    out.append(rng.dirichlet(np.ones(k), size))
                return out[0], out[1], out[0], out[1]
            from fastbip.algorithms.regularized import RegularizedSpectral

            est = RegularizedSpectral(k_a, k_b, random_state=int_seed(self.random_state))
            est.fit(M)
            a, b = est.row_labels_, est.column_labels_
        else:
            if not (isinstance(init, (tuple, list)) and len(init) == 2):
                raise ValueError(
                    "init must be 'spectral', 'random' or a pair (row_labels, column_labels); "
                    f"got {type(init).__name__}"
                )
            a = as_labels(init[0], "init[0] (row labels)", n=M.shape[0], n_clusters=k_a)
            b = as_labels(init[1], "init[1] (column labels)", n=M.shape[1], n_clusters=k_b)
        return (
            _soft(a, k_a, _START_STRENGTH),
            _soft(b, k_b, _START_STRENGTH),
            _soft(a, k_a, 1.0),
            _soft(b, k_b, 1.0),
        )

    # -------------------------------------------------------------------- fit

    def fit(self, M: Any, y: Any = None) -> BeliefPropagation:
        """Run BP on ``M`` (people x items); sets the labels and marginals.

        Parameters
        ----------
        M : scipy.sparse matrix or 2-D array (n_people, n_items)
            Non-negative purchase counts, at least one.
        y : ignored

        Returns
        -------
        self
        """
        M = as_purchases(M)
        if M.nnz == 0:
            raise ValueError("M has no purchases (all entries are zero); nothing to cluster")
        p = self._check_params(M)
        k_a, k_b = p["k_a"], p["k_b"]
        g = _Graph(M)
        marg_a, marg_b, hard_a, hard_b = self._start(M, k_a, k_b)
        msg_ab = np.ascontiguousarray(marg_a[g.rows])
        msg_ba = np.ascontiguousarray(marg_b[g.cols])
        prior_a, prior_b = p["row_prior"], p["col_prior"]
        args = (p["damping"], p["tol"], p["max_sweeps"])
        if p["fixed"]:
            x, y_, R = p["theta"], p["phi"], p["omega"]
            sweeps, conv, change = run_bp(
                g, x, y_, R, prior_a, prior_b, marg_a, marg_b, msg_ab, msg_ba, *args
            )
            self.n_em_ = 0
        else:
            x = np.asarray(M.sum(axis=1), dtype=np.float64).ravel()
            y_ = np.asarray(M.sum(axis=0), dtype=np.float64).ravel()
            has_a, has_b = x > 0, y_ > 0
            learn_a, learn_b = self.row_prior is None, self.col_prior is None
            sweeps = 0
            R = None
            step = 0
            while step < p["max_em"] and sweeps < p["max_sweeps"]:
                step += 1
                if R is None:  # the start's block totals, from its hard labels
                    R_new, pa, pb = _m_step(g, x, y_, hard_a, hard_b, None, None, None)
                else:
                    R_new, pa, pb = _m_step(g, x, y_, marg_a, marg_b, msg_ab, msg_ba, R)
                prior_a = pa if learn_a else prior_a
                prior_b = pb if learn_b else prior_b
                stable = R is not None and np.max(np.abs(R_new - R)) <= 1e-3 * np.max(R)
                R = R_new
                budget = min(_SWEEPS_PER_EM, p["max_sweeps"] - sweeps)
                s, conv, change = run_bp(
                    g, x, y_, R, prior_a, prior_b, marg_a, marg_b, msg_ab, msg_ba,
                    p["damping"], p["tol"], budget,
                )  # fmt: skip
                sweeps += s
                if not (np.all(np.isfinite(R)) and np.all(np.isfinite(marg_a))):
                    raise BeliefPropagationBreakdown(
                        f"M: belief propagation broke down after {step} EM steps: a "
                        "cluster's share of the beliefs vanished, so its rates are undefined "
                        f"(no block structure for {k_a} x {k_b} clusters here); fewer clusters "
                        "or the block-model fit (dcsbm) serve such data"
                    )
                if stable and conv:
                    break
            self.n_em_ = step
            marg_a[~has_a] = prior_a
            marg_b[~has_b] = prior_b
        self.omega_ = np.asarray(R, dtype=np.float64)
        self.row_prior_, self.col_prior_ = prior_a, prior_b
        self.row_marginals_, self.column_marginals_ = marg_a, marg_b
        self.n_sweeps_, self.converged_, self.last_change_ = sweeps, conv, change
        rows = np.flatnonzero(np.diff(M.indptr) > 0)
        cols = np.flatnonzero(np.bincount(M.indices, minlength=M.shape[1]) > 0)
        self._set_labels(
            M.shape, rows, cols, marg_a[rows].argmax(axis=1), marg_b[cols].argmax(axis=1)
        )
        return self


def _m_step(g, x, y, marg_a, marg_b, msg_ab, msg_ba, R):
    """Rates ``W = C / (kappa eta^T)`` and priors from the current beliefs (EM's M-step)."""
    if R is None:  # from memberships alone: the block totals of soft labels
        rows_w = marg_a[g.rows] * g.data[:, None]
        C = rows_w.T @ marg_b[g.cols]
    else:
        _, _, log_rel = _rates(R)
        C = _bp_edge_counts(g.indptr, g.data, log_rel, msg_ab, msg_ba)
    kappa = x @ marg_a
    eta = y @ marg_b
    W = C / np.maximum(np.outer(kappa, eta), 1e-300)
    has_a, has_b = x > 0, y > 0
    pa = marg_a[has_a].mean(axis=0)
    pb = marg_b[has_b].mean(axis=0)
    return W, pa / pa.sum(), pb / pb.sum()


@dataclass(frozen=True)
class BPReference:
    """What :func:`bp_reference` returns.

    ``row_labels``, ``column_labels`` (int64), ``ari_people``, ``ari_items``, ``converged``,
    ``n_sweeps``, ``start`` and the fitted ``estimator``.
    """

    row_labels: np.ndarray
    column_labels: np.ndarray
    ari_people: float
    ari_items: float
    converged: bool
    n_sweeps: int
    start: str
    estimator: BeliefPropagation


def bp_reference(
    dataset: Any,
    start: str = "truth",
    *,
    damping: float = 0.5,
    tol: float = 1e-4,
    max_sweeps: int = 300,
    random_state: Any = 0,
) -> BPReference:
    """The Bayes-optimal reference near the threshold: BP with the planted parameters.

    Parameters
    ----------
    dataset : fastbip.Dataset
        A generated dataset (with its truth).
    start : "truth" or "random"
        Start the messages from the planted labels (the informed fixed point: the best that
        the planted model's posterior supports) or from random memberships
        (what BP with known parameters reaches without the labels).
    damping, tol, max_sweeps : see :class:`BeliefPropagation`
    random_state : seeds the random start

    Returns
    -------
    BPReference
        Labels of both sides and their ARI against the truth.
    """
    from fastbip.metrics import score_labels

    check_choice(start, "start", ("truth", "random"))
    if not hasattr(dataset, "purchases"):
        raise TypeError(f"dataset must be a fastbip.Dataset; got {type(dataset).__name__}")
    omega, theta, phi, a, b = truth_arrays(dataset, "dataset")
    k_a, k_b = omega.shape
    shares = []
    for lab, k in ((a, k_a), (b, k_b)):
        c = np.bincount(lab[lab >= 0], minlength=k).astype(np.float64)
        shares.append(c / c.sum() if c.sum() > 0 else np.full(k, 1.0 / k))
    est = BeliefPropagation(
        k_a,
        k_b,
        omega=omega,
        theta=theta,
        phi=phi,
        row_prior=np.maximum(shares[0], 1e-12),
        col_prior=np.maximum(shares[1], 1e-12),
        init=(a, b) if start == "truth" else "random",
        damping=damping,
        tol=tol,
        max_sweeps=max_sweeps,
        random_state=random_state,
    ).fit(dataset.purchases)
    return BPReference(
        row_labels=est.row_labels_,
        column_labels=est.column_labels_,
        ari_people=score_labels(a, est.row_labels_)["ari"],
        ari_items=score_labels(b, est.column_labels_)["ari"],
        converged=bool(est.converged_),
        n_sweeps=int(est.n_sweeps_),
        start=start,
        estimator=est,
    )
