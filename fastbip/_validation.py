"""Every check of user input, in one place.

Every public function that takes a purchase matrix (people x items) checks and converts it
with :func:`as_purchases`, labels with :func:`as_labels`, a cluster count with
:func:`check_n_clusters`, a planted truth with :func:`truth_arrays`, and scalar parameters
with :func:`check_int`, :func:`check_real` and :func:`check_choice`, so that the same mistake
gets the same message wherever it is made. Every message names the input, what was expected
and the value received.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "as_purchases",
    "as_labels",
    "check_n_clusters",
    "check_int",
    "check_real",
    "check_choice",
    "truth_arrays",
    "check_offsets",
    "check_csr_structure",
]

_ACCEPT = ("any", "sparse", "csr")


def as_purchases(
    M, name="M", *, accept="any", dtype=None, canonical=True, counts=False, check_indices=True
):
    """``M`` as a ``scipy.sparse.csr_matrix``, checked; the input is never modified.

    Parameters
    ----------
    M : scipy.sparse matrix or array, or a 2-D array-like (see ``accept``)
        The purchase matrix, shape (n_people, n_items).
    name : str
        The argument's name in error messages.
    accept : "any", "sparse" or "csr"
        What ``M`` may be: any scipy.sparse format or a 2-D numeric array-like ("any"; a dense
        input is converted to CSR once), any scipy.sparse format ("sparse"), or only a CSR
        matrix or array ("csr", for callers whose other arguments are aligned with ``M``'s
        stored entries: nothing is reordered beyond canonicalisation).
    dtype : numpy dtype or None
        The dtype of the result's data; None keeps ``M``'s (integer counts stay integer, which
        exact block counts need). Object arrays of numbers become float64 when None.
    canonical : bool
        Sum duplicate entries and sort the column indices (on a copy, only when ``M`` is not
        canonical already). False leaves the stored entries as they are (their order and any
        duplicates), for kernels that read CSR in place.
    counts : bool
        Also require at least one row and one column and finite, non-negative values (the
        checks a statistical model of purchase counts needs; they read every value once).
    check_indices : bool
        Check that every column index of a CSR input lies in ``[0, n_items)`` (one pass over
        the indices). False checks only the O(n_people) row pointers and the array lengths:
        for a caller whose kernel compares every index as it reads it and calls
        :func:`check_csr_structure` for the message when one is out of range (the block
        counts do). Ignored unless ``canonical`` is False (summing duplicates reads the
        indices, so they are checked first).

    Returns
    -------
    scipy.sparse.csr_matrix of shape ``M.shape``. It may share its arrays with ``M`` (no copy
    is made when ``M`` is already a CSR matrix or array of the right dtype and, if asked,
    canonical); explicit zeros are kept.

    Raises
    ------
    TypeError
        ``M`` is not what ``accept`` allows, holds no numbers (strings, objects that are not
        numbers) or holds complex numbers.
    ValueError
        ``M`` is not 2-D; with ``counts``, it has no row or no column, a NaN or infinite value,
        or a negative value.
    """
    if accept not in _ACCEPT:
        raise ValueError(f"accept must be one of {_ACCEPT}; got {accept!r}")
    if sp.issparse(M):
        if accept == "csr" and M.format != "csr":
            raise TypeError(f"{name} must be a scipy.sparse CSR matrix; got {type(M).__name__}")
        if M.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_people, n_items); got shape {M.shape}")
        _check_dtype(M.dtype, name)
        if M.format == "csr":
            # before scipy or a kernel reads through it
            check_csr_structure(M, name, indices=check_indices or canonical)
        elif M.format == "csc":
            check_csr_structure(M, name, transposed=True)  # scipy's tocsr trusts it too
        elif M.format == "coo":
            _check_coo(M, name)
        M = sp.csr_matrix(M)  # CSR input: a new object around the same arrays
        owned = False
    else:
        if accept != "any":
            what = "CSR matrix" if accept == "csr" else "matrix"
            raise TypeError(f"{name} must be a scipy.sparse {what}; got {type(M).__name__}")
        arr = _dense(M, name)
        M = sp.csr_matrix(arr)
        owned = True
    if dtype is not None and M.dtype != dtype:
        M = M.astype(dtype)  # a copy of data, indices and indptr
        owned = True
    if canonical and not M.has_canonical_format:
        if not owned:
            M = M.copy()
        M.sum_duplicates()
    if counts:
        _check_counts(M, name)
    return M


def _check_dtype(dtype, name):
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
        raise TypeError(f"{name} must hold numbers; got dtype {dtype}")
    if np.issubdtype(dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers; got dtype {dtype}")


def _dense(M, name):
    """A 2-D numeric ndarray from an array-like (ndarray, list, tuple, anything with
    ``__array__``)."""
    if not (isinstance(M, (np.ndarray, list, tuple)) or hasattr(M, "__array__")):
        raise TypeError(
            f"{name} must be a scipy.sparse matrix or a 2-D numeric array; got {type(M).__name__}"
        )
    try:
        arr = np.asarray(M)
    except (TypeError, ValueError) as exc:  # e.g. ragged nested lists
        raise TypeError(
            f"{name} must be a scipy.sparse matrix or a 2-D numeric array; got "
            f"{type(M).__name__} that numpy cannot convert ({exc})"
        ) from exc
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must hold numbers; got dtype object with non-numeric entries ({exc})"
            ) from exc
    _check_dtype(arr.dtype, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_people, n_items); got shape {arr.shape}")
    return arr


def _check_counts(M, name):
    if M.shape[0] < 1 or M.shape[1] < 1:
        raise ValueError(f"{name} must have at least one row and one column; got shape {M.shape}")
    data = M.data
    if not data.size:
        return
    if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        raise ValueError(f"{name} must be finite; got NaN or infinite values")
    low = data.min()
    if low < 0:
        # "Negative values in data" is the phrase scikit-learn's estimator checks look for
        # in estimators tagged positive_only
        raise ValueError(
            f"{name} must be non-negative (purchase counts); got {low} (Negative values in data)"
        )


# --------------------------------------------------------------------------- scalars


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def check_int(
    value: Any,
    name: str,
    low: int | None = None,
    high: int | None = None,
    *,
    high_name: str | None = None,
    none_ok: bool = False,
) -> int | None:
    """``value`` as a Python int in ``[low, high]`` (either bound may be None).

    ``high_name`` names the bound in the message (``between 1 and n_people=300``). With
    ``none_ok`` None is returned as it is.
    """
    if value is None and none_ok:
        return None
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        hi = f"{high_name}={high}" if high_name else f"{high}"
        if low is not None and high is not None:
            bound = f"between {low} and {hi}"
        elif low is not None:
            bound = f">= {low}"
        else:
            bound = f"<= {hi}"
        raise ValueError(f"{name} must be {bound}; got {v}")
    return v


def check_real(
    value: Any,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    none_ok: bool = False,
) -> float | None:
    """``value`` as a finite float in the interval given (open or closed at each end)."""
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r}")
    v = float(value)
    lo_ok = low is None or (v > low if low_open else v >= low)
    hi_ok = high is None or (v < high if high_open else v <= high)
    if not np.isfinite(v) or not (lo_ok and hi_ok):
        if low is not None and high is not None:
            bound = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            bound = f"{'>' if low_open else '>='} {low:g}"
        elif high is not None:
            bound = f"{'<' if high_open else '<='} {high:g}"
        else:
            bound = "finite"
        raise ValueError(f"{name} must be {bound}; got {value!r}")
    return v


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices``; the message lists them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


# --------------------------------------------------------------------------- labels


def as_labels(
    x: Any,
    name: str,
    *,
    n: int | None = None,
    n_clusters: int | None = None,
    unassigned: bool = True,
    dtype: Any = np.int64,
) -> np.ndarray:
    """Cluster labels as a contiguous 1-D integer array, checked.

    Parameters
    ----------
    x : array-like of int, shape (n,)
        Labels; floats that are whole numbers are accepted, booleans are not.
    name : str
        The argument's name in error messages.
    n : int, optional
        The length the labels must have (the number of members of that side).
    n_clusters : int, optional
        Every label must be ``< n_clusters``.
    unassigned : bool
        Whether ``-1`` (unassigned) is allowed; otherwise every label must be ``>= 0``.
    dtype : numpy integer dtype or None
        The result's dtype (no copy when ``x`` has it already); None keeps an integer
        input's dtype.
    """
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of cluster labels; got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have length {n}; got {arr.shape[0]}")
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        if not arr.size:
            arr = arr.astype(np.int64)
        elif np.issubdtype(arr.dtype, np.floating):
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                raise TypeError(
                    f"{name} must hold integer labels; got dtype {arr.dtype} with "
                    "non-integer values"
                )
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer labels; got dtype {arr.dtype}")
    if arr.size:
        lo = int(arr.min())
        floor = -1 if unassigned else 0
        if lo < floor:
            what = ">= -1 (-1 = unassigned)" if unassigned else ">= 0"
            raise ValueError(f"{name} must be {what}; got {lo}")
        if n_clusters is not None:
            hi = int(arr.max())
            if hi >= n_clusters:
                raise ValueError(f"{name} must be < n_clusters={n_clusters}; got a label {hi}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind == "u" and arr.dtype.itemsize >= 8:
        arr = arr.astype(np.int64)
    return np.ascontiguousarray(arr)


def check_n_clusters(value: Any, name: str, n: int, side: str) -> int:
    """A cluster count between 1 and the ``n`` members of ``side`` ("people" or "items")."""
    return check_int(value, name, 1, n, high_name=f"n_{side}")


# --------------------------------------------------------------------------- truth


def truth_arrays(truth: Any, name: str = "truth", *, labels_dtype: Any = np.int64):
    """``(omega, theta, phi, people_labels, item_labels)`` of a planted truth, checked.

    ``truth`` is a :class:`fastbip.Truth` or anything with those five attributes; a
    :class:`fastbip.Dataset` is accepted for its ``truth``. Labels may be -1 (unassigned).
    ``labels_dtype`` is the labels' dtype (as in :func:`as_labels`: None keeps theirs).
    """
    if hasattr(truth, "truth") and hasattr(truth, "purchases"):
        if truth.truth is None:
            raise ValueError(f"{name} has no planted truth (a dataset read from a log)")
        truth = truth.truth
    for attr in ("omega", "theta", "phi", "people_labels", "item_labels"):
        if not hasattr(truth, attr):
            raise TypeError(
                f"{name} must have an '{attr}' attribute (a fastbip.Truth or alike); "
                f"got {type(truth).__name__}"
            )
    omega = np.asarray(truth.omega, dtype=np.float64)
    theta = np.asarray(truth.theta, dtype=np.float64)
    phi = np.asarray(truth.phi, dtype=np.float64)
    if omega.ndim != 2:
        raise ValueError(f"{name}.omega must be a K_A x K_B matrix; got shape {omega.shape}")
    if not np.all(np.isfinite(omega)) or np.any(omega < 0):
        raise ValueError(f"{name}.omega must hold finite, non-negative expected counts")
    ka, kb = omega.shape
    a = as_labels(truth.people_labels, f"{name}.people_labels", n_clusters=ka, dtype=labels_dtype)
    b = as_labels(truth.item_labels, f"{name}.item_labels", n_clusters=kb, dtype=labels_dtype)
    for wname, w, lab, lname in (
        ("theta", theta, a, "people_labels"),
        ("phi", phi, b, "item_labels"),
    ):
        if w.ndim != 1 or w.shape != lab.shape:
            raise ValueError(
                f"{name}.{wname} and {name}.{lname} must be 1-D of the same length; got "
                f"{w.shape} and {lab.shape}"
            )
        if not np.all(np.isfinite(w)) or (w.size and w.min() < 0):
            raise ValueError(f"{name}.{wname} must be finite and >= 0")
    return omega, theta, phi, a, b


# --------------------------------------------------------------------------- lists


def check_list(
    values: Any,
    name: str,
    what: str,
    *,
    check: Any = None,
    empty_ok: bool = False,
) -> list:
    """``values`` as a non-empty list (a string is not a list of anything).

    ``what`` says what the entries must be, for the message (``"numbers in [0, 1]"``).
    ``check(value, f"{name}[{i}]")``, when given, checks and converts each entry (for example
    :func:`check_real`), so that a bad entry's message names its position.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of {what}; got {values!r}")
    out = list(values)
    if not out and not empty_ok:
        raise ValueError(f"{name} must be a non-empty list of {what}; got an empty one")
    if check is not None:
        out = [check(v, f"{name}[{i}]") for i, v in enumerate(out)]
    return out


