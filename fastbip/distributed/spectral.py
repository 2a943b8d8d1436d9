"""The block-model fit on row shards from its spectral start: :func:`dcsbm_fit_dask`.

:class:`fastbip.algorithms.DCSBM` starts from the leading singular vectors of the
regularised, normalised matrix ``L = (D_r + tau)^-1/2 M (D_c + tau)^-1/2`` (tau =
``sqrt(c_A c_B) - 1``, :func:`~fastbip.algorithms.regularized.regularization_tau`) on the
side with fewer members, here the items (columns): the K_B leading eigenvectors of the
items' Gram matrix ``G = L^T L``. On row shards ``G = sum_s L_s^T L_s``, so:

1. **Degrees**, one task per shard: the items' degrees and stored entries (summed on the
   workers), the people's degrees (kept with the shard) and two integer sums; tau here.
2. **Randomized subspace iteration** (:mod:`fastbip.algorithms._gram`, the arithmetic of
   ``DCSBM(svd_solver="randomized")``) for the top K_B eigenvectors of ``G``: ``Q``
   (n_items x l, l = K_B + 10, random from the fit's seed, orthonormal, one future) is
   multiplied by ``G`` (``L^T (L Q)`` row by row, :mod:`fastbip._kernels.spectral`) and
   re-orthonormalised, ``svd_iter`` times; then Rayleigh-Ritz: ``T = Q^T (G Q)`` (l x l,
   here), ``V = Q W_K``. With at most 400 items, the Gram matrix itself is summed and
   decomposed. The products are summed on a fixed grid of row chunks
   (:func:`~fastbip.algorithms._gram.chunk_rows_for`, from the shape and the stored
   entries; :func:`gram_on_shards`): a chunk's rows in order (the piece on the next shard
   goes on from the previous shard's partial sum), then the chunks' parts in a pairwise
   tree fixed by their number. One machine walks the same grid, so ``G Q`` and everything
   after it are bit-identical whatever the shards, workers and threads.
3. **Start labels**: the items by k-means on V's normalised rows (on the worker that holds
   V, the local code); the people from their purchase profile over the item clusters:
   k-means fitted here on a sample of at most 20,000 profiles (the same sample, seed and
   arithmetic as the local fit; fetched from the shards), then each row's most likely
   cluster, per shard.
4. **Sweeps**: ``n_init`` starts, 3 sweeps each, the best on to convergence
   (:func:`~fastbip.distributed.dcsbm.run_sweeps`), as the local fit.

Equal to the local fit: ``DCSBM(n_row_clusters, n_col_clusters, n_init=n_init,
svd_solver="randomized", soft_sweeps=0, refine=None, random_state=random_state)`` bit for
bit (labels and their numbering, ``omega_``, the likelihood, the sweeps): the vectors are
the same bits, and everything after them (tau, the people's sample, k-means seeds,
profiles, sweeps) repeats the local arithmetic. The soft sweeps and the belief-propagation
refinement are not distributed. The default local solver (``svd_solver="arpack"``,
Lanczos to a tolerance of 1e-3) gives vectors that agree to about that tolerance, up to a
rotation inside the leading subspace: there the partitions agree but for members near a
boundary (ARI 0.9993 for the items, 0.966 for the people on the 10^7 x 10^6 benchmark).

Per iteration what moves: ``Q`` to each worker (8 n_items l bytes); one n_items x l
partial sum per shard boundary inside a chunk (none where shards are whole chunks, as
``generate_dask`` cuts them where it can) and about one per chunk for the tree of sums;
the purchases never move, and the people's vectors stay with their shards.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastbip._kernels.dcsbm import _hard_assign_rows_csr, _row_profile_csr
from fastbip._progress import progress as progress_bar
from fastbip._rng import check_random_state
from fastbip._validation import check_int
from fastbip.algorithms import _gram
from fastbip.algorithms._dcsbm_start import _MAX_KMEANS_SAMPLE, _dense_gram, _embedding_labels
from fastbip.algorithms.dcsbm import _FIRST_SWEEPS
from fastbip.io import sharded as _sh

from ._client import get_client as _get_client
from ._client import local_sum
from ._client import one_kernel_thread as _one_kernel_thread
from ._client import release as _release
from ._client import wait as _wait
from .dcsbm import DaskDCSBMResult, check_fit_args, float_shards, run_sweeps
from .labels import ShardedLabels

__all__ = ["dcsbm_fit_dask", "spectral_item_vectors"]


# --------------------------------------------------------------------------- tasks


@_one_kernel_thread
def _degree_task(A):
    """(items: degrees and stored entries (2, n_items); people degrees; sum d^2; total;
    stored entries; whether every value is an integer)."""
    d_p = np.asarray(A.sum(axis=1)).ravel()
    items = np.zeros((2, A.shape[1]))
    items[0] = np.bincount(A.indices, weights=A.data, minlength=A.shape[1])
    items[1] = np.bincount(A.indices, minlength=A.shape[1])
    integral = bool(np.all(A.data == np.floor(A.data)))
    sq = int((d_p.astype(np.int64) ** 2).sum())
    return items, d_p, sq, int(d_p.sum()), int(A.nnz), integral


def _items_part(r):
    return r[0]


def _scalars(r):
    return r[2], r[3], r[4], r[5]


def _tau_task(items, sq_p, total):
    """tau = max(sqrt(c_A c_B) - 1, 0) (at least 1e-12), as ``regularization_tau``: the
    sums are of integers, exact in float64 below 2**53, so the local value exactly."""
    tau = 0.0
    if total > 0:
        c_a = float(sq_p / total - 1.0)
        c_b = float((items[0] ** 2).sum() / total - 1.0)
        if c_a > 0 and c_b > 0:
            tau = max(float(np.sqrt(c_a * c_b)) - 1.0, 0.0)
    return max(tau, 1e-12)


def _weights_task(items, tau):
    """The items' weights 1 / sqrt(d + tau) and stored entries per item."""
    return 1.0 / np.sqrt(items[0] + tau), items[1]


