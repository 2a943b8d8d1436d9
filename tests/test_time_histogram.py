"""The piecewise-constant time-profile term (:class:`fastbip.spec.Histogram`).

Tolerance: the share of a profile's purchases in a bin is ``levels[i] * width_i / total``
in expectation, up to the grid (2**14 cells over the period): where an edge falls inside a
cell, that cell's mass is spread over the cell, so a bin may gain or lose at most one cell's
mass at each edge. With n purchases drawn, the observed share is within 4 binomial standard
deviations of it plus that.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import fastbip
from fastbip.generate.events import intensity, sample_events
from fastbip.spec import Histogram, SpecError, TimeProfile, TimeSpec


def test_parse_round_trip_and_intensity():
    d = {"base": 0.0, "histogram": {"edges": [0, 10, 50, 100], "levels": [3, 0.5, 1]}}
    prof = TimeProfile.from_dict(d, "time.profiles[0]")
    assert prof.histogram == Histogram((0.0, 10.0, 50.0, 100.0), (3.0, 0.5, 1.0))
    assert TimeProfile.from_dict(prof.to_dict(), "p") == prof
    assert "histogram" not in TimeProfile().to_dict()  # existing profiles' tables unchanged
    t = np.array([-1.0, 0.0, 9.99, 10.0, 75.0, 100.0])
    np.testing.assert_array_equal(intensity(t, prof, 0, 100), [0, 3, 3, 0.5, 1, 0])
    spec = fastbip.planted_spec(50, 20, 2, 2, seed=0)
    ts = TimeSpec(0.0, 100.0, (prof, TimeProfile()))
    import dataclasses

    s2 = dataclasses.replace(spec, time=ts)
    assert fastbip.Spec.from_dict(s2.to_dict()) == s2


@pytest.mark.parametrize(
    "hist, match",
    [
        ({"edges": [0, 1]}, r"p\.histogram\.levels is required"),
        ({"edges": [0], "levels": []}, r"p\.histogram\.edges"),
        ({"edges": [0, 2, 1], "levels": [1, 1]}, r"edges must be strictly increasing"),
        ({"edges": [0, 1, 2], "levels": [1]}, r"must have one level per bin \(2\); got 1"),
        ({"edges": [0, 1], "levels": [-1]}, r"p\.histogram\.levels\[0\] must be >= 0; got -1"),
        ({"edges": [0, 1], "levels": [0]}, r"zero intensity everywhere"),
        ({"edges": [0, 1], "levels": [1], "x": 1}, r"unknown field"),
    ],
)
def test_bad_histograms_are_named(hist, match):
    with pytest.raises(SpecError, match=match):
        TimeProfile.from_dict({"base": 0.0, "histogram": hist}, "p")


def test_sampled_shares_follow_the_bins_exactly():
    """Bins whose edges are off the time grid (thirds) and a bin narrower than a grid cell:
    each bin's share is its mass (the cell means are exact; a midpoint rule would give the
    narrow bin all or nothing of the cells it touches)."""
    rng = np.random.default_rng(0)
    M = sp.csr_matrix(rng.poisson(3.0, size=(400, 30)))
    edges = np.array([0.0, 1 / 3, 1 / 3 + 1e-3, 10 / 3, 50.0, 100.0])
    levels = np.array([1.0, 4e4, 0.5, 0.0, 2.0])
    prof = {"base": 0.0, "histogram": {"edges": edges.tolist(), "levels": levels.tolist()}}
    ev = sample_events(M, np.zeros(30, int), [prof], seed=5, start=0.0, end=100.0)
    n = ev.times.size
    mass = levels * np.diff(edges)
    p = mass / mass.sum()
    share = np.histogram(ev.times, [0.0, 1 / 3 - 0.01, 1 / 3 + 0.01, 10 / 3, 50.0, 100.0])[0] / n
    cell = 100.0 / 2**14
    expect = np.array([p[0], p[1], p[2], p[3], p[4]])
    expect[0] -= 0.01 * levels[0] / mass.sum()  # the windows around the narrow bin
    expect[1] += 0.01 * (levels[0] + levels[2]) / mass.sum()
    expect[2] -= 0.01 * levels[2] / mass.sum()
    slack = 2 * cell * levels[[0, 2, 2, 0, 4]] / mass.sum()
    # nothing where the level is 0, past the cell that holds the edge 10/3
    assert not np.any((ev.times >= 10 / 3 + cell) & (ev.times < 50.0))
    assert np.all(np.abs(share - expect) <= 4 * np.sqrt(expect * (1 - expect) / n) + slack)
    # the dict form and the typed form give the same times
    typed = TimeProfile(base=0.0, histogram=Histogram(tuple(edges), tuple(levels)))
    ev2 = sample_events(M, np.zeros(30, int), [typed], seed=5, start=0.0, end=100.0)
    np.testing.assert_array_equal(ev.times, ev2.times)
