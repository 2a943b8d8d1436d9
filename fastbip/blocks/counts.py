"""Block counts of any labelling: ``C = Z_A^T M Z_B``, hard, soft and per time window.

For people labels ``a`` (``K_A`` clusters) and item labels ``b`` (``K_B`` clusters),
``C[k, l]`` is the number (or total weight) of purchases between people-cluster ``k`` and
item-cluster ``l``. Label ``-1`` means "unassigned": its rows or columns are left out of every
count. Labels are checked by :func:`fastbip._validation.as_labels` and converted once to the
narrowest unsigned codes (:func:`encode_labels`); the counting is one pass of a numba kernel
(:mod:`fastbip._kernels.blocks`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fastbip import _small
from fastbip._kernels.blocks import (
    _all_ones,
    _block_counts_windows_csr,
    _block_sums_csr,
    _label_codes,
)
from fastbip._validation import (
    as_labels,
    as_purchases,
    check_csr_structure,
    check_int,
    check_offsets,
    renamed_keyword,
)

__all__ = [
    "EncodedLabels",
    "block_counts",
    "block_counts_windows",
    "encode_labels",
    "soft_block_counts",
]

# Entries per chunk below which a chunk is not worth a task, the most chunks, and the most
# accumulator cells all chunks together may hold. None of these depend on the thread count,
# so float sums are bit-identical whatever the number of threads.
_CHUNK_MIN_NNZ = 1 << 18
_MAX_CHUNKS = 64
_MAX_ACC_CELLS = 1 << 22


# --------------------------------------------------------------------------------------------
# input conversion
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodedLabels:
    """Labels converted once to the codes the block kernels read.

    Attributes
    ----------
    codes : ndarray of uint8, uint16 or uint32, shape (n,)
        ``codes[i]`` is the cluster of element ``i`` or ``n_clusters`` when it is unassigned.
    n_clusters : int
        Number of clusters ``K``.

    Build it with :func:`encode_labels` and pass it to :func:`block_counts` in place of a label
    array to skip the conversion on repeated calls. The codes are a private copy: later changes
    to the original labels are not seen.
    """

    codes: np.ndarray
    n_clusters: int

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def labels(self) -> np.ndarray:
        """The labels back as int64, with -1 for unassigned."""
        out = self.codes.astype(np.int64)
        out[out == self.n_clusters] = -1
        return out


def _code_dtype(n_clusters: int) -> type:
    # the value n_clusters itself must fit (it marks "unassigned")
    if n_clusters < (1 << 8):
        return np.uint8
    if n_clusters < (1 << 16):
        return np.uint16
    return np.uint32


def encode_labels(
    labels: object, n_clusters: int | None = None, *, name: str = "labels"
) -> EncodedLabels:
    """Validate labels and convert them to the narrowest unsigned codes.

    Parameters
    ----------
    labels : array-like of int, shape (n,), or EncodedLabels
        Cluster of each element, ``-1`` for unassigned.
    n_clusters : int, optional
        Number of clusters ``K``; every label must be ``< K``. Default: ``max(labels) + 1``
        (0 when all labels are -1 or there are none), refused when it exceeds both the
        number of labels and 4096 (a stray label would make the table huge).
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    EncodedLabels

    Raises
    ------
    TypeError
        ``labels`` does not hold integers (whole floats are accepted), or ``n_clusters`` is
        not an int.
    ValueError
        ``labels`` is not 1-D, holds a label below -1 or ``>= n_clusters``; ``n_clusters`` is
        negative or ``>= 2**32 - 1``; an EncodedLabels was encoded with another
        ``n_clusters``.
    """
    if isinstance(labels, EncodedLabels):
        if n_clusters is not None and int(n_clusters) != labels.n_clusters:
            raise ValueError(
                f"{name} was encoded with n_clusters={labels.n_clusters}; got "
                f"n_clusters={n_clusters}"
            )
        return labels
    k = check_int(n_clusters, f"n_clusters for {name}", 0, none_ok=True)
    _check_code_range(k, name)
    arr = as_labels(labels, name, n_clusters=k, dtype=None)
    if k is None:
        k = max(int(arr.max()) + 1, 0) if arr.size else 0
        _check_code_range(k, name)
        _check_inferred(k, arr.shape[0], name)
    codes = np.empty(arr.shape[0], dtype=_code_dtype(k))
    (_small.label_codes if arr.shape[0] < _small.SMALL else _label_codes)(arr, k, codes)
    return EncodedLabels(codes, k)


# an inferred K may exceed the number of labels by this much before it is taken for a stray
# label rather than a cluster count (a table of K x K_B cells would be allocated for it)
_INFERRED_K_SLACK = 1 << 12


def _check_inferred(k: int, n: int, name: str) -> None:
    if k > max(n, _INFERRED_K_SLACK):
        raise ValueError(
            f"{name} holds a label {k - 1}, so n_clusters would be {k}, more clusters than "
            f"its {n} labels: a stray label? Pass n_clusters explicitly to count {k} "
            "clusters (the table then has a row or column for each)"
        )


def _check_code_range(k: int | None, name: str) -> None:
    # the codes hold the value k itself (it marks "unassigned") in at most 32 bits
    if k is not None and k >= (1 << 32) - 1:
        raise ValueError(f"n_clusters for {name} must be < 2**32 - 1; got {k}")


def _unsigned(a: np.ndarray) -> np.ndarray:
    """Zero-copy unsigned view of a non-negative int32/int64 index array."""
    a = np.ascontiguousarray(a)
    if a.dtype == np.int32:
        return a.view(np.uint32)
    if a.dtype == np.int64:
        return a.view(np.uint64)
    return a.astype(np.uint64)


def _index_views(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unsigned views of a CSR matrix's row pointers and column indices, of one width.

    The kernels are compiled for two index widths (both 32 or both 64 bits), not for the four
    pairs. When the two arrays differ (scipy allows int64 row pointers with int32 indices),
    the row pointers, O(n_rows), are converted to the width of the indices, O(nnz), which are
    never copied; only when the number of entries does not fit in 32 bits are int32 indices
    widened.
    """
    ptr, idx = _unsigned(indptr), _unsigned(indices)
    if ptr.dtype == idx.dtype:
        return ptr, idx
    if idx.dtype == np.uint64 or int(indptr[-1]) <= np.iinfo(np.uint32).max:
        return ptr.astype(idx.dtype), idx
    return ptr, idx.astype(np.uint64)


