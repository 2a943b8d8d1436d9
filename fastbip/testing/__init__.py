"""Tools for users' own test suites: planted data, recovery assertions, a check battery.

Nothing inside fastbip imports this package; pytest and hypothesis are imported only by the
functions that need them.

- :func:`planted`: a planted dataset of the standard family at a given difficulty
  (``snr=`` or ``mixing=``), generated once per process, its arrays read-only.
- :func:`expected_oracle_ari`: the oracle's ARI per side, the ceiling of recovery.
- :func:`assert_recovers`: fit an estimator and assert that it finds the planted clusters
  (a fraction of the oracle's ARI, or an absolute ARI); the failure message is a table.
- :func:`check_coclusterer` and :func:`parametrize_with_checks`: the battery of
  :mod:`fastbip.testing.checks` (input formats and dtypes, empty members, K_A != K_B, one
  row and K = 1, label shapes and ranges, permutation equivariance, ``random_state``, input
  not modified, recovery on an easy instance).
- :mod:`fastbip.testing.strategies`: hypothesis strategies (``specs``,
  ``purchase_matrices``, ``labelings``).
- :mod:`fastbip.testing.plugin`: a pytest plugin (entry point ``fastbip`` in the
  ``pytest11`` group) with the fixtures ``fastbip_planted``, ``fastbip_ladder`` and
  ``fastbip_assert_recovers`` and the marker ``fastbip_recovery``.

Example: a user's own co-clusterer checked in their test suite (the plugin is active once
fastbip is installed; this very test runs in fastbip's ``tests/test_plugin.py``)::

    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds
    from sklearn.cluster import KMeans

    class SVDCocluster:  # any object with fit, row_labels_ and column_labels_ will do
        def __init__(self, n_row_clusters=None, n_col_clusters=None):
            self.n_row_clusters, self.n_col_clusters = n_row_clusters, n_col_clusters

        def fit(self, M):
            d_r, d_c = np.ravel(M.sum(1)), np.ravel(M.sum(0))  # degrees, regularised
            A = sp.diags((d_r + d_r.mean()) ** -0.5) @ M @ sp.diags((d_c + d_c.mean()) ** -0.5)
            k = min(self.n_row_clusters, self.n_col_clusters)
            u, s, vt = svds(A, k=k, v0=np.ones(min(M.shape)))
            unit = lambda X: X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
            km = lambda X, k: KMeans(k, n_init=5, random_state=0).fit_predict(unit(X))
            self.row_labels_ = km(u * s, self.n_row_clusters)
            self.column_labels_ = km(vt.T * s, self.n_col_clusters)
            return self

    def test_svd_cocluster_recovers(fastbip_planted, fastbip_assert_recovers):
        fastbip_assert_recovers(SVDCocluster(), fastbip_planted(snr=12), at_least=0.8)

``assert_recovers`` sets the unset ``n_row_clusters`` and ``n_col_clusters`` to the planted
K. At ``snr=12`` (2000 x 500, K = 3 x 3) the oracle reaches ARI 0.56 on the people and 0.92
on the items, and this estimator about 93 % and 96 % of that. Without the plugin::

    from fastbip.testing import assert_recovers, planted
    assert_recovers(SVDCocluster(), planted(snr=12), at_least=0.8)
"""

from __future__ import annotations

from ._planted import expected_oracle_ari, planted
from .asserts import assert_recovers
from .checks import CHECKS, check_coclusterer, parametrize_with_checks

__all__ = [
    "CHECKS",
    "assert_recovers",
    "check_coclusterer",
    "expected_oracle_ari",
    "parametrize_with_checks",
    "planted",
]
