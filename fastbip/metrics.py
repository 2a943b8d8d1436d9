"""Scores of found clusters against the planted truth.

Label conventions
-----------------
Labels are integer arrays, ``-1`` meaning "unassigned". The scores use one rule:

- samples whose **true** label is -1 have no truth and are left out;
- samples whose **found** label is -1 form one extra cluster, "unassigned" (so leaving
  people unassigned costs score, and the result equals scikit-learn's, which treats -1 as an
  ordinary label value).

:func:`contingency` itself leaves out every sample with -1 on either side (its rows and
columns are indexed by label value).

Public functions
----------------
- :func:`contingency`, :func:`align`, :func:`score_labels` (ARI, AMI, NMI),
  :func:`adjusted_rand`, :func:`adjusted_mutual_info`, :func:`normalized_mutual_info`;
- :func:`relation_recovery` -- how much of the planted relation ``omega`` the found labels
  recover (1 - total-variation distance);
- :func:`consensus_score` -- bicluster agreement (scikit-learn's definition).
"""

from __future__ import annotations

from math import log

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.special import gammaln

from fastbip import _small
from fastbip._kernels.metrics import _contingency_table_dense, _expected_mutual_information
from fastbip._validation import as_labels, as_purchases, renamed_keyword, truth_arrays

__all__ = [
    "adjusted_mutual_info",
    "adjusted_rand",
    "align",
    "consensus_score",
    "contingency",
    "normalized_mutual_info",
    "relation_recovery",
    "score_labels",
]

_AVERAGES = ("arithmetic", "geometric", "min", "max")


def _pair(true, found):
    t = as_labels(true, "true", dtype=None)
    f = as_labels(found, "found", dtype=None)
    if t.shape != f.shape:
        raise ValueError(
            f"true and found must have the same length; got {t.shape[0]} and {f.shape[0]}"
        )
    return t, f


def _dense_ok(kt: int, kf: int, n: int) -> bool:
    return kt * kf <= max(4 * n, 1 << 20)


def _dense_table(t: np.ndarray, f: np.ndarray, kt: int, kf: int, unassigned_col: int):
    """The dense int64 table: numpy below ``_small.SMALL`` labels (nothing to compile on a
    small first call), the kernel above (one pass, no temporary of the labels' size)."""
    small = t.shape[0] < _small.SMALL
    table = _small.contingency_dense if small else _contingency_table_dense
    return table(t, f, kt, kf, unassigned_col)


# labels per slice when the keys of the sparse table are written (bounds the temporaries)
_KEY_CHUNK = 1 << 20


def _pair_counts(t: np.ndarray, f: np.ndarray, kf: int, unassigned_col: int):
    """The distinct (true, found) pairs and their counts, for tables too large to be dense.

    Samples with true label -1 are skipped; found label -1 is counted in column
    ``unassigned_col``, or skipped when it is -1. One int64 key ``t * kf + f`` per kept
    sample, written slice by slice and sorted in place, then counted by runs: about 9 bytes
    per sample beyond the labels, where ``np.unique(..., return_inverse=True)`` and a COO
    matrix of ones would take several int64 arrays of n.

    Returns (rows, cols, counts), int64, sorted by (row, col).
    """
    if (int(t.max(initial=-1)) + 1) * kf >= 1 << 62:
        # label values so large that the keys would overflow int64: codes of the values
        # present first (-1 stays -1; the unassigned column becomes the last one)
        t = np.where(t < 0, -1, np.unique(t, return_inverse=True)[1].ravel())
        f_vals, f_codes = np.unique(f, return_inverse=True)
        f = np.where(f < 0, -1, f_codes.ravel())
        kf = f_vals.size + 1
        unassigned_col = kf - 1 if unassigned_col >= 0 else -1
    n = t.shape[0]
    keys = np.empty(n, dtype=np.int64)
    used = 0
    for s in range(0, n, _KEY_CHUNK):
        tt = t[s : s + _KEY_CHUNK].astype(np.int64)
        ff = f[s : s + _KEY_CHUNK].astype(np.int64)
        if unassigned_col >= 0:
            ff[ff < 0] = unassigned_col
        keep = (tt >= 0) & (ff >= 0)
        m = int(np.count_nonzero(keep))
        np.add(tt[keep] * kf, ff[keep], out=keys[used : used + m])
        used += m
    keys = keys[:used]
    keys.sort()
    if used == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    starts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate([[0], starts])
    counts = np.diff(np.concatenate([starts, [used]]))
    first = keys[starts]
    del keys
    return first // kf, first % kf, counts


