"""Kernels of the degree-corrected bipartite block-model fit and of the oracle.

Arrays in, arrays out; no validation here: the callers (``fastbip.algorithms.dcsbm`` and
``fastbip.truth``) validate and convert once, and every precondition below is theirs to
guarantee. Names say the operation and the format of the main input (``_csr``: a CSR matrix
as ``indptr, indices, data``; ``_dense``: C-contiguous 2-D arrays).

Common arguments:
    indptr : int32 or int64 (n_rows + 1,), CSR row pointers, non-decreasing, indptr[0] == 0,
        indptr[-1] == nnz.
    indices : int32 or int64 (nnz,), column indices in [0, n_cols).
    data : float64 (nnz,), purchase counts (any finite non-negative values).
    column_labels : int32 or int64 (n_cols,), labels in [0, k_cols) or -1 (skipped).

Threads. Every kernel here is ``parallel=True`` (prange over rows or over chunks) and gives
each row its own output slot, or reduces over ``N_CHUNKS`` fixed ranges of rows summed in chunk
order, so its result is bit-identical whatever the number of threads. The caller chooses the
thread count (``fastbip.algorithms._base.limit_threads``: one thread below 500,000 stored
entries or when ``n_jobs`` is None, where a parallel region costs more than it saves).

Cache. ``cache=True`` on these parallel kernels is deliberate: the cached machine code does
not depend on the thread count (numba's thread count is a run-time setting read by the
parallel runtime), and ``tests/test_dcsbm.py::test_bit_identical_whatever_the_thread_count``
runs them from the same cache under NUMBA_NUM_THREADS=1 and 2. Inputs are converted to the
dtypes above before every call, so each kernel compiles one or two specialisations (int32
or int64 indices).
"""

import numpy as np
from numba import njit, prange

from ._serial import serial_twin

# Number of chunks of rows for the deterministic reductions: fixed, so that the summation
# order does not depend on the number of threads.
N_CHUNKS = 64


@njit(cache=True, nogil=True, inline="always")
def _sum_chunks(acc, k_rows, k_cols):
    """The (k_rows, k_cols) sum of the rows of acc (float64 (N_CHUNKS, k_rows * k_cols)),
    in chunk order. Loops, not array expressions (``C += acc[c]``, ``reshape``): those take
    numba seconds to compile on first use, for no gain on K x K tables."""
    C = np.zeros((k_rows, k_cols), dtype=np.float64)
    for c in range(acc.shape[0]):
        for k in range(k_rows):
            for lab in range(k_cols):
                C[k, lab] += acc[c, k * k_cols + lab]
    return C


@njit(cache=True, nogil=True, parallel=True)
def _row_profile_csr(indptr, indices, data, column_labels, k_cols):
    """Counts of each row by column cluster.

    indptr, indices, data : the CSR arrays of the matrix (int32 or int64 indptr (n_rows + 1,),
        int32 or int64 indices (nnz,), float64 data (nnz,)).
    column_labels : int64 (n_cols,), -1 or a label < k_cols; k_cols : int >= 1.

    Returns X, float64 (n_rows, k_cols): X[i, l] = sum of data[p] over the entries p of row i
    whose column has label l. Columns labelled -1 are skipped.
    Preconditions: the common ones; k_cols >= 1 and every column label < k_cols.
    """
    n = indptr.size - 1
    X = np.zeros((n, k_cols), dtype=np.float64)
    for i in prange(n):
        for p in range(indptr[i], indptr[i + 1]):
            lab = column_labels[indices[p]]
            if lab >= 0:
                X[i, lab] += data[p]
    return X


