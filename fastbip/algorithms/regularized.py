"""Regularised-Laplacian spectral co-clustering tuned for the detection threshold.

The embedding (Dall'Amico, Couillet and Tremblay, "A unified framework for spectral
clustering in sparse graphs", JMLR 22, 2021; Qin and Rohe, NeurIPS 2013, for the
regularised Laplacian) on the bipartite purchase graph::

    A_tau = (D_r + tau I)^{-1/2} M (D_c + tau I)^{-1/2}

with ``D_r``, ``D_c`` the row and column totals and ``tau = sqrt(c_A c_B) - 1``, where on
each side ``c = sum(d^2) / sum(d) - 1`` is the mean excess degree (the branching factor of a
walk that enters a member along an edge), so that ``sqrt(c_A c_B)`` is, to first order, the
spectral radius of the non-backtracking operator of the bipartite graph (Krzakala et al.,
PNAS 2013). Dall'Amico et al. show that the regularisation ``tau = rho(B) - 1`` makes the
informative eigenvectors of the regularised Laplacian emerge down to the detection
threshold, where the plain normalised Laplacian (``tau = 0``) and the adjacency matrix are
swamped by vectors localised on high-degree members. ``tau`` is floored at 0.

The ``k`` leading left and right singular vectors of ``A_tau`` (Lanczos, ARPACK, seeded start
vector; a dense SVD on small matrices), each member's row normalised to unit length (which
removes its degree), then k-means per side (scikit-learn, seeded).

People or items without purchases get the largest cluster of their side, as in
:mod:`fastbip.algorithms.spectral`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn.cluster
from sklearn.base import BaseEstimator

from fastbip._rng import int_seed
from fastbip._validation import check_int, check_n_clusters, check_real
from fastbip.algorithms._base import (
    CoclusterLabels,
)
from fastbip.algorithms._base import (
    limit_threads as few_threads,
)
from fastbip.algorithms.spectral import top_singular

__all__ = ["RegularizedSpectral", "regularization_tau", "regularized_laplacian_embedding"]


def regularization_tau(M: sp.csr_matrix) -> float:
    """``tau = max(sqrt(c_A c_B) - 1, 0)`` with ``c = sum(d^2) / sum(d) - 1`` on each side.

    Parameters
    ----------
    M : scipy.sparse.csr_matrix (n_people, n_items)
        Non-negative counts with at least one purchase.

    Returns
    -------
    float
        The regularisation of :func:`regularized_laplacian_embedding`.
    """
    d_r = np.asarray(M.sum(axis=1), dtype=np.float64).ravel()
    d_c = np.asarray(M.sum(axis=0), dtype=np.float64).ravel()
    total = d_r.sum()
    if total <= 0:
        return 0.0
    c_a = float((d_r**2).sum() / total - 1.0)
    c_b = float((d_c**2).sum() / total - 1.0)
    if c_a <= 0 or c_b <= 0:
        return 0.0
    return max(float(np.sqrt(c_a * c_b)) - 1.0, 0.0)


def regularized_laplacian_embedding(
    M: sp.csr_matrix,
    k: int,
    tau: float | str = "auto",
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Row-normalised singular vectors of the regularised bipartite Laplacian of ``M``.

    Parameters
    ----------
    M : scipy.sparse.csr_matrix (n, m)
        Non-negative counts without empty rows or columns (see
        :func:`fastbip.algorithms._base.split_empty`).
    k : int
        Number of singular vectors, ``1 <= k < min(n, m)`` (the leading one included).
    tau : "auto" or float >= 0
        The regularisation added to every degree; "auto" is :func:`regularization_tau`.
    random_state : None, int, Generator, SeedSequence or RandomState
        Seeds the Lanczos start vector.

    Returns
    -------
    row_embedding : float64 (n, k), rows of unit length
    column_embedding : float64 (m, k), rows of unit length
    tau : float, the regularisation used
    """
    t = regularization_tau(M) if isinstance(tau, str) else float(tau)
    d_r = np.asarray(M.sum(axis=1), dtype=np.float64).ravel()
    d_c = np.asarray(M.sum(axis=0), dtype=np.float64).ravel()
    A = sp.diags(1.0 / np.sqrt(d_r + t)) @ M @ sp.diags(1.0 / np.sqrt(d_c + t))
    U, _, V = top_singular(A.tocsr(), k, int_seed(random_state))
    out = []
    for E in (U, V):
        norms = np.linalg.norm(E, axis=1, keepdims=True)
        out.append(np.divide(E, norms, out=np.zeros_like(E), where=norms > 0))
    return out[0], out[1], t


