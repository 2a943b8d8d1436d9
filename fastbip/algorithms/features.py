"""Clustering of one side (people or items) by its features.

Every estimator here takes a 2-D numeric array or a Population (anything with
``.feature_matrix()``) in ``fit`` and sets ``labels_`` (int64, values ``0 .. n_clusters - 1``).

Scaling (``scale="auto"``): a plain array has its columns standardised (mean 0, standard
deviation 1; constant columns are only centred); a Population's ``feature_matrix()`` is used as
given, since its numeric columns are already standardised and its categoricals one-hot.
``scale=True`` standardises in both cases, ``scale=False`` never.

:class:`Agglomerative` runs scikit-learn's exact algorithm up to ``exact_max_n`` points and a
documented two-stage approximation above (see its docstring).
"""

from __future__ import annotations

import warnings

import numpy as np
import sklearn.cluster
import sklearn.mixture
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import validate_data

from fastbip import _small
from fastbip._kernels.linkage import _nn_chain_linkage_dense
from fastbip._rng import check_random_state, int_seed
from fastbip._validation import check_choice, check_int
from fastbip.algorithms._base import check_params, limit_threads, standardise

__all__ = [
    "Agglomerative",
    "KMeans",
    "MiniBatchKMeans",
    "GaussianMixture",
    "Birch",
    "TwoStageWarning",
    "weighted_linkage_labels",
]

LINKAGES = ("ward", "average", "complete", "single")
_LINKAGE_CODE = {"ward": 0, "average": 1, "complete": 2, "single": 3}


class TwoStageWarning(UserWarning):
    """Agglomerative clustering ran as the two-stage approximation, not exactly."""


_N_CLUSTERS = ("int", 1, "n_samples")
_SCALE = ("choice", ("auto", True, False))
_POSITIVE_INT = ("int", 1, None)


class _FeatureClusterer(ClusterMixin, BaseEstimator):
    """Shared input handling: Population or array, validation, scaling."""

    def _prepare(self, X):
        from_population = hasattr(X, "feature_matrix") and callable(X.feature_matrix)
        if from_population:
            X = X.feature_matrix()
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        if self.scale is True or (self.scale == "auto" and not from_population):
            X = standardise(X)
        check_int(self.n_clusters, "n_clusters", 1, X.shape[0], high_name="n_samples")
        return np.ascontiguousarray(X)

    def _set_labels(self, labels):
        self.labels_ = np.asarray(labels, dtype=np.int64)

    def fit(self, X, y=None):
        """Cluster the rows of ``X`` (array or Population); sets ``labels_``."""
        check_params(self)
        X = self._prepare(X)
        with limit_threads(X.shape[0]):
            self._fit_array(X)
        return self


class KMeans(_FeatureClusterer):
    """k-means on the (standardised) features.

    Wraps :class:`sklearn.cluster.KMeans` (Lloyd iterations, k-means++ starts, ``n_init``
    restarts). Time O(n K p) per iteration, memory O(n p). Use for convex, similar-sized
    clusters; it is the fast default for one side.

    Attributes: ``labels_``, ``cluster_centers_`` (in the scaled space), ``inertia_``,
    ``n_iter_``.
    """

    _parameter_constraints = {
        "n_clusters": _N_CLUSTERS,
        "scale": _SCALE,
        "n_init": [("choice", ("auto",)), _POSITIVE_INT],
        "max_iter": _POSITIVE_INT,
        "random_state": ("random_state",),
    }

    def __init__(
        self, n_clusters=8, *, scale="auto", n_init="auto", max_iter=300, random_state=None
    ):
        self.n_clusters = n_clusters
        self.scale = scale
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit_array(self, X):
        est = sklearn.cluster.KMeans(
            n_clusters=self.n_clusters,
            n_init=self.n_init,
            max_iter=self.max_iter,
            random_state=int_seed(self.random_state),
        ).fit(X)
        self.cluster_centers_ = est.cluster_centers_
        self.inertia_ = est.inertia_
        self.n_iter_ = est.n_iter_
        self._set_labels(est.labels_)


