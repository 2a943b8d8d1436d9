"""Co-clustering of the purchase matrix: both sides from the purchases alone.

Every estimator takes ``M`` (scipy sparse or dense, shape ``(n_people, n_items)``,
non-negative finite values) in ``fit`` and sets ``row_labels_`` (int64, ``n_people``) and
``column_labels_`` (int64, ``n_items``). ``fit_predict(M)`` returns the row labels,
as in scikit-learn and :class:`~fastbip.algorithms.dcsbm.DCSBM`.

People or items without any purchase carry no information about their cluster. The
estimators here fit on the sub-matrix of people and items that have purchases (removing empty
rows cannot empty a column and vice versa) and give every empty row the label of the largest
row cluster and every empty column the label of the largest column cluster (ties: the
smallest label). No NaN, no crash, and every label is a real cluster so scores stay
comparable. ``n_empty_rows_`` and ``n_empty_columns_`` say how many were labelled this way.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import sklearn.cluster
from scipy.sparse.linalg import svds
from sklearn.base import BaseEstimator

from fastbip._rng import int_seed
from fastbip._validation import check_n_clusters
from fastbip.algorithms._base import (
    CoclusterLabels,
    limit_threads,
)

__all__ = ["SpectralCocluster", "SpectralBicluster", "SVDKMeans", "regularised_embedding"]

_N_ROW = ("int", 1, "n_people_with_purchases")
_N_COL = [None, ("int", 1, "n_items_with_purchases")]
_N_INIT = ("int", 1, None)
_SVD_METHOD = ("choice", ("randomized", "arpack"))
_TAU = [("choice", ("mean",)), ("real", 0.0, None, "[]")]


def top_singular(A, k: int, random_state=None):
    """The ``k`` leading singular triplets of ``A`` (sparse), by Lanczos (ARPACK).

    Returns ``U`` (n, k), ``s`` (k,), ``V`` (m, k), sorted by decreasing ``s``. Small
    matrices go through a dense SVD.
    """
    n, m = A.shape
    if min(n, m) <= max(2 * k + 1, 64):
        U, s, Vt = np.linalg.svd(A.toarray(), full_matrices=False)
        return U[:, :k], s[:k], Vt[:k].T
    rng = np.random.default_rng(int_seed(random_state))
    v0 = rng.uniform(0.5, 1.5, size=min(n, m))
    U, s, Vt = svds(sp.linalg.aslinearoperator(A), k=k, v0=v0, solver="arpack")
    order = np.argsort(-s)
    return U[:, order], s[order], Vt[order].T


def regularised_embedding(
    M, k: int, tau: str | float = "mean", random_state=None
) -> tuple[np.ndarray, np.ndarray]:
    """Row-normalised, regularised spectral embedding of both sides of ``M``.

    ``A = D_r(tau)^{-1/2} M D_c(tau)^{-1/2}`` with degrees regularised by ``tau`` (``"mean"``:
    each side's mean degree; a number: that multiple of the mean degree), the ``k`` leading
    singular vectors of ``A`` (Lanczos), scaled by their singular values, each row normalised
    to unit length (rows of norm 0 stay 0). ``M`` is CSR without empty rows or columns.
    Returns ``(row_embedding (n, k), column_embedding (m, k))``.
    """
    d_r = np.asarray(M.sum(axis=1)).ravel()
    d_c = np.asarray(M.sum(axis=0)).ravel()
    mult = 1.0 if isinstance(tau, str) else float(tau)
    A = (
        sp.diags(1.0 / np.sqrt(d_r + mult * d_r.mean()))
        @ M
        @ sp.diags(1.0 / np.sqrt(d_c + mult * d_c.mean()))
    )
    U, s, V = top_singular(A.tocsr(), k, random_state)
    out = []
    for E in (U * s, V * s):
        norms = np.linalg.norm(E, axis=1, keepdims=True)
        out.append(np.divide(E, norms, out=np.zeros_like(E), where=norms > 0))
    return out[0], out[1]


class _Cocluster(CoclusterLabels, BaseEstimator):
    """Shared fit: validate, split off empty rows and columns, fill them after."""

    def _col_k(self):
        return self.n_row_clusters if self.n_col_clusters is None else self.n_col_clusters

    def fit(self, M, y=None):
        """Co-cluster ``M`` (people x items); sets ``row_labels_`` and ``column_labels_``."""
        M, rows, cols, sub = self._nonempty(M)
        k_r = check_n_clusters(
            self.n_row_clusters, "n_row_clusters", rows.size, "people_with_purchases"
        )
        k_c = check_n_clusters(self._col_k(), "n_col_clusters", cols.size, "items_with_purchases")
        if k_r == 1 and k_c == 1:  # one cluster a side: nothing to fit (and no spectrum)
            r = np.zeros(sub.shape[0], dtype=np.int64)
            c = np.zeros(sub.shape[1], dtype=np.int64)
        else:
            with limit_threads(sum(sub.shape)):
                r, c = self._fit_sub(sub, k_r, k_c)
        self._set_labels(M.shape, rows, cols, r, c)
        return self


class SpectralCocluster(_Cocluster):
    """Spectral co-clustering (Dhillon 2001), robust to people or items without purchases.

    With ``n_row_clusters == n_col_clusters`` (``n_col_clusters=None`` means equal) this is
    :class:`sklearn.cluster.SpectralCoclustering` on the non-empty sub-matrix: the
    ``1 + ceil(log2 K)`` leading singular vectors of ``D_r^{-1/2} M D_c^{-1/2}`` (the first
    dropped), one joint k-means over people and items. With different counts the same
    embedding is clustered by k-means separately per side (``n_row_clusters`` for the people,
    ``n_col_clusters`` for the items). Empty rows and columns: see the module docstring.

    Time O(nnz (1 + log2 K)) per SVD iteration plus k-means on n + m points. A quick baseline
    on strongly assortative relations; it falls apart near the detection threshold and with
    heavy-tailed activity (prefer ``svd-kmeans`` or ``dcsbm`` there).
    """

    _parameter_constraints = {
        "n_row_clusters": _N_ROW,
        "n_col_clusters": _N_COL,
        "svd_method": _SVD_METHOD,
        "n_init": _N_INIT,
        "random_state": ("random_state",),
    }

    def __init__(
        self,
        n_row_clusters=3,
        n_col_clusters=None,
        *,
        svd_method="randomized",
        n_init=10,
        random_state=None,
    ):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.svd_method = svd_method
        self.n_init = n_init
        self.random_state = random_state

    def _fit_sub(self, sub, k_r, k_c):
        seed = int_seed(self.random_state)
        if k_r == k_c:
            est = sklearn.cluster.SpectralCoclustering(
                n_clusters=k_r,
                svd_method=self.svd_method,
                n_init=self.n_init,
                random_state=seed,
            ).fit(sub)
            return est.row_labels_, est.column_labels_
        k = max(k_r, k_c)
        n_sv = 1 + int(np.ceil(np.log2(k)))
        d_r = np.asarray(sub.sum(axis=1)).ravel()
        d_c = np.asarray(sub.sum(axis=0)).ravel()
        A = (sp.diags(1.0 / np.sqrt(d_r)) @ sub @ sp.diags(1.0 / np.sqrt(d_c))).tocsr()
        U, _, V = top_singular(A, min(n_sv, min(sub.shape)), seed)
        U = U[:, 1:] if U.shape[1] > 1 else U
        V = V[:, 1:] if V.shape[1] > 1 else V
        Z_r = U / np.sqrt(d_r)[:, None]
        Z_c = V / np.sqrt(d_c)[:, None]
        r = sklearn.cluster.KMeans(k_r, n_init=self.n_init, random_state=seed).fit_predict(Z_r)
        c = sklearn.cluster.KMeans(k_c, n_init=self.n_init, random_state=seed).fit_predict(Z_c)
        return r, c


class SpectralBicluster(_Cocluster):
    """Spectral biclustering (Kluger et al. 2003, checkerboard), robust to empty rows/columns.

    :class:`sklearn.cluster.SpectralBiclustering` with ``n_clusters=(n_row_clusters,
    n_col_clusters)`` on the non-empty sub-matrix (bistochastic normalisation, the
    ``n_best`` of ``n_components`` singular vectors that are best approximated by a piecewise
    constant vector, k-means per side). ``n_components`` defaults to
    ``max(6, n_row_clusters, n_col_clusters)`` and ``n_best`` to ``max(3, ...)`` capped by
    it. Time O(nnz n_components) per SVD iteration. Use for checkerboard relations (not only
    diagonal) and K_A != K_B. ``n_init`` defaults to 3 (scikit-learn: 10): the k-means runs
    on every candidate singular vector dominate its time.
    """

    _parameter_constraints = {
        "n_row_clusters": _N_ROW,
        "n_col_clusters": _N_COL,
        "method": ("choice", ("bistochastic", "scale", "log")),
        "n_components": [None, ("int", 1, None)],
        "n_best": [None, ("int", 1, None)],
        "svd_method": _SVD_METHOD,
        "n_init": _N_INIT,
        "random_state": ("random_state",),
    }

    def __init__(
        self,
        n_row_clusters=3,
        n_col_clusters=None,
        *,
        method="bistochastic",
        n_components=None,
        n_best=None,
        svd_method="randomized",
        n_init=3,
        random_state=None,
    ):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.method = method
        self.n_components = n_components
        self.n_best = n_best
        self.svd_method = svd_method
        self.n_init = n_init
        self.random_state = random_state

    def _fit_sub(self, sub, k_r, k_c):
        if min(sub.shape) < 2:
            raise ValueError(
                "M must have at least 2 people and 2 items with purchases for spectral "
                f"biclustering into more than one cluster; got {sub.shape[0]} x {sub.shape[1]}"
            )
        k = max(k_r, k_c)
        limit = max(min(sub.shape) - 1, 1)
        n_components = self.n_components or max(6, k)
        n_components = min(n_components, limit)
        n_best = min(self.n_best or max(3, k), n_components)
        est = sklearn.cluster.SpectralBiclustering(
            n_clusters=(k_r, k_c),
            method=self.method,
            n_components=n_components,
            n_best=n_best,
            svd_method=self.svd_method,
            n_init=self.n_init,
            random_state=int_seed(self.random_state),
        ).fit(sub)
        return est.row_labels_, est.column_labels_


class SVDKMeans(_Cocluster):
    """Regularised spectral embedding and k-means per side.

    On the non-empty sub-matrix: degrees regularised by their mean (Qin and Rohe's
    ``D + tau I``, ``tau`` = mean degree of the side), the ``n_components`` leading singular
    vectors by scipy's Lanczos ``svds`` (default ``min(n_row_clusters, n_col_clusters)``,
    the rank of the planted relation), scaled by the singular values, rows normalised to unit
    length (which removes the degree), then k-means with ``n_row_clusters`` on the people and
    ``n_col_clusters`` on the items. Empty rows and columns: see the module docstring.

    Time O(nnz K) per Lanczos iteration, memory O((n + m) K). Supports K_A != K_B. Use on
    degree-heterogeneous purchases (lognormal or Pareto activity); it is a good start for a
    block-model fit.

    Attributes: ``row_labels_``, ``column_labels_``, ``row_embedding_``,
    ``column_embedding_`` (on the non-empty people and items only).
    """

    _parameter_constraints = {
        "n_row_clusters": _N_ROW,
        "n_col_clusters": _N_COL,
        "n_components": [None, ("int", 1, "singular_vectors")],
        "tau": _TAU,
        "n_init": _N_INIT,
        "random_state": ("random_state",),
    }

    def __init__(
        self,
        n_row_clusters=3,
        n_col_clusters=None,
        *,
        n_components=None,
        tau="mean",
        n_init=5,
        random_state=None,
    ):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.n_components = n_components
        self.tau = tau
        self.n_init = n_init
        self.random_state = random_state

    def _fit_sub(self, sub, k_r, k_c):
        limit = min(sub.shape)
        k = self.n_components if self.n_components is not None else min(k_r, k_c)
        k = check_n_clusters(k, "n_components", limit, "singular_vectors")
        seed = int_seed(self.random_state)
        U, V = regularised_embedding(sub, k, self.tau, seed)
        self.row_embedding_ = U
        self.column_embedding_ = V
        r = sklearn.cluster.KMeans(k_r, n_init=self.n_init, random_state=seed).fit_predict(U)
        c = sklearn.cluster.KMeans(k_c, n_init=self.n_init, random_state=seed).fit_predict(V)
        return r, c
