"""What the planted parameters say: the signal-to-noise ratio and the oracle.

Every function here takes the planted truth in one argument shape: a
:class:`fastbip.Truth`, or a :class:`fastbip.Dataset` for its truth (checked by
:func:`fastbip._validation.truth_arrays`); the SNR functions also take a
:class:`fastbip.Spec` (the expected SNR is a property of the spec). The oracle also needs
the purchases, so it takes a Dataset (or anything with ``purchases`` and ``truth``).

- :func:`snr`, :func:`snr_matrix` -- the planted structure's signal-to-noise ratio (1 = the
  detection threshold) and the matrix whose eigenvalues give it: by default the planted
  expectation (one value per spec), with ``expected=False`` the realised one.
- :func:`oracle_labels` -- the best assignment anyone could make knowing the parameters:
  from the purchases (``using="purchases"``, the formula below), from the side's own
  features (``using="features"``: the planted feature distributions, their copula
  included; :mod:`fastbip._oracle_features` says how each value is read) or from both
  (``using="joint"``: the sum of the two log-likelihoods, one log prior).

The purchases oracle
--------------------
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

Cost (the purchases oracle): one pass over the purchases plus O(n K_A K_B); no dense
n_people x n_items array, no copy of the purchases (their values are read in their own
dtype, the matrix is not transposed for the items' side) and no n_people x K array: beyond
the int64 result, the people's side holds a buffer of K_B values per thread, the items' side
an n_items x K_A table.
"""

from __future__ import annotations

import numpy as np

from fastbip import _small
from fastbip._kernels import dcsbm as _kd
from fastbip._kernels import oracle as _ko
from fastbip._validation import as_labels, as_purchases, check_choice, truth_arrays
from fastbip.spec import Spec

__all__ = ["detectable_clusters", "oracle_labels", "snr", "snr_matrix"]

_SIDES = ("people", "items")
_USING = ("purchases", "features", "joint")


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


def oracle_labels(dataset: object, side: str = "people", using: str = "purchases") -> np.ndarray:
    """Labels of one side assigned by an oracle that knows the planted parameters.

    Parameters
    ----------
    dataset : fastbip.Dataset
        A dataset with a planted truth: ``purchases`` (scipy.sparse, n_people x n_items) and
        ``truth`` (``omega``, ``theta``, ``phi``, ``people_labels``, ``item_labels``; every
        member labelled, no -1), or any object with those two attributes. The features and
        joint oracles also read ``spec`` (the planted feature distributions) and ``people``
        / ``items`` (the drawn features).
    side : {"people", "items"}
    using : {"purchases", "features", "joint"}
        What the oracle reads besides the planted parameters: the side's purchases with the
        other side's true labels (the module docstring's formula); the side's own features
        (:mod:`fastbip._oracle_features`: the log-density of the features under each
        planted cluster, copula and all); or both, the sum of the two log-likelihoods. Each
        adds the log prior (the true cluster shares) and takes the argmax (ties: the
        smallest cluster index). The purchases term ignores feature-dependent affinities
        (``relation.affinity``) and takes the Poisson formula for the Bernoulli and
        exact-total variants (module docstring): with those the purchases and joint
        oracles are close to, not exactly, the posterior's argmax.

    Returns
    -------
    ndarray of int64, shape (n_people,) or (n_items,)

    Raises
    ------
    ValueError
        An unknown ``side`` or ``using``, a dataset without a truth, labels that do not fit
        the purchases, or (features, joint) a dataset without its ``spec`` or whose feature
        columns do not match the spec's features.
    """
    check_choice(side, "side", _SIDES)
    check_choice(using, "using", _USING)
    truth = getattr(dataset, "truth", None)
    if truth is None:
        raise ValueError("dataset.truth is None: the oracle needs a planted truth")
    if using == "features":
        a = _own_labels(truth, side)
        return _argmax(_log_prior(a, _side_k(truth, side)) + _features_term(dataset, side, a))
    if using == "purchases":
        return _purchases_oracle(dataset, truth, side)
    X, log_w, theta, mass, log_prior, _ = _purchase_parts(dataset, truth, side)
    a = _own_labels(truth, side)
    scores = X @ log_w.T - theta[:, None] * mass[None, :] + log_prior[None, :]
    return _argmax(scores + _features_term(dataset, side, a))