def _sparse_table(t: np.ndarray, f: np.ndarray, kf: int, unassigned_col: int) -> sp.csr_matrix:
    """Contingency over the present values only (sparse int64): the rows and columns of
    clusters absent from the data are dropped, which no score sees."""
    rows, cols, counts = _pair_counts(t, f, kf, unassigned_col)
    r_vals, r = np.unique(rows, return_inverse=True)
    c_vals, c = np.unique(cols, return_inverse=True)
    shape = (r_vals.size, c_vals.size)
    return sp.csr_matrix((counts, (r.ravel(), c.ravel())), shape=shape)


def _scoring_table(true, found) -> sp.csr_matrix:
    """The table the scores use: true -1 dropped, found -1 as one more cluster.

    Rows and columns of clusters absent from the data may be empty; the scores ignore them.
    """
    t, f = _pair(true, found)
    if t.size == 0 or int(t.max()) < 0:
        raise ValueError("no sample has a true label (all true labels are -1)")
    kt = int(t.max()) + 1
    fmax = int(f.max())
    has_unassigned = np.issubdtype(f.dtype, np.signedinteger) and int(f.min()) < 0
    kf = fmax + 1 + int(has_unassigned)
    if _dense_ok(kt, kf, t.size):
        return sp.csr_matrix(_dense_table(t, f, kt, kf, kf - 1 if has_unassigned else -1))
    return _sparse_table(t, f, kf, kf - 1 if has_unassigned else -1)


def contingency(true: object, found: object) -> sp.csr_matrix:
    """Contingency table of two labelings as a sparse matrix.

    Parameters
    ----------
    true, found : array-like of int (n,), -1 = unassigned

    Returns
    -------
    scipy.sparse.csr_matrix of int64, shape (max(true) + 1, max(found) + 1)
        ``table[t, f]`` = number of samples with true label ``t`` and found label ``f``.
        Samples with -1 on either side are not counted.
    """
    t, f = _pair(true, found)
    kt = max(int(t.max()) + 1, 0) if t.size else 0
    kf = max(int(f.max()) + 1, 0) if f.size else 0
    if _dense_ok(kt, kf, t.size):
        return sp.csr_matrix(_dense_table(t, f, kt, kf, -1))
    rows, cols, counts = _pair_counts(t, f, kf, -1)
    return sp.csr_matrix((counts, (rows, cols)), shape=(kt, kf))


def _ari_from_table(table: sp.csr_matrix) -> float:
    n = int(table.sum())
    n_c = np.ravel(table.sum(axis=1)).astype(np.int64)
    n_k = np.ravel(table.sum(axis=0)).astype(np.int64)
    ss = int((table.data.astype(np.int64) ** 2).sum())
    tp = ss - n
    fp = int((n_k.astype(object) ** 2).sum()) - ss
    fn = int((n_c.astype(object) ** 2).sum()) - ss
    tn = n * n - fp - fn - ss
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _entropy(counts: np.ndarray) -> float:
    pi = counts[counts > 0].astype(np.float64)
    if pi.size <= 1:
        return 0.0
    s = pi.sum()
    return float(-np.sum((pi / s) * (np.log(pi) - log(s))))


def _mi_from_table(table: sp.csr_matrix) -> float:
    nzx, nzy, nz_val = sp.find(table)
    pi = np.ravel(table.sum(axis=1))
    pj = np.ravel(table.sum(axis=0))
    if (pi > 0).sum() <= 1 or (pj > 0).sum() <= 1:
        return 0.0
    total = float(table.sum())
    nz_val = nz_val.astype(np.float64)
    log_nm = np.log(nz_val)
    nm = nz_val / total
    outer = pi.take(nzx).astype(np.int64) * pj.take(nzy).astype(np.int64)
    log_outer = -np.log(outer) + log(pi.sum()) + log(pj.sum())
    mi = nm * (log_nm - log(total)) + nm * log_outer
    mi = np.where(np.abs(mi) < np.finfo(mi.dtype).eps, 0.0, mi)
    return float(np.clip(mi.sum(), 0.0, None))


