"""The oracle: the best assignment anyone could make knowing the planted parameters.

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

import numpy as np

from fastbip._kernels import dcsbm as _kd
from fastbip._validation import as_purchases

__all__ = ["oracle_labels"]

_SIDES = ("people", "items")


def _labels(x, n, name):
    x = np.asarray(x)
    if x.ndim != 1 or x.shape[0] != n:
        raise ValueError(f"{name} must be a 1-D array of length {n}; got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"{name} must hold integers; got dtype {x.dtype}")
    if x.size and x.min() < 0:
        raise ValueError(f"{name} must be >= 0 (the truth labels everyone); got {x.min()}")
    return x.astype(np.int64, copy=False)


def oracle_labels(dataset, side="people"):
    """Labels of one side assigned by the oracle (see the module docstring for the formula).

    Parameters
    ----------
    dataset : object with ``purchases`` (scipy.sparse, n_people x n_items) and ``truth``
        (``omega``, ``theta``, ``phi``, ``people_labels``, ``item_labels``), e.g. a
        ``fastbip.dataset.Dataset`` with a planted truth.
    side : "people" or "items".

    Returns
    -------
    int64 array of length n_people (or n_items).
    """
    if side not in _SIDES:
        raise ValueError(f"side must be one of {_SIDES}; got {side!r}")
    truth = getattr(dataset, "truth", None)
    if truth is None:
        raise ValueError("dataset.truth is None: the oracle needs a planted truth")
    M = as_purchases(dataset.purchases, "dataset.purchases", accept="sparse")
    n_a, n_b = M.shape
    omega = np.asarray(truth.omega, dtype=np.float64)
    a = _labels(truth.people_labels, n_a, "truth.people_labels")
    b = _labels(truth.item_labels, n_b, "truth.item_labels")
    theta = np.asarray(truth.theta, dtype=np.float64)
    phi = np.asarray(truth.phi, dtype=np.float64)
    if theta.shape != (n_a,):
        raise ValueError(f"truth.theta must have shape ({n_a},); got {theta.shape}")
    if phi.shape != (n_b,):
        raise ValueError(f"truth.phi must have shape ({n_b},); got {phi.shape}")
    if (
        omega.ndim != 2
        or omega.shape[0] <= a.max(initial=-1)
        or omega.shape[1] <= b.max(initial=-1)
    ):
        raise ValueError(
            f"truth.omega must be 2-D with more rows than the largest people label and more "
            f"columns than the largest item label; got shape {omega.shape}"
        )
    if not np.all(np.isfinite(omega)) or omega.min(initial=0.0) < 0:
        raise ValueError("truth.omega must be finite and >= 0")
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