def _purchases_oracle(dataset: object, truth: object, side: str) -> np.ndarray:
    """The purchases oracle's labels of ``side`` (the module docstring's formula and cost)."""
    # duplicates and unsorted indices are summed as they are read: no canonical copy
    M = as_purchases(dataset.purchases, "dataset.purchases", accept="sparse", canonical=False)
    n_a, n_b = M.shape
    # the truth must label everyone, one label per row and column of the purchases
    as_labels(truth.people_labels, "truth.people_labels", n=n_a, unassigned=False, dtype=None)
    as_labels(truth.item_labels, "truth.item_labels", n=n_b, unassigned=False, dtype=None)
    # the labels in their own width (no int64 copy of n_people labels)
    omega, theta, phi, a, b = truth_arrays(truth, "truth", labels_dtype=None)
    a, b = _narrow_labels(a), _narrow_labels(b)
    terms = _oracle_terms(omega, theta, phi, a, b, side, M.nnz)
    # the numpy twins below _small.SMALL entries (nothing to compile on a small first call),
    # the serial kernels below 500,000 (a faster first compile), the parallel ones above
    if side == "items":
        if M.nnz < _small.SMALL:
            MT = M.T.tocsr()
            X = _small.row_profile(
                MT.indptr, MT.indices, MT.data.astype(np.float64), a, omega.shape[0]
            )
        else:
            # each item's profile by people cluster, summed from the CSR arrays (no
            # transpose); n_items x K_A values, the items' own side
            X = _ko._column_profile_csr(
                M.indptr, M.indices, _values(M.data), a, omega.shape[0], n_b
            )
        return _assign_dense(X, *terms, M.nnz)
    return _assign_rows(M.indptr, M.indices, M.data, b, *terms, M.nnz)


def _oracle_terms(omega, theta, phi, a, b, side: str, nnz: int) -> tuple:
    """``(log_w, weight, mass, log_prior)`` of the purchases oracle of ``side``, from the
    planted arrays, computed the same way for a matrix of ``nnz`` entries whether it is read
    whole or shard by shard (``fastbip.distributed``)."""
    if side == "items":
        omega, a, b, theta, phi = omega.T, b, a, phi, theta
    k_a, k_b = omega.shape
    with np.errstate(divide="ignore"):
        log_w = np.where(omega > 0, np.log(np.where(omega > 0, omega, 1.0)), -1e30)
    if nnz < _small.SMALL:
        mass = omega @ np.bincount(b, weights=phi, minlength=k_b)
        return log_w, np.asarray(theta, np.float64), mass, _log_prior(a, k_a)
    mass = omega @ _bincount(b, phi, k_b)
    with np.errstate(divide="ignore"):
        share = _bincount(a, None, k_a) / a.size
        log_prior = np.where(share > 0, np.log(np.where(share > 0, share, 1.0)), -1e30)
    # one specialisation (C order) whichever the side
    return np.ascontiguousarray(log_w), np.ascontiguousarray(theta), mass, log_prior


def _assign_dense(X, log_w, weight, mass, log_prior, nnz: int) -> np.ndarray:
    """Each row of the profile ``X`` to its most likely cluster (the items' side): numpy,
    serial or parallel by the matrix's ``nnz``; each row's result depends on that row only."""
    if nnz < _small.SMALL:
        return _small.oracle_assign(X, log_w, weight, mass, log_prior)
    assign = _kd._oracle_assign_dense_serial if nnz < 500_000 else _kd._oracle_assign_dense
    return assign(X, log_w, weight, mass, log_prior)


def _assign_rows(indptr, indices, data, b, log_w, weight, mass, log_prior, nnz: int):
    """Each row of a CSR matrix (rows of the people) to its most likely cluster, in one pass:
    numpy, serial or parallel by ``nnz`` (of the whole matrix: a shard of it takes the
    path the whole takes); each row's result depends on that row only."""
    k_b = log_w.shape[1]
    if nnz < _small.SMALL:
        X = _small.row_profile(indptr, indices, data.astype(np.float64), b, k_b)
        return _small.oracle_assign(X, log_w, weight, mass, log_prior)
    # each person's profile lives in a buffer of K_B values
    assign = _ko._oracle_assign_csr_serial if nnz < 500_000 else _ko._oracle_assign_csr
    b = b.astype(np.int64, copy=False)  # the items' labels (one specialisation)
    return assign(indptr, indices, _values(data), b, log_w, weight, mass, log_prior)


_BINCOUNT_CHUNK = 1 << 18


def _bincount(x: np.ndarray, weights: np.ndarray | None, k: int) -> np.ndarray:
    """``np.bincount(x, weights, minlength=k)`` in slices of 2**18 labels past that many:
    bincount converts int32 labels to int64 (and weights to float64) whole, a copy of up to
    twice the labels; slices bound it to 2 MiB. Counts are exact either way; weighted sums
    of more than 2**18 labels are added slice by slice (a fixed order)."""
    if x.shape[0] <= _BINCOUNT_CHUNK:
        return np.bincount(x, weights, minlength=k)
    out = np.zeros(k, dtype=np.int64 if weights is None else np.float64)
    for s in range(0, x.shape[0], _BINCOUNT_CHUNK):
        w = None if weights is None else weights[s : s + _BINCOUNT_CHUNK]
        out += np.bincount(x[s : s + _BINCOUNT_CHUNK], w, minlength=k)
    return out


