"""Kernels of belief propagation for the degree-corrected bipartite Poisson block model.

Arrays in, arrays out; no validation here (``fastbip.algorithms.bp`` validates and converts
once). Serial kernels: every result is written in a fixed order, so it does not depend on the
number of threads.

The model: ``M[i, j] ~ Poisson(x_i y_j R[a_i, b_j])``. One half-sweep updates the messages
that leave one side ("this" side) from the messages that arrive at it, and that side's
marginals. The same kernel serves both sides: for the people, ``this`` is the rows of the CSR
matrix and ``edges`` is ``arange(nnz)``; for the items, ``this`` is the columns, ``edges`` the
stored entries in column order, and ``R`` is transposed.

Common arguments:
    node_ptr : int64 (n_this + 1,), pointers into ``edges`` (non-decreasing, last = nnz).
    edges : int64 (nnz,), the stored entries (indices into ``data`` and the message arrays)
        of each node of this side, node by node; a permutation of ``arange(nnz)``.
    data : float64 (nnz,), counts > 0.
    rel_R : float64 (k_this, k_other), the rates divided by their maximum, every entry in
        (0, 1] (the caller floors them).
    log_rel_R : float64 (k_this, k_other), ``log(rel_R)``.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _bp_half_sweep(
    node_ptr,
    edges,
    data,
    x_this,
    field,
    rel_R,
    log_rel_R,
    log_prior,
    msg_in,
    msg_out,
    marg_this,
    damping,
):
    """Update the messages leaving this side and this side's marginals, in place.

    Parameters
    ----------
    node_ptr, edges, data, rel_R, log_rel_R : see the module docstring (int64 (n_this + 1,),
        int64 (nnz,), float64 (nnz,), float64 (k_this, k_other) twice).
    x_this : float64 (n_this,), the degree weights of this side (theta or the degrees).
    field : float64 (k_this,), ``h[k] = sum_l R[k, l] mass_other[l]``: a node of weight ``x``
        in cluster ``k`` gets the factor ``exp(-x h[k])``.
    log_prior : float64 (k_this,), log cluster shares of this side.
    msg_in : float64 (nnz, k_other), messages other -> this on each stored entry, rows sum to 1.
    msg_out : float64 (nnz, k_this), messages this -> other, rows sum to 1; overwritten with
        ``damping * old + (1 - damping) * new``.
    marg_this : float64 (n_this, k_this), overwritten with the marginals.
    damping : float in [0, 1).

    Returns
    -------
    float64 (2,): the mean over entries of the largest change of a message entry, and the
    largest change.

    The field: a node of this side with weight ``x`` in cluster ``k`` meets the product over
    all nodes ``j`` of the other side of ``exp(-x y_j R[k, b_j])`` (the Poisson factor of every
    pair, edge or not), which the mean-field step replaces by
    ``exp(-x sum_l R[k, l] sum_j y_j P(b_j = l))``; the caller computes ``h``.
    """
    n_this = node_ptr.size - 1
    k_this = rel_R.shape[0]
    k_other = rel_R.shape[1]
    max_deg = 0
    for i in range(n_this):
        d = node_ptr[i + 1] - node_ptr[i]
        if d > max_deg:
            max_deg = d
    # the factors of the edges are kept linear, each edge's divided by its largest (a factor
    # common to every cluster drops out of the normalisations), and multiplied into the node's
    # product, which is rescaled whenever its largest entry falls below SMALL
    fac = np.empty((max_deg, k_this))
    prod = np.empty(k_this)
    base = np.empty(k_this)
    tmp = np.empty(k_other)
    cav = np.empty(k_this)
    small = 1e-250
    sum_change = 0.0
    max_change = 0.0
    for i in range(n_this):
        start = node_ptr[i]
        deg = node_ptr[i + 1] - start
        for k in range(k_this):
            prod[k] = 1.0
        for q in range(deg):
            e = edges[start + q]
            m = data[e]
            if m == 1.0:
                top = 0.0
                for k in range(k_this):
                    s = 0.0
                    for l in range(k_other):
                        s += msg_in[e, l] * rel_R[k, l]
                    fac[q, k] = s
                    if s > top:
                        top = s
                if not top > 0.0:  # the message vanished: the edge tells nothing
                    for k in range(k_this):
                        fac[q, k] = 1.0
            else:
                big = -np.inf
                for k in range(k_this):
                    top = -np.inf
                    for l in range(k_other):
                        if msg_in[e, l] > 0.0:
                            tmp[l] = np.log(msg_in[e, l]) + m * log_rel_R[k, l]
                        else:
                            tmp[l] = -np.inf
                        if tmp[l] > top:
                            top = tmp[l]
                    if top == -np.inf:  # the message vanished: the edge tells nothing
                        cav[k] = 0.0
                    else:
                        s = 0.0
                        for l in range(k_other):
                            s += np.exp(tmp[l] - top)
                        cav[k] = top + np.log(s)
                    if cav[k] > big:
                        big = cav[k]
                for k in range(k_this):
                    fac[q, k] = max(np.exp(cav[k] - big), 1e-300)
            top = 0.0
            for k in range(k_this):
                prod[k] *= fac[q, k]
                if prod[k] > top:
                    top = prod[k]
            if top < small:
                for k in range(k_this):
                    prod[k] = prod[k] / top if top > 0.0 else 1.0
        # marginal: prior, field and every incoming factor
        top = -np.inf
        for k in range(k_this):
            if prod[k] > 0.0:
                base[k] = log_prior[k] - x_this[i] * field[k] + np.log(prod[k])
            else:
                base[k] = -np.inf
            if base[k] > top:
                top = base[k]
        s = 0.0
        for k in range(k_this):
            base[k] = np.exp(base[k] - top)
            s += base[k]
        for k in range(k_this):
            base[k] /= s
            marg_this[i, k] = base[k]
        # messages: the marginal without the edge's own factor
        for q in range(deg):
            e = edges[start + q]
            s = 0.0
            for k in range(k_this):
                cav[k] = base[k] / fac[q, k]
                s += cav[k]
            worst = 0.0
            for k in range(k_this):
                new = damping * msg_out[e, k] + (1.0 - damping) * (cav[k] / s)
                ch = abs(new - msg_out[e, k])
                if ch > worst:
                    worst = ch
                msg_out[e, k] = new
            sum_change += worst
            if worst > max_change:
                max_change = worst
    out = np.empty(2)
    nnz = edges.size
    out[0] = sum_change / nnz if nnz > 0 else 0.0
    out[1] = max_change
    return out


@njit(cache=True, nogil=True)
def _bp_edge_counts(indptr, data, log_rel_R, msg_ab, msg_ba):
    """Expected block totals of the stored entries under the BP edge marginals.

    Parameters
    ----------
    indptr : int64 (n_rows + 1,), CSR row pointers (only its last entry, nnz, is read).
    data : float64 (nnz,), counts > 0.
    log_rel_R : float64 (k_rows, k_cols), as in the module docstring.
    msg_ab : float64 (nnz, k_rows), messages row -> column on each entry.
    msg_ba : float64 (nnz, k_cols), messages column -> row on each entry.

    Returns
    -------
    C : float64 (k_rows, k_cols), ``sum_e data[e] P_e(k, l)`` where
    ``P_e(k, l)`` is proportional to ``msg_ab[e, k] msg_ba[e, l] rel_R[k, l] ** data[e]``.
    """
    nnz = indptr[indptr.size - 1]
    ka = log_rel_R.shape[0]
    kb = log_rel_R.shape[1]
    C = np.zeros((ka, kb))
    w = np.empty((ka, kb))
    for e in range(nnz):
        m = data[e]
        top = -np.inf
        for k in range(ka):
            for l in range(kb):
                p = msg_ab[e, k] * msg_ba[e, l]
                if p > 0.0:
                    w[k, l] = np.log(p) + m * log_rel_R[k, l]
                else:
                    w[k, l] = -np.inf
                if w[k, l] > top:
                    top = w[k, l]
        if top == -np.inf:  # both messages vanished: no share of the entry to give
            continue
        s = 0.0
        for k in range(ka):
            for l in range(kb):
                w[k, l] = np.exp(w[k, l] - top)
                s += w[k, l]
        for k in range(ka):
            for l in range(kb):
                C[k, l] += m * w[k, l] / s
    return C
