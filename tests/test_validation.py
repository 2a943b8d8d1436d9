"""fastbip._validation.as_purchases: the one check and conversion of the purchase matrix."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastbip._validation import as_purchases


def _raw():
    """A CSR matrix with unsorted column indices and a duplicate entry (row 0, column 2)."""
    data = np.array([3, 1, 2, 5], dtype=np.int32)
    indices = np.array([2, 0, 2, 1], dtype=np.int32)
    indptr = np.array([0, 3, 4], dtype=np.int32)
    M = sp.csr_matrix((data, indices, indptr), shape=(2, 3))
    assert not M.has_canonical_format
    return M


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "M, kw, exc, match",
    [
        (
            np.ones((2, 2)),
            dict(accept="dense"),
            ValueError,
            r"accept must be one of \('any', 'sparse', 'csr'\); got 'dense'",
        ),
        (
            "purchases",
            {},
            TypeError,
            r"M must be a scipy\.sparse matrix or a 2-D numeric array; got str",
        ),
        (
            None,
            {},
            TypeError,
            r"M must be a scipy\.sparse matrix or a 2-D numeric array; got NoneType",
        ),
        (
            [[1, 2], [3]],
            {},
            TypeError,
            r"M must be a scipy\.sparse matrix or a 2-D numeric array; got list that numpy cannot "
            r"convert",
        ),
        (
            np.ones((2, 2)),
            dict(accept="sparse"),
            TypeError,
            r"M must be a scipy\.sparse matrix; got ndarray",
        ),
        (
            np.ones((2, 2)),
            dict(accept="csr"),
            TypeError,
            r"M must be a scipy\.sparse CSR matrix; got ndarray",
        ),
        (
            sp.csc_matrix(np.ones((2, 2))),
            dict(accept="csr"),
            TypeError,
            r"M must be a scipy\.sparse CSR matrix; got csc_matrix",
        ),
        (np.array([["a", "b"]]), {}, TypeError, r"M must hold numbers; got dtype <U1"),
        (
            np.array([[1, "b"]], dtype=object),
            {},
            TypeError,
            r"M must hold numbers; got dtype object with non-numeric entries",
        ),
        (np.array([[1 + 1j, 0]]), {}, TypeError, r"M must hold real numbers; got dtype complex128"),
        (
            sp.csr_matrix(np.ones((2, 2), dtype=np.complex64)),
            {},
            TypeError,
            r"M must hold real numbers; got dtype complex64",
        ),
        (np.ones(3), {}, ValueError, r"M must be 2-D \(n_people, n_items\); got shape \(3,\)"),
        (
            np.ones((2, 2, 2)),
            {},
            ValueError,
            r"M must be 2-D \(n_people, n_items\); got shape \(2, 2, 2\)",
        ),
        (
            sp.coo_array(np.ones(3)),
            {},
            ValueError,
            r"M must be 2-D \(n_people, n_items\); got shape \(3,\)",
        ),
        (
            np.zeros((0, 3)),
            dict(counts=True),
            ValueError,
            r"M must have at least one row and one column; got shape \(0, 3\)",
        ),
        (
            sp.csr_matrix((4, 0)),
            dict(counts=True),
            ValueError,
            r"M must have at least one row and one column; got shape \(4, 0\)",
        ),
        (
            np.array([[1.0, np.nan]]),
            dict(counts=True),
            ValueError,
            r"M must be finite; got NaN or infinite values",
        ),
        (
            sp.csr_matrix(np.array([[1.0, -np.inf]])),
            dict(counts=True),
            ValueError,
            r"M must be finite; got NaN or infinite values",
        ),
        (
            np.array([[1, -2]]),
            dict(counts=True),
            ValueError,
            r"M must be non-negative \(purchase counts\); got -2 \(Negative values in data\)",
        ),
        (
            np.array([[1.0, -0.5]]),
            dict(dtype=np.float64, counts=True),
            ValueError,
            r"M must be non-negative \(purchase counts\); got -0\.5 \(Negative values in data\)",
        ),
    ],
)
def test_errors(M, kw, exc, match):
    with pytest.raises(exc, match=match):
        as_purchases(M, **kw)


def test_errors_name_the_argument():
    with pytest.raises(
        TypeError,
        match=r"dataset\.purchases must be a scipy\.sparse matrix; "
        r"got list",
    ):
        as_purchases([[1]], "dataset.purchases", accept="sparse")
    with pytest.raises(ValueError, match=r"X must be non-negative \(purchase counts\); got -1"):
        as_purchases(np.array([[-1]]), "X", counts=True)


def test_values_are_not_checked_without_counts():
    # the structural callers (block counts, events) read values they check themselves, if at all
    M = as_purchases(np.array([[-1.0, np.nan]]))
    assert M.nnz == 2 and M.data[0] == -1.0 and np.isnan(M.data[1])
    assert as_purchases(np.zeros((0, 3))).shape == (0, 3)


# --- dtype -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.float32, np.bool_])
def test_dtype_kept_or_converted(dtype):
    dense = np.array([[0, 2, 1], [1, 0, 0]]).astype(dtype)
    for M in (dense, sp.csr_matrix(dense), sp.coo_matrix(dense), sp.csr_array(dense)):
        kept = as_purchases(M)
        assert kept.dtype == dtype
        np.testing.assert_array_equal(kept.toarray(), dense)
        f64 = as_purchases(M, dtype=np.float64)
        assert f64.dtype == np.float64
        np.testing.assert_array_equal(f64.toarray(), dense.astype(np.float64))


def test_object_array_of_numbers_becomes_float64():
    M = as_purchases(np.array([[1, 2.5]], dtype=object))
    assert M.dtype == np.float64
    np.testing.assert_array_equal(M.toarray(), [[1.0, 2.5]])


def test_bool_duplicates_are_summed_after_the_conversion():
    M = sp.csr_matrix((np.array([True, True]), np.array([1, 1]), np.array([0, 2])), shape=(1, 2))
    np.testing.assert_array_equal(as_purchases(M, dtype=np.float64).toarray(), [[0.0, 2.0]])


# --- canonical form, copies, classes ---------------------------------------------------------


def test_canonicalisation_on_a_copy():
    M = _raw()
    before = (M.data.copy(), M.indices.copy(), M.indptr.copy())
    C = as_purchases(M)
    assert C.has_canonical_format and C.nnz == 3
    np.testing.assert_array_equal(C.indices, [0, 2, 1])
    np.testing.assert_array_equal(C.data, [1, 5, 5])
    np.testing.assert_array_equal(C.toarray(), M.toarray())
    for a, b in zip(before, (M.data, M.indices, M.indptr), strict=True):
        np.testing.assert_array_equal(a, b)  # the input is not modified
    assert not M.has_canonical_format


def test_canonical_false_reads_in_place():
    M = _raw()
    R = as_purchases(M, canonical=False)
    assert R.nnz == 4
    for a, b in ((R.data, M.data), (R.indices, M.indices), (R.indptr, M.indptr)):
        assert np.shares_memory(a, b)  # no copy


def test_csr_only_keeps_entry_order_of_canonical_input():
    M = sp.csr_array(np.array([[0, 1, 2], [3, 0, 0]], dtype=np.int64))
    R = as_purchases(M, accept="csr")
    assert type(R) is sp.csr_matrix and R.dtype == np.int64
    for a, b in ((R.data, M.data), (R.indices, M.indices), (R.indptr, M.indptr)):
        assert np.shares_memory(a, b)  # no copy


def test_explicit_zeros_are_kept():
    M = sp.csr_matrix((np.array([0.0, 2.0]), np.array([0, 1]), np.array([0, 2])), shape=(1, 2))
    R = as_purchases(M, dtype=np.float64, counts=True)
    assert R.nnz == 2


@pytest.mark.parametrize(
    "make",
    [
        np.asarray,
        lambda a: a.tolist(),
        lambda a: tuple(map(tuple, a)),
    ],
)
def test_dense_input(make):
    a = np.array([[0, 3], [1, 0], [0, 0]], dtype=np.int64)
    M = as_purchases(make(a))
    assert type(M) is sp.csr_matrix and M.shape == (3, 2) and M.has_canonical_format
    assert M.nnz == 2 and M.dtype == np.int64
    np.testing.assert_array_equal(M.toarray(), a)


def test_other_sparse_formats_become_csr():
    a = np.array([[0, 3], [1, 0]])
    for fmt in ("coo", "csc", "lil", "dok", "bsr", "dia"):
        M = as_purchases(sp.csr_matrix(a).asformat(fmt), accept="sparse")
        assert type(M) is sp.csr_matrix and M.has_canonical_format
        np.testing.assert_array_equal(M.toarray(), a)


def test_cocluster_form_drops_zeros_without_touching_the_input():
    from fastbip.algorithms._base import as_purchases as cocluster_form

    M = sp.csr_matrix(
        (np.array([1.0, 0.0, 2.0]), np.array([0, 1, 0]), np.array([0, 2, 3])), shape=(2, 2)
    )
    R = cocluster_form(M)
    assert R.nnz == 2 and R.dtype == np.float64
    np.testing.assert_array_equal(R.toarray(), [[1.0, 0.0], [2.0, 0.0]])
    assert M.nnz == 3
    np.testing.assert_array_equal(M.data, [1.0, 0.0, 2.0])
