"""What the estimators share: one of each helper.

- :func:`check_params`: every estimator declares ``_parameter_constraints``, a small table
  ``{name: constraint or [alternatives]}``, checked at the top of ``fit``;
- :func:`limit_threads`: how many threads scikit-learn, BLAS and the numba kernels use;
- :func:`as_purchases` and :func:`split_empty`: the purchase matrix as the estimators read it;
- :func:`largest_cluster` and :func:`fill_empty`: the label of members without purchases;
- :func:`standardise`: columns to mean 0 and standard deviation 1;
- :class:`CoclusterLabels`: the labels and ``fit_predict`` of every co-clusterer.

Constraints
-----------
``("int", low, high)``
    An integer in ``[low, high]`` (either bound None: unbounded). A ``high`` that is a string
    names a bound known only from the data (``"n_people"``): the table then checks only the
    type, and ``fit`` checks the range with :func:`fastbip._validation.check_n_clusters`.
``("real", low, high, bounds)``
    A number between ``low`` and ``high`` (None: unbounded); ``bounds`` is ``"[]"``,
    ``"(]"``, ``"[)"`` or ``"()"`` (closed or open at each end).
``("choice", (values, ...))``
    One of the values (strings, or exact values such as ``True``).
``("pair",)``
    A tuple or list of two items (a pair of label arrays, checked further in ``fit``).
``("random_state",)``
    None, a non-negative int, a SeedSequence, a Generator or a RandomState
    (:mod:`fastbip._rng`).
``None``
    None is allowed.

A list gives alternatives: the value must satisfy one of them. A value that satisfies none
raises :class:`ParameterError` (both a ``ValueError`` and a ``TypeError``, as scikit-learn's
``InvalidParameterError``) whose message lists them all: ``"n_jobs must be None, -1 or an
integer >= 1; got 0"``.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Any

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from fastbip._rng import _SEED_TYPES, int_seed
from fastbip._validation import as_purchases as _as_purchases
from fastbip._validation import check_choice, check_int, check_real

__all__ = [
    "ParameterError",
    "check_params",
    "check_param",
    "limit_threads",
    "SMALL_ROWS",
    "as_purchases",
    "split_empty",
    "largest_cluster",
    "fill_empty",
    "standardise",
    "CoclusterLabels",
]


class ParameterError(ValueError, TypeError):
    """A parameter that satisfies none of its allowed alternatives."""


# --------------------------------------------------------------------------- parameters


def _describe(c) -> str:
    if c is None:
        return "None"
    kind = c[0]
    if kind == "int":
        low, high = c[1], c[2]
        if isinstance(high, str):
            return "an integer"
        if low is not None and low == high:
            return f"{low}"
        if low is not None and high is not None:
            return f"an integer between {low} and {high}"
        if low is not None:
            return f"an integer >= {low}"
        return "an integer" if high is None else f"an integer <= {high}"
    if kind == "real":
        low, high, bounds = c[1], c[2], c[3]
        if low is not None and high is not None:
            return f"a number in {bounds[0]}{low:g}, {high:g}{bounds[1]}"
        if low is not None:
            return f"a number {'>' if bounds[0] == '(' else '>='} {low:g}"
        if high is not None:
            return f"a number {'<' if bounds[1] == ')' else '<='} {high:g}"
        return "a number"
    if kind == "choice":
        values = c[1]
        if len(values) == 1:
            return repr(values[0])
        return "one of " + ", ".join(map(repr, values))
    if kind == "pair":
        return "a pair (row_labels, column_labels)"
    if kind == "array":
        return f"a {c[1]}-D array of numbers"
    if kind == "random_state":
        return _SEED_TYPES
    raise ValueError(f"unknown constraint {c!r}")


def _check_one(value: Any, name: str, c) -> Any:
    """``value`` checked against one constraint (the shared checks' messages on failure)."""
    if c is None:
        if value is not None:
            raise TypeError(f"{name} must be None; got {value!r}")
        return None
    kind = c[0]
    if kind == "int":
        low, high = c[1], c[2]
        if isinstance(high, str):
            return check_int(value, name)
        return check_int(value, name, low, high)
    if kind == "real":
        low, high, bounds = c[1], c[2], c[3]
        return check_real(
            value, name, low, high, low_open=bounds[0] == "(", high_open=bounds[1] == ")"
        )
    if kind == "choice":
        values = tuple(c[1])
        if all(isinstance(v, str) for v in values):
            return check_choice(value, name, values)
        # exact values (True, False): no 1 == True, no 1.0 == 1
        if not any(type(value) is type(v) and value == v for v in values):
            raise ValueError(f"{name} must be one of {', '.join(map(repr, values))}; got {value!r}")
        return value
    if kind == "pair":
        if not (isinstance(value, tuple | list) and len(value) == 2):
            raise TypeError(f"{name} must be {_describe(c)}; got {value!r:.80}")
        return value
    if kind == "array":
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be {_describe(c)}; got {value!r:.80}") from None
        if arr.ndim != c[1]:
            raise ValueError(f"{name} must be {_describe(c)}; got shape {arr.shape}")
        return value
    if kind == "random_state":
        int_seed(value, name)
        return value
    raise ValueError(f"unknown constraint {c!r}")


def check_param(value: Any, name: str, allowed) -> Any:
    """``value`` checked against a constraint or a list of alternatives (see the module
    docstring); returns it (ints as int, reals as float)."""
    alts = allowed if isinstance(allowed, list) else [allowed]
    if len(alts) == 1:
        return _check_one(value, name, alts[0])
    for c in alts:
        try:
            return _check_one(value, name, c)
        except (TypeError, ValueError):
            continue
    descs = [_describe(c) for c in alts]
    expected = ", ".join(descs[:-1]) + " or " + descs[-1]
    raise ParameterError(f"{name} must be {expected}; got {value!r:.80}")


def check_params(est) -> None:
    """Check every parameter that ``est._parameter_constraints`` names (at the top of fit)."""
    for name, allowed in est._parameter_constraints.items():
        check_param(getattr(est, name), name, allowed)


# --------------------------------------------------------------------------- threads

# Below this many rows (or members) scikit-learn's k-means and BLAS run on one thread:
# starting and synchronising OpenMP threads costs more than it saves there, and on a loaded
# machine 10 to 100 times the work itself.
SMALL_ROWS = 50_000


@contextmanager
def limit_threads(
    size: int, min_size: int | None = None, n_jobs: int | None = -1, *, kernels: bool = False
):
    """Run BLAS/OpenMP (scikit-learn, Lanczos) and, with ``kernels``, the numba kernels on
    ``n_jobs`` threads, or on one when ``size < min_size`` (default :data:`SMALL_ROWS`, read
    at each call).

    ``n_jobs``: None means 1, -1 all (BLAS and OpenMP are then left as they are), -2 all but
    one, and so on; a positive count is capped at numba's thread count. The results of every
    estimator here do not depend on it: only the time does.
    """
    avail = numba.config.NUMBA_NUM_THREADS
    if min_size is None:
        min_size = SMALL_ROWS
    if n_jobs is None or size < min_size:
        want = 1
    elif n_jobs < 0:
        want = max(1, avail + 1 + n_jobs)
    else:
        want = min(n_jobs, avail)
    old = numba.get_num_threads() if kernels else None
    if kernels:
        numba.set_num_threads(want)
    try:
        unlimited = n_jobs == -1 and size >= min_size
        with nullcontext() if unlimited else threadpool_limits(limits=want):
            yield
    finally:
        if kernels:
            numba.set_num_threads(old)


# --------------------------------------------------------------------------- purchases


def as_purchases(M, name: str = "M"):
    """``M`` as canonical CSR float64 counts, checked by the shared validation
    (:func:`fastbip._validation.as_purchases` with ``counts=True``), without stored zeros, so
    that a row's or column's number of stored entries says whether it has purchases. ``M``
    itself is not modified."""
    M = _as_purchases(M, name, dtype=np.float64, counts=True)
    if M.nnz and not M.data.all():
        M = M.copy()
        M.eliminate_zeros()
    return M


def split_empty(M):
    """``(rows, cols, sub)``: indices of the non-empty rows and columns of CSR ``M`` and the
    sub-matrix on them (removing empty rows cannot empty a column and vice versa)."""
    rows = np.flatnonzero(np.diff(M.indptr) > 0)
    cols = np.flatnonzero(np.bincount(M.indices, minlength=M.shape[1]) > 0)
    return rows, cols, M[rows][:, cols]


# --------------------------------------------------------------------------- labels


def largest_cluster(labels, n_clusters: int = 0) -> int:
    """The cluster with most members among ``labels`` (int, -1 ignored; ties: the smallest
    label; 0 when there is none). The label given to members without purchases."""
    labels = np.asarray(labels)
    labels = labels[labels >= 0]
    if not labels.size:
        return 0
    return int(np.argmax(np.bincount(labels, minlength=n_clusters)))


def fill_empty(n: int, nonempty, labels) -> np.ndarray:
    """int64 labels of all ``n`` members: ``labels`` on the indices ``nonempty``, the largest
    cluster (:func:`largest_cluster`) elsewhere."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(n, largest_cluster(labels), dtype=np.int64)
    out[nonempty] = labels
    return out


class CoclusterLabels:
    """What every co-clusterer here shares: the labels of people and items without purchases
    (:func:`fill_empty`) and ``fit_predict``."""

    def _nonempty(self, M):
        """Check the parameters and ``M``; return ``(M, rows, cols, sub)``: the checked matrix,
        the indices of the people and items with purchases and the sub-matrix on them."""
        check_params(self)
        M = as_purchases(M)
        rows, cols, sub = split_empty(M)
        if rows.size == 0:
            raise ValueError("M has no purchases (all entries are zero); nothing to cluster")
        return M, rows, cols, sub

    def _set_labels(self, shape, rows, cols, row_labels, column_labels):
        self.row_labels_ = fill_empty(shape[0], rows, row_labels)
        self.column_labels_ = fill_empty(shape[1], cols, column_labels)
        self.n_empty_rows_ = int(shape[0] - rows.size)
        self.n_empty_columns_ = int(shape[1] - cols.size)

    def fit_predict(self, M, y=None):
        """Fit and return the row (people) labels, as scikit-learn's clusterers do; the
        column (item) labels are in ``column_labels_``."""
        return self.fit(M).row_labels_


# --------------------------------------------------------------------------- features


_STANDARDISE_KERNEL_ROWS = 1 << 20


def standardise(X: np.ndarray) -> np.ndarray:
    """Columns of float ``X`` (n, p) to mean 0 and standard deviation 1; constant columns are
    only centred. Returns a new array.

    The same arithmetic as ``(X - X.mean(0)) / X.std(0)`` (bit for bit), with one centred
    copy instead of three passes over X. From ``_STANDARDISE_KERNEL_ROWS`` rows the column
    sums are a kernel's (``fastbip._kernels.points._column_sums``: numpy's order, one
    pass at memory speed instead of numpy's per-row loop over a few columns)."""
    if X.shape[0] >= _STANDARDISE_KERNEL_ROWS and X.ndim == 2:
        from fastbip._kernels.points import _column_sums

        X = np.ascontiguousarray(X, dtype=np.float64)
        mean = _column_sums(X, np.zeros(X.shape[1]), False) / X.shape[0]
        Z = X - mean
        std = np.sqrt(_column_sums(X, mean, True) / X.shape[0])
        std[std == 0] = 1.0
        Z /= std
        return Z
    mean = X.mean(axis=0)
    Z = X - mean
    std = np.sqrt(np.square(Z).sum(axis=0) / X.shape[0])
    std[std == 0] = 1.0
    Z /= std
    return Z
