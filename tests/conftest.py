"""Shared fixtures: one small default dataset, a planted-data factory, a seeded generator and
two Dask clients (``client``: 2 worker processes; ``one_worker``: 1 in-process worker).

The planted data come from the tests' own numpy sampler (``_reference.py``), which does not
use fastbip's generator; ``default_ds`` is fastbip's own output (pinned by
``test_same_seed.py`` as the "default-small" case). Session-scoped data are shared by every
test that asks for them: treat them as read-only.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastbip

try:
    from _reference import planted_pair
except ModuleNotFoundError:  # imported as ``tests.conftest`` with only the root on sys.path
    from tests._reference import planted_pair

DEFAULT_DS_SPEC = {"n_people": 300, "n_items": 120, "seed": 1}


@pytest.fixture(scope="session")
def default_ds():
    """``fastbip.generate(fastbip.default_spec(n_people=300, n_items=120, seed=1))``."""
    return fastbip.generate(fastbip.default_spec(**DEFAULT_DS_SPEC))


@pytest.fixture(scope="session")
def make_planted():
    """Factory of small planted datasets: ``make_planted(**kw)`` returns ``(M, truth)``.

    The arguments are those of ``_reference.planted_pair`` (``n_people=300, n_items=200,
    k_people=3, k_items=3, mean_purchases=20.0, ratio=10.0, sigma=0.5, seed=0, omega=None``).
    Results without an explicit ``omega`` are drawn once per session and argument set.
    """
    cache = {}

    def make(**kw):
        if kw.get("omega") is not None:
            return planted_pair(**kw)
        key = tuple(sorted(kw.items()))
        if key not in cache:
            cache[key] = planted_pair(**kw)
        return cache[key]

    return make


@pytest.fixture
def rng():
    """A fresh ``np.random.default_rng(0)`` for each test."""
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def client():
    """A Dask client of a LocalCluster of 2 worker processes with 1 thread each (the default
    client while the module runs; skipped without dask.distributed)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _in_process_client(n_workers: int, default: bool):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=False, dashboard_address=None
    )
    c = distributed.Client(cluster, set_as_default=default)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def one_worker():
    """A second Dask client: one in-process worker with one thread (not the default)."""
    yield from _in_process_client(1, default=False)


@pytest.fixture(scope="module")
def threads_client():
    """A Dask client of two in-process workers, one thread each (cheap to start; the
    default client while the module runs)."""
    yield from _in_process_client(2, default=True)
