"""Users' estimators that subclass nothing, named as ``"tests._fake:Class"`` in the tests."""

import numpy as np


class Est:
    """A co-clusterer without BaseEstimator: people and items cut by their total purchases."""

    def __init__(self, n_row_clusters=None, n_col_clusters=None, random_state=None):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.random_state = random_state

    def fit(self, M):
        self.row_labels_ = _by_rank(np.ravel(M.sum(axis=1)), self.n_row_clusters)
        self.column_labels_ = _by_rank(np.ravel(M.sum(axis=0)), self.n_col_clusters)
        return self


class NoColumns(Est):
    """A co-clusterer whose fit forgets column_labels_."""

    def fit(self, M):
        self.row_labels_ = np.zeros(M.shape[0], dtype=np.int64)
        return self


class NoFit:
    """Not an estimator: no fit."""

    n_row_clusters = 2


def _by_rank(totals, k):
    order = np.argsort(totals, kind="stable")
    labels = np.empty(totals.size, dtype=np.int64)
    labels[order] = np.arange(totals.size) * k // max(totals.size, 1)
    return labels
