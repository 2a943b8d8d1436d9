"""The battery of checks every co-clusterer should pass, like scikit-learn's estimator checks.

Each check takes an estimator, works on a fresh copy of it (``sklearn.base.clone`` for a
scikit-learn estimator, ``copy.deepcopy`` otherwise) and raises ``AssertionError`` with the
reason when the estimator fails it. The cluster counts are set with ``n_row_clusters`` and
``n_col_clusters`` (or ``n_clusters``) when the estimator has them, and ``random_state`` to 0
when it has one. The data are small planted instances (:func:`fastbip.testing.planted`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from ._planted import planted
from .asserts import fit_labels, fresh, set_n_clusters, set_random_state

__all__ = [
    "CHECKS",
    "check_coclusterer",
    "parametrize_with_checks",
    "check_input_formats",
    "check_input_dtypes",
    "check_empty_members",
    "check_unequal_k",
    "check_one_row_and_one_cluster",
    "check_labels_shape_dtype_range",
    "check_row_permutation",
    "check_column_permutation",
    "check_random_state",
    "check_input_unchanged",
    "check_recovery",
]

_K = 3


def _easy():
    """An easy planted instance: 3 x 3 clusters, 40 purchases a person, no mixing."""
    return planted(240, 120, _K, _K, mixing=0.0, mean_purchases=40.0, seed=0)


def _configured(estimator: Any, k_rows: int = _K, k_cols: int = _K) -> Any:
    est = fresh(estimator)
    set_n_clusters(est, k_rows, k_cols, only_unset=False)
    set_random_state(est, 0)
    return est


def _writable(M: sp.csr_matrix) -> sp.csr_matrix:
    return M.copy()  # the planted arrays are read-only; an estimator may get writable ones


def _ari(a: np.ndarray, b: np.ndarray) -> float:
    from fastbip.metrics import adjusted_rand

    return float(adjusted_rand(a, b))


def _valid(labels: np.ndarray, n: int, k: int | None, what: str) -> None:
    if labels.shape != (n,):
        raise AssertionError(f"{what} have shape {labels.shape}; expected ({n},)")
    if not np.issubdtype(labels.dtype, np.integer):
        raise AssertionError(f"{what} have dtype {labels.dtype}; expected an integer dtype")
    if labels.size and labels.min() < -1:
        raise AssertionError(f"{what} hold {labels.min()}; labels are >= 0 (or -1: unassigned)")
    if k is not None and labels.size and labels.max() >= k:
        raise AssertionError(f"{what} hold {labels.max()}; expected labels in [0, {k}) (K={k})")


def _check_valid(est: Any, M: Any, k_rows: int | None, k_cols: int | None) -> tuple:
    r, c = fit_labels(est, M)
    _valid(r, M.shape[0], k_rows, "row_labels_")
    _valid(c, M.shape[1], k_cols, "column_labels_")
    return r, c


def _k_of(estimator: Any) -> bool:
    """Whether the estimator takes its cluster counts as parameters."""
    est = fresh(estimator)
    params = est.get_params(deep=False) if hasattr(est, "get_params") else vars(est)
    return any(n in params for n in ("n_row_clusters", "n_col_clusters", "n_clusters"))


def check_input_formats(estimator: Any) -> None:
    """CSR, CSC, COO and dense input give the same labels."""
    M = _writable(_easy().purchases)
    ref = fit_labels(_configured(estimator), M)
    for name, X in (("CSC", M.tocsc()), ("COO", M.tocoo()), ("dense", M.toarray())):
        try:
            got = fit_labels(_configured(estimator), X)
        except Exception as e:
            raise AssertionError(
                f"{name} input raises {type(e).__name__}: {e} (CSR input works)"
            ) from e
        for side, a, b in zip(("row", "column"), ref, got, strict=True):
            if not np.array_equal(a, b):
                raise AssertionError(
                    f"{name} input gives other {side} labels than CSR input "
                    f"({int(np.sum(a != b))} of {a.size} differ)"
                )


def check_input_dtypes(estimator: Any) -> None:
    """Integer, float and boolean data are accepted (valid labels); int32 and float64 counts
    give the labels of int64 counts."""
    M = _writable(_easy().purchases)
    k = _K if _k_of(estimator) else None
    ref = _check_valid(_configured(estimator), M.astype(np.int64), k, k)
    for dtype in (np.int32, np.float64):
        got = _check_valid(_configured(estimator), M.astype(dtype), k, k)
        for side, a, b in zip(("row", "column"), ref, got, strict=True):
            if not np.array_equal(a, b):
                raise AssertionError(
                    f"{np.dtype(dtype).name} data give other {side} labels than int64 data"
                )
    for dtype in (np.float32, np.bool_):  # other values (bool) or rounding: valid labels
        _check_valid(_configured(estimator), M.astype(dtype), k, k)


def check_empty_members(estimator: Any) -> None:
    """People and items without purchases get a valid label; the others are still found."""
    ds = _easy()
    M = _writable(ds.purchases).tolil()
    n, m = M.shape
    empty_rows, empty_cols = np.arange(0, n, 10), np.arange(0, m, 10)
    M[empty_rows, :] = 0
    M[:, empty_cols] = 0
    M = M.tocsr()
    M.eliminate_zeros()
    k = _K if _k_of(estimator) else None
    r, c = _check_valid(_configured(estimator), M, k, k)
    keep_r = np.setdiff1d(np.arange(n), empty_rows)
    ari = _ari(ds.truth.people_labels[keep_r], r[keep_r])
    if ari < 0.8:
        raise AssertionError(
            f"with {empty_rows.size} empty rows and {empty_cols.size} empty columns the people "
            f"with purchases are found with ARI {ari:.3f} (< 0.8)"
        )


def check_unequal_k(estimator: Any) -> None:
    """K_A != K_B (3 people-clusters, 2 item-clusters) gives labels in the right ranges."""
    if not _k_of(estimator):
        return
    M = _writable(planted(180, 90, 3, 2, mixing=0.0, mean_purchases=30.0, seed=1).purchases)
    est = _configured(estimator, 3, 2)
    params = est.get_params(deep=False) if hasattr(est, "get_params") else vars(est)
    if "n_row_clusters" not in params:  # one n_clusters for both sides: K_A == K_B only
        return
    _check_valid(est, M, 3, 2)


def check_one_row_and_one_cluster(estimator: Any) -> None:
    """One row, and K = 1: either works (valid labels) or raises ValueError or TypeError."""
    M = _writable(_easy().purchases)
    one_row = M[np.flatnonzero(np.diff(M.indptr))[:1]]
    for what, X in (("a 1-row matrix", one_row), ("K = 1", M)):
        est = _configured(estimator, 1, 1)
        try:
            _check_valid(est, X, 1 if _k_of(estimator) else None, 1 if _k_of(estimator) else None)
        except (ValueError, TypeError):
            continue  # a clear refusal is fine
        except AssertionError:
            raise
        except Exception as e:
            raise AssertionError(
                f"{what} crashes with {type(e).__name__}: {e} (raise ValueError or TypeError "
                "with a message instead)"
            ) from e


def check_labels_shape_dtype_range(estimator: Any) -> None:
    """Labels have shapes (n_rows,) and (n_cols,), an integer dtype and values in [0, K)
    (or -1, unassigned)."""
    k = _K if _k_of(estimator) else None
    _check_valid(_configured(estimator), _writable(_easy().purchases), k, k)


def _check_permutation(estimator: Any, axis: int) -> None:
    M = _writable(_easy().purchases)
    ref = fit_labels(_configured(estimator), M)
    perm = np.random.default_rng(12345).permutation(M.shape[axis])
    X = M[perm] if axis == 0 else M[:, perm]
    got = list(fit_labels(_configured(estimator), X.tocsr()))
    inverse = np.argsort(perm)
    got[axis] = got[axis][inverse]
    for side, a, b in zip(("row", "column"), ref, got, strict=True):
        ari = _ari(a, b)
        if ari < 1.0 - 1e-12:
            what = "rows" if axis == 0 else "columns"
            raise AssertionError(
                f"permuting the {what} changes the {side} partition (ARI {ari:.4f} between "
                "the un-permuted labels and the original ones; expected 1)"
            )


def check_row_permutation(estimator: Any) -> None:
    """Permuting the rows permutes the row labels and keeps the partitions (ARI 1)."""
    _check_permutation(estimator, 0)


def check_column_permutation(estimator: Any) -> None:
    """Permuting the columns permutes the column labels and keeps the partitions (ARI 1)."""
    _check_permutation(estimator, 1)


def check_random_state(estimator: Any) -> None:
    """Two fits with the same ``random_state`` (or, without one, any two fits) give the same
    labels."""
    M = _writable(_easy().purchases)
    a = fit_labels(_configured(estimator), M)
    b = fit_labels(_configured(estimator), M)
    for side, x, y in zip(("row", "column"), a, b, strict=True):
        if not np.array_equal(x, y):
            raise AssertionError(
                f"two fits with random_state=0 give different {side} labels "
                f"({int(np.sum(x != y))} of {x.size} differ)"
            )


def check_input_unchanged(estimator: Any) -> None:
    """``fit`` does not modify its input (CSR data, indices, indptr; a dense array)."""
    M = _writable(_easy().purchases)
    before = [M.data.copy(), M.indices.copy(), M.indptr.copy()]
    fit_labels(_configured(estimator), M)
    after = [M.data, M.indices, M.indptr]
    for name, old, new in zip(("data", "indices", "indptr"), before, after, strict=True):
        if old.shape != new.shape or not np.array_equal(old, new):
            raise AssertionError(f"fit modified the CSR input's {name}")
    D = M.toarray()
    D0 = D.copy()
    fit_labels(_configured(estimator), D)
    if not np.array_equal(D, D0):
        raise AssertionError("fit modified the dense input array")


def check_recovery(estimator: Any) -> None:
    """On an easy planted instance (3 x 3 clusters, no mixing) both sides reach ARI > 0.8."""
    ds = _easy()
    r, c = fit_labels(_configured(estimator), _writable(ds.purchases))
    truth = ds.truth
    for side, true, found in (("people", truth.people_labels, r), ("items", truth.item_labels, c)):
        ari = _ari(true, found)
        if not ari > 0.8:
            raise AssertionError(
                f"{side} found with ARI {ari:.3f} on an easy instance (needs > 0.8)"
            )


CHECKS: tuple[Callable[[Any], None], ...] = (
    check_input_formats,
    check_input_dtypes,
    check_empty_members,
    check_unequal_k,
    check_one_row_and_one_cluster,
    check_labels_shape_dtype_range,
    check_row_permutation,
    check_column_permutation,
    check_random_state,
    check_input_unchanged,
    check_recovery,
)


def check_coclusterer(estimator: Any) -> None:
    """Run every check of :data:`CHECKS` on ``estimator``.

    Parameters
    ----------
    estimator : object
        A co-clusterer (``fit(M)`` sets ``row_labels_`` and ``column_labels_``); it is
        copied for each check, never fitted itself.

    Raises
    ------
    AssertionError
        Naming each failed check with its reason (an unexpected exception in a check counts
        as a failure and is reported with its type).
    """
    failures = []
    for check in CHECKS:
        try:
            check(estimator)
        except AssertionError as e:
            failures.append(f"{check.__name__}: {e}")
        except Exception as e:
            failures.append(f"{check.__name__}: raised {type(e).__name__}: {e}")
    if failures:
        raise AssertionError(
            f"{_short(estimator)} failed {len(failures)} of {len(CHECKS)} checks:\n  "
            + "\n  ".join(failures)
        )


def _short(estimator: Any) -> str:
    if type(estimator).__repr__ is object.__repr__:
        return type(estimator).__name__
    text = " ".join(repr(estimator).split())
    return text if len(text) <= 60 else type(estimator).__name__


def parametrize_with_checks(estimators: Iterable[Any]):
    """A ``pytest.mark.parametrize`` decorator over ``(estimator, check)`` pairs.

    Parameters
    ----------
    estimators : iterable of estimators
        Each is run through every check of :data:`CHECKS`.

    Returns
    -------
    pytest.MarkDecorator
        Parametrises the arguments ``estimator`` and ``check``; ids read
        ``"SVDKMeans(n_init=2)-check_input_formats"``.

    Examples
    --------
    >>> from fastbip.algorithms import SVDKMeans
    >>> @parametrize_with_checks([SVDKMeans()])
    ... def test_fastbip_contract(estimator, check):
    ...     check(estimator)
    """
    import pytest

    estimators = list(estimators)
    pairs = [(est, check) for est in estimators for check in CHECKS]
    ids = [f"{_short(est)}-{check.__name__}" for est, check in pairs]
    return pytest.mark.parametrize("estimator, check", pairs, ids=ids)
