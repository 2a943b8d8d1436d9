"""The oracle: brute-force posterior on small cases, near-perfect on easy data, never beaten."""

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from _planted import planted
from scipy import stats
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score as ari

from fastbip.algorithms.dcsbm import DCSBM
from fastbip.oracle import oracle_labels


def _brute_force(M, truth, side):
    """Dense posterior argmax: full Poisson log-likelihood of every row under every cluster."""
    X = M.toarray().astype(np.float64)
    omega, theta, phi = truth.omega, truth.theta, truth.phi
    a, b = truth.people_labels, truth.item_labels
    if side == "items":
        X, omega, theta, phi, a, b = X.T, omega.T, phi, theta, b, a
    k = omega.shape[0]
    share = np.bincount(a, minlength=k) / a.size
    scores = np.empty((X.shape[0], k))
    for c in range(k):
        mu = theta[:, None] * phi[None, :] * omega[c, b][None, :]
        scores[:, c] = stats.poisson.logpmf(X, mu).sum(axis=1) + np.log(share[c])
    return np.argmax(scores, axis=1), scores


@pytest.mark.parametrize("side", ["people", "items"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_posterior_two_blocks(side, seed):
    omega = np.array([[30.0, 12.0], [10.0, 25.0]]) * 20
    d = planted(
        120,
        90,
        2,
        2,
        None,
        omega=omega,
        seed=seed,
        sigma=0.8,
        people_shares=[0.6, 0.4],
        item_shares=[0.3, 0.7],
    )
    got = oracle_labels(d, side=side)
    want, scores = _brute_force(d.purchases, d.truth, side)
    top2 = np.sort(scores, axis=1)
    clear = top2[:, -1] - top2[:, -2] > 1e-9  # exact ties are broken either way
    np.testing.assert_array_equal(got[clear], want[clear])
    assert got.dtype == np.int64


def test_near_perfect_on_easy_data():
    d = planted(4000, 800, 5, 5, 200_000, ratio=20.0, seed=3)
    assert ari(oracle_labels(d), d.truth.people_labels) > 0.99
    assert ari(oracle_labels(d, side="items"), d.truth.item_labels) > 0.99


def _accuracy(found, true):
    """Fraction of members in the right cluster after the best one-to-one matching."""
    k = max(found.max(), true.max()) + 1
    table = np.zeros((k, k))
    np.add.at(table, (found, true), 1)
    r, c = linear_sum_assignment(-table)
    return table[r, c].sum() / found.size


@pytest.mark.parametrize("ratio", [3.0, 6.0])
def test_no_algorithm_beats_it(ratio):
    # the oracle maximises the expected number of members in their true cluster; averaged
    # over three planted draws no fit may do better (ARI too, with a tolerance, since the
    # oracle does not maximise ARI itself). omega is irregular so that exact ties, which any
    # rule breaks by chance, do not happen.
    acc = {"oracle": [], "fit": [], "truth start": []}
    aris = {"oracle": [], "fit": [], "truth start": []}
    omega = np.random.default_rng(0).uniform(0.5, 1.5, (4, 4)) + (ratio - 1) * np.eye(4)
    omega *= 30_000 / omega.sum()
    for seed in (8, 9, 10):
        d = planted(3000, 600, 4, 4, None, omega=omega, seed=seed)
        t = d.truth
        found = {
            "oracle": oracle_labels(d),
            "fit": DCSBM(4, 4, random_state=0).fit(d.purchases).row_labels_,
            "truth start": DCSBM(4, 4, init=(t.people_labels, t.item_labels))
            .fit(d.purchases)
            .row_labels_,
        }
        for name, lab in found.items():
            acc[name].append(_accuracy(lab, t.people_labels))
            aris[name].append(ari(lab, t.people_labels))
    for name in ("fit", "truth start"):
        assert np.mean(acc["oracle"]) >= np.mean(acc[name]), acc
        assert np.mean(aris["oracle"]) >= np.mean(aris[name]) - 0.01, aris


def test_theta_enters_the_score():
    # two clusters whose rows of omega differ in their totals only: cluster 1 expects
    # theta_i * 1000 purchases, so people with 0 or 12 purchases belong to cluster 0 even
    # though cluster 1 is twice as likely a priori (without the theta term: cluster 1)
    omega = np.array([[10.0], [1000.0]])
    truth = SimpleNamespace(
        omega=omega,
        theta=np.array([0.5, 0.5, 1.0]),
        phi=np.array([1.0]),
        people_labels=np.array([0, 1, 1]),
        item_labels=np.array([0]),
    )
    M = sp.csr_matrix(np.array([[0], [0], [12]]))
    got = oracle_labels(SimpleNamespace(purchases=M, truth=truth))
    np.testing.assert_array_equal(got, [0, 0, 0])


def test_with_generated_dataset():
    spec_mod = pytest.importorskip("fastbip.spec")
    dataset_mod = pytest.importorskip("fastbip.dataset")
    ds = dataset_mod.generate(
        spec_mod.planted_spec(3000, 500, 3, 3, mean_purchases=30.0, seed=1, ratio=15.0)
    )
    assert ari(oracle_labels(ds), ds.truth.people_labels) > 0.9


# --- bad input -------------------------------------------------------------------------------


def _small():
    return planted(30, 20, 2, 2, 300, seed=0)


def test_bad_side():
    with pytest.raises(ValueError, match="side must be one of"):
        oracle_labels(_small(), side="rows")


def test_no_truth():
    with pytest.raises(ValueError, match="dataset.truth is None"):
        oracle_labels(SimpleNamespace(purchases=sp.csr_matrix((2, 2)), truth=None))


def test_dense_purchases_rejected():
    d = _small()
    with pytest.raises(TypeError, match="dataset.purchases must be a scipy.sparse matrix"):
        oracle_labels(SimpleNamespace(purchases=d.purchases.toarray(), truth=d.truth))


@pytest.mark.parametrize(
    "field, value, exc, match",
    [
        (
            "people_labels",
            np.zeros(29, int),
            ValueError,
            r"truth.people_labels must be a 1-D array of length 30",
        ),
        ("item_labels", np.zeros(20), TypeError, "truth.item_labels must hold integers"),
        ("people_labels", np.full(30, -1), ValueError, "truth.people_labels must be >= 0"),
        ("theta", np.ones(3), ValueError, r"truth.theta must have shape \(30,\)"),
        ("phi", np.ones(3), ValueError, r"truth.phi must have shape \(20,\)"),
        ("omega", np.ones((1, 2)), ValueError, "truth.omega must be 2-D with more rows"),
        ("omega", -np.ones((2, 2)), ValueError, "truth.omega must be finite and >= 0"),
    ],
)
def test_bad_truth(field, value, exc, match):
    d = _small()
    t = SimpleNamespace(**vars(d.truth))
    setattr(t, field, value)
    with pytest.raises(exc, match=match):
        oracle_labels(SimpleNamespace(purchases=d.purchases, truth=t))
