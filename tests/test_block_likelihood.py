"""The degree-corrected Poisson likelihood of a labelling (fastbip.blocks.likelihood)."""

import numpy as np
import pytest
import scipy.sparse as sp
from _planted import dense_planted
from scipy import stats

from fastbip.blocks import block_counts, estimate_omega
from fastbip.blocks.likelihood import degree_corrected_log_likelihood, profile_log_likelihood

# --- estimate_omega --------------------------------------------------------------------------


def planted(rng, n, m, omega, theta_sigma=0.5):
    d = dense_planted(rng, n, m, omega, sigma=theta_sigma)
    return d.purchases, d.truth


def test_estimate_omega_matches_brute_force_likelihood():
    rng = np.random.default_rng(2)
    omega = np.array([[400.0, 50, 30], [20, 300, 60]])
    M, truth = planted(rng, 60, 50, omega)
    a = truth.people_labels.copy()
    b = truth.item_labels.copy()
    a[:3] = -1
    b[:2] = -1
    est = estimate_omega(M, a, b)
    np.testing.assert_array_equal(est.omega, block_counts(M, a, b))
    # theta and phi sum to one within each cluster, NaN for the unassigned
    assert np.all(np.isnan(est.theta[:3])) and np.all(np.isnan(est.phi[:2]))
    np.testing.assert_allclose(np.bincount(a[3:], est.theta[3:]), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.bincount(b[2:], est.phi[2:]), 1.0, rtol=1e-12)
    # the closed form equals the sum of Poisson log-pmfs over the assigned sub-matrix
    D = M.toarray()[3:, 2:]
    lam = est.theta[3:, None] * est.phi[None, 2:] * est.omega[a[3:]][:, b[2:]]
    brute = stats.poisson.logpmf(D, lam).sum()
    assert est.log_likelihood == pytest.approx(brute, rel=1e-10)


def test_true_labels_have_higher_profile_likelihood():
    rng = np.random.default_rng(3)
    omega = np.array([[500.0, 100], [80, 450]])
    M, truth = planted(rng, 200, 150, omega)
    good = estimate_omega(M, truth.people_labels, truth.item_labels)
    shuffled = estimate_omega(M, rng.permutation(truth.people_labels), truth.item_labels)
    assert good.profile_log_likelihood > shuffled.profile_log_likelihood + 50
    assert good.log_likelihood > shuffled.log_likelihood + 50
    # the estimate is close to the planted omega (Poisson noise: a few standard deviations)
    assert np.all(np.abs(good.omega - omega) < 5 * np.sqrt(omega) + 5)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: estimate_omega(sp.csr_matrix(np.array([[1, -2], [0, 3]])), [0, 1], [0, 1]),
            ValueError,
            "M must be non-negative",
        ),
        (
            lambda: estimate_omega(sp.csr_matrix(np.eye(2)), [0, 1], [0, 1, 1]),
            ValueError,
            "column_labels must have one label per column of M",
        ),
        (
            lambda: estimate_omega(sp.csr_matrix(np.eye(2)), np.eye(2), [0, 1]),
            ValueError,
            "row_labels must be a 1-D array of cluster labels",
        ),
    ],
)
def test_estimate_omega_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_profile_log_likelihood_is_the_one_of_estimate_omega_and_dcsbm():
    from fastbip.algorithms import dcsbm

    rng = np.random.default_rng(5)
    M, truth = planted(rng, 80, 60, np.array([[300.0, 40], [30, 250]]))
    est = estimate_omega(M, truth.people_labels, truth.item_labels)
    C = est.omega
    assert dcsbm.profile_log_likelihood is profile_log_likelihood
    assert est.profile_log_likelihood == profile_log_likelihood(C)
    # sum C log C - sum R log R - sum S log S, the same quantity written another way
    xlogx = lambda x: float(np.sum(x[x > 0] * np.log(x[x > 0])))  # noqa: E731
    other = xlogx(C) - xlogx(C.sum(1)) - xlogx(C.sum(0))
    assert profile_log_likelihood(C) == pytest.approx(other, rel=1e-12)
    d = np.asarray(M.sum(axis=1)).ravel().astype(np.float64)
    e = np.asarray(M.sum(axis=0)).ravel().astype(np.float64)
    from scipy.special import gammaln

    lgf = float(gammaln(M.data.astype(np.float64) + 1.0).sum())
    assert est.log_likelihood == degree_corrected_log_likelihood(C, d, e) - lgf


def test_col_labels_keyword_and_attribute_are_deprecated_aliases():
    rng = np.random.default_rng(6)
    M, truth = planted(rng, 40, 30, np.array([[200.0, 20], [20, 200]]))
    a, b = truth.people_labels, truth.item_labels
    want = estimate_omega(M, a, b)
    with pytest.warns(DeprecationWarning, match="col_labels= is deprecated"):
        got = estimate_omega(M, a, col_labels=b)
    assert got.log_likelihood == want.log_likelihood
    with pytest.warns(DeprecationWarning, match="OmegaEstimate.col_labels is deprecated"):
        np.testing.assert_array_equal(got.col_labels, want.column_labels)


def test_log_factorial_and_xlogx_sums_do_not_depend_on_the_cut():
    from scipy.special import gammaln

    from fastbip.blocks.likelihood import term_part, term_sum

    rng = np.random.default_rng(7)
    # small counts (one counting pass) and, in a second array, values too large for it
    for x in (rng.poisson(3.0, 20_000), np.concatenate([rng.poisson(3.0, 500), [10**9, 7]])):
        for term, f in (("log_factorial", lambda v: gammaln(v + 1.0)), ("xlogx", xlogx_terms)):
            whole = term_sum([term_part(x, term)], term)
            assert whole == pytest.approx(float(np.sum(f(x.astype(float)))), rel=1e-12)
            for cuts in ([250], [1, 77, 400], list(range(10, x.size, 10))):
                pieces = np.split(x, cuts)
                assert term_sum([term_part(p, term) for p in pieces], term) == whole
            assert term_sum([term_part(x.astype(np.float64), term)], term) == whole
    # non-integer values: float sums added in order, equal within rounding
    y = rng.gamma(2.0, 1.5, 5000)
    parts = [term_part(p, "log_factorial") for p in np.split(y, [1700])]
    assert all(isinstance(p, float) for p in parts)
    ref = float(np.sum(gammaln(y + 1.0)))
    assert term_sum(parts, "log_factorial") == pytest.approx(ref, rel=1e-12)
    mixed = [term_part(np.rint(y[:1700]), "log_factorial"), parts[1]]  # one integer piece
    ref = float(np.sum(gammaln(np.rint(y[:1700]) + 1.0))) + parts[1]
    assert term_sum(mixed, "log_factorial") == pytest.approx(ref, rel=1e-12)


def xlogx_terms(v):
    v = v[v > 0]
    return v * np.log(v)


def test_estimate_omega_log_likelihood_does_not_depend_on_the_row_order():
    rng = np.random.default_rng(8)
    M, truth = planted(rng, 3000, 80, np.array([[900.0, 300], [200, 800]]) * 20)
    assert M.data.max() > 1
    a, b = truth.people_labels.copy(), truth.item_labels
    a[:5] = -1
    want = estimate_omega(M, a, b)
    perm = rng.permutation(M.shape[0])
    for X in (M[perm], M[perm].astype(np.float64)):
        got = estimate_omega(X, a[perm], b)
        assert got.log_likelihood == want.log_likelihood
        np.testing.assert_array_equal(got.theta, want.theta[perm])
