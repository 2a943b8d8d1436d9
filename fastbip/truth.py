"""What the planted parameters say: the signal-to-noise ratio and the oracle.

Every function here takes the planted truth in one argument shape: a
:class:`fastbip.Truth`, or a :class:`fastbip.Dataset` for its truth (checked by
:func:`fastbip._validation.truth_arrays`); the SNR functions also take a
:class:`fastbip.Spec` (the expected SNR is a property of the spec). The oracle also needs
the purchases, so it takes a Dataset (or anything with ``purchases`` and ``truth``).

- :func:`snr`, :func:`snr_matrix` -- the planted structure's signal-to-noise ratio (1 = the
  detection threshold) and the matrix whose eigenvalues give it: by default the planted
  expectation (one value per spec), with ``expected=False`` the realised one.
- :func:`oracle_labels` -- the best assignment anyone could make knowing the parameters.

The oracle
----------
For a person ``i`` (side ``"people"``), knowing ``omega``, ``theta``, ``phi`` and every item's
true cluster, the Poisson likelihood of their purchases ``x_i`` under cluster ``k`` is, up to
terms that do not depend on ``k``::

    log P(x_i | a_i = k) = sum_l x_il log omega[k, l] - theta_i * sum_l omega[k, l] * Phi_l

where ``x_il`` is how many purchases ``i`` made from item-cluster ``l`` and ``Phi_l`` the sum of
``phi`` over item-cluster ``l`` (1 under the Karrer-Newman normalisation). ``theta_i`` is the
person's own true activity (the value planted in ``truth.theta``, normalised within the person's
true cluster); it multiplies the expected total of cluster ``k``'s row of ``omega``, so an active
person with few purchases in a cluster's blocks is evidence against that cluster. The terms
``sum_j x_ij log(theta_i phi_j)`` and ``log x_ij!`` are the same for every ``k`` and drop out.
The oracle label is::

    argmax_k  log share_k + sum_l x_il log omega[k, l] - theta_i * sum_l omega[k, l] Phi_l

with ``share_k`` the fraction of people whose true label is ``k`` (the prior); ties go to the
smallest ``k``. Items (side ``"items"``) are symmetric with ``omega`` transposed, ``phi_j`` in
place of ``theta_i`` and the people's true labels. Pairs with ``omega[k, l] = 0`` count as
impossible (log taken as -1e30). For the Bernoulli and exact-total variants of the generator
the same Poisson formula is used (it is then a very good approximation, not the exact
posterior).

Cost: one pass over the purchases plus O(n K_A K_B); no dense n_people x n_items array.
"""

from __future__ import annotations

import numpy as np

from fastbip._kernels import dcsbm as _kd
from fastbip._validation import as_labels, as_purchases, check_choice, truth_arrays
from fastbip.spec import Spec

__all__ = ["detectable_clusters", "oracle_labels", "snr", "snr_matrix"]

_SIDES = ("people", "items")


# --------------------------------------------------------------------------------------------
# signal-to-noise ratio of the planted structure
# --------------------------------------------------------------------------------------------


