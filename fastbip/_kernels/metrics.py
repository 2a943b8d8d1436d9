"""Kernels behind the clustering scores: contingency counting and expected mutual information.

Cache and threads
-----------------
Both public kernels are serial, ``@njit(cache=True, nogil=True)``: each is one pass over n
labels or over the K_true x K_found pairs of clusters, short enough that thread start-up would
cost more than it saves, and serial code gives the same float sums whatever the machine. They
are cached because their compile time (about a second each) would otherwise be part of the
first score a user asks for. Labels arrive in their own integer width (``as_labels`` keeps
it), so ``_contingency_table_dense`` compiles one specialisation per width pair used.

Small inputs (``fastbip._small.SMALL``) take the numpy twins in ``fastbip/_small.py``
instead, so a small first run compiles none of these.

Nothing is validated here: the caller (``fastbip.metrics``) checks shapes, ranges and dtypes
and guarantees the preconditions stated in each docstring.
"""

import math

import numpy as np
from numba import njit

# The sum over n_ij stops where the hypergeometric weight falls below exp(-_TAIL) times its
# value at the mode: the rest weighs less than 1e-24 of the sum (the weights decay faster than
# geometrically past that point), far below float64 rounding.
_TAIL = 60.0


@njit(cache=True, nogil=True)
def _contingency_table_dense(true_labels, found_labels, n_true, n_found, unassigned_col):
    """Count label pairs into a dense table.

    true_labels: any integer dtype, (n,), contiguous, values in -1 .. n_true - 1.
    found_labels: any integer dtype, (n,), contiguous, values in -1 .. n_found - 1.
    n_true, n_found: int >= 0, the table's shape.
    unassigned_col: int, the column for found label -1 (in 0 .. n_found - 1), or -1 to skip
        those samples.
    Samples with true label -1 are skipped.
    Returns int64 (n_true, n_found): out[t, f] = #{i : true[i] = t, found[i] = f}.
    """
    out = np.zeros((n_true, n_found), dtype=np.int64)
    flat = out.ravel()
    stride = np.uint64(n_found)
    for i in range(np.uint64(true_labels.shape[0])):
        t = np.int64(true_labels[i])
        f = np.int64(found_labels[i])
        if t < 0:
            continue
        if f < 0:
            if unassigned_col < 0:
                continue
            f = unassigned_col
        flat[np.uint64(t) * stride + np.uint64(f)] += 1
    return out


@njit(cache=True, nogil=True)
def _emi_term(nij, ai, bj, n, log_n, log_ai, log_bj, gln_const, gln_n1):
    """One term of the EMI sum and its log hypergeometric weight (same formula as sklearn).

    All arguments are float64 scalars: nij (the cell count, >= 1), ai, bj (the marginals),
    n (the total), log_n, log_ai, log_bj (their logs), gln_const (the four lgamma terms of
    the marginals), gln_n1 (lgamma(n + 1)). Returns (term, log weight) as two floats.
    """
    term1 = nij / n
    term2 = (log_n + math.log(nij)) - log_ai - log_bj
    gln = (
        gln_const
        - (math.lgamma(nij + 1.0) + gln_n1)
        - math.lgamma(ai - nij + 1.0)
        - math.lgamma(bj - nij + 1.0)
        - math.lgamma(n - ai - bj + nij + 1.0)
    )
    return term1 * term2 * math.exp(gln), gln


@njit(cache=True, nogil=True)
def _expected_mutual_information(a, b, n, gln_a, gln_b, gln_na, gln_nb, gln_n1):
    """Expected mutual information of two labelings with marginals a, b under permutation.

    a: int64 (R,), row sums (all > 0); b: int64 (C,), column sums (all > 0).
    n: int, a.sum() == b.sum() > 0.
    gln_a: float64 (R,), lgamma(a + 1); gln_b: float64 (C,), lgamma(b + 1);
    gln_na: float64 (R,), lgamma(n - a + 1); gln_nb: float64 (C,), lgamma(n - b + 1);
    gln_n1: float, lgamma(n + 1).
    Returns the EMI as a float.
    The sum over n_ij runs outward from the hypergeometric mode and stops where the weight
    falls below exp(-60) times the mode's (the weights are log-concave in n_ij), so the
    result equals the full sum of sklearn's ``expected_mutual_information`` up to rounding,
    at a fraction of its cost (about 20 standard deviations of n_ij per pair of clusters).
    """
    emi = 0.0
    nf = float(n)
    log_n = math.log(nf)
    for i in range(a.shape[0]):
        ai = float(a[i])
        log_ai = math.log(ai)
        for j in range(b.shape[0]):
            bj = float(b[j])
            log_bj = math.log(bj)
            start = max(1, a[i] - n + b[j])
            end = min(a[i], b[j])  # inclusive
            if start > end:
                continue
            gln_const = gln_a[i] + gln_b[j] + gln_na[i] + gln_nb[j]
            mode = np.int64(math.floor((ai + 1.0) * (bj + 1.0) / (nf + 2.0)))
            mode = min(max(mode, start), end)
            t, gln = _emi_term(float(mode), ai, bj, nf, log_n, log_ai, log_bj, gln_const, gln_n1)
            emi += t
            stop = gln - _TAIL
            k = mode - 1
            while k >= start:
                t, gln = _emi_term(float(k), ai, bj, nf, log_n, log_ai, log_bj, gln_const, gln_n1)
                emi += t
                if gln < stop:
                    break
                k -= 1
            k = mode + 1
            while k <= end:
                t, gln = _emi_term(float(k), ai, bj, nf, log_n, log_ai, log_bj, gln_const, gln_n1)
                emi += t
                if gln < stop:
                    break
                k += 1
    return emi
