"""Choice of the number of clusters of each side for the block model (:func:`select_k`).

Each pair (K_A, K_B) of a grid is fitted by :class:`~fastbip.algorithms.dcsbm.DCSBM` and scored
by a model-selection criterion (``"icl"`` maximised, ``"mdl"`` minimised) on the Poisson
log-likelihood of the degree-corrected model at its maximum; see :func:`select_k`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy.special import gammaln

from fastbip._progress import progress as progress_bar
from fastbip._rng import check_random_state
from fastbip._validation import check_choice, check_n_clusters
from fastbip.algorithms._base import as_purchases
from fastbip.algorithms.dcsbm import CRITERIA, DCSBM
from fastbip.blocks.likelihood import degree_corrected_log_likelihood

__all__ = ["select_k", "CRITERIA"]


def _criterion(name, C, a, b, d_r, d_c):
    k_a, k_b = C.shape
    ll = degree_corrected_log_likelihood(C, d_r, d_c)
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
    k_range_rows: Iterable[int],
    k_range_cols: Iterable[int],
    criterion: str = "icl",
    *,
    n_init: int = 3,
    soft_sweeps: int = 0,
    max_sweeps: int = 50,
    random_state: Any = None,
    progress: bool | None = None,
) -> tuple[tuple[int, int], np.ndarray]:
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

    Parameters
    ----------
    M : scipy.sparse matrix or 2-D array (n_people, n_items)
        Purchase counts (finite, non-negative).
    k_range_rows, k_range_cols : iterables of int
        The K_A and K_B to try, each between 1 and the number of people (items).
    criterion : "icl" or "mdl"
    n_init, soft_sweeps, max_sweeps : int
        Passed to each :class:`DCSBM` fit.
    random_state : None, int, SeedSequence or Generator
        One seed is drawn from it and used for every fit (:mod:`fastbip._rng`).
    progress : bool or None
        A progress bar over the fits on standard error: None shows it where standard error
        is a terminal, False never (also ``FASTBIP_PROGRESS=0``); see :mod:`fastbip._progress`.

    Returns
    -------
    (k_rows, k_cols) : the chosen pair.
    table : float64 array (len(k_range_rows), len(k_range_cols)), the criterion of each pair.
    """
    check_choice(criterion, "criterion", CRITERIA)
    A = as_purchases(M)
    n_r, n_c = A.shape
    ks_r = [check_n_clusters(k, "k_range_rows values", n_r, "people") for k in k_range_rows]
    ks_c = [check_n_clusters(k, "k_range_cols values", n_c, "items") for k in k_range_cols]
    if not ks_r or not ks_c:
        raise ValueError(f"k_range_rows and k_range_cols must not be empty; got {ks_r} and {ks_c}")
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    d_r = np.asarray(A.sum(axis=1)).ravel()
    d_c = np.asarray(A.sum(axis=0)).ravel()
    table = np.empty((len(ks_r), len(ks_c)))
    pairs = [(i, j) for i in range(len(ks_r)) for j in range(len(ks_c))]
    for i, j in progress_bar(pairs, desc="select_k", unit="fit", enable=progress):
        k_a, k_b = ks_r[i], ks_c[j]
        est = DCSBM(
            k_a,
            k_b,
            n_init=n_init,
            soft_sweeps=soft_sweeps,
            max_sweeps=max_sweeps,
            refine=None,  # the criterion reads the likelihood of the sweeps' labels
            random_state=seed,
            progress=False,
        ).fit(A)
        table[i, j] = _criterion(
            criterion, est.omega_, est.row_labels_, est.column_labels_, d_r, d_c
        )
    flat = np.argmax(table) if criterion == "icl" else np.argmin(table)
    i, j = np.unravel_index(flat, table.shape)
    return (ks_r[i], ks_c[j]), table
