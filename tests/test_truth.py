"""What the planted parameters say: the SNR (closed forms, thresholds) and the oracle
(brute-force posterior on small cases, near-perfect on easy data, never beaten)."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from _memory import CAN_MEASURE, peak_during
from _planted import dense_planted, planted
from scipy import stats
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score as ari

import fastbip
from fastbip.algorithms.dcsbm import DCSBM
from fastbip.truth import oracle_labels, snr, snr_matrix


def _planted_dense(rng, n, m, omega, theta_sigma=0.5):
    d = dense_planted(rng, n, m, omega, sigma=theta_sigma)
    return d.purchases, d.truth


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
    _, truth = _planted_dense(rng, 90, 70, omega, theta_sigma=1.0)
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


def _cover_with(**changes):
    t = SimpleNamespace(**vars(double_cover(10, 3.0, 1.0)))
    for k, v in changes.items():
        setattr(t, k, v)
    return t


def test_snr_single_cluster():
    one = _cover_with(
        omega=np.array([[5.0]]), people_labels=np.zeros(10, int), item_labels=np.zeros(10, int)
    )
    assert snr(one) == 0.0


def test_truth_side_functions_take_a_truth_or_a_dataset():
    d = planted(200, 150, 3, 2, 5000, seed=4)
    assert snr(d) == snr(d.truth)
    np.testing.assert_array_equal(snr_matrix(d), snr_matrix(d.truth))


def test_old_homes_still_import():
    import fastbip
    import fastbip.blocks

    assert fastbip.blocks.snr is snr and fastbip.blocks.snr_matrix is snr_matrix
    assert fastbip.snr is snr and fastbip.oracle_labels is oracle_labels
    import importlib
    import sys

    sys.modules.pop("fastbip.oracle", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shim = importlib.import_module("fastbip.oracle")
    assert shim.oracle_labels is oracle_labels
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


# --- the oracle ------------------------------------------------------------------------------


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
    ds = fastbip.generate(
        fastbip.planted_spec(3000, 500, 3, 3, mean_purchases=30.0, seed=1, ratio=15.0)
    )
    assert ari(oracle_labels(ds), ds.truth.people_labels) > 0.9


# --- bad input -------------------------------------------------------------------------------


def _small():
    return planted(30, 20, 2, 2, 300, seed=0)


_SMALL = _small()


def _with(**changes):
    """The small dataset with some members of its truth replaced."""
    t = SimpleNamespace(**vars(_SMALL.truth))
    for k, v in changes.items():
        setattr(t, k, v)
    return SimpleNamespace(purchases=_SMALL.purchases, truth=t)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: oracle_labels(_SMALL, side="rows"), ValueError, "side must be one of"),
        (
            lambda: oracle_labels(SimpleNamespace(purchases=sp.csr_matrix((2, 2)), truth=None)),
            ValueError,
            "dataset.truth is None",
        ),
        (
            lambda: oracle_labels(
                SimpleNamespace(purchases=_SMALL.purchases.toarray(), truth=_SMALL.truth)
            ),
            TypeError,
            "dataset.purchases must be a scipy.sparse matrix",
        ),
        (
            lambda: oracle_labels(_with(people_labels=np.zeros(29, int))),
            ValueError,
            r"truth.people_labels must have length 30; got 29",
        ),
        (
            lambda: oracle_labels(_with(item_labels=np.full(20, 0.5))),
            TypeError,
            "truth.item_labels must hold integer labels",
        ),
        (
            lambda: oracle_labels(_with(people_labels=np.full(30, -1))),
            ValueError,
            "truth.people_labels must be >= 0",
        ),
        (
            lambda: oracle_labels(_with(theta=np.ones(3))),
            ValueError,
            "truth.theta and truth.people_labels must be 1-D of the same length",
        ),
        (
            lambda: oracle_labels(_with(phi=np.ones(3))),
            ValueError,
            "truth.phi and truth.item_labels must be 1-D of the same length",
        ),
        (
            lambda: oracle_labels(_with(omega=np.ones((1, 2)))),
            ValueError,
            "truth.people_labels must be < n_clusters=1",
        ),
        (
            lambda: oracle_labels(_with(omega=-np.ones((2, 2)))),
            ValueError,
            "truth.omega must hold finite, non-negative expected counts",
        ),
        # the SNR: a Truth (or alike) or a Dataset
        (lambda: snr(object()), TypeError, "truth must have an 'omega' attribute"),
        (
            lambda: snr(_cover_with(people_labels=np.full(10, 3))),
            ValueError,
            r"truth.people_labels must be < n_clusters=2; got a label 3",
        ),
        (
            lambda: snr(_cover_with(theta=np.ones(3))),
            ValueError,
            "truth.theta and truth.people_labels must be 1-D",
        ),
        (
            lambda: snr(_cover_with(omega=np.ones(3))),
            ValueError,
            "truth.omega must be a K_A x K_B matrix",
        ),
        (
            lambda: snr(_cover_with(phi=np.ones(4))),
            ValueError,
            "truth.phi and truth.item_labels must be 1-D",
        ),
        (
            lambda: snr(_cover_with(omega=-double_cover(10, 3.0, 1.0).omega)),
            ValueError,
            "truth.omega must hold finite, non-negative",
        ),
        (
            lambda: snr_matrix(SimpleNamespace(purchases=None, truth=None)),
            ValueError,
            "truth has no planted truth",
        ),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --- on data from the generator --------------------------------------------------------------


def test_snr_falls_with_mixing():
    from fastbip.generate import generate
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


def test_detectable_clusters_of_the_built_in_study_and_the_planted_family():
    ds = fastbip.generate(fastbip.default_spec(seed=0))
    # the built-in study plants 4 x 4, of which the purchases can reveal 3
    assert fastbip.detectable_clusters(ds) == {"people": 3, "items": 3}
    assert fastbip.detectable_clusters(ds.truth) == fastbip.detectable_clusters(ds)
    clear = fastbip.generate(fastbip.planted_spec(2000, 500, 3, 4, seed=0))
    assert fastbip.detectable_clusters(clear) == {"people": 3, "items": 3}
    noise = fastbip.generate(fastbip.planted_spec(2000, 500, 3, 3, mixing=0.97, seed=0))
    assert fastbip.snr(noise) < 1
    assert fastbip.detectable_clusters(noise) == {"people": 1, "items": 1}


@pytest.mark.parametrize("mixing", [0.0, 0.5, 0.8, 0.9, 0.95])
def test_two_groups_are_detectable_exactly_above_snr_one(mixing):
    ds = fastbip.generate(fastbip.planted_spec(4000, 1000, 2, 2, mixing=mixing, seed=1))
    expected = 2 if fastbip.snr(ds) > 1 else 1
    assert fastbip.detectable_clusters(ds)["people"] == expected


# --- the oracle reads the purchases in place -------------------------------------------------


def _wide_dataset(n_people, n_items, per_person, dtype, seed=5, k=4):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, k, n_people).astype(np.int32)
    b = rng.integers(0, k, n_items)
    indptr = np.arange(n_people + 1, dtype=np.int64) * per_person
    # people buy mostly from their own block, so that the oracle has something to find
    own = rng.random(n_people * per_person) < 0.6
    cols = rng.integers(0, n_items, indptr[-1])
    block_items = [np.flatnonzero(b == c) for c in range(k)]
    owner = np.repeat(a, per_person)
    for c in range(k):
        pick = own & (owner == c)
        cols[pick] = rng.choice(block_items[c], pick.sum())
    M = sp.csr_matrix(
        ((1 + rng.poisson(0.5, indptr[-1])).astype(dtype), cols.astype(np.int32), indptr),
        shape=(n_people, n_items),
    )
    M.sum_duplicates()
    omega = 1.0 + 3.0 * np.eye(k) + rng.random((k, k))
    truth = SimpleNamespace(
        omega=omega,
        theta=rng.gamma(2.0, 1.0, n_people) / n_people,
        phi=rng.gamma(2.0, 1.0, n_items) / n_items,
        people_labels=a,
        item_labels=b,
    )
    return SimpleNamespace(purchases=M, truth=truth)


def _oracle_through_profiles(d, side):
    """The oracle as it was computed before: float64 values, a dense n x K profile, the
    transposed matrix for the items."""
    from fastbip._kernels import dcsbm as kd

    M, t = d.purchases, d.truth
    omega, theta, phi = t.omega, t.theta, t.phi
    a, b = t.people_labels.astype(np.int64), t.item_labels.astype(np.int64)
    if side == "items":
        M, omega, theta, phi, a, b = M.T.tocsr(), omega.T, phi, theta, b, a
    values = M.data.astype(np.float64)
    X = kd._row_profile_csr_serial(M.indptr, M.indices, values, b, omega.shape[1])
    mass = omega @ np.bincount(b, weights=phi, minlength=omega.shape[1])
    share = np.bincount(a, minlength=omega.shape[0]) / a.size
    log_w = np.ascontiguousarray(np.log(omega))
    return kd._oracle_assign_dense_serial(X, log_w, theta, mass, np.log(share))


@pytest.mark.parametrize("dtype", [np.int32, np.float32, np.float64])
@pytest.mark.parametrize("side", ["people", "items"])
@pytest.mark.parametrize("n_people", [2_000, 150_000])  # the serial and the parallel path
def test_oracle_in_place_equals_the_profile_computation(dtype, side, n_people):
    d = _wide_dataset(n_people, 3_000, 4, dtype)
    assert (d.purchases.nnz >= 500_000) == (n_people == 150_000)
    got = oracle_labels(d, side=side)
    np.testing.assert_array_equal(got, _oracle_through_profiles(d, side))
    truth = d.truth.people_labels if side == "people" else d.truth.item_labels
    assert ari(got, truth) > 0.2  # the data carry the planted clusters (chance: 0)


@pytest.mark.skipif(not CAN_MEASURE, reason="needs Linux's peak-RSS reset")
def test_oracle_memory_is_a_small_multiple_of_the_labels():
    """2 * 10^6 people (int32 labels, int32 values), 4 x 4 clusters: the peak resident
    memory during the call, above that before it, is the int64 result plus less than the
    labels' bytes again for the people's side (about half of them measured; a dense
    people x K profile alone would be 8x the labels, a float64 copy of the values 8x more),
    and under half the purchases' bytes for the items' side (a transposed copy would be more
    than all of them)."""
    d = _wide_dataset(2_000_000, 20_000, 2, np.int32)
    for side in ("people", "items"):  # compiled outside the figure
        oracle_labels(_wide_dataset(200_000, 20_000, 3, np.int32), side)
    got, peak = peak_during(lambda: oracle_labels(d))
    label_bytes = d.truth.people_labels.nbytes
    assert peak < got.nbytes + label_bytes, (peak, got.nbytes, label_bytes)
    assert ari(got, d.truth.people_labels) > 0.2
    M = d.purchases
    got, peak = peak_during(lambda: oracle_labels(d, side="items"))
    assert peak < 0.5 * (M.data.nbytes + M.indices.nbytes + M.indptr.nbytes), peak
    assert ari(got, d.truth.item_labels) > 0.2


def test_oracle_sums_duplicate_entries_as_they_are_read():
    """A matrix with duplicate, unsorted entries gives the labels of its canonical form
    (the oracle reads it in place, no canonical copy)."""
    d = _wide_dataset(3_000, 500, 5, np.int32)
    M = d.purchases
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    half = M.data // 2  # split every value in two entries, the second before the first
    order = np.argsort(np.r_[np.arange(M.nnz) * 2 + 1, np.arange(M.nnz) * 2], kind="stable")
    r = np.r_[rows, rows][order]
    c = np.r_[M.indices, M.indices][order]
    v = np.r_[half, M.data - half][order]
    dup = sp.csr_matrix(
        (v, c, np.r_[0, np.cumsum(np.bincount(r, minlength=M.shape[0]))]), shape=M.shape
    )
    assert not dup.has_canonical_format and dup.nnz == 2 * M.nnz
    for side in ("people", "items"):
        want = oracle_labels(d, side=side)
        got = oracle_labels(SimpleNamespace(purchases=dup, truth=d.truth), side=side)
        np.testing.assert_array_equal(got, want)


# --- the expected SNR: a property of the spec ---------------------------------------------------


@pytest.mark.parametrize(
    ("degree", "closed", "rtol"),
    [
        ({"dist": "lognormal", "sigma": 0.5}, np.exp(0.25), 0.01),
        ({"dist": "lognormal", "sigma": 1.0}, np.e, 0.03),
        ({"dist": "pareto", "alpha": 5.0}, 16 / 15, 0.01),
        ({"dist": "pareto", "alpha": 3.0}, 4 / 3, 0.03),
        ({"dist": "constant"}, 1.0, 1e-12),
    ],
)
def test_degree_moment_matches_draws(degree, closed, rtol):
    """E[w^2] / E[w]^2 in closed form against 10^6 draws of draw_degrees (one cluster, so
    n * sum theta^2 is the sample ratio); pareto 3 has an infinite fourth moment, hence the
    wider tolerance."""
    from fastbip.generate import degree_moment, draw_degrees
    from fastbip.spec import DegreeSpec

    spec = DegreeSpec.from_dict(degree, "degree")
    assert degree_moment(spec) == pytest.approx(closed, rel=1e-12)
    n = 1_000_000
    theta = draw_degrees(spec, np.zeros(n, dtype=np.int64), 1, 7)
    assert n * np.sum(theta**2) == pytest.approx(closed, rel=rtol)


def test_degree_moment_is_infinite_for_pareto_alpha_at_most_two():
    from fastbip.generate import degree_moment
    from fastbip.spec import DegreeSpec

    for alpha in (0.8, 1.5, 2.0):
        assert degree_moment(DegreeSpec("pareto", alpha=alpha)) == np.inf


def test_one_spec_has_one_snr_for_every_seed():
    spec = fastbip.planted_spec(3000, 800, 3, 2, mean_purchases=6.0, mixing=0.4)
    want = snr(spec)
    realised = []
    for seed in range(4):
        ds = fastbip.generate(spec, rng=seed)
        assert snr(ds) == want and snr(ds.truth) == want
        assert fastbip.detectable_clusters(ds) == fastbip.detectable_clusters(spec)
        realised.append(snr(ds, expected=False))
    assert len(set(realised)) == 4  # the realised value moves with the draw of the degrees


@pytest.mark.parametrize(
    ("degree", "rtol"),
    [("lognormal", 0.02), ({"dist": "pareto", "alpha": 5.0}, 0.01), ("constant", 1e-9)],
)
def test_expected_snr_is_the_mean_of_realised_ones(degree, rtol):
    """30 draws of the degrees at 10^5 x 2 10^4, K = 2 (no purchases sampled): the realised
    SNR's mean is within ``rtol`` of the expected one (lognormal sigma 1: measured 0.6 %
    below, sd 2.6 % between seeds; the bias is of order 1 / n_k)."""
    from fastbip.generate import make_plan

    spec = fastbip.planted_spec(
        100_000, 20_000, 2, 2, mean_purchases=5.0, snr=1.5, activity=degree, popularity=degree
    )
    assert snr(spec) == pytest.approx(1.5, rel=1e-8)
    realised = [snr(make_plan(spec, seed).truth(), expected=False) for seed in range(30)]
    assert np.mean(realised) == pytest.approx(snr(spec), rel=rtol)


def test_expected_snr_scales_with_the_degree_moments():
    """sqrt(m_A m_B) times the SNR of constant degrees."""
    kw = {"mixing": 0.3, "mean_purchases": 4.0}
    const = {"activity": "constant", "popularity": "constant"}
    flat = snr(fastbip.planted_spec(1000, 400, 2, 3, **kw, **const))
    heavy = fastbip.planted_spec(
        1000,
        400,
        2,
        3,
        activity={"dist": "lognormal", "sigma": 0.8},
        popularity={"dist": "pareto", "alpha": 4.0},
        **kw,
    )
    assert snr(heavy) == pytest.approx(flat * np.sqrt(np.exp(0.64) * 9 / 8), rel=1e-12)
    assert snr_matrix(heavy) == pytest.approx(
        snr_matrix(fastbip.planted_spec(1000, 400, 2, 3, **kw, **const)) * np.exp(0.64) * 9 / 8
    )


def test_infinite_degree_moment_gives_an_infinite_expected_snr():
    spec = fastbip.planted_spec(
        500, 200, 2, 2, mixing=0.5, activity={"dist": "pareto", "alpha": 1.5}
    )
    assert snr(spec) == np.inf
    assert fastbip.detectable_clusters(spec) == {"people": 2, "items": 2}
    with pytest.raises(ValueError, match="infinite second moment"):
        snr_matrix(spec)
    ds = fastbip.generate(spec)
    assert 0 < snr(ds, expected=False) < np.inf
    with pytest.raises(fastbip.spec.SpecError, match="infinite"):
        fastbip.planted_spec(500, 200, 2, 2, snr=2.0, activity={"dist": "pareto", "alpha": 1.5})
    # no structure: zero, not inf x 0
    flat = fastbip.planted_spec(
        500, 200, 2, 2, mixing=1.0, activity={"dist": "pareto", "alpha": 1.5}
    )
    assert snr(flat) == 0.0


def test_expected_snr_errors_and_given_degrees():
    spec = fastbip.planted_spec(500, 200, 2, 2, mixing=0.2)
    with pytest.raises(ValueError, match="no realised SNR"):
        snr(spec, expected=False)
    with pytest.raises(TypeError, match="expected must be True or False"):
        snr(spec, expected="yes")
    # a truth with given theta and phi (no degree distribution) has one SNR: the given one
    truth = fastbip.generate(spec).truth
    given = fastbip.Truth(
        truth.omega, truth.theta, truth.phi, truth.people_labels, truth.item_labels
    )
    assert snr(given) == snr(given, expected=False) == snr(truth, expected=False)


@pytest.mark.parametrize("target", [0.8, 1.5, 3.0])
def test_planted_spec_hits_the_expected_snr(target):
    spec = fastbip.planted_spec(100_000, 20_000, 5, 5, mean_purchases=5.0, snr=target)
    assert snr(spec) == pytest.approx(target, rel=1e-8)
