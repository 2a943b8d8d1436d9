"""Statistical checks of the purchase generator against its model, with fixed seeds.

Tolerances are stated per test; each is at least 4 standard errors of the statistic, so a
correct sampler fails with probability well below 1e-4 per check (and the seeds are fixed).
"""

import numpy as np
import pytest
from scipy import integrate, stats

from fastbip.generate import (
    expected_block_totals,
    intensity,
    sample_events,
    sample_purchases,
)


def _problem(n=400, m=150, ka=3, kb=2, total=6000.0, seed=0, sigma=1.0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, ka, n)
    b = rng.integers(0, kb, m)
    theta = rng.lognormal(0.0, sigma, n)
    phi = rng.lognormal(0.0, sigma, m)
    omega = rng.uniform(0.2, 1.0, (ka, kb))
    omega *= total / omega.sum()
    theta /= np.bincount(a, weights=theta)[a]
    phi /= np.bincount(b, weights=phi)[b]
    return a, b, theta, phi, omega


def _blocks(M, a, b, ka, kb):
    return np.eye(ka)[a].T @ (M @ np.eye(kb)[b])


def test_block_totals_mean_and_poisson_variance():
    a, b, theta, phi, omega = _problem(total=3000.0)
    reps = 300
    C = np.array(
        [
            _blocks(sample_purchases(a, b, theta, phi, omega, seed=s), a, b, 3, 2)
            for s in range(reps)
        ]
    )
    mean = C.mean(axis=0)
    # mean: z-score of each block total against omega, |z| < 4.5
    z = (mean - omega) / np.sqrt(omega / reps)
    assert np.all(np.abs(z) < 4.5), z
    # variance: Poisson dispersion var/mean = 1; pooled over 6 pairs the ratio has standard
    # error ~ sqrt(2 / (6 * (reps - 1))) = 0.033, tolerance 0.15
    ratio = (C.var(axis=0, ddof=1) / omega).mean()
    assert abs(ratio - 1.0) < 0.15, ratio


def test_row_and_column_sums_are_poisson_with_the_model_means():
    a, b, theta, phi, omega = _problem(n=3000, m=800, total=60000.0, seed=1)
    M = sample_purchases(a, b, theta, phi, omega, seed=11)
    for sums, lam in (
        (np.asarray(M.sum(axis=1)).ravel(), theta * omega.sum(axis=1)[a]),
        (np.asarray(M.sum(axis=0)).ravel(), phi * omega.sum(axis=0)[b]),
    ):
        # Pearson dispersion sum (x - lam)^2 / lam ~ chi2(len): mean len, sd sqrt(2 len)
        # (plus the Poisson excess kurtosis 1/lam, small here)
        ok = lam > 0
        d = ((sums[ok] - lam[ok]) ** 2 / lam[ok]).sum()
        sd = np.sqrt((2.0 + 1.0 / lam[ok]).sum())
        assert abs(d - ok.sum()) < 4.5 * sd, (d, ok.sum(), sd)
        # the totals as a whole
        assert abs(sums.sum() - lam.sum()) < 4.5 * np.sqrt(lam.sum())


def test_degree_distribution_against_theta_by_chi_square():
    """Rows grouped by decile of expected degree: observed vs expected counts, chi-square."""
    a, b, theta, phi, omega = _problem(n=5000, m=500, total=50000.0, seed=2, sigma=1.5)
    M = sample_purchases(a, b, theta, phi, omega, seed=12)
    lam = theta * omega.sum(axis=1)[a]
    x = np.asarray(M.sum(axis=1)).ravel()
    groups = np.searchsorted(np.quantile(lam, np.linspace(0, 1, 11)[1:-1]), lam)
    obs = np.bincount(groups, weights=x, minlength=10)
    exp = np.bincount(groups, weights=lam, minlength=10)
    chi2 = ((obs - exp) ** 2 / exp).sum()
    assert stats.chi2.sf(chi2, 10) > 1e-4, chi2


def test_entries_are_poisson():
    """Counts of entries holding 1, 2, 3+ purchases vs sum over cells of the Poisson pmf."""
    a, b, theta, phi, omega = _problem(n=300, m=100, total=20000.0, seed=3)
    rate = theta[:, None] * phi[None, :] * omega[a][:, b]
    want = np.array([(rate * np.exp(-rate)).sum(), (rate**2 / 2 * np.exp(-rate)).sum()])
    want = np.append(want, (1 - np.exp(-rate) * (1 + rate + rate**2 / 2)).sum())
    reps = 20
    got = np.zeros(3)
    for s in range(reps):
        M = sample_purchases(a, b, theta, phi, omega, seed=100 + s)
        got += [(M.data == 1).sum(), (M.data == 2).sum(), (M.data >= 3).sum()]
    got /= reps
    # each is a sum of independent indicators: sd <= sqrt(want / reps)
    assert np.all(np.abs(got - want) < 4.5 * np.sqrt(want / reps) + 1), (got, want)