def _narrow_labels(x: np.ndarray) -> np.ndarray:
    """int32 and int64 labels as they are; other integer widths as int64 (few
    specialisations of the kernels that read them)."""
    return x if x.dtype in (np.int32, np.int64) else x.astype(np.int64)


def _values(data: np.ndarray) -> np.ndarray:
    """The purchase values as the oracle kernels read them: int32, int64, float32 and
    float64 in place (summed in float64 by the kernels), others converted to float64."""
    if data.dtype in (np.int32, np.int64, np.float32, np.float64):
        return data
    return data.astype(np.float64)


def _side_k(truth: object, side: str) -> int:
    omega = np.asarray(truth.omega)
    return int(omega.shape[0] if side == "people" else omega.shape[1])


def _own_labels(truth: object, side: str) -> np.ndarray:
    """The true labels of ``side``, checked: every member labelled, below that side's K."""
    attr = "people_labels" if side == "people" else "item_labels"
    return as_labels(
        getattr(truth, attr), f"truth.{attr}", n_clusters=_side_k(truth, side), unassigned=False
    )


def _log_prior(a: np.ndarray, k: int) -> np.ndarray:
    share = np.bincount(a, minlength=k) / a.size
    with np.errstate(divide="ignore"):
        return np.where(share > 0, np.log(np.where(share > 0, share, 1.0)), -1e30)


def _argmax(scores: np.ndarray) -> np.ndarray:
    return np.argmax(scores, axis=1).astype(np.int64)


def _features_term(dataset: object, side: str, a: np.ndarray) -> np.ndarray:
    """The features' log-likelihood (n, K) of ``side`` under the planted distributions."""
    from fastbip._oracle_features import feature_loglik

    spec = getattr(dataset, "spec", None)
    if spec is None:
        raise ValueError(
            "dataset.spec is None: the features and joint oracles need the planted feature "
            "distributions (a dataset generated from a spec)"
        )
    pspec = spec.people if side == "people" else spec.items
    pop = getattr(dataset, side, None)
    columns = getattr(pop, "columns", None) or {}
    missing = [f.name for f in pspec.features if f.name not in columns]
    if missing:
        raise ValueError(
            f"dataset.{side} must have the columns of the spec's {side} features "
            f"{[f.name for f in pspec.features]}; missing {missing}"
        )
    if pspec.k != _side_k(dataset.truth, side) or a.size != getattr(pop, "n", a.size):
        raise ValueError(
            f"dataset.spec.{side} ({pspec.n} members, {pspec.k} clusters) does not match the "
            f"truth ({a.size} members, {_side_k(dataset.truth, side)} clusters)"
        )
    for f in pspec.features:
        col = np.asarray(columns[f.name])
        if col.shape != (a.size,):
            raise ValueError(
                f"dataset.{side}.columns[{f.name!r}] must have shape ({a.size},); got {col.shape}"
            )
        if (
            f.kind == "categorical"
            and col.size
            and (col.min() < 0 or col.max() >= len(f.categories))
        ):
            raise ValueError(
                f"dataset.{side}.columns[{f.name!r}] must hold category codes in "
                f"[0, {len(f.categories)}); got values in [{col.min()}, {col.max()}]"
            )
    return feature_loglik(pspec, pop)


def _purchase_parts(dataset: object, truth: object, side: str) -> tuple:
    """The arrays of the purchases oracle for ``side``: the profile ``X`` (n, K_other), log
    omega, the members' weights, the masses, the log prior and the assignment
    function for the purchases oracle (numpy, serial or parallel kernel, by size)."""
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
    # the same results from the numpy twins below _small.SMALL entries (nothing to compile)
    # and from the serial twins below 500,000 (a faster first compile)
    small = M.nnz < 500_000
    profile = _kd._row_profile_csr_serial if small else _kd._row_profile_csr
    assign = _kd._oracle_assign_dense_serial if small else _kd._oracle_assign_dense
    if M.nnz < _small.SMALL:
        profile, assign = _small.row_profile, _small.oracle_assign
    X = profile(M.indptr, M.indices, data, b, k_b)
    other_mass = np.bincount(b, weights=phi, minlength=k_b)
    mass = omega @ other_mass
    with np.errstate(divide="ignore"):
        log_w = np.where(omega > 0, np.log(np.where(omega > 0, omega, 1.0)), -1e30)
    log_prior = _log_prior(a, k_a)
    log_w = np.ascontiguousarray(log_w)  # one specialisation (C order) whichever the side
    return X, log_w, np.ascontiguousarray(theta), mass, log_prior, assign
