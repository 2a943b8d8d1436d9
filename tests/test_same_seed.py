"""Same seed, same arrays: SHA-256 digests of generated datasets, taken before the layout moved.

A digest changes if any byte of the purchases, the features, the truth or the events changes,
so these pin the generator's output across refactors. A deliberate change of the model must
update them in the same commit and say why.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import fastbip

EXPECTED = {
    "default": "207432926fac585c",
    "default-small": "af72ca2334a21a7e",
    "planted-poisson": "ff436588212dcc06",
    "planted-bernoulli": "3e57582c8d67d90b",
    "planted-exact": "0634667d6b045aae",
    "planted-pareto": "5b2872778000bffe",
}


def _specs():
    return {
        "default": lambda: fastbip.default_spec(seed=3),
        "default-small": lambda: fastbip.default_spec(n_people=300, n_items=120, seed=1),
        "planted-poisson": lambda: fastbip.planted_spec(
            3000, 800, 3, 4, mean_purchases=8, mixing=0.3, seed=5, features=True
        ),
        "planted-bernoulli": lambda: fastbip.planted_spec(
            2000, 500, 2, 3, mixing=0.2, seed=2, model="bernoulli"
        ),
        "planted-exact": lambda: fastbip.planted_spec(2000, 500, 3, 3, seed=7, model="exact"),
        "planted-pareto": lambda: fastbip.planted_spec(
            2500, 600, 4, 2, seed=9, activity="pareto", popularity="pareto"
        ),
    }


def dataset_digest(ds) -> str:
    """First 16 hex digits of the SHA-256 of every array of a generated dataset, in order."""
    h = hashlib.sha256()

    def add(name, a):
        a = np.ascontiguousarray(a)
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())

    M = ds.purchases
    for n in ("indptr", "indices", "data"):
        add(n, getattr(M, n))
    for side in (ds.people, ds.items):
        add(side.name + ".labels", side.labels)
        for k in sorted(side.columns):
            add(side.name + "." + k, side.columns[k])
    t = ds.truth
    for n in ("omega", "theta", "phi", "people_labels", "item_labels"):
        add("truth." + n, getattr(t, n))
    if ds.events is not None:
        add("events.offsets", ds.events.offsets)
        add("events.times", ds.events.times)
    return h.hexdigest()[:16]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_same_seed_same_digest(case):
    ds = fastbip.generate(_specs()[case]())
    assert dataset_digest(ds) == EXPECTED[case]


def test_shared_default_dataset_is_the_pinned_one(default_ds):
    """The session fixture ``default_ds`` (conftest.py) is the "default-small" case, unchanged
    by the tests that ran before this one."""
    assert dataset_digest(default_ds) == EXPECTED["default-small"]