@_one_kernel_thread
def _piece_task(A, deg, w, tau, lo, hi, X, Z0):
    """The shard's rows ``[lo, hi)`` (one chunk's piece) of ``G X`` (``X``: the basis Q)
    or, with ``X`` None, of the dense Gram matrix ``G``; on from the chunk's partial sum
    ``Z0`` (the previous shard's piece) or from zero."""
    w_p = 1.0 / np.sqrt(deg[lo:hi] + tau)
    ip = A.indptr[lo : hi + 1]
    if X is None:
        return _gram.piece_gram(ip, A.indices, A.data, w_p, w[0], A.shape[1], Z0)
    return _gram.piece_product(ip, A.indices, A.data, w_p, w[0], X, Z0)


def _second(r):
    return r[1]


def _item_labels_task(V, w, kp, seed):
    """The items' start labels (the first half of the local ``_spectral_start``) and the
    seed of the people's k-means."""
    rng = np.random.default_rng(seed)
    nnz = w[1]
    a = _embedding_labels(V, nnz > 0, kp, rng)
    return a, int(rng.integers(2**31 - 1))


def _labels_only(r):
    return r[0]


def _seed_only(r):
    return r[1]


@_one_kernel_thread
def _profile_task(A, a, kp):
    """The shard's people profiles over the item clusters and their totals."""
    X = _row_profile_csr(A.indptr, A.indices, A.data, a, kp)
    return X, X.sum(axis=1)


def _n_live(r):
    return int(np.count_nonzero(r[1] > 0))


def _sample_task(r, pos):
    """Rows ``pos`` (positions among the shard's live people) of the normalised profiles."""
    X, deg = r
    idx = np.flatnonzero(deg > 0)[pos]
    return X[idx] / deg[idx, None], deg[idx]


@_one_kernel_thread
def _assign_people_task(A, r, a, log_p, kq):
    """Each person's most likely cluster given the item labels; counts of the live ones."""
    b, _ = _hard_assign_rows_csr(A.indptr, A.indices, A.data, a, log_p, 0)
    live = r[1] > 0
    return b, np.bincount(b[live], minlength=kq), live


