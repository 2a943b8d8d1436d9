"""Null-model statistics, the estimated relation and the SNR of the planted structure."""

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from _planted import dense_planted
from scipy import stats

from fastbip.blocks import (
    block_counts,
    block_counts_windows,
    block_stats,
    estimate_omega,
    snr,
    snr_matrix,
)

# --- block_stats against scipy.stats ---------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_chi2_and_g_match_scipy(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(2, 7, 2))
    C = rng.integers(1, 200, shape)
    s = block_stats(C)
    ref = stats.chi2_contingency(C, correction=False)
    assert s.chi2 == pytest.approx(ref.statistic, rel=1e-12)
    assert s.chi2_pvalue == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    assert s.dof == ref.dof
    np.testing.assert_allclose(s.expected, ref.expected_freq, rtol=1e-12)
    g = stats.chi2_contingency(C, correction=False, lambda_="log-likelihood")
    assert s.g == pytest.approx(g.statistic, rel=1e-12)
    assert s.g_pvalue == pytest.approx(g.pvalue, rel=1e-9, abs=1e-300)
    np.testing.assert_allclose(s.lift, C / ref.expected_freq, rtol=1e-12)
    np.testing.assert_allclose(
        s.pearson_residuals, (C - ref.expected_freq) / np.sqrt(ref.expected_freq), rtol=1e-12
    )
    assert s.cramers_v == pytest.approx(
        stats.contingency.association(C, method="cramer", correction=False), rel=1e-12
    )


def test_zero_cells_in_g_and_empty_rows_dropped():
    C = np.array([[10, 0, 5], [0, 0, 0], [3, 7, 0], [4, 4, 4]])
    s = block_stats(C)
    kept = C[[0, 2, 3]]
    ref = stats.chi2_contingency(kept, correction=False, lambda_="log-likelihood")
    assert s.g == pytest.approx(ref.statistic, rel=1e-12)
    assert s.dof == ref.dof == 4
    assert np.all(np.isnan(s.lift[1])) and np.all(s.pearson_residuals[1] == 0)
    assert np.all(np.isnan(s.cell_pvalues[1])) and not s.significant[1].any()


def test_adjusted_residuals_formula_and_null_calibration():
    C = np.array([[20, 30, 50], [40, 25, 35]])
    s = block_stats(C)
    n, r, c = C.sum(), C.sum(1), C.sum(0)
    E = np.outer(r, c) / n
    adj = (C - E) / np.sqrt(E * (1 - r / n)[:, None] * (1 - c / n)[None, :])
    np.testing.assert_allclose(s.adjusted_residuals, adj, rtol=1e-12)
    # under independence the adjusted residuals are close to N(0, 1): mean 0, variance 1
    rng = np.random.default_rng(0)
    p = np.outer([0.2, 0.3, 0.5], [0.1, 0.4, 0.25, 0.25])
    z = np.concatenate(
        [
            block_stats(rng.multinomial(5000, p.ravel()).reshape(3, 4)).adjusted_residuals.ravel()
            for _ in range(400)
        ]
    )
    assert abs(z.mean()) < 0.05  # 4800 draws: standard error 0.015
    assert abs(z.var() - 1.0) < 0.08


