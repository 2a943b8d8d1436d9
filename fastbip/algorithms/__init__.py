"""Clustering and co-clustering algorithms, reachable by name.

Every entry is a scikit-learn style estimator of one of three kinds:

- ``"features"``: one side by its features. ``fit(X)`` with ``X`` a 2-D numeric array or a
  Population (anything with ``.feature_matrix()``) sets ``labels_``. Parameters
  ``n_clusters``, ``random_state``.
- ``"purchases"``: co-clustering of the purchase matrix. ``fit(M)`` with ``M`` a CSR matrix of
  shape ``(n_people, n_items)`` sets ``row_labels_`` and ``column_labels_``. Parameters
  ``n_row_clusters``, ``n_col_clusters``, ``random_state``.
- ``"joint"``: features and purchases together. ``fit(M, row_features=None,
  column_features=None)`` sets ``row_labels_`` and ``column_labels_``; same parameters.

The registry (:mod:`fastbip.algorithms._registry`) names each class as a ``"module:Class"``
string and imports it only when asked for, so an optional dependency that is missing
(scikit-network for ``louvain`` and ``leiden``) only hides its entries: :func:`names` lists
what can run, :func:`info` says why an entry cannot. The estimator classes are handed on here
by name and imported on first use, so that ``from fastbip import algorithms`` stays cheap.

>>> from fastbip import algorithms
>>> est = algorithms.get("kmeans", n_clusters=3, random_state=0)
"""

from __future__ import annotations

import importlib

from fastbip.algorithms._registry import (
    KINDS,
    AlgorithmInfo,
    get,
    info,
    names,
    register,
    unregister,
)

# every estimator class (and the public functions beside them) -> the module that defines it
_CLASSES = {
    "KMeans": "features",
    "MiniBatchKMeans": "features",
    "GaussianMixture": "features",
    "Birch": "features",
    "Agglomerative": "features",
    "TwoStageWarning": "features",
    "weighted_linkage_labels": "features",
    "SpectralCocluster": "spectral",
    "SpectralBicluster": "spectral",
    "SVDKMeans": "spectral",
    "regularised_embedding": "spectral",
    "Louvain": "graph",
    "Leiden": "graph",
    "DCSBM": "dcsbm",
    "select_k": "select",
    "JointSVDKMeans": "joint",
    "RegularizedSpectral": "regularized",
    "regularized_laplacian_embedding": "regularized",
    "BeliefPropagation": "bp",
    "bp_reference": "bp",
}

__all__ = [
    "Agglomerative",
    "AlgorithmInfo",
    "BeliefPropagation",
    "Birch",
    "DCSBM",
    "GaussianMixture",
    "JointSVDKMeans",
    "KINDS",
    "KMeans",
    "Leiden",
    "Louvain",
    "MiniBatchKMeans",
    "RegularizedSpectral",
    "SVDKMeans",
    "SpectralBicluster",
    "SpectralCocluster",
    "TwoStageWarning",
    "bp_reference",
    "get",
    "info",
    "names",
    "register",
    "regularised_embedding",
    "regularized_laplacian_embedding",
    "select_k",
    "unregister",
    "weighted_linkage_labels",
]


def __getattr__(name):
    module = _CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module 'fastbip.algorithms' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fastbip.algorithms.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
