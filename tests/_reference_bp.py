"""Plain numpy twins of the belief-propagation kernels (fastbip/_kernels/bp.py).

Written from the message equations, node by node and edge by edge, with no shared code.
"""

import numpy as np


def _normalise_log(v):
    w = np.exp(v - v.max())
    return w / w.sum()


def bp_half_sweep_ref(M, side, x, field, R, prior, msg_in, msg_out, damping):
    """One damped half-sweep of the messages leaving ``side`` ("rows" or "cols") of the CSR
    matrix ``M``; returns ``(msg_out_new, marginals, (mean largest change, largest change))``.

    ``R`` is (k_this, k_other); ``msg_in`` and ``msg_out`` are per stored entry of ``M``.
    """
    M = M.tocsr()
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    cols = M.indices
    owner = rows if side == "rows" else cols
    n_this = M.shape[0] if side == "rows" else M.shape[1]
    k_this = R.shape[0]
    new = msg_out.copy()
    marg = np.zeros((n_this, k_this))
    changes = np.zeros(M.nnz)
    for i in range(n_this):
        mine = np.flatnonzero(owner == i)
        # the factor of each edge: sum_l msg_in[e, l] * R[k, l] ** m, up to a constant in k
        factors = {e: (R ** M.data[e]) @ msg_in[e] for e in mine}
        base = np.log(prior) - x[i] * field
        marg[i] = _normalise_log(base + sum(np.log(factors[e]) for e in mine))
        for e in mine:
            others = [np.log(factors[f]) for f in mine if f != e]
            cavity = _normalise_log(base + sum(others))
            upd = damping * msg_out[e] + (1 - damping) * cavity
            changes[e] = np.abs(upd - msg_out[e]).max()
            new[e] = upd
    return new, marg, (changes.mean(), changes.max())


def bp_edge_counts_ref(M, R, msg_ab, msg_ba):
    """``C[k, l] = sum_e m_e P_e(k, l)``, ``P_e`` proportional to
    ``msg_ab[e, k] msg_ba[e, l] R[k, l] ** m_e``."""
    M = M.tocsr()
    C = np.zeros(R.shape)
    for e in range(M.nnz):
        m = M.data[e]
        P = np.outer(msg_ab[e], msg_ba[e]) * R**m
        C += m * P / P.sum()
    return C