def test_bernoulli_never_repeats_and_matches_one_minus_exp():
    a, b, theta, phi, omega = _problem(n=300, m=100, total=20000.0, seed=4)
    rate = theta[:, None] * phi[None, :] * omega[a][:, b]
    p = -np.expm1(-rate)
    want = _blocks(p, a, b, 3, 2)
    np.testing.assert_allclose(
        expected_block_totals(a, b, theta, phi, omega, model="bernoulli"), want, rtol=1e-10
    )
    reps = 20
    got = np.zeros((3, 2))
    for s in range(reps):
        M = sample_purchases(a, b, theta, phi, omega, seed=200 + s, model="bernoulli")
        assert np.all(M.data == 1)
        got += _blocks(M, a, b, 3, 2)
    got /= reps
    sd = np.sqrt(_blocks(p * (1 - p), a, b, 3, 2) / reps)
    assert np.all(np.abs(got - want) < 4.5 * sd), (got, want)
    # the denser the cell, the closer to 1: cells with rate > 3 are almost all present
    dense = rate > 3
    M = sample_purchases(a, b, theta, phi, omega, seed=5, model="bernoulli")
    assert M.toarray()[dense].mean() > 0.9


def test_exact_totals_are_exact_and_allocation_follows_theta_phi():
    a, b, theta, phi, omega = _problem(n=500, m=200, total=30000.0, seed=5)
    omega = omega.copy()
    omega[0, 0] = 1234.5  # rounds to 1234 (np.rint: half to even)
    reps = 10
    rows = np.zeros(a.size)
    cols = np.zeros(b.size)
    for s in range(reps):
        M = sample_purchases(a, b, theta, phi, omega, seed=300 + s, model="exact")
        np.testing.assert_array_equal(_blocks(M, a, b, 3, 2), np.rint(omega))
        rows += np.asarray(M.sum(axis=1)).ravel()
        cols += np.asarray(M.sum(axis=0)).ravel()
    lam_r = reps * theta * np.rint(omega).sum(axis=1)[a]
    lam_c = reps * phi * np.rint(omega).sum(axis=0)[b]
    for x, lam in ((rows, lam_r), (cols, lam_c)):
        d = ((x - lam) ** 2 / lam).sum()  # multinomial: at most the Poisson dispersion
        assert d < x.size + 4.5 * np.sqrt(2 * x.size), (d, x.size)
        assert d > x.size - 8 * np.sqrt(2 * x.size), (d, x.size)


def test_affinity_thins_to_the_expected_block_totals():
    a, b, theta, phi, omega = _problem(n=400, m=150, total=8000.0, seed=6)
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=a.size), rng.normal(size=b.size)
    x2, y2 = rng.uniform(size=a.size), rng.uniform(size=b.size)
    aff = [(x, y, 0.8), (x2, y2, 0.5)]
    want = expected_block_totals(a, b, theta, phi, omega, affinity=aff)
    assert np.all(want < omega) and np.all(want > 0.1 * omega)
    reps = 30
    got = np.mean(
        [
            _blocks(
                sample_purchases(a, b, theta, phi, omega, seed=400 + s, affinity=aff), a, b, 3, 2
            )
            for s in range(reps)
        ],
        axis=0,
    )
    assert np.all(np.abs(got - want) < 4.5 * np.sqrt(want / reps)), (got, want)
    # purchases concentrate on close pairs: mean |x - y| over purchases is below the average
    M = sample_purchases(a, b, theta, phi, omega, seed=7, affinity=[(x, y, 0.3)])
    r = np.repeat(np.arange(a.size), np.diff(M.indptr))
    assert np.abs(x[r] - y[M.indices]).mean() < 0.5 * np.abs(x[:, None] - y[None, :]).mean()


@pytest.mark.parametrize("cluster", [0, 1, 2])
def test_event_times_follow_the_profile_ks(cluster):
    profiles = [
        {"base": 1.0, "trend": 2.0},
        {
            "base": 0.1,
            "peaks": [
                {"center": 30.0, "width": 3.0, "height": 2.0},
                {"center": 80.0, "width": 6.0, "height": 1.0},
            ],
        },
        {
            "base": 1.0,
            "trend": -0.5,
            "seasonal": [{"period": 14.0, "amplitude": 3.0, "phase": 2.0}],
        },
    ]
    a, b, theta, phi, omega = _problem(n=400, m=150, ka=3, kb=3, total=30000.0, seed=8)
    M = sample_purchases(a, b, theta, phi, omega, seed=8)
    E = sample_events(M, b, profiles, seed=9, start=5.0, end=105.0)
    t = E.times[np.repeat(b[M.indices], M.data) == cluster]
    assert t.size > 5000
    grid = np.linspace(5.0, 105.0, 200001)
    cdf = integrate.cumulative_trapezoid(
        intensity(grid, profiles[cluster], 5.0, 105.0), grid, initial=0.0
    )
    cdf /= cdf[-1]
    res = stats.kstest(t, lambda s: np.interp(s, grid, cdf))
    assert res.pvalue > 1e-4, res


def test_window_counts_match_the_profile_mass():
    profiles = [{"base": 1.0, "peaks": [{"center": 20.0, "width": 2.0, "height": 10.0}]}]
    a, b, theta, phi, omega = _problem(n=300, m=100, ka=2, kb=1, total=20000.0, seed=10)
    M = sample_purchases(a, b, theta, phi, omega, seed=10)
    E = sample_events(M, b, profiles, seed=10, start=0.0, end=50.0)
    W = E.window(M, 15.0, 25.0)
    grid = np.linspace(0.0, 50.0, 100001)
    f = intensity(grid, profiles[0], 0.0, 50.0)
    inside = (grid >= 15.0) & (grid <= 25.0)
    p = integrate.trapezoid(f[inside], grid[inside]) / integrate.trapezoid(f, grid)
    n = M.data.sum()
    assert abs(W.data.sum() - p * n) < 4.5 * np.sqrt(n * p * (1 - p))
