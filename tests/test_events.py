"""fastbip.generate.events (sample_events, Events, intensity): alignment, windows, bad input."""

import numpy as np
import pytest
from _problems import PROFILES
from _problems import problem as _problem
from _reference import window_counts_reference

from fastbip.generate import Events, intensity, sample_events, sample_purchases


def _window_dense(M, counts):
    """The dense matrix with ``counts`` (one per stored entry of ``M``) at M's entries."""
    dense = np.zeros(M.shape, np.int64)
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    dense[rows, M.indices] = counts
    return dense


def test_intensity_formula():
    prof = {
        "base": 2.0,
        "trend": 0.5,
        "peaks": [{"center": 3.0, "width": 1.0, "height": 4.0}],
        "seasonal": [{"period": 10.0, "amplitude": 0.5, "phase": 0.0}],
    }
    t = np.array([0.0, 3.0, 10.0])
    want = (
        2.0 * (1 + 0.5 * t / 10.0)
        + 4.0 * np.exp(-((t - 3.0) ** 2) / 2.0)
        + 2.0 * 0.5 * (1 + np.cos(2 * np.pi * t / 10.0)) / 2
    )
    np.testing.assert_allclose(intensity(t, prof, 0.0, 10.0), want)
    assert intensity(t, {"base": 1.0}, 0.0, 10.0).tolist() == [1.0, 1.0, 1.0]


def test_events_aligned_sorted_and_windows_sum_back():
    a, b, theta, phi, omega = _problem()
    M = sample_purchases(a, b, theta, phi, omega, seed=3)
    E = sample_events(M, b, PROFILES, seed=4, start=0.0, end=100.0)
    assert isinstance(E, Events)
    assert E.offsets.dtype == np.int64 and E.offsets.shape == (M.nnz + 1,)
    np.testing.assert_array_equal(np.diff(E.offsets), M.data)
    assert E.times.dtype == np.float64 and E.times.size == M.data.sum()
    assert E.times.min() >= 0.0 and E.times.max() < 100.0
    entry = np.repeat(np.arange(M.nnz), M.data)
    same = entry[1:] == entry[:-1]
    assert np.all(np.diff(E.times)[same] >= 0)
    cuts = [0.0, 10.0, 33.3, 70.0, 100.0]
    wins = [E.window(M, s, e) for s, e in zip(cuts[:-1], cuts[1:], strict=True)]
    total = wins[0]
    for w in wins[1:]:
        total = total + w
    assert abs(total - M).sum() == 0
    for w in wins:
        w.check_format(full_check=True)
        assert w.data.min() >= 1
    counts = window_counts_reference(E.offsets, E.times, 10, 33.3)
    np.testing.assert_array_equal(E.window(M, 10.0, 33.3).toarray(), _window_dense(M, counts))
    again = sample_events(M, b, PROFILES, seed=4, start=0.0, end=100.0)
    np.testing.assert_array_equal(again.times, E.times)
    other = sample_events(M, b, PROFILES, seed=5, start=0.0, end=100.0)
    assert not np.array_equal(other.times, E.times)


def test_window_of_heavy_entries_matches_numpy():
    """Entries with many events (binary-search path) and with few (scan path)."""
    a, b, theta, phi, omega = _problem(n=20, m=6, total=6000.0)
    M = sample_purchases(a, b, theta, phi, omega, seed=1)
    assert M.data.max() > 16 and M.data.min() <= 16
    E = sample_events(M, b, PROFILES, seed=2, start=0.0, end=100.0)
    for s_, e_ in ((0.0, 100.0), (12.5, 40.0), (99.0, 100.0), (50.0, 50.0)):
        W = E.window(M, s_, e_)
        want = window_counts_reference(E.offsets, E.times, s_, e_)
        np.testing.assert_array_equal(W.toarray(), _window_dense(M, want))
        assert W.nnz == (want > 0).sum()


# --------------------------------------------------------------------------- bad input

_PEAK0 = [{"peaks": [{"center": 0, "width": 0, "height": 1}]}] * 3


@pytest.fixture(scope="module")
def sample():
    a, b, theta, phi, omega = _problem(n=50, m=30)
    M = sample_purchases(a, b, theta, phi, omega, seed=0)
    return M, b


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        ({"M": lambda M: M.toarray()}, TypeError, r"M must be a scipy.sparse CSR matrix"),
        ({"item_labels": lambda b: b[:-1]}, ValueError, r"item_labels must have length 30; got 29"),
        (
            {"profiles": PROFILES[:2]},
            ValueError,
            r"item_labels must be < n_clusters=2; got a label 2",
        ),
        ({"M": lambda M: M * 0.5}, ValueError, r"M must hold non-negative integer counts"),
        ({"profiles": PROFILES[0]}, TypeError, r"profiles must be a list of dicts"),
        ({"start": 5, "end": 5}, ValueError, r"end must be > start"),
        (
            {"profiles": [PROFILES[0], {"base": 0.0}, PROFILES[2]]},
            ValueError,
            r"profiles\[1\] has zero intensity",
        ),
        (
            {"profiles": [{"base": 1, "trend": -2}] * 3},
            ValueError,
            r"profiles\[0\]\['trend'\] must be >= -1",
        ),
        ({"profiles": _PEAK0}, ValueError, r"profiles\[0\]\['peaks'\]\[0\] needs finite center"),
        ({"profiles": [{"bse": 1}] * 3}, ValueError, r"has unknown keys \['bse'\]"),
        ({"block_size": 0}, ValueError, r"block_size must be >= 1; got 0"),
    ],
)
def test_bad_event_input(sample, call, exc, match):
    M, b = sample
    kw = {"M": M, "item_labels": b, "profiles": PROFILES, "seed": 0, "start": 0, "end": 1}
    for key, value in call.items():
        kw[key] = value(kw[key]) if callable(value) else value
    M_arg, labels, profiles = kw.pop("M"), kw.pop("item_labels"), kw.pop("profiles")
    with pytest.raises(exc, match=match):
        sample_events(M_arg, labels, profiles, **kw)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda E, M: E.window(M, 1, 0), ValueError, r"end must be >= start"),
        (lambda E, M: E.window(M[:10], 0, 1), ValueError, r"M has \d+ entries but the events"),
    ],
)
def test_bad_window(sample, call, exc, match):
    M, b = sample
    E = sample_events(M, b, PROFILES, seed=0, start=0, end=1)
    with pytest.raises(exc, match=match):
        call(E, M)
