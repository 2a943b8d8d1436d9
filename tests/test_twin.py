"""fastbip.fit_spec: a planted twin of a log looks like the log.

The "log" is a generated dataset (default_spec, 1500 x 400, with time; lognormal degrees),
fitted under its own labels. Tolerances, stated once:

* degrees: two-sample KS distance <= 0.06 (people) and <= 0.15 (items: 400 of them, and a
  lognormal fitted by its CV only);
* block counts under the twin's planted labels: ``|C_twin - C_fit| <= 4 sqrt(C_fit) + 5``;
* window totals (8 equal windows): ``|W_twin - W_log| / sqrt(W_log) < 4`` per window (the
  twin's profiles are the log's histograms, so only sampling error is left: a window total
  is a sum of Poisson counts, its z about standard normal).
"""

from __future__ import annotations

import dataclasses
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
    assert np.all(np.abs(wt - w) / np.sqrt(w) < 4)
    assert stats["window_totals_max_z"] == pytest.approx(np.max(np.abs(wt - w) / np.sqrt(w)))
    assert stats["block_counts_max_z"] <= 4.5


def test_twin_window_totals_of_a_bursty_log_read_from_csv(tmp_path):
    """A log whose item-clusters buy in short bursts (the shape a smooth profile misses),
    written as a CSV log and read back: the twin's window totals within |z| < 4 over the
    8 equal windows, with the default 128 bins and with bins given as edges (the 8 windows'
    edges and a few more inside them; windows must be unions of bins)."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from fastbip.spec import Peak, TimeProfile, TimeSpec

    spec = fastbip.planted_spec(800, 200, 2, 3, mean_purchases=25, seed=4)
    bursts = (
        TimeProfile(base=0.05, peaks=(Peak(10, 0.5, 5), Peak(61, 1, 3))),
        TimeProfile(base=0.0, peaks=(Peak(33, 0.3, 1),)),
        TimeProfile(trend=-1.0),
    )
    ds = fastbip.generate(dataclasses.replace(spec, time=TimeSpec(0.0, 90.0, bursts)))
    M = ds.purchases
    cnt = np.diff(ds.events.offsets)
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    log = pd.DataFrame(
        {
            "p": np.repeat(rows, cnt),
            "i": np.repeat(M.indices, cnt),
            "t": pd.Timestamp("2025-03-01") + pd.to_timedelta(ds.events.times, unit="D"),
        }
    )
    log.to_csv(tmp_path / "log.csv", index=False)
    real = fastbip.read_log(tmp_path / "log.csv", person="p", item="i", time="t")
    pos_p = {v: k for k, v in enumerate(range(M.shape[0]))}
    a = ds.truth.people_labels[[pos_p[int(x)] for x in real.people.ids]]
    b = ds.truth.item_labels[[int(x) for x in real.items.ids]]
    times = real.events.times
    eight = np.linspace(times.min(), np.nextafter(times.max(), np.inf), 9)
    for bins in (128, np.union1d(eight, times.min() + np.array([9.5, 10.5, 32.5, 33.5]))):
        spec_t = fastbip.fit_spec(real, a, b, seed=1, time_bins=bins)
        prof = spec_t.time.profiles[1]
        assert prof.base == 0.0 and prof.histogram is not None
        assert len(prof.histogram.levels) == (128 if np.ndim(bins) == 0 else 12)
        tw = fastbip.generate(spec_t)
        stats = twin.twin_fit_stats(real, tw, a, b)
        w, wt = (np.array(x, dtype=float) for x in stats["window_totals"])
        assert np.all(np.abs(wt - w) / np.sqrt(w) < 4), (bins, w, wt)
    # the twin's time profile of the 0.3-day burst: its mass is where the log's is
    h = prof.histogram
    burst = np.argmax(h.levels)
    assert h.edges[burst] <= times.min() + 33 < h.edges[burst + 1]


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
