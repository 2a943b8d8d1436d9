"""Degree-corrected bipartite block-model fit: kernels against numpy twins, recovery of planted
clusters, likelihood bookkeeping, determinism, edge cases, choosing K and bad input."""

import os
import subprocess
import sys

import _reference as ref
import numpy as np
import pytest
import scipy.sparse as sp
from _planted import planted
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score as ari
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastbip._kernels import dcsbm as K
from fastbip.algorithms.dcsbm import DCSBM, profile_log_likelihood, select_k
from fastbip.truth import oracle_labels


def _random_csr(rng, n, m, density=0.1, dtype=np.int64, empty_rows=(), empty_cols=()):
    M = sp.random(
        n,
        m,
        density=density,
        random_state=rng,
        format="csr",
        data_rvs=lambda s: rng.integers(1, 5, s),
    ).astype(dtype)
    M = M.tolil()
    for i in empty_rows:
        M[i, :] = 0
    for j in empty_cols:
        M[:, j] = 0
    M = M.tocsr()
    M.eliminate_zeros()
    return M


def _labels(rng, n, k, with_missing=False):
    lab = rng.integers(0, k, n)
    if with_missing:
        lab[rng.random(n) < 0.1] = -1
    return lab.astype(np.int64)


# --- kernels against their numpy twins -------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_kernels_match_reference(seed, index_dtype):
    rng = np.random.default_rng(seed)
    n, m, ka, kb = 57, 43, 4, 3
    M = _random_csr(rng, n, m, empty_rows=(0, 5), empty_cols=(2,))
    indptr, indices = M.indptr.astype(index_dtype), M.indices.astype(index_dtype)
    data = M.data.astype(np.float64)
    _labels(rng, n, ka, with_missing=True)  # row labels, drawn so the draws below stay put
    b = _labels(rng, m, kb, with_missing=True)
    X = K._row_profile_csr(indptr, indices, data, b, kb)
    np.testing.assert_array_equal(X, ref.dcsbm_profile_counts(M, b, kb))
    log_p = np.log(rng.dirichlet(np.ones(kb), ka))
    got, C_new = K._hard_assign_rows_csr(indptr, indices, data, b, log_p, 2)
    want = ref.dcsbm_hard_sweep(M, b, log_p, 2)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(C_new, ref.block_counts_ref(M, want, b, ka, kb))
    R = rng.dirichlet(np.ones(kb), m)
    Xs = K._row_soft_profile_csr(indptr, indices, data, R)
    np.testing.assert_allclose(Xs, ref.dcsbm_soft_profile(M, R), rtol=1e-12, atol=1e-12)
    log_prior = np.log(rng.dirichlet(np.ones(ka)))
    out = np.empty(n, dtype=np.int64)
    Q = K._soft_assign_dense(Xs, log_p, log_prior, out)
    Q_ref, lab_ref = ref.dcsbm_soft_assign(Xs, log_p, log_prior)
    np.testing.assert_allclose(Q, Q_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(out, lab_ref)
    np.testing.assert_allclose(K._transpose_product_dense(Q, Xs), Q.T @ Xs, rtol=1e-12)
    weight = rng.random(n)
    mass = rng.random(ka) * 10
    got = K._oracle_assign_dense(X, log_p, weight, mass, log_prior)
    np.testing.assert_array_equal(got, ref.dcsbm_oracle_assign(X, log_p, weight, mass, log_prior))


# --- recovery --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def easy():
    # 4 x 3 clusters, every row cluster with its own profile over the item clusters
    omega = np.ones((4, 3))
    omega[[0, 1, 2, 3, 3], [0, 1, 2, 0, 1]] = 10.0
    omega *= 60_000 / omega.sum()
    return planted(3000, 600, 4, 3, 60_000, omega=omega, seed=3)


def test_recovers_planted_clusters(easy):
    est = DCSBM(4, 3, random_state=0).fit(easy.purchases)
    oracle = ari(oracle_labels(easy), easy.truth.people_labels)
    got = ari(est.row_labels_, easy.truth.people_labels)
    assert oracle > 0.9
    assert got >= 0.95 * oracle
    assert ari(est.column_labels_, easy.truth.item_labels) > 0.99


def test_omega_and_likelihood_consistent_with_labels(easy):
    M = easy.purchases
    est = DCSBM(4, 3, random_state=1).fit(M)
    C = ref.block_counts_ref(M, est.row_labels_, est.column_labels_, 4, 3)
    np.testing.assert_array_equal(est.omega_, C)
    assert est.omega_.sum() == M.sum()
    R, S = C.sum(1, keepdims=True), C.sum(0, keepdims=True)
    nz = C > 0
    expected = np.sum(C[nz] * np.log(C[nz] / (R * S)[nz]))
    assert est.log_likelihood_ == pytest.approx(expected, rel=1e-12)
    assert profile_log_likelihood(C) == pytest.approx(expected, rel=1e-12)
    assert est.n_iter_ >= 1
    assert est.row_labels_.dtype == np.int64 and est.column_labels_.dtype == np.int64


def test_fit_beats_truth_start_likelihood_or_matches(easy):
    # the truth as a start is the fair ceiling: the spectral start gets within 0.1% of its L
    M = easy.purchases
    t = easy.truth
    ceil = DCSBM(4, 3, init=(t.people_labels, t.item_labels)).fit(M)
    est = DCSBM(4, 3, random_state=0).fit(M)
    assert est.log_likelihood_ >= ceil.log_likelihood_ - 1e-3 * abs(ceil.log_likelihood_)


def test_sweeps_never_lower_the_likelihood():
    d = planted(2000, 400, 3, 3, 30_000, ratio=4.0, seed=5)
    rng = np.random.default_rng(0)
    a0, b0 = _labels(rng, 2000, 3), _labels(rng, 400, 3)
    C0 = ref.block_counts_ref(d.purchases, a0, b0, 3, 3)
    est = DCSBM(3, 3, init=(a0, b0), soft_sweeps=0, max_sweeps=5).fit(d.purchases)
    assert est.log_likelihood_ >= profile_log_likelihood(C0)


def test_soft_sweeps_and_truth_init(easy):
    t = easy.truth
    est = DCSBM(4, 3, init=(t.people_labels, t.item_labels), soft_sweeps=3).fit(easy.purchases)
    assert ari(est.row_labels_, t.people_labels) > 0.9
    annealed = DCSBM(4, 3, init=(t.people_labels, t.item_labels), soft_sweeps=6, soft_beta=0.8).fit(
        easy.purchases
    )
    assert ari(annealed.row_labels_, t.people_labels) > 0.9
    # unassigned (-1) members in the start are placed by the first sweep
    a0 = t.people_labels.astype(np.int64).copy()
    a0[::7] = -1
    est = DCSBM(4, 3, init=(a0, t.item_labels), soft_sweeps=0).fit(easy.purchases)
    assert est.row_labels_.min() >= 0
    assert ari(est.row_labels_, t.people_labels) > 0.9


def test_same_seed_same_result_and_dense_input(easy):
    M = easy.purchases[:800]
    e1 = DCSBM(4, 3, random_state=5).fit(M)
    e2 = DCSBM(4, 3, random_state=5).fit(M)
    np.testing.assert_array_equal(e1.row_labels_, e2.row_labels_)
    np.testing.assert_array_equal(e1.column_labels_, e2.column_labels_)
    e3 = DCSBM(4, 3, random_state=5).fit(M.toarray())
    np.testing.assert_array_equal(e1.row_labels_, e3.row_labels_)
    # float data with the same values gives the same fit
    e4 = DCSBM(4, 3, random_state=5).fit(M.astype(np.float32))
    np.testing.assert_array_equal(e1.column_labels_, e4.column_labels_)


_THREADS_SCRIPT = """
import numpy as np, sys
sys.path.insert(0, {root!r})
from tests._planted import planted
import fastbip.algorithms.dcsbm as D
from fastbip.algorithms.dcsbm import DCSBM
D._PARALLEL_MIN_NNZ = 0  # force the parallel kernels on this small matrix
d = planted(2000, 500, 3, 3, 20000, ratio=4.0, seed=11)  # Lanczos path (> 400 a side)
e = DCSBM(3, 3, random_state=3, n_init=1, soft_sweeps=2, max_sweeps=10, n_jobs=-1)
e.fit(d.purchases)
import numba, hashlib
print(numba.get_num_threads(), e.log_likelihood_.hex(),
      hashlib.sha1(e.row_labels_.tobytes() + e.column_labels_.tobytes()).hexdigest())
"""


def test_bit_identical_whatever_the_thread_count():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outs = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        res = subprocess.run(
            [sys.executable, "-c", _THREADS_SCRIPT.format(root=root)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stderr
        threads_used, rest = res.stdout.strip().split(" ", 1)
        assert threads_used == threads
        outs.append(rest)
    assert outs[0] == outs[1]


def test_empty_rows_and_columns_get_a_real_label():
    d = planted(1500, 300, 3, 3, 20_000, ratio=10.0, seed=2)
    M = d.purchases.tolil()
    M[[0, 10, 20], :] = 0
    M[:, [1, 2]] = 0
    M = M.tocsr()
    M.eliminate_zeros()
    est = DCSBM(3, 3, random_state=0).fit(M)
    assert np.all(np.isfinite(est.omega_)) and np.isfinite(est.log_likelihood_)
    live = np.diff(M.indptr) > 0
    largest = np.argmax(np.bincount(est.row_labels_[live], minlength=3))
    assert np.all(est.row_labels_[~live] == largest)
    live_c = np.bincount(M.indices, minlength=300) > 0
    largest_c = np.argmax(np.bincount(est.column_labels_[live_c], minlength=3))
    assert np.all(est.column_labels_[~live_c] == largest_c)


def test_all_empty_and_single_cluster():
    M = sp.csr_matrix((5, 4), dtype=np.int64)
    est = DCSBM(2, 2, random_state=0).fit(M)
    assert est.row_labels_.shape == (5,) and est.column_labels_.shape == (4,)
    assert est.row_labels_.min() >= 0 and est.log_likelihood_ == 0.0
    d = planted(300, 80, 2, 2, 3000, seed=1)
    est = DCSBM(1, 1, random_state=0).fit(d.purchases)
    assert np.all(est.row_labels_ == 0) and np.all(est.column_labels_ == 0)
    assert est.omega_[0, 0] == d.purchases.sum()


@parametrize_with_checks(
    [DCSBM(2, 1, n_init=1, random_state=0)],
    expected_failed_checks=lambda est: {
        "check_complex_data": "complex input is a TypeError naming M (project rule), not "
        "scikit-learn's ValueError",
        "check_estimators_empty_data_messages": "the message names M and its shape in the "
        "project's wording",
        "check_fit2d_1sample": "the message says n_row_clusters must be between 1 and "
        "n_people=1, not scikit-learn's wording",
    },
)
def test_sklearn_checks(estimator, check):
    # the estimator is tagged positive_only (purchase counts), so the checks feed it
    # non-negative data; 2 x 1 clusters so that their 2-feature matrices are valid
    check(estimator)


def test_sklearn_estimator_contract(easy):
    est = DCSBM(4, 3, n_init=2, random_state=0)
    c = clone(est)
    assert c.get_params() == est.get_params()
    assert not hasattr(c, "row_labels_")
    labels = DCSBM(4, 3, random_state=0).fit_predict(easy.purchases)
    np.testing.assert_array_equal(labels, est.fit(easy.purchases).row_labels_)


def test_registry_lists_dcsbm():
    algorithms = pytest.importorskip("fastbip.algorithms")
    if "dcsbm" not in getattr(algorithms, "names", lambda: [])():
        pytest.skip("the registry does not list dcsbm yet")
    est = algorithms.get("dcsbm", n_row_clusters=2, n_col_clusters=2, random_state=0)
    assert isinstance(est, DCSBM)


# --- choosing K ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_by_four():
    omega = np.ones((3, 4))
    omega[[0, 1, 2, 0], [0, 1, 2, 3]] = 12.0
    omega[1, 3] = 12.0
    omega *= 40_000 / omega.sum()
    return planted(2000, 600, 3, 4, 40_000, omega=omega, seed=4)


@pytest.mark.parametrize("criterion", ["icl", "mdl"])
def test_select_k_finds_planted(three_by_four, criterion):
    (ka, kb), table = select_k(
        three_by_four.purchases,
        range(2, 6),
        range(2, 6),
        criterion=criterion,
        n_init=2,
        random_state=0,
    )
    assert (ka, kb) == (3, 4)
    assert table.shape == (4, 4) and np.all(np.isfinite(table))
    best = table.max() if criterion == "icl" else table.min()
    assert table[1, 2] == best


def test_auto_uses_select_k(three_by_four):
    est = DCSBM("auto", "auto", k_max=5, n_init=2, random_state=0).fit(three_by_four.purchases)
    assert (est.n_row_clusters_, est.n_col_clusters_) == (3, 4)
    assert ari(est.row_labels_, three_by_four.truth.people_labels) > 0.9
    assert est.omega_.shape == (3, 4)
    one_side = DCSBM("auto", 4, k_max=5, n_init=2, random_state=0).fit(three_by_four.purchases)
    assert (one_side.n_row_clusters_, one_side.n_col_clusters_) == (3, 4)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "M, exc, match",
    [
        (np.array([[1, -1], [0, 2]]), ValueError, "M must be non-negative"),
        (np.array([[1.0, np.nan], [0, 2]]), ValueError, "M must be finite"),
        (np.ones((2, 2, 2)), ValueError, "M must be 2-D"),
        (np.array([["a", "b"]]), TypeError, "M must hold numbers"),
        (np.array([[1, "b"]], dtype=object), TypeError, "M must hold numbers; got dtype object"),
        (np.array([[1 + 1j, 0]]), TypeError, "M must hold real numbers"),
        (np.zeros((0, 3)), ValueError, "at least one row and one column"),
    ],
)
def test_bad_matrix(M, exc, match):
    with pytest.raises(exc, match=match):
        DCSBM(1, 1).fit(M)


@pytest.mark.parametrize(
    "params, exc, match",
    [
        (dict(n_row_clusters=0), ValueError, r"n_row_clusters must be between 1 and n_people=6"),
        (dict(n_col_clusters=9), ValueError, r"n_col_clusters must be between 1 and n_items=5"),
        (
            dict(n_row_clusters=2.5),
            TypeError,
            "n_row_clusters must be an integer or 'auto'; got 2.5",
        ),
        (dict(n_row_clusters="many"), TypeError, "n_row_clusters must be an integer or 'auto'"),
        (dict(n_init=0), ValueError, r"n_init must be >= 1; got 0"),
        (dict(max_sweeps=0), ValueError, r"max_sweeps must be >= 1; got 0"),
        (dict(soft_sweeps=-1), ValueError, r"soft_sweeps must be >= 0; got -1"),
        (dict(tol=-1.0), ValueError, r"tol must be >= 0; got -1.0"),
        (dict(soft_beta=0.0), ValueError, r"soft_beta must be in \(0, 1\]; got 0.0"),
        (
            dict(n_jobs=0),
            ValueError,
            r"n_jobs must be None, an integer <= -1 or an integer >= 1; got 0",
        ),
        (
            dict(init="random"),
            ValueError,
            r"init must be 'spectral' or a pair \(row_labels, column_labels\); got 'random'",
        ),
        (
            dict(init=(np.zeros(3, int), np.zeros(5, int))),
            ValueError,
            "init row labels must be a 1-D array of length 6",
        ),
        (dict(init=(np.zeros(6), np.zeros(5, int))), TypeError, "init row labels must be integers"),
        (
            dict(init=(np.zeros(6, int), np.full(5, -2))),
            ValueError,
            "init column labels must be >= -1",
        ),
        (
            dict(init=(np.full(6, 3), np.zeros(5, int))),
            ValueError,
            "init labels must be below n_row_clusters=2",
        ),
        (
            dict(n_row_clusters="auto", n_col_clusters="auto", criterion="aic"),
            ValueError,
            "criterion must be one of 'icl', 'mdl'; got 'aic'",
        ),
        (
            dict(n_row_clusters="auto", n_col_clusters="auto", k_max=0),
            ValueError,
            r"k_max must be >= 1; got 0",
        ),
    ],
)
def test_bad_parameters(params, exc, match):
    M = sp.random(6, 5, density=0.5, random_state=0, format="csr")
    kw = dict(n_row_clusters=2, n_col_clusters=2)
    kw.update(params)
    with pytest.raises(exc, match=match):
        DCSBM(**kw).fit(M)


def test_select_k_bad_input():
    M = sp.random(6, 5, density=0.5, random_state=0, format="csr")
    with pytest.raises(ValueError, match="criterion must be one of"):
        select_k(M, [1, 2], [1, 2], criterion="bic")
    with pytest.raises(ValueError, match="must not be empty"):
        select_k(M, [], [1])
    with pytest.raises(ValueError, match=r"k_range_rows values must be between 1 and n_people=6"):
        select_k(M, [7], [1])


# --- near the detection threshold: belief propagation -------------------------------------


def _near(k, snr, seed=0, n=6000, m=1500, mean=5.0):
    import fastbip

    return fastbip.generate(fastbip.planted_spec(n, m, k, k, mean, seed=seed, snr=snr))


def _aris(ds, est):
    t = ds.truth
    return ari(t.people_labels, est.row_labels_), ari(t.item_labels, est.column_labels_)


@pytest.mark.slow
def test_near_the_threshold_bp_beats_the_sweeps_and_the_regularised_spectral_labels():
    """K = 3, snr 2.5, 6000 x 1500, mean 5 (seed 0): the detectability ratio is below 1.2,
    the labels come from belief propagation, and they beat the sweeps' (refine=None) and the
    regularised-Laplacian spectral labels on both sides (measured 0.124 / 0.301 against
    0.079 / 0.199 and 0.081 / 0.180)."""
    from fastbip.algorithms import get

    ds = _near(3, 2.5)
    auto = DCSBM(3, 3, random_state=0).fit(ds.purchases)
    none = DCSBM(3, 3, random_state=0, refine=None).fit(ds.purchases)
    reg = get("regularized-spectral", n_row_clusters=3, n_col_clusters=3, random_state=0)
    reg.fit(ds.purchases)
    assert 1.0 < auto.detectability_ < 1.2 and auto.refined_ and not none.refined_
    assert none.detectability_ == auto.detectability_
    got, sweeps, spectral = _aris(ds, auto), _aris(ds, none), _aris(ds, reg)
    for side in (0, 1):
        assert got[side] > 1.2 * max(sweeps[side], spectral[side])
    # omega_ and the likelihood are those of the labels returned
    assert auto.omega_.sum() == ds.purchases.sum()
    assert auto.log_likelihood_ == pytest.approx(profile_log_likelihood(auto.omega_))


def test_clear_data_keep_the_sweeps_labels():
    """Far above the threshold the ratio is well above 1.2: refine='auto' changes nothing."""
    ds = _near(3, 12.0, n=3000, m=600)
    auto = DCSBM(3, 3, random_state=0).fit(ds.purchases)
    none = DCSBM(3, 3, random_state=0, refine=None).fit(ds.purchases)
    assert auto.detectability_ > 1.5 and not auto.refined_
    assert np.array_equal(auto.row_labels_, none.row_labels_)
    assert np.array_equal(auto.column_labels_, none.column_labels_)


def test_detectability_ratio_rises_with_the_snr_and_is_inf_without_a_spectrum():
    ratios = [
        DCSBM(2, 2, random_state=0, refine=None).fit(_near(2, s, n=4000, m=1000).purchases)
        for s in (1.0, 3.0, 10.0)
    ]
    r = [e.detectability_ for e in ratios]
    assert 0.95 < r[0] < r[1] < r[2] and r[0] < 1.1 and r[2] > 1.5
    ds = _near(2, 1.5, n=2000, m=500)
    given = DCSBM(2, 2, init=(ds.truth.people_labels, ds.truth.item_labels)).fit(ds.purchases)
    assert given.detectability_ == np.inf and not given.refined_
    single = DCSBM(1, 2, random_state=0).fit(ds.purchases)
    assert not single.refined_


def test_refine_bp_always_and_bad_refine():
    ds = _near(2, 12.0, n=2000, m=500)
    est = DCSBM(2, 2, random_state=0, refine="bp").fit(ds.purchases)
    assert est.refined_ and est.detectability_ > 1.2
    assert min(_aris(ds, est)) > 0.3
    with pytest.raises(ValueError, match="refine must be None or one of 'auto', 'bp'"):
        DCSBM(2, 2, refine="belief").fit(ds.purchases)


def test_structure_free_data_fall_back_to_the_sweeps_when_bp_breaks_down():
    """On structure-free resamples (mixing 1, 300 x 150, K = 3) belief propagation's messages
    can all vanish; the fit then keeps the sweeps' labels instead of failing."""
    import fastbip

    null = fastbip.generate(fastbip.planted_spec(300, 150, 3, 3, mean_purchases=15, mixing=1.0))
    rng = np.random.default_rng(0)
    refined = []
    for t in range(10):
        A = null.purchases[rng.integers(0, 300, 300)]
        est = DCSBM(3, 3, random_state=t, refine="bp").fit(A)
        if not est.refined_:
            none = DCSBM(3, 3, random_state=t, refine=None).fit(A)
            assert np.array_equal(est.row_labels_, none.row_labels_)
            assert np.array_equal(est.column_labels_, none.column_labels_)
        refined.append(est.refined_)
    assert 0 < sum(refined) < 10  # BP's messages vanished on some of these (13 of 30 measured)