def _emi_from_table(table: sp.csr_matrix) -> float:
    a = np.ravel(table.sum(axis=1)).astype(np.int64)
    b = np.ravel(table.sum(axis=0)).astype(np.int64)
    a, b = a[a > 0], b[b > 0]
    if a.size <= 1 or b.size <= 1:
        return 0.0
    n = int(a.sum())
    args = (
        a,
        b,
        n,
        gammaln(a + 1.0),
        gammaln(b + 1.0),
        gammaln(n - a + 1.0),
        gammaln(n - b + 1.0),
        float(gammaln(n + 1.0)),
    )
    emi = _small.expected_mutual_information(*args)  # numpy: nothing to compile
    return float(_expected_mutual_information(*args) if emi is None else emi)


def _average(u: float, v: float, method: str) -> float:
    if method == "min":
        return min(u, v)
    if method == "geometric":
        return float(np.sqrt(u * v))
    if method == "arithmetic":
        return float(np.mean([u, v]))
    return max(u, v)


def _check_average(average_method: str) -> None:
    if average_method not in _AVERAGES:
        raise ValueError(f"average_method must be one of {_AVERAGES}; got {average_method!r}")


def _margins(table: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The table's row and column sums and the numbers of non-empty rows and columns."""
    ht_counts = np.ravel(table.sum(axis=1))
    hf_counts = np.ravel(table.sum(axis=0))
    return ht_counts, hf_counts, int((ht_counts > 0).sum()), int((hf_counts > 0).sum())


def _nmi_from_table(table: sp.csr_matrix, average_method: str) -> float:
    ht_counts, hf_counts, kt, kf = _margins(table)
    if kt == kf == 1 or kt == kf == 0:
        return 1.0
    mi = _mi_from_table(table)
    if mi == 0:
        return 0.0
    return float(mi / _average(_entropy(ht_counts), _entropy(hf_counts), average_method))


def _ami_from_table(table: sp.csr_matrix, average_method: str) -> float:
    ht_counts, hf_counts, kt, kf = _margins(table)
    if kt == kf == 1 or kt == kf == 0:
        return 1.0
    if kt == 1 or kf == 1:
        return 0.0
    mi = _mi_from_table(table)
    emi = _emi_from_table(table)
    normalizer = _average(_entropy(ht_counts), _entropy(hf_counts), average_method)
    eps = np.finfo("float64").eps
    den = normalizer - emi
    den = min(den, -eps) if den < 0 else max(den, eps)
    num = mi - emi
    num = min(num, -eps) if num < 0 else max(num, eps)
    return float(num / den)


def adjusted_rand(true: object, found: object) -> float:
    """Adjusted Rand index (equal to ``sklearn.metrics.adjusted_rand_score``).

    See the module docstring for the -1 rule.
    """
    return _ari_from_table(_scoring_table(true, found))


def normalized_mutual_info(
    true: object, found: object, *, average_method: str = "arithmetic"
) -> float:
    """Normalised mutual information (equal to sklearn's ``normalized_mutual_info_score``)."""
    _check_average(average_method)
    return _nmi_from_table(_scoring_table(true, found), average_method)


def adjusted_mutual_info(
    true: object, found: object, *, average_method: str = "arithmetic"
) -> float:
    """Adjusted mutual information (equal to sklearn's ``adjusted_mutual_info_score``).

    The expected mutual information is summed by a numba kernel that skips the terms whose
    hypergeometric weight underflows to zero, so large samples cost little.
    """
    _check_average(average_method)
    return _ami_from_table(_scoring_table(true, found), average_method)


def _nmi_chance_from_table(table: sp.csr_matrix, average_method: str) -> float:
    """The expected NMI of labels drawn at random with the table's cluster sizes (the
    permutation model): EMI over the normaliser, exact because the normaliser depends on the
    sizes only. 1 where both sides have one cluster (NMI is then 1 whatever the labels)."""
    ht_counts, hf_counts, kt, kf = _margins(table)
    if kt == kf == 1 or kt == kf == 0:
        return 1.0
    if kt == 1 or kf == 1:
        return 0.0
    normalizer = _average(_entropy(ht_counts), _entropy(hf_counts), average_method)
    return float(_emi_from_table(table) / normalizer) if normalizer > 0 else 0.0


def score_labels(
    true: object, found: object, *, average_method: str = "arithmetic", chance: bool = False
) -> dict:
    """ARI, AMI and NMI of found labels against true labels, from one contingency table.

    Parameters
    ----------
    true, found : array-like of int (n,), -1 = unassigned (see the module docstring)
    average_method : {"arithmetic", "geometric", "min", "max"}
        Normaliser of AMI and NMI (sklearn's default is "arithmetic").
    chance : bool
        Also ``"nmi_chance"``: the expected NMI of random labels with the found cluster
        sizes (NMI is not adjusted for chance: it grows with the number of clusters even
        for random labels; ARI and AMI are 0 in expectation there).

    Returns
    -------
    dict with float keys "ari", "ami", "nmi" (and "nmi_chance").
    """
    _check_average(average_method)
    table = _scoring_table(true, found)
    out = {
        "ari": _ari_from_table(table),
        "ami": _ami_from_table(table, average_method),
        "nmi": _nmi_from_table(table, average_method),
    }
    if chance:
        out["nmi_chance"] = _nmi_chance_from_table(table, average_method)
    return out


def align(true: object, found: object) -> np.ndarray:
    """Match found clusters with true clusters (Hungarian algorithm on the contingency table).

    Parameters
    ----------
    true, found : array-like of int (n,), -1 = unassigned

    Returns
    -------
    mapping : ndarray of int64, shape (max(found) + 1,)
        ``mapping[f]`` is the true cluster matched with found cluster ``f`` (the matching
        maximises the number of samples on the diagonal). When there are more found clusters
        than true ones, the unmatched found clusters get new labels ``K_true, K_true + 1, ...``
        in increasing order of ``f``, so ``mapping`` is always injective. Relabel with
        ``np.where(found >= 0, mapping[found], -1)``.
    """
    t, f = _pair(true, found)
    return _align_table(contingency(t, f).toarray())


def _align_table(table: np.ndarray) -> np.ndarray:
    """:func:`align` from the contingency table ``table[t, f]`` (true by found clusters)
    alone, e.g. one counted shard by shard; the same mapping."""
    table = np.asarray(table)
    kt, kf = table.shape
    mapping = np.full(kf, -1, dtype=np.int64)
    if kf == 0:
        return mapping
    if kt > 0:
        r, c = linear_sum_assignment(table, maximize=True)
        mapping[c] = r
    rest = np.flatnonzero(mapping < 0)
    mapping[rest] = kt + np.arange(rest.size)
    return mapping


def _relabel(found: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    out = np.full(found.shape, -1, dtype=np.int64)
    ok = found >= 0
    out[ok] = mapping[found[ok]]
    return out


@renamed_keyword("col_labels", "column_labels")
def relation_recovery(truth: object, M: object, row_labels: object, column_labels: object) -> float:
    """How much of the planted relation the found labels recover, in [0, 1].

    The found clusters of each side are aligned with the true ones (:func:`align`); the block
    counts ``C`` of ``M`` under the aligned labels are normalised to a distribution
    ``P_hat = C / C.sum()`` and compared with ``P = omega / omega.sum()`` by
    ``1 - TV(P, P_hat) = 1 - 0.5 * sum |P - P_hat|``: 1 when the found labels put every
    purchase in the right block proportions, 0 when the two put their mass on disjoint
    blocks. When there are more found than true clusters, ``P`` is padded with zeros (mass
    in extra clusters counts as error); with fewer, ``P_hat`` is padded with zeros.

    Parameters
    ----------
    truth : fastbip.Truth or fastbip.Dataset
        The planted truth (a Dataset for its ``truth``), or any object with ``omega``,
        ``theta``, ``phi``, ``people_labels`` and ``item_labels``.
    M : purchases, scipy.sparse (n_people, n_items)
    row_labels, column_labels : found labels of people and items (-1 = unassigned: left out)
        ``col_labels=`` is a deprecated name of ``column_labels=``.

    Returns
    -------
    float

    Notes
    -----
    With the true labels the score is below 1 only by the Poisson noise of ``C`` around
    ``omega`` (a total-variation distance of order ``sqrt(K_A K_B / N)``).
    """
    from fastbip.blocks import block_counts

    omega, _, _, true_rows, true_cols = truth_arrays(truth)
    M = as_purchases(M, counts=True)  # negative, NaN or infinite purchases are refused
    if omega.sum() <= 0:
        raise ValueError(f"truth.omega must be a non-zero K_A x K_B matrix; got {omega.shape}")
    r = as_labels(row_labels, "row_labels", dtype=None)
    c = as_labels(column_labels, "column_labels", dtype=None)
    ra = _relabel(r, align(true_rows, r))
    ca = _relabel(c, align(true_cols, c))
    ka = max(omega.shape[0], int(ra.max()) + 1 if ra.size else 0)
    kb = max(omega.shape[1], int(ca.max()) + 1 if ca.size else 0)
    C = block_counts(M, ra, ca, ka, kb).astype(np.float64)
    total = C.sum()
    P = np.zeros((ka, kb))
    P[: omega.shape[0], : omega.shape[1]] = omega / omega.sum()
    if total <= 0:
        return 0.0
    return float(1.0 - 0.5 * np.abs(P - C / total).sum())


def _bicluster_sets(rows, cols, name: str):
    """(row membership, column membership) sparse indicator matrices, one row per bicluster."""
    rows_a = rows if sp.issparse(rows) else np.asarray(rows)
    cols_a = cols if sp.issparse(cols) else np.asarray(cols)
    if rows_a.ndim == 2 and cols_a.ndim == 2:
        if rows_a.shape[0] != cols_a.shape[0]:
            raise ValueError(
                f"{name}: row and column indicators must describe the same number of "
                f"biclusters; got {rows_a.shape[0]} and {cols_a.shape[0]}"
            )
        return sp.csr_matrix(rows_a, dtype=np.float64), sp.csr_matrix(cols_a, dtype=np.float64)
    if rows_a.ndim == 1 and cols_a.ndim == 1:
        r = as_labels(rows_a, f"{name} rows", dtype=None)
        c = as_labels(cols_a, f"{name} columns", dtype=None)
        k = max(int(r.max()) + 1 if r.size else 0, int(c.max()) + 1 if c.size else 0)

        def onehot(x):
            ok = np.flatnonzero(x >= 0)
            return sp.csr_matrix(
                (np.ones(ok.size), (x[ok], ok)), shape=(k, x.size), dtype=np.float64
            )

        return onehot(r), onehot(c)
    raise ValueError(
        f"{name}: give either two label vectors or two 2-D indicator matrices; got shapes "
        f"{rows_a.shape} and {cols_a.shape}"
    )


def consensus_score(
    true_rows: object, true_cols: object, found_rows: object, found_cols: object
) -> float:
    """Similarity of two sets of biclusters (scikit-learn's ``consensus_score``).

    Parameters
    ----------
    true_rows, true_cols, found_rows, found_cols :
        Either label vectors of the rows and columns (bicluster ``k`` = the rows labelled
        ``k`` x the columns labelled ``k``, as in spectral co-clustering; -1 = in none), or
        boolean indicator matrices of shape (n_biclusters, n_rows) and (n_biclusters, n_cols)
        as sklearn takes them.

    Returns
    -------
    float in [0, 1]
        Pairwise Jaccard similarity of the biclusters (``|A n B| / |A u B|`` on their cells,
        computed from the sparse overlap tables of rows and of columns), matched by the
        Hungarian algorithm, summed and divided by the larger number of biclusters.
    """
    ar, ac = _bicluster_sets(true_rows, true_cols, "true")
    br, bc = _bicluster_sets(found_rows, found_cols, "found")
    if ar.shape[1] != br.shape[1] or ac.shape[1] != bc.shape[1]:
        raise ValueError(
            "true and found biclusters must cover the same rows and columns; got "
            f"{ar.shape[1]} x {ac.shape[1]} and {br.shape[1]} x {bc.shape[1]}"
        )
    ka, kb = ar.shape[0], br.shape[0]
    if ka == 0 or kb == 0:
        return 0.0
    rows_overlap = (ar @ br.T).toarray()
    cols_overlap = (ac @ bc.T).toarray()
    inter = rows_overlap * cols_overlap
    size_a = np.ravel(ar.sum(axis=1)) * np.ravel(ac.sum(axis=1))
    size_b = np.ravel(br.sum(axis=1)) * np.ravel(bc.sum(axis=1))
    union = size_a[:, None] + size_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(union > 0, inter / union, 0.0)
    r, c = linear_sum_assignment(1.0 - sim)
    return float(sim[r, c].sum() / max(ka, kb))
