"""Belief propagation (fastbip.algorithms.bp), its kernels, and the regularised-Laplacian
spectral co-clusterer (fastbip.algorithms.regularized)."""

from functools import cache

import numpy as np
import pytest
import scipy.sparse as sp
from _reference_bp import bp_edge_counts_ref, bp_half_sweep_ref

import fastbip
from fastbip._kernels.bp import _bp_edge_counts, _bp_half_sweep
from fastbip.algorithms.bp import BeliefPropagation, _Graph, _rates, bp_reference
from fastbip.algorithms.regularized import (
    RegularizedSpectral,
    regularization_tau,
    regularized_laplacian_embedding,
)


def _ari(true, found):
    return fastbip.score_labels(true, found)["ari"]


def _symmetric(mixing, seed, n=10_000, m=2_000, mean=5.0):
    """The symmetric two-group case: equal shares, constant activity and popularity."""
    spec = fastbip.planted_spec(
        n, m, 2, 2, mean, mixing, seed, activity="constant", popularity="constant"
    )
    return fastbip.generate(spec)


@cache
def _mixing_for(target, seed):
    """The mixing whose dataset has ``snr == target`` (bisection; snr falls with mixing)."""
    lo, hi = 0.0, 1.0
    for _ in range(25):
        mid = (lo + hi) / 2
        if fastbip.snr(_symmetric(mid, seed).truth) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# --------------------------------------------------------------------------- kernels


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(3)
    A = rng.poisson(0.8, (7, 5))
    A[0, 0] = 3  # counts above 1 take the log-sum-exp path
    A[2, 4] = 2
    M = sp.csr_matrix(A).astype(np.float64)
    ka, kb = 2, 3
    return {
        "M": M,
        "g": _Graph(M),
        "R": rng.uniform(0.5, 3.0, (ka, kb)),
        "msg_ab": rng.dirichlet(np.ones(ka), M.nnz),
        "msg_ba": rng.dirichlet(np.ones(kb), M.nnz),
        "x": rng.uniform(0.1, 1.0, 7),
        "y": rng.uniform(0.1, 1.0, 5),
        "field_a": rng.uniform(0.0, 2.0, ka),
        "field_b": rng.uniform(0.0, 2.0, kb),
        "prior_a": np.array([0.3, 0.7]),
        "prior_b": np.array([0.2, 0.3, 0.5]),
    }