class MiniBatchKMeans(_FeatureClusterer):
    """Mini-batch k-means on the (standardised) features.

    Wraps :class:`sklearn.cluster.MiniBatchKMeans`. Time O(b K p) per step for batches of
    ``b`` rows, then O(n K p) to label every row. Use on millions of rows where full k-means
    is too slow; the optimum is slightly worse than :class:`KMeans`'.
    """

    _parameter_constraints = {
        "n_clusters": _N_CLUSTERS,
        "scale": _SCALE,
        "batch_size": _POSITIVE_INT,
        "n_init": [("choice", ("auto",)), _POSITIVE_INT],
        "random_state": ("random_state",),
    }

    def __init__(self, n_clusters=8, *, scale="auto", batch_size=4096, n_init=3, random_state=None):
        self.n_clusters = n_clusters
        self.scale = scale
        self.batch_size = batch_size
        self.n_init = n_init
        self.random_state = random_state

    def _fit_array(self, X):
        est = sklearn.cluster.MiniBatchKMeans(
            n_clusters=self.n_clusters,
            batch_size=self.batch_size,
            n_init=self.n_init,
            random_state=int_seed(self.random_state),
        ).fit(X)
        self.cluster_centers_ = est.cluster_centers_
        self._set_labels(est.labels_)


