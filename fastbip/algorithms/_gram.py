"""The randomized spectral start's arithmetic, shared by one machine
(``DCSBM(svd_solver="randomized")``) and the row shards of
:func:`fastbip.distributed.dcsbm_fit_dask`, so that both add the same floats in the same
order and get the same bits whatever the shards, workers and threads.

The spectral side's vectors are the leading eigenvectors of the Gram matrix
``G = L^T L`` of ``L = diag(w_rows) B diag(w_cols)`` (``B``: the other side's rows, CSR;
``w = 1 / sqrt(degree + tau)``). ``G`` is formed (dense, one n x n partial per chunk) only
for at most ``_DENSE_SVD_SIZE`` members or K >= n - 1; otherwise what is formed is ``G Q``
for a block ``Q`` (n x l), as a sum of one term per row of ``B``.

**A fixed order.** The rows are cut into chunks on a grid that depends on the matrix's
shape and stored entries only (:func:`chunk_rows_for`). A chunk's part of ``G Q`` is
accumulated row by row (:func:`~fastbip._kernels.spectral.gram_product_csr`); where a
chunk spans two shards, the second shard goes on from the first one's partial sum
(``Z0``). The chunks' parts are then added in a pairwise tree fixed by their number
(:func:`tree_sum`). One machine walks the same grid (its chunks on as many threads as
numba has), so the products are bit-identical. The bits are those of one build of numpy,
numba and BLAS on one kind of processor: a cluster whose machines differ in either may pick
other kernels. The small dense steps run with BLAS on one thread (``threadpool_limits``,
which is process-wide: the solver runs one of them at a time).

**The solver.** Randomized subspace iteration (Halko, Martinsson and Tropp 2011): ``Q``
(n x l, l = K + 10, Gaussian from the fit's seed, orthonormalised by :func:`orthonormal`)
is replaced by an orthonormal basis of ``G Q``, ``n_iter`` times; then Rayleigh-Ritz on
the last basis, ``T = Q^T G Q``: ``T``'s eigenvalues approximate the squared singular values
(the detectability ratio takes its (K+1)-th) and ``Q W`` the vectors.
"""

from __future__ import annotations

import functools
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from fastbip._kernels.spectral import gram_csr, gram_product_csr

#: rows of a chunk of the fixed grid when set (tests); None: :func:`chunk_rows_for`
GRAM_ROWS = None
#: the grid: each chunk with at least AMORTIZE x n_cols stored entries, but at least
#: MIN_CHUNKS chunks (the products' parallelism: a chunk's pieces run in row order) and at
#: most MAX_CHUNKS
MIN_CHUNKS = 16
MAX_CHUNKS = 64
AMORTIZE = 16
_BLOCK_ROWS = 1024  # the generator's blocks of rows (fastbip.generate.purchases)
#: subspace iterations and oversampling of the randomized solver
SVD_ITER = 4
OVERSAMPLE = 10