def _snr_parts(x: object, expected: bool) -> tuple[np.ndarray, float, int]:
    """``(S0, scale, K_B)``: the two-hop matrix is ``scale * S0``.

    ``expected=True`` with planted degree moments ``(m_A, m_B)`` (a Spec, a generated Truth,
    a Dataset with either): ``S0`` uses ``Theta2_k = 1 / n_k``, ``Phi2_l = 1 / m_l`` and
    ``scale = m_A m_B`` (possibly inf). Otherwise ``S0`` uses the realised ``theta``, ``phi``
    and ``scale = 1``.
    """
    if not isinstance(expected, (bool, np.bool_)):
        raise TypeError(f"expected must be True or False; got {expected!r}")
    if isinstance(x, Spec):
        if not expected:
            raise ValueError(
                "a Spec has no realised SNR (nothing is drawn yet): use expected=True, or "
                "pass fastbip.generate(spec) for the realised one"
            )
        from fastbip.generate import cluster_sizes, degree_moment, planted_omega

        na = cluster_sizes(x.people.n, x.people.shares).astype(np.float64)
        nb = cluster_sizes(x.items.n, x.items.shares).astype(np.float64)
        omega = planted_omega(x.relation, na, nb)
        m2 = (degree_moment(x.relation.activity), degree_moment(x.relation.popularity))
        return _s0(omega, _inverse(na), _inverse(nb)), m2[0] * m2[1], omega.shape[1]
    omega, theta, phi, a, b = truth_arrays(x)
    ka, kb = omega.shape
    m2 = None
    if expected:
        t = getattr(x, "truth", x)
        m2 = getattr(t, "degree_m2", None)
        spec = getattr(x, "spec", None)
        if m2 is None and isinstance(spec, Spec):
            from fastbip.generate import degree_moment

            m2 = (degree_moment(spec.relation.activity), degree_moment(spec.relation.popularity))
    if m2 is None:
        ta = np.bincount(a[a >= 0], weights=theta[a >= 0] ** 2, minlength=ka)
        pb = np.bincount(b[b >= 0], weights=phi[b >= 0] ** 2, minlength=kb)
        return _s0(omega, ta, pb), 1.0, kb
    na = np.bincount(a[a >= 0], minlength=ka).astype(np.float64)
    nb = np.bincount(b[b >= 0], minlength=kb).astype(np.float64)
    return _s0(omega, _inverse(na), _inverse(nb)), float(m2[0]) * float(m2[1]), kb


def _inverse(n: np.ndarray) -> np.ndarray:
    return np.divide(1.0, n, out=np.zeros(n.shape), where=n > 0)


def _s0(omega: np.ndarray, ta: np.ndarray, pb: np.ndarray) -> np.ndarray:
    half = np.sqrt(ta)[:, None] * omega
    return (half * pb[None, :]) @ half.T


def _ratios(S0: np.ndarray, scale: float) -> np.ndarray:
    """``lambda_k / sqrt(lambda_1)`` of ``scale * S0``, largest first (zeros when flat)."""
    lam = np.maximum(np.sort(np.linalg.eigvalsh(S0))[::-1], 0.0)
    if lam.size == 0 or lam[0] <= 0:
        return np.zeros(lam.size)
    r = lam / np.sqrt(lam[0])
    if np.isinf(scale):
        # an infinite factor: every eigenvalue above round-off is infinitely far above 1
        return np.where(lam > 1e-12 * lam[0], np.inf, 0.0)
    return np.sqrt(scale) * r


def snr_matrix(truth: object, expected: bool = True) -> np.ndarray:
    """The K_A x K_A symmetric matrix whose eigenvalues are those of the two-hop operator.

    ``S = D_A^{1/2} Omega D_B Omega^T D_A^{1/2}`` with ``D_A = diag(Theta2_k)`` and
    ``D_B = diag(Phi2_l)``; see :func:`snr` for the two choices of ``Theta2`` and ``Phi2``.

    Parameters
    ----------
    truth : fastbip.Spec, fastbip.Truth or fastbip.Dataset
        The planted parameters (a Dataset for its ``truth``), or any object with ``omega``,
        ``theta``, ``phi``, ``people_labels`` and ``item_labels``.
    expected : bool, default True
        The planted expectation (True) or the realised degrees (False); see :func:`snr`.

    Returns
    -------
    ndarray of float64, shape (K_A, K_A)

    Raises
    ------
    ValueError
        With ``expected=True`` when a degree distribution has an infinite second moment
        (pareto with ``alpha <= 2``): the matrix is unbounded.
    """
    S0, scale, _ = _snr_parts(truth, expected)
    if np.isinf(scale):
        raise ValueError(
            "the planted degree distribution has an infinite second moment (pareto with "
            "alpha <= 2), so the expected two-hop matrix is unbounded; use expected=False "
            "for the realised one"
        )
    return scale * S0