# --------------------------------------------------------------------------- weights


def as_weights(x: Any, name: str, n: int, like: str) -> np.ndarray:
    """Per-member weights (activity, popularity) as a contiguous float64 array, checked.

    ``x`` must be 1-D of length ``n`` (the members of the labels named ``like``), numeric,
    finite and ``>= 0``.
    """
    a = np.asarray(x)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) like {like}; got shape {a.shape}")
    if a.size and not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name} must be numeric; got dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite; got NaN or infinite values")
    if a.size and a.min() < 0:
        raise ValueError(f"{name} must be >= 0; got minimum {a.min()}")
    return a


# --------------------------------------------------------------------------- CSR structure

_CSR_MESSAGES = {
    1: "indptr must start at 0; got indptr[0] = {v}",
    2: "indptr must be non-decreasing; got indptr[{p}] = {v} < indptr[{q}] = {w}",
    3: "indptr must end at nnz = {nnz} (the number of stored entries); got indptr[-1] = {v}",
    4: "column indices must be >= 0; got indices[{p}] = {v}",
    5: "column indices must be < n_items = {n_cols}; got indices[{p}] = {v}",
    6: "column indices must be sorted inside each row; indices[{p}] = {v} follows a larger one",
    7: "column indices must not repeat inside a row; indices[{p}] = {v} repeats",
}


