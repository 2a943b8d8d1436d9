"""Kernels of the randomized spectral start (:mod:`fastbip.algorithms._gram`: one machine and
the row shards of ``fastbip.distributed.spectral``).

Arrays in, arrays out; no validation here: the caller converts once and guarantees the
preconditions below.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def gram_product_csr(indptr, indices, data, w_rows, w_cols, Q, Z):
    """Z += L^T L Q for L = diag(w_rows) A diag(w_cols), one pass over the rows of A.

    indptr : int32 or int64 (n_rows + 1,); indices : int32 or int64 (nnz,), in [0, n_cols);
    data : float64 (nnz,); w_rows : float64 (n_rows,); w_cols : float64 (n_cols,);
    Q : float64 C-contiguous (n_cols, l); Z : float64 C-contiguous (n_cols, l), added to.

    Each row's ``y = w_i sum_j a_ij w_j Q[j]`` is formed, then ``w_i a_ij w_j y`` is added to
    ``Z[j]`` for its entries: serial, rows in order (a fixed float sum order).
    """
    n = indptr.size - 1
    ell = Q.shape[1]
    y = np.zeros(ell)
    for i in range(n):
        y[:] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = data[p] * w_cols[j]
            for c in range(ell):
                y[c] += v * Q[j, c]
        wi2 = w_rows[i] * w_rows[i]
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = data[p] * w_cols[j] * wi2
            for c in range(ell):
                Z[j, c] += v * y[c]


@njit(cache=True, nogil=True)
def gram_csr(indptr, indices, data, w_rows, w_cols, G):
    """G += L^T L for L = diag(w_rows) A diag(w_cols), one pass over the rows of A.

    indptr, indices, data, w_rows, w_cols : as :func:`gram_product_csr` (no duplicate
    column in a row); G : float64 C-contiguous (n_cols, n_cols), added to.

    Each row adds ``w_i^2 (a_ij w_j)(a_ik w_k)`` to ``G[j, k]`` for every pair of its
    entries: O(sum of squared row lengths), serial, rows in order (a fixed float sum order).
    """
    n = indptr.size - 1
    for i in range(n):
        wi2 = w_rows[i] * w_rows[i]
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = data[p] * w_cols[j] * wi2
            for q in range(indptr[i], indptr[i + 1]):
                k = indices[q]
                G[j, k] += v * (data[q] * w_cols[k])