def snr(truth: object, expected: bool = True) -> float:
    """Signal-to-noise ratio of the planted structure; 1 is the detection threshold.

    Parameters
    ----------
    truth : fastbip.Spec, fastbip.Truth or fastbip.Dataset
        The planted parameters: a Spec, a generated Truth, a Dataset (for its ``truth``), or
        any object with ``omega`` (K_A, K_B), ``theta`` (n_people,), ``phi`` (n_items,),
        ``people_labels`` and ``item_labels``.
    expected : bool, default True
        True: the planted expectation, a property of the spec (every seed of one spec gives
        the same value). False: the realised value, from the drawn activities and
        popularities ``theta`` and ``phi`` (varies with the seed; not defined for a Spec).

    Returns
    -------
    float
        ``lambda_2 / sqrt(lambda_1)`` where ``lambda_1 >= lambda_2`` are the two largest
        eigenvalues of the two-hop (people -> items -> people) mean operator. 0 when there
        is a single cluster on either side; ``inf`` for the expected SNR when a degree
        distribution has an infinite second moment (pareto with ``alpha <= 2``; then the
        realised SNR grows without bound with the population size, and only
        ``expected=False`` gives a finite figure for one sample).

    Notes
    -----
    The mean purchase matrix is ``P = E[M]``, ``P_ij = theta_i phi_j omega[a_i, b_j]``. One
    step people -> items has mean operator ``P`` and items -> people ``P^T``, so the two-hop
    mean operator on people is ``P P^T``. Its entries are
    ``theta_i theta_i' sum_l omega[a_i, l] omega[a_i', l] Phi2_l`` with
    ``Phi2_l = sum_{j in l} phi_j^2``, a rank-K_A kernel: its non-zero eigenvalues are those
    of the K_A x K_A matrix ``Omega D_B Omega^T D_A`` with ``D_A = diag(Theta2_k)``,
    ``Theta2_k = sum_{i in k} theta_i^2`` (eigenvectors ``v_i = theta_i x_{a_i}``). We
    compute them from its symmetric form ``D_A^{1/2} Omega D_B Omega^T D_A^{1/2}``
    (:func:`snr_matrix`): they are the squared singular values of ``P``.

    The cluster sizes and the degree heterogeneity enter through ``Theta2`` and ``Phi2``.
    The realised value (``expected=False``) sums the drawn ``theta_i^2``. The expected
    value replaces that sum by its planted expectation: ``theta_i = w_i / sum_{i' in k}
    w_i'`` with ``w`` drawn from the activity distribution, so
    ``Theta2_k = E[w^2] / (n_k E[w]^2)`` up to terms of order ``1 / n_k``
    (:func:`fastbip.generate.degree_moment`: ``exp(sigma^2)`` for lognormal,
    ``(alpha - 1)^2 / (alpha (alpha - 2))`` for pareto, 1 for constant), and the same for
    ``Phi2_l``; the SNR is then ``sqrt(m_A m_B)`` times that of constant degrees. The
    cluster sizes ``n_k`` and ``omega`` are deterministic given the spec (largest-remainder
    sizes), so the expected SNR is one number per spec. It needs the degree distributions:
    a Spec, a Truth made by :func:`fastbip.generate` (which carries ``degree_m2``) or a
    Dataset with its spec. A truth whose ``theta`` and ``phi`` were given rather than drawn
    (``degree_m2`` None, no spec) has nothing to average over: its given ``theta`` and
    ``phi`` are the planted values, and both choices give the realised formula.

    Detection from the two-hop graph is possible above the Kesten-Stigum threshold
    ``lambda_2^2 > lambda_1`` of the two-type-step branching process, i.e. ``snr > 1``:
    Kesten & Stigum (1966); Decelle et al. (2011) and Abbe, "Community detection and
    stochastic block models", JMLR 18 (2018), section 5 for the unipartite SBM; Gulikers,
    Lelarge & Massoulie (2017) for the degree-corrected SBM (second moments of the degree
    weights); Florescu & Perkins, "Spectral thresholds in the bipartite stochastic block
    model", COLT 2016, for the bipartite SBM. Checks in the tests: the bipartite double
    cover of the symmetric two-block SBM ``(a/n, b/n)`` gives
    ``snr = (a - b)^2 / (2 (a + b))`` (threshold ``(a - b)^2 = 2 (a + b)``); the
    Florescu-Perkins model (n and alpha n vertices, edge probabilities ``delta p`` and
    ``(2 - delta) p``) gives ``snr = (delta - 1)^2 n p sqrt(alpha)``; and on sampled
    two-cluster data a regularised spectral split finds nothing at ``snr`` 0.5 and 0.8 and
    finds the clusters at 1.5 and 2.5.
    The Poisson mean is used whatever ``truth.model``; for the Bernoulli variant the
    difference is of order ``max P_ij``.
    """
    S0, scale, kb = _snr_parts(truth, expected)
    if min(S0.shape[0], kb) < 2:
        return 0.0
    return float(_ratios(S0, scale)[1])


