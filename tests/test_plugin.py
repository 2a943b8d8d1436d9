"""The pytest plugin (fastbip.testing.plugin) in a user's test suite, run by pytester.

The user's tests below import nothing from fastbip.testing: the fixtures and the marker
come from the plugin. Until the ``pytest11`` entry point is installed the plugin is loaded
with ``-p fastbip.testing.plugin``; once it is installed pytest loads it by itself. The
user's suite runs in this process (``pytester.runpytest``), so it sees this checkout's
fastbip; ``runpytest_subprocess`` would need ``PYTHONPATH`` to point at the checkout, as
the ``user_suite`` fixture sets it.
"""

import importlib.metadata
import re
from pathlib import Path

import pytest

# pytester's in-process runs drop the modules first imported during the run; numpy (and the
# numba-compiled fastbip) cannot be imported twice in a process, so they are imported here,
# with what the user's tests import
import scipy.sparse.linalg  # noqa: F401
import sklearn.cluster  # noqa: F401
from threadpoolctl import threadpool_limits

import fastbip.testing  # noqa: F401

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]

USER_TESTS = """
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import svds
from sklearn.cluster import KMeans


class SVDCocluster:  # any object with fit, row_labels_ and column_labels_ will do
    def __init__(self, n_row_clusters=None, n_col_clusters=None):
        self.n_row_clusters, self.n_col_clusters = n_row_clusters, n_col_clusters

    def fit(self, M):
        d_r, d_c = np.ravel(M.sum(1)), np.ravel(M.sum(0))  # degrees, regularised by their mean
        A = sp.diags((d_r + d_r.mean()) ** -0.5) @ M @ sp.diags((d_c + d_c.mean()) ** -0.5)
        k = min(self.n_row_clusters, self.n_col_clusters)
        u, s, vt = svds(A, k=k, v0=np.ones(min(M.shape)))
        unit = lambda X: X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
        km = lambda X, k: KMeans(k, n_init=5, random_state=0).fit_predict(unit(X))
        self.row_labels_ = km(u * s, self.n_row_clusters)
        self.column_labels_ = km(vt.T * s, self.n_col_clusters)
        return self


class RandomLabels(SVDCocluster):
    def fit(self, M):
        rng = np.random.default_rng(0)
        self.row_labels_ = rng.integers(0, self.n_row_clusters, M.shape[0])
        self.column_labels_ = rng.integers(0, self.n_col_clusters, M.shape[1])
        return self


def test_svd_cocluster_recovers(fastbip_planted, fastbip_assert_recovers):
    fastbip_assert_recovers(SVDCocluster(), fastbip_planted(snr=12), at_least=0.8)


@pytest.mark.fastbip_recovery(at_least=0.5, side="people")
def test_random_labels_recover(fastbip_planted, fastbip_assert_recovers):
    fastbip_assert_recovers(RandomLabels(), fastbip_planted(snr=12))


def test_planted_is_shared(fastbip_planted):
    assert fastbip_planted(snr=12) is fastbip_planted(snr=12.0)


@pytest.mark.fastbip_recovery(at_least=0.75)
def test_ladder(fastbip_planted, fastbip_ladder, fastbip_assert_recovers):
    if fastbip_ladder["snr"] < 6:
        pytest.skip("below what a spectral method recovers well")
    fastbip_assert_recovers(SVDCocluster(), fastbip_planted(**fastbip_ladder))
"""


def _plugin_args():
    """``-p fastbip.testing.plugin`` unless the entry point is installed (then pytest loads
    the plugin by itself, and loading it twice would be an error)."""
    eps = importlib.metadata.entry_points(group="pytest11")
    if any(ep.value == "fastbip.testing.plugin" for ep in eps):
        return []
    return ["-p", "fastbip.testing.plugin"]


@pytest.fixture
def user_suite(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # this checkout's fastbip, for a subprocess
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


BAD_MARKER = """
import pytest

@pytest.mark.fastbip_recovery(atleast=0.9)
def test_bad_marker(fastbip_assert_recovers):
    pass
"""


def test_user_suite_passes_and_fails_with_the_table(user_suite):
    user_suite.makepyfile(test_marker=BAD_MARKER)
    # in-process: this process's fastbip (the checkout's) and its cache of planted data; one
    # BLAS/OpenMP thread, since k-means on 2000 points is slower with more on a busy machine
    with threadpool_limits(limits=1):
        result = user_suite.runpytest(*_plugin_args(), "--strict-markers", "-v")
    result.assert_outcomes(passed=4, failed=1, skipped=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*test_bad_marker ERROR*",
            "*test_svd_cocluster_recovers PASSED*",
            "*test_random_labels_recover FAILED*",
            "*test_ladder?snr=1.5? SKIPPED*",
            "*test_ladder?snr=6? PASSED*",
            "*test_ladder?snr=12? PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*fastbip_recovery takes at_least, of, side; got atleast*",
            "*RandomLabels did not recover the planted clusters (2000 people x 500 items, "
            "K = 3 x 3, snr = 12*",
            "*side*ARI*oracle*reference*needed*",
            "*people*FAIL*",
            "*needed = at_least=0.5 x reference*",
        ]
    )
    out = result.stdout.str()
    assert re.search(r"people\s+[-0-9.]+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+FAIL", out)
    # side="people" from the marker: no row for the items
    assert not re.search(r"items\s+[-0-9.]+\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+(ok|FAIL)", out)
    assert "def assert_recovers" not in out  # the traceback stops at the user's line


def test_marker_is_registered_and_documented(pytester):
    # in-process: the plugin imports only pytest, fastbip is not needed for --markers
    result = pytester.runpytest(*_plugin_args(), "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.fastbip_recovery(at_least=0.9, *"])
    assert result.ret == 0