def _fill_people_task(r, fill):
    b, _, live = r
    b = b.copy()
    b[~live] = fill
    return b


# --------------------------------------------------------------------------- start


def _degrees(client, A):
    """(weights future (w_items, nnz_items), people-degree futures per shard, tau, the
    stored entries)."""
    deg = [client.submit(_degree_task, f, pure=False) for f in A]
    items = local_sum(client, [client.submit(_items_part, d, pure=False) for d in deg])
    sq_total = client.gather([client.submit(_scalars, d, pure=False) for d in deg])
    sq_p = sum(s[0] for s in sq_total)
    total = sum(s[1] for s in sq_total)
    nnz = sum(s[2] for s in sq_total)
    odd = [i for i, s in enumerate(sq_total) if not s[3]]
    if odd:
        _release(deg, items)
        raise ValueError(
            "dcsbm_fit_dask needs integer purchase counts (its degree sums are exact, and "
            f"equal to one machine's, for integers only); shard {odd[0]} has non-integer "
            "values: round them, or fit the gathered matrix with DCSBM on one machine"
        )
    tau = client.submit(_tau_task, items, sq_p, total, pure=False).result()
    w = client.submit(_weights_task, items, tau, pure=False)
    d_p = [client.submit(_second, d, pure=False) for d in deg]
    _wait_one(w)
    _wait(d_p)
    _release(deg, items)
    return w, d_p, tau, nnz


def gram_on_shards(client, A, bounds, deg, w, tau, chunk_rows, X=None) -> Any:
    """A future of ``G X`` (or, with ``X`` None, of ``G``) summed as one machine sums it
    (:mod:`fastbip.algorithms._gram`): per chunk of the fixed row grid, its pieces in row
    order on the grid of ``chunk_rows``-row chunks (a chunk across two shards goes on from
    the first shard's partial sum), then the
    chunks' parts added in the fixed tree of :func:`~fastbip.algorithms._gram.tree_sum`.
    The same bits for any shards and workers."""
    last: dict = {}
    for s, (f, d) in enumerate(zip(A, deg, strict=True)):
        r0 = int(bounds[s])
        for c, lo, hi in _gram.chunk_pieces(r0, int(bounds[s + 1]), chunk_rows):
            z0 = last.get(c)
            last[c] = client.submit(_piece_task, f, d, w, tau, lo - r0, hi - r0, X, z0, pure=False)
    return _gram.tree_sum(
        (last[c] for c in sorted(last)),
        lambda left, right: client.submit(_gram.add, left, right, pure=False),
    )


def spectral_item_vectors(
    client: Any,
    A: list,
    bounds: Any,
    deg: list,
    w: Any,
    tau: float,
    n_items: int,
    n_people: int,
    nnz: int,
    k: int,
    seed: int,
    svd_iter: int = _gram.SVD_ITER,
    bar: Any = None,
) -> Any:
    """A future of the K leading eigenvectors (n_items x K) of the items' Gram matrix of
    the regularised normalised matrix (see the module docstring), from float shards ``A``
    (rows ``bounds[s]:bounds[s + 1]``), their degree futures ``deg`` and the item weights
    ``w``; bit-identical to ``DCSBM(svd_solver="randomized")``'s. ``bar`` (a progress bar
    or None) is advanced once per product."""
    k = min(k, n_items, n_people)
    grid = _gram.chunk_rows_for(n_people, n_items, nnz)
    if _dense_gram(n_items, k):
        G = gram_on_shards(client, A, bounds, deg, w, tau, grid)
        V = client.submit(_vectors_only, G, k, pure=False)
        if bar is not None:
            _wait_one(V)
            bar.update(1)
        return V
    Q = client.submit(_gram.random_basis, n_items, _gram.n_basis(n_items, k), seed, pure=False)
    for it in range(svd_iter + 1):
        Z = gram_on_shards(client, A, bounds, deg, w, tau, grid, Q)
        if bar is not None:
            _wait_one(Z)
            bar.update(1)
        if it == svd_iter:  # Rayleigh-Ritz on the last basis
            T = client.submit(_gram.ritz_matrix, Q, Z, pure=False).result()
            _release(Z)
            break
        Q_new = client.submit(_gram.orthonormal, Z, pure=False)
        _wait_one(Q_new)
        _release(Z, Q)
        Q = Q_new
    W = _gram.top_eigen(T, k)[1]
    V = client.submit(_gram.ritz, Q, W, pure=False)
    _wait_one(V)
    _release(Q)
    return V