def check_csr_structure(
    M: Any,
    name: str = "M",
    *,
    canonical: bool = False,
    indices: bool = True,
    transposed: bool = False,
) -> None:
    """Check that a CSR matrix's arrays are a valid structure, in one pass (numba).

    ``indptr`` has ``n_rows + 1`` integer entries, starts at 0, is non-decreasing and ends at
    ``nnz``; ``indices`` and ``data`` have ``nnz`` entries; every column index lies in
    ``[0, n_cols)``; with ``canonical``, indices are strictly increasing inside each row.
    These are the preconditions of every CSR kernel in ``fastbip._kernels``; scipy does not
    check them when a matrix is built from arrays.

    With ``indices=False`` only the lengths and ``indptr`` are checked (O(n_rows)): for a
    caller whose kernel checks the column indices as it reads them. With ``transposed`` the
    matrix is CSC (``indptr`` over columns, ``indices`` are rows).

    Raises
    ------
    ValueError
        naming ``name``, the defect, its position and the value found.
    """
    from fastbip import _small
    from fastbip._kernels.validate import _csr_structure_status, _indptr_status

    n_rows, n_cols = M.shape[::-1] if transposed else M.shape
    rows, cols = ("n_items", "n_people") if transposed else ("n_people", "n_items")
    check_indices = indices
    indptr, indices, data = M.indptr, M.indices, M.data
    for arr, what in ((indptr, "indptr"), (indices, "indices")):
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise ValueError(
                f"{name}.{what} must be a 1-D integer array; got dtype {arr.dtype}, "
                f"shape {arr.shape}"
            )
    if indptr.shape[0] != n_rows + 1:
        raise ValueError(
            f"{name}.indptr must have {rows} + 1 = {n_rows + 1} entries for shape "
            f"{M.shape}; got {indptr.shape[0]}"
        )
    if data.ndim != 1 or data.shape[0] != indices.shape[0]:
        raise ValueError(
            f"{name}.data and {name}.indices must have the same length; got {data.shape} "
            f"and {indices.shape}"
        )
    ip = _signed(indptr)
    small = ip.shape[0] + indices.shape[0] < _small.SMALL  # numpy: nothing to compile
    if check_indices or canonical:
        check = _small.csr_structure_status if small else _csr_structure_status
        status, pos = check(ip, _signed(indices), int(n_cols), bool(canonical))
    else:
        status, pos = (_small.indptr_status if small else _indptr_status)(ip, indices.shape[0])
    if status == 0:
        return
    if status <= 3:
        v = int(indptr[pos])
        w = int(indptr[pos - 1]) if pos > 0 else 0
        what = _CSR_MESSAGES[status].format(p=pos, q=pos - 1, v=v, w=w, nnz=indices.shape[0])
    else:
        what = _CSR_MESSAGES[status].format(p=pos, v=int(indices[pos]), n_cols=n_cols)
        if transposed:
            what = what.replace("column indices", "row indices").replace("n_items", "n_people")
    fmt = "CSC" if transposed else "CSR"
    raise ValueError(f"{name} is not a valid {fmt} matrix: {what}")


