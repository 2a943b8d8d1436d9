import numpy as np
import pytest
from scipy import stats

from fastbip.generate.population import cluster_sizes, generate_population
from fastbip.spec import Spec, default_spec


def test_cluster_sizes_are_exact():
    sizes = cluster_sizes(1001, np.array([0.25, 0.35, 0.25, 0.15]))
    assert sizes.sum() == 1001
    assert np.all(np.abs(sizes - 1001 * np.array([0.25, 0.35, 0.25, 0.15])) < 1)


def test_labels_shares_and_shuffled_order():
    spec = default_spec(n_people=10_000, seed=1)
    p = generate_population(spec.people, "people", 7)
    counts = np.bincount(p.labels)
    assert counts.tolist() == cluster_sizes(10_000, spec.people.shares).tolist()
    # members are not stored cluster by cluster
    assert np.count_nonzero(np.diff(p.labels)) > 5000
    assert p.labels.dtype == np.int32


def test_same_seed_same_population_different_seed_differs():
    spec = default_spec(n_people=2000, seed=1).people
    a = generate_population(spec, "people", 5)
    b = generate_population(spec, "people", 5)
    c = generate_population(spec, "people", 6)
    assert a.equals(b)
    assert not a.equals(c)


def test_marginals_and_correlation_follow_the_spec():
    """Per cluster: normal feature mean/sd within 4 standard errors; the copula's correlation
    of two normal features within 0.03 (n = 40,000 per cluster, se of r ~ 0.005)."""
    d = {
        "people": {
            "n": 80_000,
            "features": [
                {"name": "a", "kind": "numeric"},
                {"name": "b", "kind": "numeric"},
                {"name": "u", "kind": "numeric"},
                {"name": "c", "kind": "categorical", "categories": ["x", "y", "z"]},
            ],
            "clusters": [
                {
                    "share": 1,
                    "correlation": [[1, 0.6, 0], [0.6, 1, 0], [0, 0, 1]],
                    "features": {
                        "a": {"dist": "normal", "mean": 5, "sd": 2},
                        "b": {"dist": "normal", "mean": -1, "sd": 0.5},
                        "u": {"dist": "uniform", "low": 2, "high": 4},
                        "c": {"dist": "categorical", "probs": [0.2, 0.3, 0.5]},
                    },
                },
                {
                    "share": 1,
                    "correlation": [[1, -0.4, 0], [-0.4, 1, 0], [0, 0, 1]],
                    "features": {
                        "a": {"dist": "lognormal", "meanlog": 0, "sdlog": 0.5},
                        "b": {"dist": "normal", "mean": 3, "sd": 1},
                        "u": {"dist": "uniform", "low": 0, "high": 1},
                        "c": {"dist": "categorical", "probs": [0.6, 0.4, 0.0]},
                    },
                },
            ],
        },
        "items": {"n": 10, "clusters": [{"share": 1}]},
        "relation": {"omega": [[1.0], [1.0]]},
    }
    spec = Spec.from_dict(d)
    p = generate_population(spec.people, "people", 11)
    c0, c1 = p.labels == 0, p.labels == 1
    a, b, u, c = (p.columns[k] for k in "abuc")
    n0 = c0.sum()
    assert abs(a[c0].mean() - 5) < 4 * 2 / np.sqrt(n0)
    assert abs(a[c0].std() - 2) < 0.05
    assert abs(np.corrcoef(a[c0], b[c0])[0, 1] - 0.6) < 0.03
    # lognormal marginal: log is normal(0, 0.5); Spearman keeps the latent rank correlation
    assert stats.kstest(np.log(a[c1]), "norm", args=(0, 0.5)).pvalue > 1e-3
    rho_s = stats.spearmanr(a[c1], b[c1]).statistic
    assert abs(rho_s - 6 / np.pi * np.arcsin(-0.4 / 2)) < 0.03
    assert stats.kstest(u[c0], "uniform", args=(2, 2)).pvalue > 1e-3
    freq0 = np.bincount(c[c0], minlength=3) / n0
    assert np.allclose(freq0, [0.2, 0.3, 0.5], atol=0.015)
    assert np.count_nonzero(c[c1] == 2) == 0


def test_feature_matrix_and_frame():
    spec = default_spec(n_people=500, seed=1)
    p = generate_population(spec.people, "people", 3)
    X = p.feature_matrix()
    # age, income, something standardised + 8 postcode columns
    assert X.shape == (500, 3 + 8)
    assert np.allclose(X[:, 0].mean(), 0) and np.allclose(X[:, 0].std(), 1)
    assert np.all(X[:, 1:9].sum(axis=1) == 1)
    pd = pytest.importorskip("pandas")
    df = p.to_frame()
    assert list(df.columns) == ["age", "postcode", "income", "something", "labels"]
    assert isinstance(df["postcode"].dtype, pd.CategoricalDtype)
    with pytest.raises(ValueError, match=r"features \['zzz'\] are not columns of people"):
        p.feature_matrix(["zzz"])
