"""fastbip.fit_spec: a planted twin of a log looks like the log.

The "log" is a generated dataset (default_spec, 1500 x 400, with time; lognormal degrees),
fitted under its own labels. Tolerances, stated once:

* degrees: two-sample KS distance <= 0.06 (people) and <= 0.15 (items: 400 of them, and a
  lognormal fitted by its CV only);
* block counts under the twin's planted labels: ``|C_twin - C_fit| <= 4 sqrt(C_fit) + 5``;
* window totals (8 equal windows): ``|W_twin - W_log| <= 4 sqrt(W_log) + 0.08 W_log``
  (the time profile is a crude histogram fit).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy.stats import ks_2samp

import fastbip

twin = importlib.import_module("fastbip.study.twin")


@pytest.fixture(scope="module")
def log_and_twin():
    ds = fastbip.generate(fastbip.default_spec(1500, 400, seed=3))
    a, b = ds.truth.people_labels, ds.truth.item_labels
    spec = fastbip.fit_spec(ds, a, b, seed=0)
    return ds, a, b, spec, fastbip.generate(spec)


def _deg(M, axis):
    return np.asarray(M.sum(axis=axis)).ravel()


def test_sizes_relation_and_features(log_and_twin):
    ds, a, b, spec, _ = log_and_twin
    assert (spec.people.n, spec.items.n) == ds.shape
    np.testing.assert_allclose(spec.people.shares, np.bincount(a) / a.size)
    np.testing.assert_allclose(spec.items.shares, np.bincount(b) / b.size)
    C = fastbip.block_counts(ds.purchases, a, b).astype(float)
    from fastbip.generate.relation import planted_omega

    omega = planted_omega(spec.relation, np.bincount(a), np.bincount(b))
    np.testing.assert_allclose(omega, C, rtol=1e-9)  # the twin's expected totals: the fit's
    age = spec.people.clusters[0].distribution("age")
    x = ds.people.columns["age"][a == 0]
    assert age.dist == "normal" and age.param("mean") == pytest.approx(x.mean())
    assert age.param("sd") == pytest.approx(x.std(ddof=1))
    pc = spec.people.clusters[1].distribution("postcode")
    codes = ds.people.columns["postcode"][a == 1]
    np.testing.assert_allclose(pc.probs, np.bincount(codes, minlength=8) / codes.size)


def test_twin_degrees_match_the_log(log_and_twin):
    ds, _, _, _, tw = log_and_twin
    assert ks_2samp(_deg(ds.purchases, 1), _deg(tw.purchases, 1)).statistic <= 0.06
    assert ks_2samp(_deg(ds.purchases, 0), _deg(tw.purchases, 0)).statistic <= 0.15


def test_twin_block_counts_within_sampling_error(log_and_twin):
    ds, a, b, _, tw = log_and_twin
    C = fastbip.block_counts(ds.purchases, a, b).astype(float)
    Ct = fastbip.block_counts(tw.purchases, tw.truth.people_labels, tw.truth.item_labels)
    assert np.all(np.abs(Ct - C) <= 4 * np.sqrt(C) + 5)


def test_twin_window_totals_alike(log_and_twin):
    ds, a, b, _, tw = log_and_twin
    stats = twin.twin_fit_stats(ds, tw, a, b)
    w, wt = (np.array(x, dtype=float) for x in stats["window_totals"])
    assert w.sum() == ds.n_purchases and wt.sum() == tw.n_purchases
    assert np.all(np.abs(wt - w) <= 4 * np.sqrt(w) + 0.08 * w)
    assert stats["block_counts_max_z"] <= 4.5


def test_degree_form_follows_the_data():
    """Pareto-tailed activity is fitted as Pareto, lognormal as lognormal."""
    for dist in ("pareto", "lognormal"):
        spec = fastbip.planted_spec(1500, 300, 2, 2, mean_purchases=20, seed=2, activity=dist)
        ds = fastbip.generate(spec)
        _, stats = twin._fit(ds, ds.truth.people_labels, ds.truth.item_labels, 0)
        assert stats["activity"]["chosen"] == dist
        assert min(stats["activity"]["ks_distance"].values()) <= 0.06


def test_twin_study_scores_algorithms(log_and_twin):
    ds, a, b, _, _ = log_and_twin
    spec, res, stats = twin.twin_study(ds, a, b, algorithms=["svd-kmeans"], random_state=0)
    # the twin has the log's features: the three oracles (purchases, features, both)
    oracles = {"oracle", "oracle-features", "oracle-joint"}
    assert {e.algorithm for e in res.entries} == oracles | {"svd-kmeans"}
    assert {e.oracle for e in res.entries if e.algorithm == "svd-kmeans"} == {"oracle"}
    for e in res.entries:
        assert 0.0 <= e.ari <= 1.0
    assert stats["degrees"]["activity"]["chosen"] in ("lognormal", "pareto")


@pytest.mark.parametrize(
    "rows, cols, exc, match",
    [
        (np.zeros(3, int), None, ValueError, "row_labels must have length 1500"),
        (-1, None, ValueError, "row_labels must be >= 0"),
        (None, np.zeros(400, float) + 0.5, TypeError, "column_labels must hold integer"),
    ],
)
def test_errors(log_and_twin, rows, cols, exc, match):
    ds, a, b, _, _ = log_and_twin
    if isinstance(rows, int):
        rows = np.where(np.arange(a.size) == 0, rows, a)
    with pytest.raises(exc, match=match):
        fastbip.fit_spec(ds, a if rows is None else rows, b if cols is None else cols)