class GaussianMixture(_FeatureClusterer):
    """Gaussian mixture (EM) on the (standardised) features; labels are the most probable
    components.

    Wraps :class:`sklearn.mixture.GaussianMixture` (``covariance_type="full"`` by default,
    k-means initialisation). Time O(n K p^2) per EM iteration. Use when clusters differ in
    spread or have correlated features (ellipsoids rather than k-means' spheres).

    Attributes: ``labels_``, ``means_``, ``weights_``, ``n_iter_``, ``bic_`` (Bayesian
    information criterion of the fit, lower is better; usable to choose ``n_clusters``).
    """

    _parameter_constraints = {
        "n_clusters": _N_CLUSTERS,
        "scale": _SCALE,
        "covariance_type": ("choice", ("full", "tied", "diag", "spherical")),
        "n_init": _POSITIVE_INT,
        "max_iter": _POSITIVE_INT,
        "random_state": ("random_state",),
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        scale="auto",
        covariance_type="full",
        n_init=1,
        max_iter=100,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.scale = scale
        self.covariance_type = covariance_type
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit_array(self, X):
        est = sklearn.mixture.GaussianMixture(
            n_components=self.n_clusters,
            covariance_type=self.covariance_type,
            n_init=self.n_init,
            max_iter=self.max_iter,
            random_state=int_seed(self.random_state),
        ).fit(X)
        self.means_ = est.means_
        self.weights_ = est.weights_
        self.bic_ = float(est.bic(X))
        self.n_iter_ = est.n_iter_
        self._set_labels(est.predict(X))


class Birch(_FeatureClusterer):
    """Birch on the (standardised) features.

    Wraps :class:`sklearn.cluster.Birch`: one pass builds a clustering-feature tree of
    sub-clusters of radius at most ``threshold``, then agglomerative (ward) clustering of the
    sub-cluster centres gives ``n_clusters``. Time O(n p log n). Use for large data in one
    pass; the result depends on ``threshold`` relative to the cluster spread (in scaled units).
    The final step is the size-weighted ward linkage of the sub-cluster centres
    (:func:`weighted_linkage_labels`); when the tree has no more sub-clusters than
    ``n_clusters`` (a threshold too large for the data), k-means (seed 0) on the points is used
    instead. ``n_subclusters_`` records the tree's size.
    """

    _parameter_constraints = {
        "n_clusters": _N_CLUSTERS,
        "scale": _SCALE,
        "threshold": ("real", 0.0, None, "(]"),
        "branching_factor": ("int", 2, None),
    }

    def __init__(self, n_clusters=8, *, scale="auto", threshold=0.5, branching_factor=50):
        self.n_clusters = n_clusters
        self.scale = scale
        self.threshold = threshold
        self.branching_factor = branching_factor

    def _fit_array(self, X):
        est = sklearn.cluster.Birch(
            n_clusters=None,
            threshold=self.threshold,
            branching_factor=self.branching_factor,
        ).fit(X)
        centres = est.subcluster_centers_
        if centres.shape[0] <= self.n_clusters:
            # fewer sub-clusters than asked for: fall back to k-means on the points
            km = sklearn.cluster.KMeans(n_clusters=self.n_clusters, n_init=1, random_state=0)
            self._set_labels(km.fit_predict(X))
            self.n_subclusters_ = int(centres.shape[0])
            return
        sub = est.predict(X)
        weights = np.bincount(sub, minlength=centres.shape[0]).astype(np.float64)
        keep = weights > 0
        if keep.sum() < self.n_clusters:
            keep[:] = True
            weights = np.maximum(weights, 1.0)
        centre_labels = np.zeros(centres.shape[0], dtype=np.int64)
        centre_labels[keep] = weighted_linkage_labels(
            centres[keep], weights[keep], self.n_clusters, "ward"
        )
        self.n_subclusters_ = int(centres.shape[0])
        self._set_labels(centre_labels[sub])


#: up to this many features the nearest micro-cluster centre is found with a k-d tree
_KDTREE_MAX_FEATURES = 8


def _nearest_centre(X, centres):
    """Index (int64 (n,)) of the nearest row of ``centres`` (m, p) for every row of ``X``.

    For few features a k-d tree over the centres answers each point in O(log m) instead of
    the O(m p) of scikit-learn's ``KMeans.predict`` (at 10^7 points and 2,000 centres,
    seconds instead of minutes); the distances are computed directly (not by
    ``|x|^2 - 2 x.c + |c|^2``), so a point at an exact tie may pick the other centre.
    From ``_GRID_MIN_POINTS`` points in up to ``_GRID_MAX_FEATURES`` features a grid
    (:func:`_nearest_centre_grid`) answers instead, the same exact nearest centre (ties: the
    lowest index) several times faster.
    """
    if X.shape[1] > _KDTREE_MAX_FEATURES:
        from sklearn.metrics import pairwise_distances_argmin

        return pairwise_distances_argmin(X, centres).astype(np.int64, copy=False)
    if X.shape[0] >= _GRID_MIN_POINTS and X.shape[1] <= _GRID_MAX_FEATURES:
        idx = _nearest_centre_grid(X, centres)
        if idx is not None:
            return idx
    from scipy.spatial import cKDTree

    _, idx = cKDTree(centres).query(X, k=1, workers=-1)
    return idx.astype(np.int64, copy=False)


#: from this many points in at most this many features, the nearest centre is found on a
#: grid (``fastbip._kernels.points``: exact, parallel, several times faster than the k-d tree)
_GRID_MIN_POINTS = 1 << 20
_GRID_MAX_FEATURES = 3
#: the grid has about this many cells per centre, and is given up (for the k-d tree) when a
#: cell has more than _GRID_MAX_CANDIDATES candidate centres on average
_GRID_CELLS_PER_CENTRE = 8
_GRID_MAX_CANDIDATES = 64


def _nearest_centre_grid(X, centres):
    """``_nearest_centre`` on a grid over the points' box (int64 (n,)), or None when the
    centres are too unevenly spread for the grid to pay (the caller uses the k-d tree)."""
    from fastbip._kernels import points as kp

    m, p = centres.shape
    lo = np.array([X[:, d].min() for d in range(p)])
    extent = np.array([X[:, d].max() for d in range(p)]) - lo
    live = extent > 0
    side = (np.prod(extent[live]) / (_GRID_CELLS_PER_CENTRE * m)) ** (1.0 / max(live.sum(), 1))
    shape = np.where(live, np.clip(np.ceil(extent / side), 1, 4096), 1).astype(np.int64)
    width = np.where(live, extent / shape, 1.0)
    n_cells = int(np.prod(shape))
    cells = np.empty(X.shape[0], dtype=np.int64)
    kp._cell_numbers(X, lo, width, shape, cells)
    occupied = np.zeros(n_cells, dtype=bool)
    occupied[cells] = True
    start = np.zeros(n_cells + 1, dtype=np.int64)
    centres = np.ascontiguousarray(centres, dtype=np.float64)
    none_i, none_f = np.empty(0, dtype=np.int64), np.empty(0)
    kp._grid_candidates(centres, lo, width, shape, occupied, True, start, none_i, none_f)
    np.cumsum(start, out=start)
    if start[-1] > _GRID_MAX_CANDIDATES * occupied.sum():
        return None
    cand = np.empty(start[-1], dtype=np.int64)
    near = np.empty(start[-1])
    kp._grid_candidates(centres, lo, width, shape, occupied, False, start, cand, near)
    out = np.empty(X.shape[0], dtype=np.int64)
    kp._nearest_centre_grid(X, centres, cells, start, cand, near, out)
    return out


#: Lloyd iterations of the micro-cluster k-means
_MICRO_MAX_ITER = 20


def _centre_sums(X, assign, m):
    """Sizes (float64 (m,)) and coordinate sums (float64 (m, p)) of the m groups of ``assign``."""
    sizes = np.bincount(assign, minlength=m).astype(np.float64)
    sums = np.empty((m, X.shape[1]))
    for j in range(X.shape[1]):
        sums[:, j] = np.bincount(assign, weights=X[:, j], minlength=m)
    return sizes, sums


def _lloyd_kdtree(X, m, rng, max_iter):
    """Centres (float64 (m, p)) of k-means on ``X`` (n >= m, p <= 8 features): m distinct rows
    of X drawn by ``rng`` as the start, then at most ``max_iter`` Lloyd iterations (each
    point to its nearest centre by a k-d tree, each centre to the mean of its points; a
    centre left without points stays where it is), stopping when no point changes centre.
    O(n log m) per iteration instead of the O(n m p) of a brute-force assignment."""
    centres = X[rng.choice(X.shape[0], size=m, replace=False)].copy()
    assign = None
    for _ in range(max_iter):
        new = _nearest_centre(X, centres)
        if assign is not None and np.array_equal(new, assign):
            break
        assign = new
        sizes, sums = _centre_sums(X, assign, m)
        full = sizes > 0
        centres[full] = sums[full] / sizes[full, None]
    return centres


def weighted_linkage_labels(
    centres: np.ndarray, weights: np.ndarray, n_clusters: int, linkage: str
) -> np.ndarray:
    """Flat labels of weighted points by hierarchical ``linkage``, cut at ``n_clusters``.

    ``centres`` float (m, p), ``weights`` positive (m,). Ward uses the size-weighted Ward
    distance (Lance-Williams started from the weights as cluster sizes), which equals exact
    ward on the points repeated ``weights`` times; average weighs the centre distances by the
    sizes (UPGMA); complete and single ignore the weights. O(m^2) memory and time.
    Returns int64 (m,) labels in ``0 .. n_clusters - 1``.
    """
    centres = np.ascontiguousarray(centres, dtype=np.float64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    check_choice(linkage, "linkage", LINKAGES)
    if centres.ndim != 2 or weights.shape != (centres.shape[0],):
        raise ValueError(
            f"centres must be 2-D (m, p) and weights (m,); got {centres.shape} and {weights.shape}"
        )
    if not np.all(weights > 0):
        raise ValueError("weights must all be > 0")
    m = centres.shape[0]
    check_int(n_clusters, "n_clusters", 1, m, high_name="n_centres")
    if m == 1:
        return np.zeros(1, dtype=np.int64)
    sq = np.einsum("ij,ij->i", centres, centres)
    D = sq[:, None] + sq[None, :] - 2.0 * (centres @ centres.T)
    np.maximum(D, 0.0, out=D)
    if linkage == "ward":
        D *= 2.0 * np.outer(weights, weights) / np.add.outer(weights, weights)
    else:
        np.sqrt(D, out=D)
    # up to _small.SMALL_LINKAGE centres numpy runs the same chain (nothing to compile)
    chain = _nn_chain_linkage_dense if m > _small.SMALL_LINKAGE else _small.nn_chain_linkage
    a, b, heights = chain(D, weights, _LINKAGE_CODE[linkage])
    order = np.argsort(heights, kind="stable").astype(np.int64)
    return _small.flat_labels_from_merges(a, b, order, m, int(n_clusters))


class Agglomerative(_FeatureClusterer):
    """Agglomerative clustering with ward, average, complete or single linkage, at any size.

    Exact (``n <= exact_max_n``, default 10,000, or ``method="exact"``):
    :class:`sklearn.cluster.AgglomerativeClustering` on the (standardised) features. It needs
    about 8 n^2 bytes (400 MB at 10,000, 3 GB and 40 s at 20,000) and cannot run far above.

    Two-stage (``n > exact_max_n``, or ``method="two-stage"``):

    1. micro-clusters: k-means with ``n_micro`` centres (default 2,000; random initial
       centres, at most 20 Lloyd iterations; up to 8 features each point finds its nearest
       centre in a k-d tree over the centres, above scikit-learn's KMeans runs) fitted on a
       random sample of ``sample_per_micro * n_micro`` points (default 40,000), then every
       point assigned to its nearest centre (from 2^20 points in up to 3 features on a
       grid of cells, each holding the centres that can be nearest to it: exact, parallel);
       the centres are recomputed as the means of their points and weighted by their sizes
       (empty ones dropped);
    2. the requested linkage on the centres by a nearest-neighbour chain in O(m^2): ward uses
       the size-weighted Ward distance, so it is exact ward on the data with every point moved
       to its micro-cluster's centre; average uses size-weighted UPGMA on centre distances
       (the average point-to-point distance between two clusters, approximated by the
       distance between micro-cluster centres); complete and single use the distances
       between centres, so they see the micro-clusters as points: complete's diameters are
       under-estimated by up to a micro-cluster radius, and single's chaining acts on the
       centres (a single linkage of the micro-cluster means, which is less sensitive to
       noise points than exact single linkage, but is not the same thing);
    3. every point gets its micro-cluster's label.

    Time O(n log n_micro) for the assignment up to 8 features (O(n * n_micro * p) above),
    plus O(n_micro^2) for the linkage; memory O(n p + n_micro^2).
    ``method_`` says which ran ("exact" or "two-stage"); a :class:`TwoStageWarning` is
    emitted when ``method="auto"`` switches to two-stage (silence it with ``method=
    "two-stage"``).

    Attributes: ``labels_``, ``method_``, ``n_micro_`` (micro-clusters used, two-stage only).
    """

    _parameter_constraints = {
        "n_clusters": _N_CLUSTERS,
        "linkage": ("choice", LINKAGES),
        "scale": _SCALE,
        "method": ("choice", ("auto", "exact", "two-stage")),
        "exact_max_n": _POSITIVE_INT,
        "n_micro": _POSITIVE_INT,
        "sample_per_micro": _POSITIVE_INT,
        "random_state": ("random_state",),
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        linkage="ward",
        scale="auto",
        method="auto",
        exact_max_n=10_000,
        n_micro=2_000,
        sample_per_micro=20,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.linkage = linkage
        self.scale = scale
        self.method = method
        self.exact_max_n = exact_max_n
        self.n_micro = n_micro
        self.sample_per_micro = sample_per_micro
        self.random_state = random_state

    def _fit_array(self, X):
        exact_max_n = self.exact_max_n
        n = X.shape[0]
        two_stage = self.method == "two-stage" or (self.method == "auto" and n > exact_max_n)
        if not two_stage:
            est = sklearn.cluster.AgglomerativeClustering(
                n_clusters=self.n_clusters, linkage=self.linkage
            ).fit(X)
            self.method_ = "exact"
            self._set_labels(est.labels_)
            return
        n_micro = max(min(self.n_micro, n), self.n_clusters)
        per = self.sample_per_micro
        if self.method == "auto":
            warnings.warn(
                f"n_samples={n} > exact_max_n={exact_max_n}: agglomerative clustering runs as "
                f"the two-stage approximation ({n_micro} micro-clusters, then {self.linkage} "
                "linkage on them); method_ records it",
                TwoStageWarning,
                stacklevel=3,
            )
        rng = check_random_state(self.random_state)
        n_sample = min(n, per * n_micro)
        sample = X[np.sort(rng.choice(n, size=n_sample, replace=False))] if n_sample < n else X
        if X.shape[1] <= _KDTREE_MAX_FEATURES:
            centres = _lloyd_kdtree(sample, n_micro, rng, _MICRO_MAX_ITER)
            assign = _nearest_centre(X, centres)
        else:
            km = sklearn.cluster.KMeans(
                n_clusters=n_micro,
                init="random",
                n_init=1,
                max_iter=_MICRO_MAX_ITER,
                random_state=int(rng.integers(2**31 - 1)),
            ).fit(sample)
            assign = _nearest_centre(X, km.cluster_centers_) if n_sample < n else km.labels_
        sizes, sums = _centre_sums(X, assign, n_micro)
        keep = sizes > 0
        centres = sums[keep] / sizes[keep, None]
        remap = np.cumsum(keep) - 1
        if centres.shape[0] < self.n_clusters:
            raise ValueError(
                f"only {centres.shape[0]} distinct micro-clusters for n_clusters="
                f"{self.n_clusters}; use method='exact'"
            )
        centre_labels = weighted_linkage_labels(centres, sizes[keep], self.n_clusters, self.linkage)
        self.method_ = "two-stage"
        self.n_micro_ = int(centres.shape[0])
        self._set_labels(centre_labels[remap[assign]])

    def fit(self, X, y=None):
        """Cluster the rows of ``X`` (array or Population); sets ``labels_`` and ``method_``."""
        return super().fit(X, y)
