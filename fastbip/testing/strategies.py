"""Hypothesis strategies for fastbip objects: specs, purchase matrices, labelings.

hypothesis is imported when a strategy is built, not when this module is imported::

    from hypothesis import given
    from fastbip.testing.strategies import purchase_matrices

    @given(purchase_matrices(max_rows=30, max_cols=20))
    def test_block_counts_total(M):
        ...
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastbip._validation import check_int

__all__ = ["specs", "purchase_matrices", "labelings"]


def specs(
    *,
    max_n: int = 40,
    max_k: int = 4,
    models: tuple[str, ...] | None = None,
    features: bool | None = None,
) -> Any:
    """Small valid fastbip Specs of the planted family (:func:`fastbip.spec.planted_spec`).

    Parameters
    ----------
    max_n : int
        Largest number of people and of items, >= ``max_k``.
    max_k : int
        Largest number of clusters per side, >= 1.
    models : tuple of str or None
        The purchase models to draw from; None means all of :data:`fastbip.spec.MODELS`.
    features : bool or None
        Whether the specs have features; None draws both.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of fastbip.Spec
        Sizes in [K, max_n], K in [1, max_k] per side, mixing in [0, 1], mean purchases in
        [0.5, 30], affinity ratio in [1.5, 20], a model, degree distributions and a seed.
    """
    from hypothesis import strategies as st

    from fastbip.spec import MODELS, planted_spec

    max_k = check_int(max_k, "max_k", 1)
    max_n = check_int(max_n, "max_n", max_k)
    models = MODELS if models is None else tuple(models)
    for m in models:
        if m not in MODELS:
            raise ValueError(f"models must be among {MODELS}; got {m!r}")

    @st.composite
    def _specs(draw):
        k_a = draw(st.integers(1, max_k))
        k_b = draw(st.integers(1, max_k))
        return planted_spec(
            draw(st.integers(k_a, max_n)),
            draw(st.integers(k_b, max_n)),
            k_a,
            k_b,
            mean_purchases=draw(st.floats(0.5, 30.0, allow_nan=False)),
            mixing=draw(st.floats(0.0, 1.0, allow_nan=False)),
            seed=draw(st.integers(0, 2**31 - 1)),
            ratio=draw(st.floats(1.5, 20.0, allow_nan=False)),
            activity=draw(st.sampled_from(["lognormal", "pareto", "constant"])),
            popularity=draw(st.sampled_from(["lognormal", "pareto", "constant"])),
            features=draw(st.booleans()) if features is None else bool(features),
            model=draw(st.sampled_from(models)),
        )

    return _specs()


def purchase_matrices(
    *,
    max_rows: int = 20,
    max_cols: int = 20,
    max_count: int = 5,
    empty: bool = True,
    min_nnz: int = 1,
) -> Any:
    """Purchase matrices: scipy CSR with non-negative integer counts.

    Parameters
    ----------
    max_rows, max_cols : int
        Largest shape; shapes are at least (1, 1).
    max_count : int
        Largest count in an entry, >= 1.
    empty : bool
        Whether rows and columns without purchases may appear. With False every row and
        every column holds at least one purchase.
    min_nnz : int
        Fewest stored (non-zero) entries, 0 or 1 (0 allows the all-zero matrix).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of scipy.sparse.csr_matrix
        Canonical CSR (sorted indices, no duplicates, no stored zeros), dtype int64.
    """
    import scipy.sparse as sp
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    max_rows = check_int(max_rows, "max_rows", 1)
    max_cols = check_int(max_cols, "max_cols", 1)
    max_count = check_int(max_count, "max_count", 1)
    min_nnz = check_int(min_nnz, "min_nnz", 0, 1)

    @st.composite
    def _matrices(draw):
        n = draw(st.integers(1, max_rows))
        m = draw(st.integers(1, max_cols))
        # mostly zeros, as purchases are
        cell = st.one_of(st.just(0), st.just(0), st.integers(0, max_count))
        D = draw(hnp.arrays(np.int64, (n, m), elements=cell))
        if not empty:
            # one purchase per row and per column on a wrapped diagonal
            i = np.arange(max(n, m))
            D[i % n, i % m] = np.maximum(D[i % n, i % m], 1)
        if min_nnz and not D.any():
            D[draw(st.integers(0, n - 1)), draw(st.integers(0, m - 1))] = 1
        M = sp.csr_matrix(D)
        M.eliminate_zeros()
        M.sort_indices()
        return M

    return _matrices()


def labelings(n: int, k: int, *, unassigned: bool = False, all_used: bool = False) -> Any:
    """Valid label arrays of length ``n`` with values in ``[0, k)``.

    Parameters
    ----------
    n : int
        Length, >= 0.
    k : int
        Number of clusters, >= 1.
    unassigned : bool
        Whether -1 (unassigned) may appear.
    all_used : bool
        Whether every cluster 0..k-1 must appear (needs ``n >= k``).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray
        int64 arrays of shape ``(n,)``.
    """
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    n = check_int(n, "n", 0)
    k = check_int(k, "k", 1)
    if all_used and n < k:
        raise ValueError(f"all_used needs n >= k; got n={n}, k={k}")
    low = -1 if unassigned else 0
    base = hnp.arrays(np.int64, (n,), elements=st.integers(low, k - 1))
    if not all_used:
        return base

    @st.composite
    def _all_used(draw):
        labels = draw(base)
        places = draw(st.permutations(range(n)))[:k]
        labels[np.asarray(places, dtype=np.int64)] = np.arange(k)
        return labels

    return _all_used()
