"""Kernels of the oracle (``fastbip.truth.oracle_labels``) that read the purchases in place.

Arrays in, arrays out; no validation here: ``fastbip.truth`` checks and guarantees every
precondition below. The values are read in their own dtype (int32, int64, float32 or
float64; numba compiles one specialisation per dtype met) and summed in float64, so the
results are bit for bit those of the values converted to float64 first, without that copy.

- ``_oracle_assign_csr`` (people side) computes each row's profile by the other side's
  clusters in a buffer of ``k_cols`` values and assigns the row at once: no n x K array.
  Rows are split into ``N_CHUNKS`` fixed ranges, one buffer each; each row's result depends
  on that row alone, so it is the same whatever the number of threads. Its serial twin
  serves small inputs (faster to compile).
- ``_column_profile_csr`` (items side) sums the values of each column by the row clusters
  straight from the CSR arrays (serial: one pass over the entries, in row order, the order
  in which a transposed copy would hold them), so the matrix is never transposed.
"""

import numpy as np
from numba import njit, prange

from ._serial import serial_twin

N_CHUNKS = 256


@njit(cache=True, nogil=True, parallel=True)
def _oracle_assign_csr(indptr, indices, data, column_labels, log_w, weight, mass, log_prior):
    """Most likely cluster of each row of a CSR matrix under a known Poisson block model.

    indptr : int32 or int64 (n + 1,), non-decreasing, indptr[0] == 0, indptr[-1] == nnz.
    indices : int32 or int64 (nnz,), column indices in [0, n_cols).
    data : int32, int64, float32 or float64 (nnz,), finite, >= 0.
    column_labels : int64 (n_cols,), labels in [0, k_cols).
    log_w : float64 (k, k_cols), C-contiguous, log of the block relation (very negative
        where it is 0).
    weight : float64 (n,), each row's activity; mass : float64 (k,); log_prior : float64 (k,).
    Returns int64 (n,): argmax_k log_prior[k] + sum_l X[i, l] log_w[k, l] - weight[i] mass[k]
    with X[i, l] the float64 sum of data over row i's entries in column cluster l, summed in
    entry order (ties: smallest k). Precondition: k >= 1.
    """
    n = indptr.shape[0] - 1
    kr, kc = log_w.shape
    out = np.empty(n, dtype=np.int64)
    n_chunks = min(N_CHUNKS, max(n, 1))
    for c in prange(n_chunks):
        x = np.zeros(kc, dtype=np.float64)
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            x[:] = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                x[column_labels[indices[p]]] += data[p]
            best = 0
            best_s = -np.inf
            for k in range(kr):
                s = log_prior[k] - weight[i] * mass[k]
                for lab in range(kc):
                    if x[lab] != 0.0:
                        s += x[lab] * log_w[k, lab]
                if s > best_s:
                    best_s = s
                    best = k
            out[i] = best
    return out


@njit(cache=True, nogil=True)
def _column_profile_csr(indptr, indices, data, row_labels, k_rows, n_cols):
    """Sums of each column's values by row cluster.

    indptr, indices, data : as in ``_oracle_assign_csr``, columns in [0, n_cols).
    row_labels : int64 (n_rows,), labels in [0, k_rows); k_rows >= 1.
    Returns X, float64 (n_cols, k_rows): X[j, l] = sum of data[p] over the entries p in
    column j whose row has label l, summed in row order.
    """
    X = np.zeros((n_cols, k_rows), dtype=np.float64)
    for i in range(indptr.shape[0] - 1):
        lab = row_labels[i]
        for p in range(indptr[i], indptr[i + 1]):
            X[indices[p], lab] += data[p]
    return X


_oracle_assign_csr_serial = serial_twin(_oracle_assign_csr)
