"""The algorithm registry and the estimators behind it (features, purchases, joint)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _planted_simple import blobs, planted
from sklearn.metrics import adjusted_rand_score as ari
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastbip import algorithms
from fastbip.algorithms.features import (
    Agglomerative,
    Birch,
    GaussianMixture,
    KMeans,
    MiniBatchKMeans,
)
from fastbip.algorithms.joint import JointSVDKMeans
from fastbip.algorithms.spectral import SpectralBicluster, SpectralCocluster, SVDKMeans

HAS_SKNETWORK = "louvain" in algorithms.names()


@pytest.fixture(scope="module")
def easy():
    """Strong planted structure: diagonal 10x denser, 20 purchases per person."""
    return planted(600, 400, 3, 3, mean_purchases=20.0, ratio=10.0, sigma=0.5, seed=1)


@pytest.fixture(scope="module")
def unequal():
    """K_A = 3 people-clusters, K_B = 5 item-clusters with distinct profiles."""
    omega = np.array([[10.0, 1, 1, 5, 1], [1, 10, 1, 5, 5], [1, 1, 10, 1, 5]])
    return planted(600, 500, 3, 5, mean_purchases=30.0, sigma=0.4, seed=2, omega=omega)


class _Pop:
    """A Population stand-in: anything with feature_matrix() works."""

    def __init__(self, X):
        self._X = X

    def feature_matrix(self):
        return self._X


# --- the registry ---------------------------------------------------------------------------

EXPECTED = {
    "agglomerative-ward",
    "agglomerative-average",
    "agglomerative-complete",
    "agglomerative-single",
    "kmeans",
    "minibatch-kmeans",
    "gmm",
    "birch",
    "spectral-cocluster",
    "spectral-bicluster",
    "svd-kmeans",
    "joint-svd-kmeans",
}


def test_names_lists_the_built_in_algorithms():
    names = algorithms.names(available_only=False)
    assert EXPECTED | {"louvain", "leiden", "dcsbm"} <= set(names)
    assert EXPECTED <= set(algorithms.names())
    assert set(algorithms.names("features")) >= {"kmeans", "gmm", "birch"}
    assert "svd-kmeans" in algorithms.names("purchases")
    assert algorithms.names("joint") == ["joint-svd-kmeans"]


def test_info_documents_every_entry():
    for name in algorithms.names(available_only=False):
        meta = algorithms.info(name)
        assert meta.name == name
        assert meta.kind in algorithms.KINDS
        assert meta.description and meta.complexity and meta.when_to_use
        assert ":" in meta.target


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown algorithm 'nope'; known algorithms: .*kmeans"):
        algorithms.get("nope")
    with pytest.raises(ValueError, match="unknown algorithm"):
        algorithms.info("nope")


def test_names_rejects_a_bad_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        algorithms.names("graphs")


def test_register_validates_and_missing_dependency_hides_the_entry():
    with pytest.raises(ValueError, match="kind must be one of"):
        algorithms.register("x", "m:C", "bad", "d", "c", "w")
    with pytest.raises(ValueError, match="target must look like 'module:Class'"):
        algorithms.register("x", "no_colon", "features", "d", "c", "w")
    with pytest.raises(ValueError, match="already registered"):
        algorithms.register("kmeans", "m:C", "features", "d", "c", "w")
    algorithms.register(
        "needs-missing",
        "fastbip.algorithms.features:KMeans",
        "features",
        "d",
        "c",
        "w",
        requires=("fastbip_no_such_module",),
    )
    try:
        assert "needs-missing" not in algorithms.names()
        assert "needs-missing" in algorithms.names(available_only=False)
        meta = algorithms.info("needs-missing")
        assert not meta.available
        assert "fastbip_no_such_module" in meta.unavailable_reason
        with pytest.raises(ImportError, match="is unavailable: needs the optional package"):
            algorithms.get("needs-missing")
    finally:
        algorithms.unregister("needs-missing")
    assert "needs-missing" not in algorithms.names(available_only=False)


def test_register_accepts_a_class_and_defaults():
    algorithms.register("kmeans-5", KMeans, "features", "d", "c", "w", defaults={"n_clusters": 5})
    try:
        est = algorithms.get("kmeans-5", random_state=0)
        assert isinstance(est, KMeans) and est.n_clusters == 5
        assert algorithms.get("kmeans-5", n_clusters=2).n_clusters == 2
    finally:
        algorithms.unregister("kmeans-5")


def test_get_returns_fresh_unfitted_estimators_with_defaults():
    est = algorithms.get("agglomerative-average", n_clusters=4)
    assert est.linkage == "average" and est.n_clusters == 4
    assert not hasattr(est, "labels_")
    assert algorithms.get("kmeans") is not algorithms.get("kmeans")


# --- every registered algorithm on a small planted case --------------------------------------


@pytest.mark.parametrize("name", algorithms.names())
def test_every_algorithm_fits_with_labels_in_range(name, easy):
    M, truth = easy
    kind = algorithms.info(name).kind
    if kind == "features":
        X, _ = blobs(n=200, k=3, seed=0)
        est = (
            algorithms.get(name, n_clusters=3, random_state=0)
            if "random_state" in algorithms.get(name).get_params()
            else algorithms.get(name, n_clusters=3)
        )
        labels = est.fit(X).labels_
        assert labels.shape == (200,)
        assert labels.min() >= 0 and labels.max() <= 2
        return
    est = algorithms.get(name, n_row_clusters=3, n_col_clusters=3, random_state=0)
    if kind == "joint":
        est.fit(M, row_features=truth.people_labels[:, None].astype(float))
    else:
        est.fit(M)
    r, c = np.asarray(est.row_labels_), np.asarray(est.column_labels_)
    assert r.shape == (M.shape[0],) and c.shape == (M.shape[1],)
    k_r = getattr(est, "n_row_clusters_", 3)
    k_c = getattr(est, "n_col_clusters_", 3)
    assert r.min() >= 0 and r.max() < k_r
    assert c.min() >= 0 and c.max() < k_c


# Floors on the easy case (oracle ARI there is ~0.97 for people, ~0.99 for items);
# measured values at these seeds are well above the floors.
PURCHASE_FLOORS = {
    "spectral-cocluster": 0.8,
    "svd-kmeans": 0.9,
    "joint-svd-kmeans": 0.9,
    "louvain": 0.8,
    "leiden": 0.8,
}


@pytest.mark.parametrize("name", sorted(PURCHASE_FLOORS))
def test_easy_case_recovered(name, easy):
    if name not in algorithms.names():
        pytest.skip(f"{name} unavailable: {algorithms.info(name).unavailable_reason}")
    M, truth = easy
    est = algorithms.get(name, n_row_clusters=3, n_col_clusters=3, random_state=0).fit(M)
    assert ari(truth.people_labels, est.row_labels_) >= PURCHASE_FLOORS[name]
    assert ari(truth.item_labels, est.column_labels_) >= PURCHASE_FLOORS[name]


def test_spectral_bicluster_finds_a_checkerboard():
    # a checkerboard without degree heterogeneity, Kluger's setting
    omega = np.array([[8.0, 1.0, 4.0], [1.0, 8.0, 1.0]])
    M, truth = planted(400, 300, 2, 3, mean_purchases=40.0, sigma=0.05, seed=3, omega=omega)
    est = SpectralBicluster(2, 3, n_init=1, random_state=0).fit(M)
    assert ari(truth.people_labels, est.row_labels_) >= 0.9
    assert ari(truth.item_labels, est.column_labels_) >= 0.9


@pytest.mark.parametrize(
    "name",
    [
        "kmeans",
        "minibatch-kmeans",
        "gmm",
        "birch",
        "agglomerative-ward",
        "agglomerative-average",
        "agglomerative-complete",
        "agglomerative-single",
    ],
)
def test_features_easy_case(name):
    X, labels = blobs(n=300, k=4, p=3, spread=10.0, seed=4)
    est = algorithms.get(name, n_clusters=4)
    if "random_state" in est.get_params():
        est.set_params(random_state=0)
    assert ari(labels, est.fit(X).labels_) >= 0.95


def test_features_accept_a_population_as_given():
    X, labels = blobs(n=150, k=3, seed=5)
    a = KMeans(3, random_state=0).fit(_Pop(X)).labels_
    b = KMeans(3, random_state=0, scale=False).fit(X).labels_
    np.testing.assert_array_equal(a, b)
    assert ari(labels, a) >= 0.95


def test_scaling_makes_units_irrelevant():
    X, labels = blobs(n=200, k=3, p=2, seed=6)
    Y = X * np.array([1000.0, 0.001])
    a = Agglomerative(3).fit(X).labels_
    b = Agglomerative(3).fit(Y).labels_
    assert ari(a, b) == 1.0


# --- empty rows and columns, K_A != K_B ----------------------------------------------------------


def _with_empties(M):
    """Insert 5 empty rows and 4 empty columns at fixed places."""
    M = M.tolil()
    dense_rows = sp.vstack([sp.csr_matrix((5, M.shape[1])), M.tocsr()]).tocsr()
    out = sp.hstack([dense_rows, sp.csr_matrix((dense_rows.shape[0], 4))]).tocsr()
    return out


@pytest.mark.parametrize(
    "name", [n for n in algorithms.names() if algorithms.info(n).kind != "features"]
)
def test_empty_rows_and_columns_get_real_labels(name, easy):
    M, truth = easy
    M2 = _with_empties(M)
    est = algorithms.get(name, n_row_clusters=3, n_col_clusters=3, random_state=0).fit(M2)
    r, c = np.asarray(est.row_labels_), np.asarray(est.column_labels_)
    assert r.shape == (M2.shape[0],) and c.shape == (M2.shape[1],)
    assert r.min() >= 0 and c.min() >= 0
    largest_r = np.argmax(np.bincount(r[5:]))
    largest_c = np.argmax(np.bincount(c[:-4]))
    assert np.all(r[:5] == largest_r)
    assert np.all(c[-4:] == largest_c)
    assert ari(truth.people_labels, r[5:]) >= 0.5


def test_empty_counts_reported(easy):
    M, _ = easy
    est = SVDKMeans(3, 3, random_state=0).fit(_with_empties(M))
    assert est.n_empty_rows_ == 5 and est.n_empty_columns_ == 4


@pytest.mark.parametrize(
    "name", ["spectral-cocluster", "spectral-bicluster", "svd-kmeans", "joint-svd-kmeans"]
)
def test_unequal_numbers_of_clusters(name, unequal):
    M, truth = unequal
    est = algorithms.get(name, n_row_clusters=3, n_col_clusters=5, random_state=0)
    est.set_params(n_init=1)
    est.fit(M)
    assert np.unique(est.row_labels_).size == 3
    assert np.unique(est.column_labels_).size == 5
    if name in ("svd-kmeans", "joint-svd-kmeans"):
        assert ari(truth.people_labels, est.row_labels_) >= 0.8
        assert ari(truth.item_labels, est.column_labels_) >= 0.8


@pytest.mark.skipif(not HAS_SKNETWORK, reason="scikit-network not installed")
def test_louvain_reports_its_own_k(easy):
    M, _ = easy
    est = algorithms.get("louvain", random_state=0).fit(M)
    assert est.n_row_clusters_ == np.unique(est.row_labels_).size
    assert est.n_col_clusters_ == np.unique(est.column_labels_).size
    counts = np.bincount(est.row_labels_)
    assert np.all(np.diff(counts) <= 0)  # numbered by decreasing size


def test_dense_input_and_float_data_accepted(easy):
    M, truth = easy
    a = SVDKMeans(3, 3, random_state=0).fit(M).row_labels_
    b = SVDKMeans(3, 3, random_state=0).fit(M.toarray().astype(np.float32)).row_labels_
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", [SpectralCocluster, SVDKMeans, JointSVDKMeans])
def test_same_seed_same_labels(cls, easy):
    M, _ = easy
    a = cls(3, 3, random_state=7).fit(M)
    b = cls(3, 3, random_state=7).fit(M)
    np.testing.assert_array_equal(a.row_labels_, b.row_labels_)
    np.testing.assert_array_equal(a.column_labels_, b.column_labels_)


@pytest.mark.parametrize(
    "name", [n for n in algorithms.names() if algorithms.info(n).kind in ("purchases", "joint")]
)
def test_fit_predict_returns_row_labels_for_every_co_clusterer(easy, name):
    M, _ = easy
    est = algorithms.get(name)
    wanted = {"n_row_clusters": 3, "n_col_clusters": 3, "random_state": 0}
    est.set_params(**{k: v for k, v in wanted.items() if k in est.get_params()})
    r = est.fit_predict(M)
    assert isinstance(r, np.ndarray) and r.shape == (M.shape[0],)
    np.testing.assert_array_equal(r, est.row_labels_)
    assert est.column_labels_.shape == (M.shape[1],)


# --- joint -------------------------------------------------------------------------------------


def test_joint_uses_features_below_the_threshold():
    # purchases too weak to find anything; a noisy feature carries the clusters
    M, truth = planted(1500, 800, 3, 3, mean_purchases=1.5, ratio=4.0, seed=8)
    rng = np.random.default_rng(8)
    F_r = truth.people_labels[:, None] + 0.6 * rng.normal(size=(1500, 1))
    F_c = truth.item_labels[:, None] + 0.6 * rng.normal(size=(800, 1))
    purchases_only = SVDKMeans(3, 3, random_state=0).fit(M)
    joint = JointSVDKMeans(3, 3, random_state=0).fit(M, row_features=F_r, column_features=_Pop(F_c))
    assert ari(truth.people_labels, purchases_only.row_labels_) < 0.1
    assert ari(truth.people_labels, joint.row_labels_) >= 0.3
    assert ari(truth.item_labels, joint.column_labels_) >= 0.3


def test_joint_places_people_without_purchases_by_features(easy):
    M, truth = easy
    M2 = _with_empties(M)
    F = np.concatenate([[0, 1, 2, 0, 1], truth.people_labels]).astype(float)[:, None] * 10.0
    est = JointSVDKMeans(3, 3, random_state=0).fit(M2, row_features=F)
    r = est.row_labels_
    assert ari(truth.people_labels, r[5:]) >= 0.9
    # each empty row lands with the people of the same true cluster
    for i, k in enumerate([0, 1, 2, 0, 1]):
        mates = r[5:][truth.people_labels == k]
        assert r[i] == np.argmax(np.bincount(mates))


def test_joint_without_features_equals_svd_kmeans(easy):
    M, _ = easy
    a = JointSVDKMeans(3, 3, random_state=0).fit(M)
    b = SVDKMeans(3, 3, random_state=0).fit(M)
    np.testing.assert_array_equal(a.row_labels_, b.row_labels_)


# --- errors ------------------------------------------------------------------------------------

_X20 = blobs(n=20, k=2, seed=0)[0]
_EASY = planted(600, 400, 3, 3, mean_purchases=20.0, ratio=10.0, sigma=0.5, seed=1)[0]


@pytest.mark.parametrize(
    "call, exc, match",
    [
        # features: cluster counts, then parameters
        (
            lambda: KMeans(0).fit(_X20),
            ValueError,
            r"n_clusters must be between 1 and n_samples=20; got 0$",
        ),
        (
            lambda: Agglomerative(21).fit(_X20),
            ValueError,
            r"n_clusters must be between 1 and n_samples=20; got 21$",
        ),
        (
            lambda: GaussianMixture(2.5).fit(_X20),
            TypeError,
            r"n_clusters must be an integer; got 2.5$",
        ),
        (
            lambda: KMeans(2, scale="yes").fit(_X20),
            ValueError,
            r"scale must be one of 'auto', True, False; got 'yes'$",
        ),
        (
            lambda: Agglomerative(2, linkage="median").fit(_X20),
            ValueError,
            r"linkage must be one of 'ward', 'average', 'complete', 'single'; got 'median'$",
        ),
        (
            lambda: Agglomerative(2, method="fast").fit(_X20),
            ValueError,
            r"method must be one of 'auto', 'exact', 'two-stage'; got 'fast'$",
        ),
        (
            lambda: Agglomerative(2, exact_max_n=0).fit(_X20),
            ValueError,
            r"exact_max_n must be >= 1; got 0$",
        ),
        (
            lambda: KMeans(2, n_init=0).fit(_X20),
            ValueError,
            r"n_init must be 'auto' or an integer >= 1; got 0$",
        ),
        (
            lambda: KMeans(2, random_state=-1).fit(_X20),
            ValueError,
            r"random_state must be a non-negative integer; got -1$",
        ),
        (
            lambda: KMeans(2).fit(np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 1.0]])),
            ValueError,
            "NaN",
        ),
        # purchases: cluster counts against the members with purchases
        (
            lambda: SVDKMeans(0, 3).fit(_EASY),
            ValueError,
            r"n_row_clusters must be between 1 and n_people_with_purchases=600; got 0$",
        ),
        (
            lambda: SpectralCocluster(3, 401).fit(_EASY),
            ValueError,
            r"n_col_clusters must be between 1 and n_items_with_purchases=400; got 401$",
        ),
        (
            lambda: SpectralBicluster("3", 3).fit(_EASY),
            TypeError,
            r"n_row_clusters must be an integer; got '3'$",
        ),
        (
            lambda: SVDKMeans(3, 3, n_components=0).fit(_EASY),
            ValueError,
            r"n_components must be between 1 and n_singular_vectors=400; got 0$",
        ),
        (
            lambda: SVDKMeans(3, 3, tau=-1).fit(_EASY),
            ValueError,
            r"tau must be 'mean' or a number >= 0; got -1$",
        ),
        (
            lambda: SpectralCocluster(3, svd_method="qr").fit(_EASY),
            ValueError,
            r"svd_method must be one of 'randomized', 'arpack'; got 'qr'$",
        ),
        # purchase matrices
        (
            lambda: SVDKMeans(2, 2).fit(sp.csr_matrix(np.array([[1.0, -1.0], [0.0, 2.0]]))),
            ValueError,
            r"M must be non-negative \(purchase counts\); got -1",
        ),
        (
            lambda: SVDKMeans(2, 2).fit(np.array([[1.0, np.inf], [0.0, 2.0]])),
            ValueError,
            r"M must be finite; got NaN or infinite values$",
        ),
        (
            lambda: SVDKMeans(2, 2).fit(np.ones(3)),
            ValueError,
            r"M must be 2-D \(n_people, n_items\); got shape \(3,\)$",
        ),
        (
            lambda: SVDKMeans(2, 2).fit("purchases"),
            TypeError,
            r"M must be a scipy\.sparse matrix or a 2-D numeric array; got str$",
        ),
        (
            lambda: SpectralCocluster(2, 2).fit(sp.csr_matrix((4, 3))),
            ValueError,
            r"M has no purchases",
        ),
        # joint
        (
            lambda: JointSVDKMeans(3, 3).fit(_EASY, row_features=np.ones((5, 2))),
            ValueError,
            r"row_features must have shape \(600, p\) to match M; got \(5, 2\)$",
        ),
        (
            lambda: JointSVDKMeans(3, 3, feature_weight=-1).fit(_EASY),
            ValueError,
            r"feature_weight must be >= 0; got -1$",
        ),
        (
            lambda: JointSVDKMeans(3, 3).fit(_EASY, column_features=object()),
            TypeError,
            r"column_features must be a 2-D numeric array",
        ),
        (
            lambda: JointSVDKMeans(601, 3).fit(_EASY),
            ValueError,
            r"n_row_clusters must be between 1 and n_people=600; got 601$",
        ),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.skipif(not HAS_SKNETWORK, reason="scikit-network not installed")
def test_bad_resolution(easy):
    M, _ = easy
    with pytest.raises(ValueError, match=r"resolution must be > 0; got 0$"):
        algorithms.get("louvain", resolution=0).fit(M)


# --- parameter constraints: every registered estimator declares them --------------------------

_BAD_VALUES = (-(10**9), "__bad__", 2.5, object())


def _small_input(kind):
    M = _EASY[:60]
    X = np.random.default_rng(0).normal(size=(60, 3))
    return (X,) if kind == "features" else (M,)


@pytest.mark.parametrize("name", algorithms.names())
def test_every_estimator_declares_and_checks_its_parameters(name):
    entry = algorithms.info(name)
    est = algorithms.get(name)
    constraints = type(est)._parameter_constraints
    assert set(constraints) == set(est.get_params()), "every parameter has a constraint"
    args = _small_input(entry.kind)
    for param in constraints:
        rejected = 0
        for bad in _BAD_VALUES:
            est = algorithms.get(name, **{param: bad})
            try:
                est.fit(*args)
            except (TypeError, ValueError) as err:
                assert str(err).startswith(f"{param} must "), (param, bad, str(err))
                rejected += 1
        assert rejected >= 2, f"{name}: {param} accepts almost anything"


@pytest.mark.parametrize(
    "value, allowed, exc, match",
    [
        (0, ("int", 1, None), ValueError, r"^p must be >= 1; got 0$"),
        (True, ("int", 1, None), TypeError, r"^p must be an integer; got True$"),
        (1.5, ("real", 0.0, 1.0, "[)"), ValueError, r"^p must be in \[0, 1\); got 1.5$"),
        ("x", ("choice", ("a", "b")), ValueError, r"^p must be one of 'a', 'b'; got 'x'$"),
        (
            1,
            ("choice", ("auto", True, False)),
            ValueError,
            r"^p must be one of 'auto', True, False; got 1$",
        ),
        ("x", ("pair",), TypeError, r"^p must be a pair \(row_labels, column_labels\); got 'x'$"),
        ("x", ("random_state",), TypeError, r"^p must be None, a non-negative int"),
        (
            0,
            [None, ("int", None, -1), ("int", 1, None)],
            ValueError,
            r"^p must be None, an integer <= -1 or an integer >= 1; got 0$",
        ),
        ("x", [None, ("int", 1, None)], TypeError, r"^p must be None or an integer >= 1; got 'x'$"),
        (
            "x",
            [("int", 1, "n_people"), ("choice", ("auto",))],
            ValueError,
            r"^p must be an integer or 'auto'; got 'x'$",
        ),
        (2, ("int", 0, 1), ValueError, r"^p must be between 0 and 1; got 2$"),
    ],
)
def test_check_param_messages(value, allowed, exc, match):
    from fastbip.algorithms._base import check_param

    with pytest.raises(exc, match=match):
        check_param(value, "p", allowed)


@pytest.mark.parametrize(
    "value, allowed",
    [
        (None, [None, ("int", 1, None)]),
        (-2, [None, ("int", None, -1), ("int", 1, None)]),
        (1.0, ("real", 0.0, 1.0, "(]")),
        (True, ("choice", ("auto", True, False))),
        ("auto", [("int", 1, "n"), ("choice", ("auto",))]),
        (10**6, ("int", 1, "n_people")),
        (np.random.default_rng(0), ("random_state",)),
        ((np.zeros(2), np.zeros(3)), [("choice", ("spectral",)), ("pair",)]),
    ],
)
def test_check_param_accepts(value, allowed):
    from fastbip.algorithms._base import check_param

    got = check_param(value, "p", allowed)
    assert got is value or got == value


@pytest.mark.parametrize(
    "labels, k, want",
    [([2, 2, 1, 1, 0], 0, 1), ([-1, -1, 3], 0, 3), ([-1], 2, 0), ([], 0, 0), ([0, 1, 1], 4, 1)],
)
def test_largest_cluster(labels, k, want):
    from fastbip.algorithms._base import largest_cluster

    assert largest_cluster(np.array(labels, dtype=np.int64), k) == want


def test_limit_threads_restores_numba_and_uses_one_thread_when_small():
    import numba
    from threadpoolctl import threadpool_info

    from fastbip.algorithms._base import limit_threads

    before = numba.get_num_threads()
    with limit_threads(10, 100, n_jobs=-1, kernels=True):
        assert numba.get_num_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info())
    assert numba.get_num_threads() == before


def test_namespace_hands_on_every_estimator():
    assert algorithms.__all__ == sorted(algorithms.__all__)
    for name in algorithms.__all__:
        assert getattr(algorithms, name) is not None
    assert algorithms.SVDKMeans is SVDKMeans and algorithms.DCSBM.__name__ == "DCSBM"


def test_cocluster_module_is_a_deprecated_alias():
    import importlib
    import sys

    sys.modules.pop("fastbip.algorithms.cocluster", None)
    with pytest.warns(DeprecationWarning, match="fastbip.algorithms.spectral"):
        cocluster = importlib.import_module("fastbip.algorithms.cocluster")
    assert cocluster.SVDKMeans is SVDKMeans


# --- scikit-learn's estimator checks on the feature clusterers -----------------------------------
# The co-clustering estimators are not run through these checks: they take a non-negative
# purchase matrix, and the checks feed arbitrary real arrays (negative values are rejected by
# design) and expect ``labels_`` rather than ``row_labels_`` / ``column_labels_``.


def _expected_failed_checks(est):
    # every check applies to these estimators and passes: nothing is skipped
    return {}


@parametrize_with_checks(
    [
        KMeans(random_state=0),
        MiniBatchKMeans(random_state=0),
        GaussianMixture(random_state=0),
        Birch(),
        Agglomerative(),
        Agglomerative(linkage="single"),
        Agglomerative(method="two-stage", n_micro=30, random_state=0),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# --- thread count ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["spectral-cocluster", "svd-kmeans", "joint-svd-kmeans"])
def test_labels_do_not_depend_on_the_thread_count(name, easy, monkeypatch):
    from threadpoolctl import threadpool_limits

    import fastbip.algorithms._base as base

    M, _ = easy
    monkeypatch.setattr(base, "SMALL_ROWS", 0)  # let scikit-learn use its threads
    runs = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            est = algorithms.get(name, n_row_clusters=3, n_col_clusters=3, random_state=4)
            runs.append(est.fit(M))
    np.testing.assert_array_equal(runs[0].row_labels_, runs[1].row_labels_)
    np.testing.assert_array_equal(runs[0].column_labels_, runs[1].column_labels_)


def test_two_stage_does_not_depend_on_the_thread_count(monkeypatch):
    from threadpoolctl import threadpool_limits

    import fastbip.algorithms._base as base

    X, _ = blobs(n=3000, k=4, seed=14)
    monkeypatch.setattr(base, "SMALL_ROWS", 0)
    runs = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            runs.append(
                Agglomerative(4, method="two-stage", n_micro=200, random_state=1).fit(X).labels_
            )
    np.testing.assert_array_equal(runs[0], runs[1])


def test_birch_with_too_few_subclusters_falls_back_to_kmeans():
    X, labels = blobs(n=200, k=3, seed=15)
    est = Birch(3, threshold=100.0).fit(X)  # one sub-cluster holds everything
    assert est.n_subclusters_ < 3
    assert ari(labels, est.labels_) >= 0.95


def test_sparse_array_input(easy):
    M, _ = easy
    a = SVDKMeans(3, 3, random_state=0).fit(sp.csr_array(M)).row_labels_
    b = SVDKMeans(3, 3, random_state=0).fit(M.tocoo()).row_labels_
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (1, 1)])
def test_spectral_coclusterers_on_a_single_row_or_column(shape):
    """One cluster a side needs no spectrum (every member in cluster 0); more clusters than
    a one-row or one-column matrix can hold a spectrum for are refused naming M."""
    M = sp.csr_matrix(np.arange(1.0, 1.0 + shape[0] * shape[1]).reshape(shape))
    for name in ("spectral-cocluster", "spectral-bicluster"):
        est = algorithms.get(name, n_row_clusters=1, n_col_clusters=1, random_state=0).fit(M)
        assert est.row_labels_.tolist() == [0] * shape[0]
        assert est.column_labels_.tolist() == [0] * shape[1]
    if shape[0] == 2:
        with pytest.raises(ValueError, match=r"M must have at least 2 people and 2 items"):
            algorithms.get(
                "spectral-bicluster", n_row_clusters=2, n_col_clusters=1, random_state=0
            ).fit(M)