def _signed(a: np.ndarray) -> np.ndarray:
    """A contiguous signed view or copy of an integer index array (uint64 values past 2**63
    become negative, hence out of range, as they are)."""
    if a.dtype.kind == "u":
        a = a.view(np.int64) if a.dtype == np.uint64 else a.astype(np.int64)
    return np.ascontiguousarray(a)


def _check_coo(M: Any, name: str) -> None:
    """Row and column indices of a COO matrix inside its shape (scipy's tocsr trusts them)."""
    from fastbip._kernels.validate import _min_max_int

    for arr, what, n in ((M.row, "row", M.shape[0]), (M.col, "column", M.shape[1])):
        if arr.ndim != 1 or arr.dtype.kind not in "iu" or arr.shape != M.data.shape:
            raise ValueError(
                f"{name}.{'row' if what == 'row' else 'col'} must be a 1-D integer array as "
                f"long as {name}.data; got dtype {arr.dtype}, shape {arr.shape}"
            )
        if arr.size:
            lo, hi = _min_max_int(_signed(arr))
            if lo < 0 or hi >= n:
                bad = lo if lo < 0 else hi
                raise ValueError(
                    f"{name} is not a valid COO matrix: {what} indices must be in [0, {n}); "
                    f"got {bad}"
                )


# --------------------------------------------------------------------------- event offsets