def _check_tau(tau: Any) -> float | str:
    if isinstance(tau, str):
        if tau != "auto":
            raise ValueError(f"tau must be 'auto' or a number >= 0; got {tau!r}")
        return tau
    return check_real(tau, "tau", 0.0)


class RegularizedSpectral(CoclusterLabels, BaseEstimator):
    """Regularised-Laplacian spectral co-clustering (``tau`` from the non-backtracking radius).

    See the module docstring for the method. Works on the people and items with purchases;
    the others get the largest cluster of their side.

    Parameters
    ----------
    n_row_clusters : int
        Number of people clusters, between 1 and the number of people with purchases.
    n_col_clusters : int or None
        Number of item clusters (None: ``n_row_clusters``).
    tau : "auto" or float >= 0
        Degree regularisation; "auto" is ``sqrt(c_A c_B) - 1``
        (:func:`regularization_tau`).
    n_components : int or None
        Singular vectors kept (None: ``max(2, min(n_row_clusters, n_col_clusters))``, the
        rank of the planted relation, at least one beyond the leading vector).
    n_init : int
        k-means restarts.
    random_state : None, int, Generator, SeedSequence or RandomState
        Seeds the Lanczos start vector and k-means.

    Attributes
    ----------
    row_labels_, column_labels_ : int64 (n_people,), (n_items,)
    row_embedding_, column_embedding_ : float64, on the people and items with purchases
    tau_ : float, the regularisation used
    n_empty_rows_, n_empty_columns_ : int

    Notes
    -----
    Time O(nnz k) per Lanczos iteration, memory O((n + m) k), then k-means per side.
    """

    _parameter_constraints = {
        "n_row_clusters": ("int", 1, "n_people_with_purchases"),
        "n_col_clusters": [None, ("int", 1, "n_items_with_purchases")],
        "tau": [("choice", ("auto",)), ("real", 0.0, None, "[]")],
        "n_components": [None, ("int", 1, "singular_vectors")],
        "n_init": ("int", 1, None),
        "random_state": ("random_state",),
    }

    def __init__(
        self,
        n_row_clusters: int = 2,
        n_col_clusters: int | None = None,
        *,
        tau: float | str = "auto",
        n_components: int | None = None,
        n_init: int = 5,
        random_state: Any = None,
    ) -> None:
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.tau = tau
        self.n_components = n_components
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, M: Any, y: Any = None) -> RegularizedSpectral:
        """Co-cluster ``M`` (people x items); sets ``row_labels_`` and ``column_labels_``.

        Parameters
        ----------
        M : scipy.sparse matrix or 2-D array (n_people, n_items)
            Non-negative purchase counts.
        y : ignored

        Returns
        -------
        self
        """
        M, rows, cols, sub = self._nonempty(M)
        k_r = check_n_clusters(
            self.n_row_clusters, "n_row_clusters", rows.size, "people with purchases"
        )
        k_c_in = self.n_row_clusters if self.n_col_clusters is None else self.n_col_clusters
        k_c = check_n_clusters(k_c_in, "n_col_clusters", cols.size, "items with purchases")
        tau = _check_tau(self.tau)
        n_init = check_int(self.n_init, "n_init", 1)
        limit = max(min(sub.shape) - 1, 1)
        if self.n_components is None:
            k = min(max(2, min(k_r, k_c)), limit)
        else:
            k = check_int(self.n_components, "n_components", 1, limit, high_name="min(shape)-1")
        seed = int_seed(self.random_state)
        with few_threads(sum(sub.shape)):
            U, V, self.tau_ = regularized_laplacian_embedding(sub, k, tau, seed)
            r = _kmeans(U, k_r, n_init, seed)
            c = _kmeans(V, k_c, n_init, seed)
        self.row_embedding_ = U
        self.column_embedding_ = V
        self._set_labels(M.shape, rows, cols, r, c)
        return self


def _kmeans(X: np.ndarray, k: int, n_init: int, seed: int | None) -> np.ndarray:
    if k == 1:
        return np.zeros(X.shape[0], dtype=np.int64)
    return sklearn.cluster.KMeans(k, n_init=n_init, random_state=seed).fit_predict(X)
