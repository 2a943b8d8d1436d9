"""Null-model statistics of block-count tables, and the block tables of generated data."""

import numpy as np
import pytest
from scipy import stats

from fastbip.blocks import block_counts, block_counts_windows, block_stats, estimate_omega

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


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: block_stats(np.ones(3)), ValueError, "C must be a 2-D table"),
        (
            lambda: block_stats(np.array([[1, -1], [2, 3]])),
            ValueError,
            "C must hold finite, non-negative counts",
        ),
        (lambda: block_stats(np.array([["a", "b"], ["c", "d"]])), TypeError, "C must hold numbers"),
        (lambda: block_stats(np.ones((2, 2)), alpha=1.5), ValueError, r"alpha must be in \(0, 1\)"),
        (
            lambda: block_stats(np.ones((2, 2)), correction="bonferroni"),
            ValueError,
            "correction must be one of",
        ),
    ],
)
def test_block_stats_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --- on data from the generator --------------------------------------------------------------


@pytest.fixture(scope="module")
def generated():
    from fastbip.generate import generate
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