def check_offsets(
    offsets: Any, n_entries: int, n_times: int, name: str = "events.offsets"
) -> np.ndarray:
    """Event offsets as a contiguous int64 array, checked in one pass (numba).

    ``offsets`` must be 1-D integers with ``n_entries + 1`` entries (one more than the stored
    entries of the matrix they are aligned with), start at 0, never decrease and end at
    ``n_times`` (the length of the times array), so that every ``times[offsets[e]:offsets[e +
    1]]`` lies inside the times.

    Raises
    ------
    TypeError
        not integers.
    ValueError
        naming ``name``, the position and the value found.
    """
    from fastbip._kernels.validate import _offsets_status

    off = np.asarray(offsets)
    if off.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers; got dtype {off.dtype}")
    if off.ndim != 1 or off.shape[0] != n_entries + 1:
        raise ValueError(
            f"{name} must have nnz + 1 = {n_entries + 1} entries (one per stored purchase "
            f"entry, plus one); got shape {off.shape}"
        )
    rule = f"{name} must start at 0, never decrease and end at len(times) = {n_times}"
    if off.dtype == np.uint64 and off.size and int(off.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{rule}; got a value {int(off.max())}")
    off = np.ascontiguousarray(off, dtype=np.int64)
    status, pos = _offsets_status(off, int(n_entries), int(n_times))
    if status == 2:
        raise ValueError(f"{rule}; got {name}[0] = {int(off[0])}")
    if status == 3:
        raise ValueError(
            f"{rule}; got {name}[{pos}] = {int(off[pos])} < {name}[{pos - 1}] = {int(off[pos - 1])}"
        )
    if status == 4:
        raise ValueError(f"{rule}; got {name}[{pos}] = {int(off[pos])} at the end")
    return off


# --------------------------------------------------------------------------- renamed keywords


def renamed_keyword(old: str, new: str):
    """Decorator: accept the keyword ``old`` as a deprecated alias of ``new`` (one release).

    A call with ``old=`` warns with a DeprecationWarning and passes the value as ``new=``; a
    call with both raises a TypeError that names the two.
    """
    import functools
    import warnings

    def wrap(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(
                        f"{func.__name__}() got both {old}= and {new}=; pass only {new}= "
                        f"({old}= is its deprecated name)"
                    )
                warnings.warn(
                    f"{func.__name__}(): the keyword {old}= is deprecated; use {new}=",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return inner

    return wrap