def chunk_rows_for(n_rows: int, n_cols: int, nnz: int) -> int:
    """The grid's chunk rows for a matrix of this shape and stored entries: a power of two
    times the generator's 1,024-row blocks, the fewest such that a chunk holds on average at
    least ``AMORTIZE`` times ``n_cols`` entries (its dense n_cols x l partial sum, to
    allocate, move and add, costs a fraction of its products), but no more than leave
    ``MIN_CHUNKS`` chunks, and no fewer than make ``MAX_CHUNKS``. A property of the data,
    not of its shards: one machine and every set of shards cut it alike."""
    if GRAM_ROWS is not None:
        return int(GRAM_ROWS)
    rows = _BLOCK_ROWS
    while rows < n_rows and nnz * rows < AMORTIZE * n_cols * n_rows:
        rows *= 2
    while rows > _BLOCK_ROWS and -(-n_rows // rows) < MIN_CHUNKS:
        rows //= 2
    while -(-n_rows // rows) > MAX_CHUNKS:
        rows *= 2
    return rows


def aligned_blocks(blocks: int, block_rows: int, chunk_rows: int) -> int:
    """The largest shard size of at most ``blocks`` blocks of ``block_rows`` rows (at least
    one) whose bounds fall on the grid's chunk bounds (``chunk_rows`` rows): a multiple of a
    chunk's blocks where ``blocks`` holds one, else a power of two that divides it (then a
    chunk's pieces chain across its shards)."""
    per_chunk = max(1, chunk_rows // block_rows)
    if blocks >= per_chunk:
        return blocks // per_chunk * per_chunk
    out = 1
    while 2 * out <= blocks and per_chunk % (2 * out) == 0:
        out *= 2
    return out


def chunk_pieces(r0: int, r1: int, chunk_rows: int) -> list[tuple[int, int, int]]:
    """The pieces ``(chunk, lo, hi)`` (global rows ``[lo, hi)``) of the rows ``[r0, r1)``
    on the grid of ``chunk_rows``-row chunks, in row order."""
    out = []
    lo = r0
    while lo < r1:
        c = lo // chunk_rows
        hi = min(r1, (c + 1) * chunk_rows)
        out.append((c, lo, hi))
        lo = hi
    return out


def piece_product(indptr, indices, data, w_rows, w_cols, Q, Z0=None) -> np.ndarray:
    """``Z0 + L^T L Q`` over the rows given by ``indptr`` (a chunk's piece), a new array."""
    Z = np.zeros_like(Q) if Z0 is None else Z0.copy()
    gram_product_csr(indptr, indices, data, w_rows, w_cols, Q, Z)
    return Z


def piece_gram(indptr, indices, data, w_rows, w_cols, n, G0=None) -> np.ndarray:
    """``G0 + L^T L`` over the rows given by ``indptr`` (dense n x n), a new array."""
    G = np.zeros((n, n)) if G0 is None else G0.copy()
    gram_csr(indptr, indices, data, w_rows, w_cols, G)
    return G


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a + b


def _chunked(B, w_rows, chunk_rows, piece) -> np.ndarray:
    """``tree_sum`` over the chunks of B's rows of ``piece(indptr, w_rows)``, chunks on
    numba's number of threads (the kernels release the GIL)."""
    n = B.shape[0]
    chunk_rows = chunk_rows_for(n, B.shape[1], B.nnz) if chunk_rows is None else chunk_rows
    cuts = [(lo, hi) for _, lo, hi in chunk_pieces(0, n, chunk_rows)]

    def one(cut):
        lo, hi = cut
        return piece(B.indptr[lo : hi + 1], w_rows[lo:hi])

    n_threads = min(numba.get_num_threads(), len(cuts))
    if n_threads <= 1:
        return tree_sum(one(c) for c in cuts)
    with ThreadPoolExecutor(n_threads) as pool:
        todo = iter(cuts)
        running = deque(pool.submit(one, c) for c in islice(todo, n_threads))

        def done():
            while running:
                part = running.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:  # at most n_threads parts computed ahead of the sum
                    running.append(pool.submit(one, nxt))
                yield part

        return tree_sum(done())


def tree_sum(parts, plus=None):
    """The parts (an iterable, in chunk order) added in a pairwise tree fixed by their
    number: equal neighbours are added as soon as both are there (a binary counter), then
    what is left from the right, so that 5 parts make ``((p0 + p1) + (p2 + p3)) + p4``.
    ``plus(left, right)`` adds two (default ``left + right``: Dask passes a task). At most
    log2(n) + 1 partial sums wait at a time, and a tree of depth log2(n) runs its adds in
    parallel where a chain would not."""
    plus = add if plus is None else plus
    stack: list = []  # (leaves, partial sum)
    for p in parts:
        size, node = 1, p
        while stack and stack[-1][0] == size:
            left = stack.pop()[1]
            size, node = 2 * size, plus(left, node)
        stack.append((size, node))
    out = stack.pop()[1]
    while stack:
        out = plus(stack.pop()[1], out)
    return out


def gram_product(B, w_rows, w_cols, Q, chunk_rows: int | None = None) -> np.ndarray:
    """``G Q`` on one machine, bit-identical to the shards' sum."""
    return _chunked(
        B,
        w_rows,
        chunk_rows,
        lambda ip, w: piece_product(ip, B.indices, B.data, w, w_cols, Q),
    )


def gram_matrix(B, w_rows, w_cols, chunk_rows: int | None = None) -> np.ndarray:
    """``G`` (dense) on one machine, bit-identical to the shards' sum."""
    n = B.shape[1]
    return _chunked(
        B, w_rows, chunk_rows, lambda ip, w: piece_gram(ip, B.indices, B.data, w, w_cols, n)
    )


def random_basis(n: int, ell: int, seed: int) -> np.ndarray:
    """The solver's first basis: Gaussian n x l from ``seed``, orthonormalised."""
    return orthonormal(np.random.default_rng(seed).standard_normal((n, ell)))


def _one_blas_thread(func):
    """Run ``func`` with BLAS on one thread: a product's float sum order may depend on the
    threads, and these products are small (n x l by l x l)."""

    @functools.wraps(func)
    def wrapper(*args):
        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args)

    return wrapper


@_one_blas_thread
def orthonormal(Z: np.ndarray) -> np.ndarray:
    """An orthonormal basis of Z's columns by Cholesky QR, twice (CholQR2: as accurate as
    Householder QR for the condition numbers one power step leaves, and a few times faster
    on a tall n x l block: one l x l Gram matrix and one product per pass)."""
    for _ in range(2):
        G = Z.T @ Z
        try:
            R = np.linalg.cholesky(G).T
        except np.linalg.LinAlgError:  # rank-deficient block: Householder QR
            return np.linalg.qr(Z)[0]
        Z = Z @ np.linalg.inv(R)
    return np.ascontiguousarray(Z)


@_one_blas_thread
def ritz_matrix(Q: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """T = Q^T G Q from Z = G Q (symmetrised), l x l."""
    T = Q.T @ Z
    return (T + T.T) / 2.0


@_one_blas_thread
def top_eigen(S: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvalues, largest first; the eigenvectors of the k largest) of symmetric S."""
    vals, vecs = np.linalg.eigh(S)
    return vals[::-1], np.ascontiguousarray(vecs[:, ::-1][:, :k])


@_one_blas_thread
def ritz(Q: np.ndarray, W: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(Q @ W)


def n_basis(n: int, k: int) -> int:
    """The solver's block width l."""
    return min(n, k + OVERSAMPLE)


def randomized_vectors(
    B, w_rows, w_cols, k: int, seed: int, n_iter: int = SVD_ITER, chunk_rows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(V, eigenvalues largest first): the k leading eigenvectors of ``G`` (B's columns x k)
    on one machine, the arithmetic of the shards' solver step for step."""
    n = B.shape[1]
    Q = random_basis(n, n_basis(n, k), seed)
    for it in range(n_iter + 1):
        Z = gram_product(B, w_rows, w_cols, Q, chunk_rows)
        if it == n_iter:
            break
        Q = orthonormal(Z)
    vals, W = top_eigen(ritz_matrix(Q, Z), k)
    return ritz(Q, W), vals