def test_corrections_bh_and_holm():
    rng = np.random.default_rng(1)
    C = rng.integers(20, 60, (5, 6))
    C[0, 0] += 80
    C[3, 2] = 2
    s = block_stats(C, alpha=0.05)
    p = s.cell_pvalues.ravel()
    np.testing.assert_allclose(
        s.cell_adjusted_pvalues.ravel(),
        stats.false_discovery_control(p, method="bh"),
        rtol=1e-12,
    )
    h = block_stats(C, alpha=0.05, correction="holm")
    order = np.argsort(p)
    m = p.size
    holm = np.minimum(1, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    expect = np.empty(m)
    expect[order] = holm
    np.testing.assert_allclose(h.cell_adjusted_pvalues.ravel(), expect, rtol=1e-12)
    # Holm is the more conservative; both flag the planted excess, as an excess
    assert h.significant.sum() <= s.significant.sum()
    assert s.over[0, 0] and h.over[0, 0] and s.under[3, 2]
    assert np.array_equal(s.significant, s.cell_adjusted_pvalues <= 0.05)


def test_summary_and_frame():
    C = np.array([[300, 20], [25, 280]])
    s = block_stats(C)
    text = s.summary()
    assert "chi-square" in text and "G-test" in text and "Benjamini-Hochberg" in text
    assert "cells standing out at alpha = 0.05" in text and str(s) == text
    pd = pytest.importorskip("pandas")
    df = s.to_frame()
    assert isinstance(df, pd.DataFrame) and len(df) == 4
    assert df["significant"].all()
    assert df.loc[(df.row_cluster == 0) & (df.col_cluster == 0), "observed"].item() == 300


def test_block_stats_errors():
    with pytest.raises(ValueError, match="C must be a 2-D table"):
        block_stats(np.ones(3))
    with pytest.raises(ValueError, match="C must hold finite, non-negative counts"):
        block_stats(np.array([[1, -1], [2, 3]]))
    with pytest.raises(TypeError, match="C must hold numbers"):
        block_stats(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        block_stats(np.ones((2, 2)), alpha=1.5)
    with pytest.raises(ValueError, match="correction must be one of"):
        block_stats(np.ones((2, 2)), correction="bonferroni")


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


def test_estimate_omega_errors():
    M = sp.csr_matrix(np.array([[1, -2], [0, 3]]))
    with pytest.raises(ValueError, match="M must hold non-negative counts"):
        estimate_omega(M, [0, 1], [0, 1])


# --- SNR -------------------------------------------------------------------------------------


def double_cover(n, a, b):
    """The symmetric two-block SBM (a/n, b/n) written as a bipartite model on n x n."""
    lab = np.repeat([0, 1], n // 2)
    theta = np.full(n, 2.0 / n)
    omega = np.array([[a, b], [b, a]]) * n / 4.0
    return SimpleNamespace(
        omega=omega, theta=theta, phi=theta.copy(), people_labels=lab, item_labels=lab.copy()
    )


@pytest.mark.parametrize(("a", "b"), [(5.0, 1.0), (3.0, 1.0), (10.0, 2.0), (2.0, 2.0)])
def test_snr_double_cover_closed_form(a, b):
    truth = double_cover(1000, a, b)
    assert snr(truth) == pytest.approx((a - b) ** 2 / (2 * (a + b)), rel=1e-12)


def test_snr_threshold_is_one_on_the_kesten_stigum_line():
    # (a - b)^2 = 2 (a + b) holds for a + b = 10, a - b = sqrt(20)
    a = 5 + np.sqrt(5.0)
    b = 5 - np.sqrt(5.0)
    assert snr(double_cover(400, a, b)) == pytest.approx(1.0, rel=1e-12)


def test_snr_florescu_perkins_bipartite_threshold():
    # n people, alpha n items, two equal clusters per side, edge probabilities
    # delta p (matching clusters) and (2 - delta) p: snr = (delta - 1)^2 n p sqrt(alpha)
    n, alpha, p, delta = 600, 4.0, 0.01, 1.6
    m = int(alpha * n)
    pa = np.repeat([0, 1], n // 2)
    pb = np.repeat([0, 1], m // 2)
    block = (n // 2) * (m // 2) * p
    omega = np.array([[delta, 2 - delta], [2 - delta, delta]]) * block
    truth = SimpleNamespace(
        omega=omega,
        theta=np.full(n, 2.0 / n),
        phi=np.full(m, 2.0 / m),
        people_labels=pa,
        item_labels=pb,
    )
    assert snr(truth) == pytest.approx((delta - 1) ** 2 * n * p * np.sqrt(alpha), rel=1e-12)


def test_snr_equals_singular_values_of_the_mean_matrix_with_heterogeneity():
    rng = np.random.default_rng(4)
    omega = rng.uniform(10, 200, (3, 4))
    _, truth = planted(rng, 90, 70, omega, theta_sigma=1.0)
    a, b = truth.people_labels, truth.item_labels
    P = truth.theta[:, None] * truth.phi[None, :] * omega[a][:, b]
    sv = np.linalg.svd(P, compute_uv=False)
    assert snr(truth) == pytest.approx(sv[1] ** 2 / sv[0], rel=1e-10)
    lam = np.linalg.eigvalsh(snr_matrix(truth))[::-1]
    np.testing.assert_allclose(lam, sv[:3] ** 2, rtol=1e-10)
    # heterogeneous degrees raise the first eigenvalue above the homogeneous case
    flat = SimpleNamespace(**vars(truth))
    flat.theta = 1.0 / np.bincount(a)[a]
    flat.phi = 1.0 / np.bincount(b)[b]
    assert np.linalg.eigvalsh(snr_matrix(truth))[-1] > np.linalg.eigvalsh(snr_matrix(flat))[-1]


def test_snr_single_cluster_and_errors():
    t = double_cover(10, 3.0, 1.0)
    one = SimpleNamespace(**vars(t))
    one.omega = np.array([[5.0]])
    one.people_labels = np.zeros(10, dtype=int)
    one.item_labels = np.zeros(10, dtype=int)
    assert snr(one) == 0.0
    with pytest.raises(TypeError, match="truth must have an 'omega' attribute"):
        snr(object())
    bad = SimpleNamespace(**vars(t))
    bad.people_labels = np.full(10, 3)
    with pytest.raises(ValueError, match=r"truth.people_labels must lie in -1..1"):
        snr(bad)
    bad = SimpleNamespace(**vars(t))
    bad.theta = np.ones(3)
    with pytest.raises(ValueError, match="truth.theta and truth.people_labels must be 1-D"):
        snr(bad)
    bad = SimpleNamespace(**vars(t))
    bad.omega = np.ones(3)
    with pytest.raises(ValueError, match="truth.omega must be a K_A x K_B matrix"):
        snr(bad)
    bad = SimpleNamespace(**vars(t))
    bad.phi = np.ones(4)
    with pytest.raises(ValueError, match="truth.phi and truth.item_labels must be 1-D"):
        snr(bad)
    bad = SimpleNamespace(**vars(t))
    bad.omega = -t.omega
    with pytest.raises(ValueError, match="truth.omega must hold finite, non-negative"):
        snr(bad)


# --- on data from the generator --------------------------------------------------------------


@pytest.fixture(scope="module")
def generated():
    from fastbip.dataset import generate
    from fastbip.purchases import sample_events
    from fastbip.spec import planted_spec

    ds = generate(planted_spec(3000, 800, 4, 3, mean_purchases=15.0, mixing=0.2, seed=11))
    profiles = [{"base": 1.0, "trend": t, "peaks": [], "seasonal": []} for t in (0.0, 1.0, -0.5)]
    events = sample_events(
        ds.purchases, ds.truth.item_labels, profiles, seed=5, start=0.0, end=12.0
    )
    return ds, events


def test_generated_counts_match_planted_omega(generated):
    ds, _ = generated
    t = ds.truth
    C = block_counts(ds.purchases, t.people_labels, t.item_labels)
    assert C.shape == t.omega.shape
    # Poisson block totals: sum (C - omega)^2 / omega ~ chi-square with K_A K_B dof
    dof = C.size
    x2 = float(((C - t.omega) ** 2 / t.omega).sum())
    assert x2 < dof + 6 * np.sqrt(2 * dof)
    s = block_stats(C)
    diag = np.zeros_like(s.significant)
    diag[np.arange(4), np.arange(4) % 3] = True
    assert s.over[diag].all() and not s.over[~diag].any()
    est = estimate_omega(ds.purchases, t.people_labels, t.item_labels)
    assert np.corrcoef(est.theta, t.theta)[0, 1] > 0.6


def test_generated_windows_sum_to_counts(generated):
    ds, events = generated
    t = ds.truth
    W = block_counts_windows(
        ds.purchases, events, t.people_labels, t.item_labels, np.linspace(0, 12, 5)
    )
    np.testing.assert_array_equal(
        W.sum(axis=0), block_counts(ds.purchases, t.people_labels, t.item_labels)
    )
    # item-cluster 1 buys more and more, item-cluster 2 less and less over the period
    share = W.sum(axis=1) / W.sum(axis=(0, 1))
    assert share[-1, 1] > share[0, 1] * 1.5 and share[-1, 2] < share[0, 2]


def test_snr_falls_with_mixing():
    from fastbip.dataset import generate
    from fastbip.spec import planted_spec

    values = [
        snr(generate(planted_spec(2000, 500, 3, 3, mean_purchases=10.0, mixing=m, seed=1)).truth)
        for m in (0.0, 0.5, 0.9, 1.0)
    ]
    assert values[0] > values[1] > values[2] > values[3]
    assert values[3] == pytest.approx(0.0, abs=1e-6)


def _two_block_sample(n, omega, rng):
    lab = np.repeat([0, 1], n // 2)
    rows, cols = [], []
    for k in range(2):
        for l in range(2):
            e = rng.poisson(omega[k, l])
            rows.append(rng.choice(np.flatnonzero(lab == k), e))
            cols.append(rng.choice(np.flatnonzero(lab == l), e))
    r, c = np.concatenate(rows), np.concatenate(cols)
    M = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))
    truth = SimpleNamespace(
        omega=omega,
        theta=np.full(n, 2.0 / n),
        phi=np.full(n, 2.0 / n),
        people_labels=lab,
        item_labels=lab.copy(),
    )
    return M, truth


def _regularised_spectral_split(M):
    from scipy.sparse.linalg import svds

    dr = np.asarray(M.sum(axis=1)).ravel()
    dc = np.asarray(M.sum(axis=0)).ravel()
    A = sp.diags(1 / np.sqrt(dr + dr.mean())) @ M @ sp.diags(1 / np.sqrt(dc + dc.mean()))
    u, s, _ = svds(A, k=2, random_state=0)
    v = u[:, np.argsort(s)[::-1][1]]
    return (v > np.median(v)).astype(np.int64)


@pytest.mark.slow
def test_snr_one_separates_detectable_from_not():
    # two symmetric clusters per side: below snr = 1 a spectral method finds nothing,
    # above it finds the clusters, more so as snr grows (n = 20000 per side, fixed seed)
    from fastbip.metrics import adjusted_rand

    rng = np.random.default_rng(0)
    n = 20000
    shape = np.array([[3.0, 1.0], [1.0, 3.0]])
    s0 = snr(
        SimpleNamespace(
            omega=shape,
            theta=np.full(n, 2.0 / n),
            phi=np.full(n, 2.0 / n),
            people_labels=np.repeat([0, 1], n // 2),
            item_labels=np.repeat([0, 1], n // 2),
        )
    )
    ari = {}
    for target in (0.5, 0.8, 1.5, 2.5):
        M, truth = _two_block_sample(n, shape * target / s0, rng)
        assert snr(truth) == pytest.approx(target, rel=1e-12)
        ari[target] = adjusted_rand(truth.people_labels, _regularised_spectral_split(M))
    assert abs(ari[0.5]) < 0.01 and abs(ari[0.8]) < 0.02
    assert ari[1.5] > 0.15 and ari[2.5] > 0.45 and ari[2.5] > ari[1.5]