def _kernel_data(data: np.ndarray) -> tuple[np.ndarray, type]:
    """The values as the block-sum kernel reads them, and the accumulator dtype.

    uint8 (booleans), int32, int64, float32 and float64 are read in place (float32 is summed
    in float64, so the table equals that of the data converted to float64); other dtypes are
    converted once.
    """
    if data.dtype == np.bool_:
        data = data.view(np.uint8)
    if data.dtype.kind in "biu":
        if data.dtype not in (np.int32, np.int64, np.uint8):
            data = data.astype(np.int64)
        return np.ascontiguousarray(data), np.int64
    if data.dtype not in (np.float32, np.float64):
        data = data.astype(np.float64)
    return np.ascontiguousarray(data), np.float64


def _chunk_bounds(indptr: np.ndarray, cells: int) -> np.ndarray:
    """Row boundaries of nnz-balanced chunks; the layout depends on the data only."""
    n_rows = indptr.shape[0] - 1
    nnz = int(indptr[-1])
    n_chunks = min(_MAX_CHUNKS, max(1, nnz // _CHUNK_MIN_NNZ), max(1, _MAX_ACC_CELLS // cells))
    n_chunks = max(1, min(n_chunks, n_rows))
    targets = np.arange(n_chunks + 1, dtype=np.float64) * (nnz / n_chunks)
    # targets in indptr's own dtype (they are <= nnz): numpy would otherwise convert indptr
    targets = targets.astype(np.int64).astype(indptr.dtype)
    bounds = np.searchsorted(indptr, targets, side="left").astype(np.int64)
    bounds[0] = 0
    bounds[-1] = n_rows
    return np.maximum.accumulate(bounds)


def _prepare(
    M,
    row_labels,
    column_labels,
    n_row_clusters,
    n_col_clusters,
    *,
    fused=False,
    canonical=False,
    counts=False,
):
    # fused: the block-count kernel checks every column index as it reads it, so only the
    # row pointers are checked here (O(n_rows)); see _counts
    M = as_purchases(M, canonical=canonical, counts=counts, check_indices=not fused)
    n_rows, n_cols = M.shape
    _check_hard(row_labels, "row_labels")
    _check_hard(column_labels, "column_labels")
    rows = encode_labels(row_labels, n_row_clusters, name="row_labels")
    cols = encode_labels(column_labels, n_col_clusters, name="column_labels")
    if len(rows) != n_rows:
        raise ValueError(
            f"row_labels must have one label per row of M (n_rows={n_rows}); got {len(rows)}"
        )
    if len(cols) != n_cols:
        raise ValueError(
            f"column_labels must have one label per column of M (n_cols={n_cols}); got {len(cols)}"
        )
    return M, rows, cols


def _check_table_size(cells: int, ka: int, kb: int) -> None:
    """A table that cannot fit in memory is an error naming the cluster counts, not numpy's
    MemoryError (accumulators: two per chunk, a chunk at most when cells are many, and the
    sum)."""
    if cells <= _MAX_ACC_CELLS:
        return
    from fastbip.generate.plan import physical_memory

    need, have = 4 * 8 * cells, physical_memory()
    if have is not None and need > have:
        raise ValueError(
            f"n_row_clusters={ka} x n_col_clusters={kb} make a block table of {cells:,} "
            f"cells, about {need / 2**30:,.1f} GiB to count; this machine has "
            f"{have / 2**30:,.1f} GiB"
        )


def _check_hard(labels, name: str) -> None:
    """Soft memberships (a 2-D argument) belong to soft_block_counts, not here."""
    shape = getattr(labels, "shape", None)
    if shape is None and not isinstance(labels, EncodedLabels):
        shape = np.shape(labels)
    if shape is not None and len(shape) == 2:
        raise ValueError(
            f"{name} must be a 1-D array of cluster labels; got a 2-D array of shape "
            f"{tuple(shape)}: call soft_block_counts for soft memberships"
        )


# --------------------------------------------------------------------------------------------
# block counts
# --------------------------------------------------------------------------------------------


@renamed_keyword("col_labels", "column_labels")
def block_counts(
    M: object,
    row_labels: object,
    column_labels: object,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
    *,
    weighted: bool = True,
) -> np.ndarray:
    """Purchases between every pair of clusters: ``C = Z_A^T M Z_B``.

    Parameters
    ----------
    M : scipy.sparse matrix or array, shape (n_rows, n_cols)
        Purchases. CSR is read in place; any other sparse format or a dense array is converted
        to CSR once (a copy). Sorted indices are not required; duplicates are summed.
    row_labels, column_labels : array-like of int (n_rows,), (n_cols,), or EncodedLabels
        Cluster of each row / column, ``-1`` = unassigned (left out of every count). Soft
        memberships (2-D arrays) are refused: :func:`soft_block_counts` takes those.
        ``col_labels=`` is a deprecated name of ``column_labels=``.
    n_row_clusters, n_col_clusters : int, optional
        ``K_A``, ``K_B``. Default: largest label + 1.
    weighted : bool, default True
        Sum the values of ``M`` (purchase counts). With ``False``, count stored entries
        (distinct person-item pairs; explicit zeros count, call ``M.eliminate_zeros()`` first
        if ``M`` may hold some).

    Returns
    -------
    ndarray, shape (K_A, K_B)
        int64 when ``M`` holds integers or booleans, or when ``weighted=False``; float64
        otherwise. Equal to scipy's ``Z_A.T @ M @ Z_B`` with one-hot ``Z`` (exactly for
        integer data).

    Notes
    -----
    One pass over ``indptr/indices/data`` by a parallel numba kernel: rows cut into
    nnz-balanced chunks whose layout depends on the data only, a private accumulator per
    chunk. Integer results are exact; float results are bit-identical whatever the number of
    threads. Below ``fastbip._small.SMALL`` stored entries numpy counts instead (one
    ``np.bincount``, as fast there, and nothing to compile). Pass labels through
    :func:`encode_labels` once to skip their conversion on repeated calls.
    """
    M, rows, cols = _prepare(
        M, row_labels, column_labels, n_row_clusters, n_col_clusters, fused=True
    )
    return _counts(M, rows, cols, weighted)


def _counts(
    M, rows: EncodedLabels, cols: EncodedLabels, weighted: bool, name: str = "M"
) -> np.ndarray:
    """The block table of a CSR matrix whose row pointers are checked.

    The kernel clamps the column indices and gathers the out-of-range ones in a guard column
    (code ``K_B + 1``): when that column is not zero, :func:`check_csr_structure` raises,
    naming the first bad index. Counting catches every bad index; a weighted sum catches all
    but those whose values sum to zero, which change no block either.
    """
    ka, kb = rows.n_clusters, cols.n_clusters
    if M.shape[1] == 0 and M.nnz:  # no column to clamp to
        check_csr_structure(M, name)
    cells = (ka + 1) * (kb + 2)
    _check_table_size(cells, ka, kb)
    indptr, indices = _index_views(M.indptr, M.indices)
    guard_dtype = cols.codes.dtype if kb + 1 <= np.iinfo(cols.codes.dtype).max else np.uint32
    col_codes = np.empty(cols.codes.shape[0] + 1, dtype=guard_dtype)
    col_codes[:-1] = cols.codes
    col_codes[-1] = kb + 1
    bounds = _chunk_bounds(M.indptr, 2 * cells)
    data, acc_dtype = (None, np.int64) if not weighted else _kernel_data(M.data)
    small = M.nnz < _small.SMALL  # numpy: nothing to compile on a small first call
    all_ones = _small.all_ones if small else _all_ones
    if data is not None and acc_dtype == np.int64 and all_ones(data):
        data = None  # integer data that are all ones: count the entries
    table = None
    if small:
        table = _small.block_sums(indptr, indices, data, rows.codes, col_codes, kb, cells)
    if table is None:
        out = np.zeros((bounds.shape[0] - 1, 2, cells), dtype=acc_dtype)
        _block_sums_csr(indptr, indices, data, rows.codes, col_codes, ka, kb, bounds, out)
        table = out.sum(axis=(0, 1)) if out.shape[0] else np.zeros(cells, dtype=out.dtype)
    table = table.reshape(ka + 1, kb + 2)
    if table[:, kb + 1].any():
        check_csr_structure(M, name)  # raises, naming the first index out of range
        raise AssertionError("the block-count kernel found an index the check did not")
    return np.ascontiguousarray(table[:ka, :kb])


def _membership(Z, n: int, k: int | None, name: str) -> sp.csr_matrix | np.ndarray:
    """A (n, K) membership matrix: dense float for soft input, one-hot CSR for labels."""
    if isinstance(Z, EncodedLabels):
        Z = Z.labels() if k is None else encode_labels(Z, k, name=name).labels()
    arr = Z if sp.issparse(Z) else np.asarray(Z)
    if arr.ndim == 2:
        if arr.shape[0] != n:
            raise ValueError(f"{name} must have {n} rows (one per element); got {arr.shape[0]}")
        if k is not None and arr.shape[1] != k:
            raise ValueError(f"{name} has {arr.shape[1]} columns but n_clusters={k}")
        if sp.issparse(arr):
            return sp.csr_matrix(arr, dtype=np.float64)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
        arr = np.asarray(arr, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must hold finite memberships")
        return arr
    enc = encode_labels(arr, k, name=name)
    if len(enc) != n:
        raise ValueError(f"{name} must have one label per element (n={n}); got {len(enc)}")
    lab = enc.codes.astype(np.int64)
    keep = lab < enc.n_clusters
    idx = np.flatnonzero(keep)
    return sp.csr_matrix((np.ones(idx.size), (idx, lab[keep])), shape=(n, enc.n_clusters))


@renamed_keyword("col_memberships", "column_memberships")
def soft_block_counts(
    M: object,
    row_memberships: object,
    column_memberships: object,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
    *,
    weighted: bool = True,
) -> np.ndarray:
    """Block counts under soft memberships: ``Z_A^T M Z_B`` by sparse-dense products.

    Parameters
    ----------
    M : scipy.sparse matrix or array, shape (n_rows, n_cols)
    row_memberships : array (n_rows, K_A) of float, or labels (n_rows,)
        ``row_memberships[i, k]``: weight of row ``i`` in cluster ``k`` (typically
        probabilities summing to 1 over ``k``). A 1-D label array is turned into one-hot rows.
    column_memberships : array (n_cols, K_B) of float, or labels (n_cols,)
        ``col_memberships=`` is a deprecated name of ``column_memberships=``.
    n_row_clusters, n_col_clusters : int, optional
        Checked against the number of columns of 2-D memberships.
    weighted : bool
        As in :func:`block_counts`.

    Returns
    -------
    ndarray of float64, shape (K_A, K_B)

    Notes
    -----
    Computes ``M @ Z_B`` (O(nnz * K_B)) then ``Z_A^T @ (M Z_B)`` (O(n_rows * K_A * K_B)).
    """
    M = as_purchases(M, canonical=False)
    if not weighted:
        M = sp.csr_matrix((np.ones(M.nnz), M.indices, M.indptr), shape=M.shape)
    else:
        M = M.astype(np.float64)
    za = _membership(row_memberships, M.shape[0], n_row_clusters, "row_memberships")
    zb = _membership(column_memberships, M.shape[1], n_col_clusters, "column_memberships")
    right = M @ zb
    right = right.toarray() if sp.issparse(right) else np.asarray(right)
    out = za.T @ right
    out = out.toarray() if sp.issparse(out) else np.asarray(out)
    return np.ascontiguousarray(out, dtype=np.float64)


@renamed_keyword("col_labels", "column_labels")
def block_counts_windows(
    M: object,
    events: object,
    row_labels: object,
    column_labels: object,
    edges: object,
    n_row_clusters: int | None = None,
    n_col_clusters: int | None = None,
) -> np.ndarray:
    """Purchases per time window and pair of clusters, from the events, in one pass.

    Parameters
    ----------
    M : scipy.sparse CSR, shape (n_rows, n_cols)
        Purchases; only its structure (``indptr``, ``indices``) is read, the counts come from
        the events. Must be the matrix the events are aligned with (not converted: its entry
        order defines the alignment).
    events : object with ``offsets`` (int, (nnz + 1,)) and ``times`` (float, (n_events,))
        The events of stored entry ``e`` have times ``times[offsets[e]:offsets[e + 1]]``.
    row_labels, column_labels : labels as in :func:`block_counts` (-1 = unassigned).
        ``col_labels=`` is a deprecated name of ``column_labels=``.
    edges : array-like of float, (T + 1,)
        Strictly increasing window boundaries; window ``t`` is ``[edges[t], edges[t + 1])``.
        Events outside ``[edges[0], edges[-1])`` are not counted.

    Returns
    -------
    ndarray of int64, shape (T, K_A, K_B)
    """
    if not (sp.issparse(M) and M.format == "csr"):
        raise TypeError(
            "M must be the scipy.sparse CSR matrix the events are aligned with; got "
            f"{type(M).__name__}{'' if not sp.issparse(M) else ' in format ' + M.format}"
        )
    M, rows, cols = _prepare(M, row_labels, column_labels, n_row_clusters, n_col_clusters)
    for attr in ("offsets", "times"):
        if not hasattr(events, attr):
            raise TypeError(f"events must have an '{attr}' attribute; got {type(events)}")
    times = np.asarray(events.times)
    if times.ndim != 1 or not np.issubdtype(times.dtype, np.number):
        raise TypeError(f"events.times must be a 1-D numeric array; got {times.dtype}")
    offsets = check_offsets(events.offsets, M.nnz, times.shape[0])
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.shape[0] < 2:
        raise ValueError(f"edges must be a 1-D array of at least 2 boundaries; got {edges.shape}")
    if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be finite and strictly increasing")
    ka, kb = rows.n_clusters, cols.n_clusters
    n_windows = edges.shape[0] - 1
    cells = n_windows * (ka + 1) * (kb + 1)
    bounds = _chunk_bounds(M.indptr, cells)
    out = np.zeros((bounds.shape[0] - 1, cells), dtype=np.int64)
    widths = np.diff(edges)
    uniform = bool(np.all(np.abs(widths - widths.mean()) <= 1e-9 * widths.mean()))
    indptr, indices = _index_views(M.indptr, M.indices)
    _block_counts_windows_csr(
        indptr,
        indices,
        _unsigned(offsets),
        np.ascontiguousarray(times, dtype=np.float64),
        rows.codes,
        cols.codes,
        ka,
        kb,
        edges,
        uniform,
        bounds,
        out,
    )
    table = out.sum(axis=0) if out.shape[0] else np.zeros(cells, dtype=np.int64)
    return np.ascontiguousarray(table.reshape(n_windows, ka + 1, kb + 1)[:, :ka, :kb])
