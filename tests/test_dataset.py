"""fastbip.dataset: the Dataset and Truth container."""

import pytest

from fastbip.dataset import Truth
from fastbip.generate import generate
from fastbip.spec import default_spec, planted_spec


@pytest.fixture(scope="module")
def small():
    return generate(default_spec(n_people=600, n_items=150, seed=5))


def test_window_sums_back(small):
    ds = small
    parts = [ds.window(a, b) for a, b in ((0, 100), (100, 250), (250, 365.0001))]
    total = parts[0] + parts[1] + parts[2]
    assert (total != ds.purchases).nnz == 0


def test_shape_summary_and_truth(small):
    assert small.shape == (600, 150)
    assert small.n_purchases == int(small.purchases.data.sum())
    assert isinstance(small.truth, Truth) and small.truth.shape == (4, 4)
    text = small.summary()
    assert "600 people x 150 items" in text and "4 people-clusters x 4 item-clusters" in text
    assert "timestamp" in text


def test_window_needs_events():
    ds = generate(planted_spec(100, 40, 2, 2, seed=3))
    assert ds.events is None and "timestamp" not in ds.summary()
    with pytest.raises(ValueError, match="this dataset has no purchase times"):
        ds.window(0, 1)
