"""Agglomerative clustering: the weighted linkage kernel, exact and two-stage runs."""

import warnings

import numpy as np
import pytest
from _planted_simple import blobs
from _reference import weighted_linkage_labels_ref
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import adjusted_rand_score as ari

from fastbip.algorithms.features import Agglomerative, TwoStageWarning, weighted_linkage_labels

_X100 = blobs(n=100, k=3, seed=12)[0]

LINKAGES = ["ward", "average", "complete", "single"]


def _same_partition(a, b):
    """Equal up to a renaming of the labels."""
    a, b = np.asarray(a), np.asarray(b)
    pairs = np.unique(np.stack([a, b]), axis=1)
    return pairs.shape[1] == np.unique(a).size == np.unique(b).size


# --- the kernel against scipy -------------------------------------------------------------------


@pytest.mark.parametrize("method", LINKAGES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unit_weights_equal_scipy(method, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(120, 3))
    Z = linkage(X, method)
    for k in (1, 2, 5, 17, 120):
        got = weighted_linkage_labels(X, np.ones(120), k, method)
        assert _same_partition(got, fcluster(Z, k, "maxclust"))
        assert got.min() == 0 and got.max() == k - 1


@pytest.mark.parametrize("method", LINKAGES)
@pytest.mark.parametrize("seed", [3, 4])
def test_weights_equal_repeated_points(method, seed):
    # ward and average: weights act as sizes; complete and single ignore them
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, 2))
    w = rng.integers(1, 6, size=50)
    for k in (2, 4, 9):
        got = weighted_linkage_labels(X, w.astype(float), k, method)
        assert _same_partition(got, weighted_linkage_labels_ref(X, w, k, method))


def test_one_point():
    assert weighted_linkage_labels(np.zeros((1, 2)), np.ones(1), 1, "ward").tolist() == [0]


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: weighted_linkage_labels(np.zeros((3, 2)), np.ones(3), 1, "centroid"),
            ValueError,
            r"linkage must be one of 'ward', 'average', 'complete', 'single'; got 'centroid'$",
        ),
        (
            lambda: weighted_linkage_labels(np.zeros((3, 2)), np.array([1.0, 0.0, 1.0]), 1, "ward"),
            ValueError,
            "weights must all be > 0",
        ),
        (
            lambda: weighted_linkage_labels(np.zeros((3, 2)), np.ones(3), 4, "ward"),
            ValueError,
            r"n_clusters must be between 1 and n_centres=3; got 4$",
        ),
        (
            lambda: weighted_linkage_labels(np.zeros((3, 2)), np.ones(2), 1, "ward"),
            ValueError,
            r"centres must be 2-D \(m, p\) and weights \(m,\)",
        ),
        (
            lambda: Agglomerative(3, method="two-stage", n_micro=0).fit(_X100),
            ValueError,
            r"n_micro must be >= 1; got 0$",
        ),
        (
            lambda: Agglomerative(3, method="two-stage", sample_per_micro=0).fit(_X100),
            ValueError,
            r"sample_per_micro must be >= 1; got 0$",
        ),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --- exact and two-stage ----------------------------------------------------------------------


def test_exact_below_the_threshold_equals_sklearn():
    from sklearn.cluster import AgglomerativeClustering

    X, _ = blobs(n=300, k=4, seed=5)
    Xs = (X - X.mean(0)) / X.std(0)
    for method in LINKAGES:
        est = Agglomerative(4, linkage=method).fit(X)
        assert est.method_ == "exact"
        ref = AgglomerativeClustering(4, linkage=method).fit(Xs).labels_
        np.testing.assert_array_equal(est.labels_, ref)


def test_auto_switches_to_two_stage_with_a_warning():
    X, labels = blobs(n=600, k=3, seed=6)
    with pytest.warns(TwoStageWarning, match=r"n_samples=600 > exact_max_n=500: .*two-stage"):
        est = Agglomerative(3, exact_max_n=500, n_micro=100, random_state=0).fit(X)
    assert est.method_ == "two-stage"
    assert est.n_micro_ <= 100
    assert ari(labels, est.labels_) >= 0.95


def test_explicit_two_stage_is_silent():
    X, _ = blobs(n=400, k=3, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = Agglomerative(3, method="two-stage", n_micro=50, random_state=0).fit(X)
    assert est.method_ == "two-stage"


@pytest.mark.parametrize("method", LINKAGES)
def test_two_stage_recovers_separated_clusters(method):
    X, labels = blobs(n=5000, k=5, p=3, spread=12.0, seed=9)
    est = Agglomerative(5, linkage=method, method="two-stage", n_micro=300, random_state=0).fit(X)
    assert ari(labels, est.labels_) >= 0.95


@pytest.mark.parametrize("method", ["ward", "average"])
def test_two_stage_agrees_with_exact(method):
    X, _ = blobs(n=3000, k=4, p=3, spread=6.0, seed=9)
    exact = Agglomerative(4, linkage=method).fit(X)
    approx = Agglomerative(4, linkage=method, method="two-stage", n_micro=500, random_state=0).fit(
        X
    )
    assert exact.method_ == "exact" and approx.method_ == "two-stage"
    assert ari(exact.labels_, approx.labels_) >= 0.9


def test_two_stage_with_all_points_as_micro_clusters_is_exact_ward():
    # n_micro >= n: every point its own micro-cluster (k-means on all points converges to
    # them), so the two-stage ward is exact ward
    X, _ = blobs(n=200, k=3, seed=10)
    rng = np.random.default_rng(0)
    X = X + 1e-3 * rng.normal(size=X.shape)
    exact = Agglomerative(3).fit(X)
    approx = Agglomerative(3, method="two-stage", n_micro=200, random_state=0).fit(X)
    if approx.n_micro_ == 200:
        assert _same_partition(exact.labels_, approx.labels_)
    assert ari(exact.labels_, approx.labels_) >= 0.95


def test_two_stage_same_seed_same_labels():
    X, _ = blobs(n=2000, k=3, seed=11)
    a = Agglomerative(3, method="two-stage", n_micro=100, random_state=3).fit(X).labels_
    b = Agglomerative(3, method="two-stage", n_micro=100, random_state=3).fit(X).labels_
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_two_stage_at_two_hundred_thousand():
    X, labels = blobs(n=200_000, k=5, p=3, spread=8.0, seed=13)
    with pytest.warns(TwoStageWarning):
        est = Agglomerative(5, linkage="ward", n_micro=1000, random_state=0).fit(X)
    assert est.method_ == "two-stage"
    assert ari(labels, est.labels_) >= 0.95


def test_two_stage_with_few_distinct_points():
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]), 400, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k-means warns that it found fewer distinct centres
        est = Agglomerative(3, method="two-stage", n_micro=50, random_state=0).fit(X)
        assert est.n_micro_ == 3
        assert ari(np.repeat([0, 1, 2], 400), est.labels_) == 1.0
        with pytest.raises(
            ValueError,
            match=r"only 3 distinct micro-clusters for "
            r"n_clusters=4; use method='exact'",
        ):
            Agglomerative(4, method="two-stage", n_micro=50, random_state=0).fit(X)