def _vectors_only(G, k):
    return _gram.top_eigen(G, k)[1]


def _wait_one(f):
    _wait([f])


def spectral_start_dask(client, A, deg, w, V, kp, kq, seed) -> ShardedLabels:
    """The start labels of one k-means seed (``_spectral_start`` with the items as the
    spectral side): items on the worker holding V, people per shard."""
    made: list = []
    try:
        it = client.submit(_item_labels_task, V, w, kp, seed, pure=False)
        a = client.submit(_labels_only, it, pure=False)
        made.append(it)
        if kq == 1:
            rows = [client.submit(_zeros_like_rows, f, pure=False) for f in A]
            return ShardedLabels(rows, a, kq, kp)
        seed_q = client.submit(_seed_only, it, pure=False).result()
        prof = [client.submit(_profile_task, f, a, kp, pure=False) for f in A]
        made += prof
        n_live = client.gather([client.submit(_n_live, p, pure=False) for p in prof])
        total = sum(n_live)
        rng = np.random.default_rng(seed_q)
        if total > _MAX_KMEANS_SAMPLE:
            pos = np.sort(rng.choice(total, _MAX_KMEANS_SAMPLE, replace=False))
        else:
            pos = np.arange(total)
        cuts = np.concatenate([[0], np.cumsum(n_live)])
        pieces = []
        for s, p in enumerate(prof):
            sel = pos[(pos >= cuts[s]) & (pos < cuts[s + 1])] - cuts[s]
            pieces.append(client.submit(_sample_task, p, sel, pure=False))
        got = client.gather(pieces)
        _release(pieces)
        centres = _kmeans_centres(
            np.concatenate([g[0] for g in got]), np.concatenate([g[1] for g in got]), kq, rng
        )
        log_p = np.log(np.maximum(centres, 0.0) + 1e-3 / kp)
        assign = [
            client.submit(_assign_people_task, f, p, a, log_p, kq, pure=False)
            for f, p in zip(A, prof, strict=True)
        ]
        made += assign
        counts = client.gather([client.submit(_second, r, pure=False) for r in assign])
        fill = int(np.argmax(sum(counts))) if total else 0
        rows = [client.submit(_fill_people_task, r, fill, pure=False) for r in assign]
        _wait(rows)
        return ShardedLabels(rows, a, kq, kp)
    finally:
        _release(made)


def _zeros_like_rows(A):
    return np.zeros(A.shape[0], np.int64)


def _kmeans_centres(Xs, ws, k, rng):
    """The centres of ``_kmeans`` on the sample drawn (the same seed as the local fit)."""
    from sklearn.cluster import KMeans

    from fastbip.algorithms._base import limit_threads

    k = min(k, Xs.shape[0])
    km = KMeans(n_clusters=k, n_init=1, random_state=int(rng.integers(2**31 - 1)))
    with limit_threads(Xs.shape[0]):
        km.fit(Xs, sample_weight=ws)
    return km.cluster_centers_


# --------------------------------------------------------------------------- fit


