"""Clustering with features and purchases together.

:class:`JointSVDKMeans` places every person (and every item) at the concatenation of two
blocks of coordinates and runs k-means per side:

- the regularised, row-normalised spectral embedding of the purchases
  (:func:`fastbip.algorithms.spectral.regularised_embedding`; unit length per row, so its
  squared norm is 1), and
- the standardised features, centred and scaled so that their mean squared row norm is
  ``feature_weight ** 2`` (whatever the number of columns, numeric or one-hot):
  ``feature_weight=1`` gives the two sources the same weight, 0 ignores the features, a
  large weight ignores the purchases.

People or items without purchases get a zero purchase block and are placed by their features
alone (with no features on that side they get the largest cluster, as in
:mod:`fastbip.algorithms.spectral`).

When it helps: when the purchases alone are near or below the detection threshold (sparse
purchases, weak relation) and the features carry cluster information, or when many people
have no purchases. When the purchases are strong, features that are only loosely tied to the
clusters add noise; lower ``feature_weight`` then.
"""

from __future__ import annotations

import numpy as np
import sklearn.cluster
from sklearn.base import BaseEstimator

from fastbip._rng import int_seed
from fastbip._validation import check_n_clusters
from fastbip.algorithms._base import (
    as_purchases,
    check_params,
    fill_empty,
    limit_threads,
    split_empty,
    standardise,
)
from fastbip.algorithms.spectral import regularised_embedding

__all__ = ["JointSVDKMeans"]


def _features(X, n, name):
    """Standardised float64 (n, p) features from an array or a Population, or None."""
    if X is None:
        return None
    from_population = hasattr(X, "feature_matrix") and callable(X.feature_matrix)
    F = X.feature_matrix() if from_population else X
    try:
        F = np.asarray(F, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a 2-D numeric array or a Population; got {type(X).__name__}"
        ) from exc
    if F.ndim == 1:
        F = F[:, None]
    if F.ndim != 2 or F.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n}, p) to match M; got {F.shape}")
    if not np.all(np.isfinite(F)):
        raise ValueError(f"{name} must contain only finite values; found NaN or inf")
    if F.shape[1] == 0:
        return None
    if not from_population:
        F = standardise(F)
    return F


class JointSVDKMeans(BaseEstimator):
    """k-means per side on [spectral embedding of the purchases | weighted features].

    ``fit(M, row_features=None, column_features=None)``: ``M`` people x items (sparse or
    dense), features as arrays (standardised here) or Populations (their
    ``feature_matrix()``, already standardised and one-hot, is used as given). The embedding
    has ``n_components`` dimensions (default ``min(n_row_clusters, n_col_clusters)``); see
    the module docstring for the weighting and for when this helps.

    Time O(nnz K) per Lanczos iteration plus O((n + m) (K + p) K) per k-means iteration.

    Attributes: ``row_labels_``, ``column_labels_``, ``n_empty_rows_``,
    ``n_empty_columns_``.
    """

    _parameter_constraints = {
        "n_row_clusters": ("int", 1, "n_people"),
        "n_col_clusters": [None, ("int", 1, "n_items")],
        "feature_weight": ("real", 0.0, None, "[]"),
        "n_components": [None, ("int", 1, "singular_vectors")],
        "tau": [("choice", ("mean",)), ("real", 0.0, None, "[]")],
        "n_init": ("int", 1, None),
        "random_state": ("random_state",),
    }

    def __init__(
        self,
        n_row_clusters=3,
        n_col_clusters=None,
        *,
        feature_weight=1.0,
        n_components=None,
        tau="mean",
        n_init=5,
        random_state=None,
    ):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.feature_weight = feature_weight
        self.n_components = n_components
        self.tau = tau
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, M, y=None, row_features=None, column_features=None):
        """Cluster people and items; sets ``row_labels_`` and ``column_labels_``."""
        check_params(self)
        M = as_purchases(M)
        n, m = M.shape
        F_r = _features(row_features, n, "row_features")
        F_c = _features(column_features, m, "column_features")
        k_c_param = self.n_row_clusters if self.n_col_clusters is None else self.n_col_clusters
        k_r = check_n_clusters(self.n_row_clusters, "n_row_clusters", n, "people")
        k_c = check_n_clusters(k_c_param, "n_col_clusters", m, "items")
        rows, cols, sub = split_empty(M)
        seed = int_seed(self.random_state)
        k = self.n_components if self.n_components is not None else min(k_r, k_c)
        U = np.zeros((n, 0))
        V = np.zeros((m, 0))
        if rows.size:
            k = check_n_clusters(k, "n_components", min(sub.shape), "singular_vectors")
            U_sub, V_sub = regularised_embedding(sub, k, self.tau, seed)
            U = np.zeros((n, k))
            V = np.zeros((m, k))
            U[rows] = U_sub
            V[cols] = V_sub
        w = float(self.feature_weight)
        with limit_threads(n + m):
            self.row_labels_, self.n_empty_rows_ = self._side(U, F_r, w, k_r, rows, n, seed)
            self.column_labels_, self.n_empty_columns_ = self._side(V, F_c, w, k_c, cols, m, seed)
        return self

    def _side(self, E, F, w, k, nonempty, n, seed):
        n_empty = n - nonempty.size
        if F is not None and w > 0:
            F = F - F.mean(axis=0)
            spread = np.sqrt(np.mean(np.einsum("ij,ij->i", F, F)))
            Z = np.hstack([E, F * (w / spread)]) if spread > 0 else E
            labels = sklearn.cluster.KMeans(k, n_init=self.n_init, random_state=seed).fit_predict(Z)
            return labels.astype(np.int64), n_empty
        if nonempty.size < k:
            raise ValueError(
                f"only {nonempty.size} members with purchases and no features to place the "
                f"others; cannot form {k} clusters"
            )
        labels = sklearn.cluster.KMeans(k, n_init=self.n_init, random_state=seed).fit_predict(
            E[nonempty]
        )
        return fill_empty(n, nonempty, labels), n_empty

    def fit_predict(self, M, y=None, row_features=None, column_features=None):
        """Fit and return the row (people) labels; the column labels are in
        ``column_labels_``."""
        self.fit(M, row_features=row_features, column_features=column_features)
        return self.row_labels_
