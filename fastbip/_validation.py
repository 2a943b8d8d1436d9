"""Validation and conversion of the purchase matrix ``M``, in one place.

Every public function that takes a purchase matrix (people x items) checks and converts it
with :func:`as_purchases`, so that the same mistake gets the same message wherever it is made.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["as_purchases"]

_ACCEPT = ("any", "sparse", "csr")


def as_purchases(M, name="M", *, accept="any", dtype=None, canonical=True, counts=False):
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