@njit(cache=True, nogil=True, parallel=True)
def _row_soft_profile_csr(indptr, indices, data, column_resp):
    """Counts of each row by column cluster, columns weighted by soft memberships.

    indptr, indices, data : the CSR arrays of the matrix (int32 or int64 indptr (n_rows + 1,),
        int32 or int64 indices (nnz,), float64 data (nnz,)).
    column_resp : float64 (n_cols, k_cols), rows sum to 1 (or 0 for columns left out).
    Returns X, float64 (n_rows, k_cols): X[i, l] = sum_j data[i, j] * column_resp[j, l].
    Preconditions: the common ones; column_resp C-contiguous with n_cols rows.
    """
    n = indptr.size - 1
    k = column_resp.shape[1]
    X = np.zeros((n, k), dtype=np.float64)
    for i in prange(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = data[p]
            for lab in range(k):
                X[i, lab] += v * column_resp[j, lab]
    return X


@njit(cache=True, nogil=True, parallel=True)
def _hard_assign_rows_csr(indptr, indices, data, column_labels, log_p, fallback):
    """One batch (Jacobi) label update of every row given the column labels.

    indptr, indices, data : the CSR arrays of the matrix (int32 or int64 indptr (n_rows + 1,),
        int32 or int64 indices (nnz,), float64 data (nnz,)).
    column_labels : int64 (n_cols,), -1 (left out) or a label < k_cols.
    log_p : float64 (k_rows, k_cols), finite (no -inf: 0 * -inf would be NaN): log of each
        row cluster's distribution over the column clusters.
    fallback : int, label given to rows with no counts (and to rows whose counts all fall on
        columns labelled -1).
    Returns (labels, C): labels, int64 (n_rows,): argmax_k sum_l x_il * log_p[k, l] (ties:
    smallest k), where x_il are the row's counts by column cluster; C, float64
    (k_rows, k_cols): the block totals under the new row labels and the given column labels
    (rows cut into N_CHUNKS fixed ranges, summed in chunk order: deterministic).
    Preconditions: the common ones; every column label < k_cols; 0 <= fallback < k_rows.
    """
    n = indptr.size - 1
    k_rows, k_cols = log_p.shape
    out = np.empty(n, dtype=np.int64)
    acc = np.zeros((N_CHUNKS, k_rows * k_cols), dtype=np.float64)
    step = (n + N_CHUNKS - 1) // N_CHUNKS
    for c in prange(N_CHUNKS):
        lo = c * step
        hi = min(n, lo + step)
        x = np.zeros(k_cols, dtype=np.float64)
        for i in range(lo, hi):
            for lab in range(k_cols):
                x[lab] = 0.0
            tot = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                lab = column_labels[indices[p]]
                if lab >= 0:
                    x[lab] += data[p]
                    tot += data[p]
            if tot <= 0.0:
                out[i] = fallback
                continue
            best = 0
            best_s = -np.inf
            for k in range(k_rows):
                s = 0.0
                for lab in range(k_cols):
                    s += x[lab] * log_p[k, lab]
                if s > best_s:
                    best_s = s
                    best = k
            out[i] = best
            base = best * k_cols
            for lab in range(k_cols):
                acc[c, base + lab] += x[lab]
    return out, _sum_chunks(acc, k_rows, k_cols)


@njit(cache=True, nogil=True, parallel=True)
def _transpose_product_dense(Q, X):
    """Q^T X in a fixed summation order.

    Q : float64 (n, k_rows); X : float64 (n, k_cols), both C-contiguous with the same n.
    Returns float64 (k_rows, k_cols), summed over N_CHUNKS fixed ranges of rows in chunk
    order (deterministic).
    """
    n, kr = Q.shape
    kc = X.shape[1]
    acc = np.zeros((N_CHUNKS, kr * kc), dtype=np.float64)
    step = (n + N_CHUNKS - 1) // N_CHUNKS
    for c in prange(N_CHUNKS):
        lo = c * step
        hi = min(n, lo + step)
        for i in range(lo, hi):
            for a in range(kr):
                q = Q[i, a]
                if q != 0.0:
                    for b in range(kc):
                        acc[c, a * kc + b] += q * X[i, b]
    return _sum_chunks(acc, kr, kc)


@njit(cache=True, nogil=True, parallel=True)
def _soft_assign_dense(X, log_p, log_prior, out_labels):
    """Posterior memberships of each row given its (soft) counts by column cluster.

    X : float64 (n, k_cols); log_p : float64 (k_rows, k_cols), finite; log_prior : float64
    (k_rows,), finite. Rows of X summing to 0 get the prior.
    Returns R, float64 (n, k_rows), R[i] proportional to exp(log_prior + X[i] @ log_p.T);
    also writes argmax (ties: smallest k) into out_labels, int64 (n,).
    Preconditions: X finite and >= 0, k_rows >= 1, out_labels of length n.
    """
    n, kc = X.shape
    kr = log_p.shape[0]
    R = np.empty((n, kr), dtype=np.float64)
    for i in prange(n):
        m = -np.inf
        best = 0
        for k in range(kr):
            s = log_prior[k]
            for lab in range(kc):
                if X[i, lab] != 0.0:
                    s += X[i, lab] * log_p[k, lab]
            R[i, k] = s
            if s > m:
                m = s
                best = k
        out_labels[i] = best
        tot = 0.0
        for k in range(kr):
            e = np.exp(R[i, k] - m)
            R[i, k] = e
            tot += e
        for k in range(kr):
            R[i, k] /= tot
    return R


@njit(cache=True, nogil=True, parallel=True)
def _oracle_assign_dense(X, log_w, weight, mass, log_prior):
    """Most likely cluster of each row under a known Poisson block model.

    X : float64 (n, k_other), counts of each row by the other side's true cluster.
    log_w : float64 (k, k_other), log of the block relation (very negative where it is 0).
    weight : float64 (n,), each row's activity (theta or phi).
    mass : float64 (k,), mass[k] = sum_l omega[k, l] * (total weight of other-side cluster l).
    log_prior : float64 (k,).
    Returns int64 (n,): argmax_k log_prior[k] + sum_l X[i, l] log_w[k, l] - weight[i] mass[k]
    (ties: smallest k).
    Preconditions: X finite and >= 0; weight, mass and log_prior finite; k >= 1.
    """
    n, kc = X.shape
    kr = log_w.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in prange(n):
        best = 0
        best_s = -np.inf
        for k in range(kr):
            s = log_prior[k] - weight[i] * mass[k]
            for lab in range(kc):
                if X[i, lab] != 0.0:
                    s += X[i, lab] * log_w[k, lab]
            if s > best_s:
                best_s = s
                best = k
        out[i] = best
    return out


# Serial twins (``_serial.py``): the same results, compiled several times faster; the
# block-model fit uses them when numba runs on one thread (``fastbip.algorithms.dcsbm``).
# Below ``fastbip._small.SMALL`` entries the row-profile, hard-assignment and oracle kernels
# give way to numpy twins (``fastbip/_small.py``, bit-identical).
_row_profile_csr_serial = serial_twin(_row_profile_csr)
_row_soft_profile_csr_serial = serial_twin(_row_soft_profile_csr)
_hard_assign_rows_csr_serial = serial_twin(_hard_assign_rows_csr)
_transpose_product_dense_serial = serial_twin(_transpose_product_dense)
_soft_assign_dense_serial = serial_twin(_soft_assign_dense)
_oracle_assign_dense_serial = serial_twin(_oracle_assign_dense)