@pytest.mark.parametrize("side", ["rows", "cols"])
def test_half_sweep_matches_numpy_twin(tiny, side):
    t = tiny
    g = t["g"]
    R, rel, log_rel = _rates(t["R"])
    if side == "rows":
        args = (g.indptr, g.row_edges, g.data, t["x"], t["field_a"], rel, log_rel)
        prior, msg_in, msg_out, n = t["prior_a"], t["msg_ba"], t["msg_ab"], 7
        ref = bp_half_sweep_ref(t["M"], "rows", t["x"], t["field_a"], t["R"], prior, msg_in,
                                msg_out, 0.3)  # fmt: skip
    else:
        rel_t, log_rel_t = np.ascontiguousarray(rel.T), np.ascontiguousarray(log_rel.T)
        args = (g.col_ptr, g.col_edges, g.data, t["y"], t["field_b"], rel_t, log_rel_t)
        prior, msg_in, msg_out, n = t["prior_b"], t["msg_ab"], t["msg_ba"], 5
        ref = bp_half_sweep_ref(t["M"], "cols", t["y"], t["field_b"], t["R"].T, prior, msg_in,
                                msg_out, 0.3)  # fmt: skip
    out = msg_out.copy()
    marg = np.zeros((n, prior.size))
    change = _bp_half_sweep(*args, np.log(prior), msg_in, out, marg, 0.3)
    np.testing.assert_allclose(out, ref[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(marg, ref[1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(change, ref[2], rtol=1e-12)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-13)


def test_edge_counts_match_numpy_twin(tiny):
    t = tiny
    _, _, log_rel = _rates(t["R"])
    C = _bp_edge_counts(t["g"].indptr, t["g"].data, log_rel, t["msg_ab"], t["msg_ba"])
    np.testing.assert_allclose(C, bp_edge_counts_ref(t["M"], t["R"], t["msg_ab"], t["msg_ba"]),
                               rtol=1e-12)  # fmt: skip
    assert C.sum() == pytest.approx(t["M"].sum())


def test_kernels_are_cached_and_documented():
    for k in (_bp_half_sweep, _bp_edge_counts):
        assert k.__doc__ and "float64" in k.__doc__
        assert k.targetoptions.get("nogil") is True
        assert k._cache.__class__.__name__ != "NullCache"


# --------------------------------------------------------------------------- heavy tails


@pytest.fixture(scope="module")
def heavy():
    """Lognormal activity and popularity (planted_spec's default), K = 2, snr about 3.5."""
    return fastbip.generate(fastbip.planted_spec(6_000, 1_200, 2, 2, 8.0, 0.55, seed=4))


def test_converges_with_heavy_tailed_degrees(heavy):
    assert fastbip.snr(heavy.truth) > 2.0
    est = BeliefPropagation(2, random_state=0).fit(heavy.purchases)
    assert est.converged_ and est.n_em_ < est.max_em
    ref = bp_reference(heavy, "random")
    assert ref.converged and ref.n_sweeps < 300
    np.testing.assert_allclose(est.row_marginals_.sum(axis=1), 1.0, atol=1e-12)


def test_damping_makes_it_converge_near_the_threshold():
    """snr about 1.7 with lognormal degrees: damped (0.5) EM-learned BP converges, undamped it
    keeps swinging (measured: last change about 0.8 after 5 EM steps, ARI 0)."""
    ds = fastbip.generate(fastbip.planted_spec(10_000, 2_000, 2, 2, 5.0, 0.7, seed=4))
    assert 1.2 < fastbip.snr(ds.truth) < 2.0
    damped = BeliefPropagation(2, random_state=0).fit(ds.purchases)
    assert damped.converged_
    assert _ari(ds.truth.people_labels, damped.row_labels_) > 0.03
    undamped = BeliefPropagation(2, damping=0.0, max_sweeps=60, max_em=3, random_state=0)
    undamped.fit(ds.purchases)
    assert not undamped.converged_ and undamped.last_change_ > 0.1


def test_learned_close_to_reference_and_above_spectral(heavy):
    tr = heavy.truth
    est = BeliefPropagation(2, random_state=0).fit(heavy.purchases)
    ref = bp_reference(heavy, "truth")
    spec = RegularizedSpectral(2, random_state=0).fit(heavy.purchases)
    for side, true, found, r in (
        ("people", tr.people_labels, est.row_labels_, ref.ari_people),
        ("items", tr.item_labels, est.column_labels_, ref.ari_items),
    ):
        assert _ari(true, found) > r - 0.02, side
    assert _ari(tr.item_labels, est.column_labels_) >= _ari(tr.item_labels, spec.column_labels_)


# --------------------------------------------------------------------------- clear data


def test_recovery_on_clear_data():
    ds = fastbip.generate(fastbip.planted_spec(3_000, 600, 3, 3, 40.0, 0.0, seed=2))
    tr = ds.truth
    for est in (BeliefPropagation(3, random_state=0), RegularizedSpectral(3, random_state=0)):
        est.fit(ds.purchases)
        assert _ari(tr.people_labels, est.row_labels_) > 0.9, type(est).__name__
        assert _ari(tr.item_labels, est.column_labels_) > 0.9, type(est).__name__
    ref = bp_reference(ds, "random")
    assert ref.ari_people > 0.9 and ref.ari_items > 0.9


# --------------------------------------------------------------------------- threshold


@pytest.mark.parametrize("target", [0.6, 3.0])
def test_snr_matches_the_two_group_closed_form(target):
    """Symmetric two groups, constant degrees: snr = eps^2 sqrt(c_A c_B) with
    eps = (omega_in - omega_out) / (omega_in + omega_out) and c the mean degrees."""
    ds = _symmetric(_mixing_for(target, 0), 0)
    om = ds.truth.omega
    eps = (om[0, 0] - om[0, 1]) / (om[0, 0] + om[0, 1])
    total = om.sum()
    closed = eps**2 * np.sqrt(total / ds.shape[0] * total / ds.shape[1])
    assert fastbip.snr(ds.truth) == pytest.approx(closed, rel=1e-9)
    assert fastbip.snr(ds.truth) == pytest.approx(target, rel=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_reference_across_the_threshold(seed):
    """BP with the planted parameters: ARI about 0 below the threshold (snr 0.6, |ARI| < 0.01
    from either start) and clearly positive above it (snr 3: people > 0.3, items > 0.7; on
    10,000 x 2,000 the measured values are about 0.55 and 0.93)."""
    below = _symmetric(_mixing_for(0.6, seed), seed)
    above = _symmetric(_mixing_for(3.0, seed), seed)
    for start in ("truth", "random"):
        r = bp_reference(below, start)
        assert abs(r.ari_people) < 0.01 and abs(r.ari_items) < 0.01, start
        r = bp_reference(above, start)
        assert r.ari_people > 0.3 and r.ari_items > 0.7, start
        assert r.converged


# --------------------------------------------------------------------------- determinism


def test_same_random_state_same_labels(heavy):
    M = heavy.purchases
    for make in (
        lambda: BeliefPropagation(2, random_state=5),
        lambda: RegularizedSpectral(2, random_state=5),
    ):
        a, b = make().fit(M), make().fit(M)
        np.testing.assert_array_equal(a.row_labels_, b.row_labels_)
        np.testing.assert_array_equal(a.column_labels_, b.column_labels_)
    tr = heavy.truth
    kw = dict(omega=tr.omega, theta=tr.theta, phi=tr.phi, init="random")
    a = BeliefPropagation(2, random_state=1, **kw).fit(M)
    b = BeliefPropagation(2, random_state=1, **kw).fit(M)
    np.testing.assert_array_equal(a.row_marginals_, b.row_marginals_)


# --------------------------------------------------------------------------- spectral


def test_tau_is_the_non_backtracking_radius_minus_one():
    rng = np.random.default_rng(0)
    M = sp.csr_matrix(rng.poisson(0.3, (300, 80)).astype(np.float64))
    d, e = np.asarray(M.sum(1)).ravel(), np.asarray(M.sum(0)).ravel()
    c_a, c_b = (d**2).sum() / d.sum() - 1, (e**2).sum() / e.sum() - 1
    assert regularization_tau(M) == pytest.approx(np.sqrt(c_a * c_b) - 1)
    M = M[np.diff(M.indptr) > 0][:, e > 0]
    U, V, tau = regularized_laplacian_embedding(M, 3, random_state=0)
    assert tau == pytest.approx(regularization_tau(M))
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(V, axis=1), 1.0)


def test_empty_members_get_the_largest_cluster():
    A = np.zeros((40, 12))
    A[:18, :6] = 3
    A[18:38, 6:] = 3  # rows 38, 39 and no column are empty
    A[0, 7] = 1
    for est in (RegularizedSpectral(2, random_state=0), BeliefPropagation(2, random_state=0)):
        est.fit(A)
        largest = np.argmax(np.bincount(est.row_labels_[:38]))
        assert est.row_labels_[38] == est.row_labels_[39] == largest
        assert _ari(np.r_[np.zeros(18), np.ones(20)], est.row_labels_[:38]) == 1.0


# --------------------------------------------------------------------------- bad input


_M = sp.csr_matrix(np.array([[1.0, 0, 2], [0, 3, 1], [1, 1, 0], [2, 0, 0]]))
_NEG = sp.csr_matrix(np.array([[1.0, -1.0], [0.0, 2.0]]))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: BeliefPropagation(0).fit(_M), ValueError, "n_row_clusters must be between 1"),
        (lambda: BeliefPropagation(2, 4).fit(_M), ValueError, "n_col_clusters must be between"),
        (lambda: BeliefPropagation(2).fit(_NEG), ValueError, "M must be non-negative"),
        (lambda: BeliefPropagation(2, damping=1.0).fit(_M), ValueError, "damping must be in"),
        (lambda: BeliefPropagation(2, tol=0).fit(_M), ValueError, "tol must be > 0"),
        (lambda: BeliefPropagation(2, init="bad").fit(_M), ValueError, "init must be one of"),
        (
            lambda: BeliefPropagation(2, init=([0, 1], [0, 1, 0])).fit(_M),
            ValueError,
            r"init\[0\] \(row labels\) must have length 4",
        ),
        (
            lambda: BeliefPropagation(2, omega=np.eye(2)).fit(_M),
            ValueError,
            "omega, theta and phi must be given together",
        ),
        (
            lambda: BeliefPropagation(2, omega=np.eye(3), theta=np.ones(4), phi=np.ones(3)).fit(_M),
            ValueError,
            r"omega must have shape \(n_row_clusters, n_col_clusters\)=\(2, 2\)",
        ),
        (
            lambda: BeliefPropagation(2, omega=np.eye(2), theta=np.ones(3), phi=np.ones(3)).fit(_M),
            ValueError,
            r"theta must have shape \(4,\)",
        ),
        (
            lambda: BeliefPropagation(2, row_prior=[1.0, -1.0]).fit(_M),
            ValueError,
            "row_prior must be 2 finite non-negative shares",
        ),
        (lambda: RegularizedSpectral(5).fit(_M), ValueError, "n_row_clusters must be between"),
        (lambda: RegularizedSpectral(2).fit(_NEG), ValueError, "M must be non-negative"),
        (lambda: RegularizedSpectral(2, tau="x").fit(_M), ValueError, "tau must be 'auto'"),
        (
            lambda: RegularizedSpectral(2, tau=-1.0).fit(_M),
            ValueError,
            "tau must be 'auto' or a number",
        ),
        (lambda: bp_reference(_M), TypeError, "dataset must be a fastbip.Dataset"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bad_start_names_the_choices(heavy):
    with pytest.raises(ValueError, match="start must be one of 'truth', 'random'"):
        bp_reference(heavy, "spectral")


def test_breakdown_on_structure_free_data_is_a_named_error():
    """On structure-free resamples (mixing 1, 300 x 150, K = 3) EM can drive a cluster's share
    of the beliefs to 0 (its rates 0 / 0): the fit stops with BeliefPropagationBreakdown
    naming M, not a ZeroDivisionError from the kernel or NaN labels; the other resamples
    give finite marginals (17 of 30 measured)."""
    from fastbip.algorithms.bp import BeliefPropagationBreakdown

    null = fastbip.generate(fastbip.planted_spec(300, 150, 3, 3, mean_purchases=15, mixing=1.0))
    rng = np.random.default_rng(0)
    broke = 0
    for t in range(12):
        A = null.purchases[rng.integers(0, 300, 300)]
        try:
            est = BeliefPropagation(3, 3, random_state=t).fit(A)
        except BeliefPropagationBreakdown as exc:
            assert str(exc).startswith("M: belief propagation broke down")
            broke += 1
        else:
            assert np.all(np.isfinite(est.row_marginals_))
            assert np.all(np.isfinite(est.column_marginals_))
    assert 0 < broke < 12