def dcsbm_fit_dask(
    sharded: _sh.ShardedDataset,
    n_row_clusters: int,
    n_col_clusters: int,
    *,
    n_init: int = 3,
    max_sweeps: int = 100,
    tol: float = 1e-6,
    random_state: Any = None,
    svd_iter: int = _gram.SVD_ITER,
    client: Any = None,
    progress: bool | None = None,
) -> DaskDCSBMResult:
    """:class:`~fastbip.algorithms.DCSBM` (``soft_sweeps=0``) on a sharded dataset, from its
    spectral start computed on the shards (see the module docstring).

    Parameters
    ----------
    sharded : ShardedDataset (shards on the workers or in a sharded directory), with fewer
        items than people (the items are the spectral side).
    n_row_clusters, n_col_clusters : int, K_A and K_B.
    n_init, max_sweeps, tol, random_state : as in ``DCSBM``.
    svd_iter : int >= 1, subspace iterations of the randomized eigensolver.
    client : dask.distributed.Client or None (the default client).
    progress : None or bool, a bar on standard error over the fit's steps (the products of
        the eigensolver, the starts, the sweeps): None shows it where standard error is a
        terminal, False never (see :mod:`fastbip._progress`).

    Returns
    -------
    DaskDCSBMResult: the row labels stay on the workers until read. Bit-identical to
    ``DCSBM(n_row_clusters, n_col_clusters, n_init=n_init, svd_solver="randomized",
    svd_iter=svd_iter, soft_sweeps=0, refine=None, random_state=random_state).fit(M)``,
    whatever the shards and workers (module docstring).
    """
    sds, k_a, k_b, max_sweeps, tol = check_fit_args(
        sharded, n_row_clusters, n_col_clusters, max_sweeps, tol
    )
    n_r, n_c = sds.shape
    n_init = check_int(n_init, "n_init", 1)
    svd_iter = check_int(svd_iter, "svd_iter", 1)
    flip = (n_c < n_r or k_a == 1) and k_b > 1
    if not flip:
        raise ValueError(
            "dcsbm_fit_dask starts from the items' spectral vectors: it needs n_col_clusters "
            f"> 1 and fewer items than people (or n_row_clusters=1); got {n_r} people, "
            f"{n_c} items, n_row_clusters={k_a}, "
            f"n_col_clusters={k_b} (give a start to dcsbm_sweeps_dask instead)"
        )
    if sds.n_shards == 0:
        raise ValueError("the sharded dataset has no shards (no people) to fit")
    client = _get_client(client)
    rng = check_random_state(random_state)
    owned: list = []
    first = min(_FIRST_SWEEPS, max_sweeps) if n_init > 1 else max_sweeps
    n_products = 1 if _dense_gram(n_c, min(k_b, n_r)) else svd_iter + 1
    total = n_products + n_init + n_init * first + (max_sweeps - first if n_init > 1 else 0)
    bar = progress_bar(total=total, desc="DCSBM fit (dask)", unit="step", enable=progress)
    try:
        A = float_shards(client, sds)
        owned += A
        w, deg, tau, nnz = _degrees(client, A)
        owned += [w, *deg]
        seed = int(rng.integers(2**31 - 1))
        V = spectral_item_vectors(
            client, A, sds.row_bounds, deg, w, tau, n_c, n_r, nnz, k_b, seed, svd_iter, bar
        )
        owned.append(V)
        starts = []
        for _ in range(n_init):
            seed = int(rng.integers(2**31 - 1))
            starts.append(spectral_start_dask(client, A, deg, w, V, k_b, k_a, seed))
            bar.update(1)
        best = None
        for s in starts:
            res = run_sweeps(client, A, s.rows, s.columns, k_a, k_b, first, tol, raw=True, bar=bar)
            s.release()
            if best is None or res[3] > best[3]:
                if best is not None:
                    _drop(best)
                best = res
            else:
                _drop(res)
        if best[4] == first < max_sweeps:
            raw = best[0]
            res = run_sweeps(
                client,
                A,
                raw.rows,
                raw.columns,
                k_a,
                k_b,
                max_sweeps - first,
                tol,
                raw=True,
                bar=bar,
            )
            if res[3] >= best[3]:
                _drop(best)
                best = (*res[:4], first + res[4])
            else:
                _drop(res)
        raw, labels, C, ll, n_iter = best
        raw.release()
    finally:
        bar.close()
        _release(owned)
    return DaskDCSBMResult(labels, C, ll, n_iter, k_a, k_b)


def _drop(res):
    res[0].release()
    res[1].release()
