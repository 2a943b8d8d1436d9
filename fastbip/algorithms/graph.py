"""Bipartite community detection (Louvain, Leiden) from scikit-network, an optional extra.

The purchase matrix is read as a weighted bipartite graph (people on one side, items on the
other) and clustered by maximising scikit-network's modularity of the bipartite graph
(``force_bipartite=True``). These algorithms choose their
own number of clusters: ``n_row_clusters`` and ``n_col_clusters`` are accepted (so the registry
can pass them to every co-clustering estimator) and ignored; ``n_row_clusters_`` and
``n_col_clusters_`` report what was found. A community may hold people and items together;
``row_labels_`` and ``column_labels_`` number the communities present on each side
``0 .. n_*_clusters_ - 1`` by decreasing size.

People or items without purchases would each become a community of their own; they get the
largest cluster of their side instead (as in :mod:`fastbip.algorithms.spectral`).

Needs ``scikit-network`` (``pip install fastbip[graph]``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from fastbip._rng import int_seed
from fastbip.algorithms._base import CoclusterLabels

__all__ = ["Louvain", "Leiden"]


def _compress(labels):
    """Relabel ``0 .. k - 1`` by decreasing size (ties: smaller original label first)."""
    uniq, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.lexsort((uniq, -counts))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse].astype(np.int64), int(uniq.size)


class _Modularity(CoclusterLabels, BaseEstimator):
    _sknetwork_class = ""
    _parameter_constraints = {
        "n_row_clusters": [None, ("int", 1, None)],
        "n_col_clusters": [None, ("int", 1, None)],
        "resolution": ("real", 0.0, None, "(]"),
        "random_state": ("random_state",),
    }

    def __init__(
        self, n_row_clusters=None, n_col_clusters=None, *, resolution=1.0, random_state=None
    ):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.resolution = resolution
        self.random_state = random_state

    def fit(self, M, y=None):
        """Cluster the bipartite graph of ``M``; sets ``row_labels_``, ``column_labels_``."""
        import sknetwork.clustering

        M, rows, cols, sub = self._nonempty(M)
        cls = getattr(sknetwork.clustering, self._sknetwork_class)
        seed = int_seed(self.random_state)
        est = cls(
            resolution=float(self.resolution),
            random_state=seed,
            return_probs=False,
            return_aggregate=False,
        )
        est.fit(sub, force_bipartite=True)
        r, self.n_row_clusters_ = _compress(np.asarray(est.labels_row_))
        c, self.n_col_clusters_ = _compress(np.asarray(est.labels_col_))
        self._set_labels(M.shape, rows, cols, r, c)
        return self


class Louvain(_Modularity):
    """Bipartite Louvain (scikit-network): greedy moves then aggregation, repeated.

    About O(nnz) per pass, a few passes. Use when K is unknown and the relation is
    assortative (each people-cluster buys mostly from its own item-cluster); it cannot find
    disassortative or checkerboard relations and tends to merge or split clusters of unequal
    size. ``resolution`` > 1 gives more, smaller clusters.
    """

    _sknetwork_class = "Louvain"


class Leiden(_Modularity):
    """Bipartite Leiden (scikit-network): Louvain with a refinement step that keeps each
    cluster connected. Same cost and use as :class:`Louvain`."""

    _sknetwork_class = "Leiden"