def detectable_clusters(truth: object, expected: bool = True) -> dict[str, int]:
    """How many clusters the purchases can reveal at all, per side.

    The count of eigenvalues ``lambda_k`` of the degree-corrected two-hop operator
    (:func:`snr_matrix`) with ``lambda_k / sqrt(lambda_1) > 1``, the Kesten-Stigum threshold
    (the leading one counts as one cluster: it carries the degrees, not a partition). The
    non-zero eigenvalues are the squared singular values of the mean purchase matrix, the
    same for both sides, so the count is at most ``min(K_A, K_B)``; a side with more
    planted clusters than that has clusters no algorithm can tell apart from the purchases
    alone (the features may still separate them).

    Parameters
    ----------
    truth : Spec, Truth or Dataset
        The planted parameters.
    expected : bool, default True
        The planted expectation or the realised degrees, as in :func:`snr`.

    Returns
    -------
    dict
        ``{"people": n, "items": n}``, each between 1 and that side's K.
    """
    S0, scale, kb = _snr_parts(truth, expected)
    ka = S0.shape[0]
    n = max(1, int(np.sum(_ratios(S0, scale) > 1.0)))
    return {"people": min(n, ka), "items": min(n, kb)}


# --------------------------------------------------------------------------------------------
# the oracle
# --------------------------------------------------------------------------------------------


def oracle_labels(dataset: object, side: str = "people") -> np.ndarray:
    """Labels of one side assigned by the oracle (see the module docstring for the formula).

    Parameters
    ----------
    dataset : fastbip.Dataset
        A dataset with a planted truth: ``purchases`` (scipy.sparse, n_people x n_items) and
        ``truth`` (``omega``, ``theta``, ``phi``, ``people_labels``, ``item_labels``; every
        member labelled, no -1), or any object with those two attributes.
    side : {"people", "items"}

    Returns
    -------
    ndarray of int64, shape (n_people,) or (n_items,)
    """
    check_choice(side, "side", _SIDES)
    truth = getattr(dataset, "truth", None)
    if truth is None:
        raise ValueError("dataset.truth is None: the oracle needs a planted truth")
    M = as_purchases(dataset.purchases, "dataset.purchases", accept="sparse")
    n_a, n_b = M.shape
    # the truth must label everyone, one label per row and column of the purchases
    as_labels(truth.people_labels, "truth.people_labels", n=n_a, unassigned=False, dtype=None)
    as_labels(truth.item_labels, "truth.item_labels", n=n_b, unassigned=False, dtype=None)
    omega, theta, phi, a, b = truth_arrays(truth, "truth")
    k_a, k_b = omega.shape
    if side == "items":
        M = M.T.tocsr()
        omega = omega.T
        a, b = b, a
        theta, phi = phi, theta
        k_a, k_b = k_b, k_a
    data = M.data.astype(np.float64, copy=False)
    # the serial twins below 500,000 entries: the same results, and a faster first compile
    small = M.nnz < 500_000
    profile = _kd._row_profile_csr_serial if small else _kd._row_profile_csr
    assign = _kd._oracle_assign_dense_serial if small else _kd._oracle_assign_dense
    X = profile(M.indptr, M.indices, data, b, k_b)
    other_mass = np.bincount(b, weights=phi, minlength=k_b)
    mass = omega @ other_mass
    with np.errstate(divide="ignore"):
        log_w = np.where(omega > 0, np.log(np.where(omega > 0, omega, 1.0)), -1e30)
        share = np.bincount(a, minlength=k_a) / a.size
        log_prior = np.where(share > 0, np.log(np.where(share > 0, share, 1.0)), -1e30)
    log_w = np.ascontiguousarray(log_w)  # one specialisation (C order) whichever the side
    return assign(X, log_w, np.ascontiguousarray(theta), mass, log_prior)
