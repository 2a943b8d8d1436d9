"""The randomized spectral start (fastbip.algorithms._gram): its products are right, and the
same bits on one machine (any thread count) and on any row shards."""

import re

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score as ari

from fastbip.algorithms import DCSBM, _gram
from fastbip.generate import generate
from fastbip.spec import planted_spec


def _matrix(n=9000, m=700, seed=3):
    spec = planted_spec(n, m, 4, 4, mean_purchases=10.0, seed=seed)
    B = generate(spec).purchases.astype(np.float64)
    rng = np.random.default_rng(seed)
    w_r = rng.uniform(0.1, 1.0, n)
    w_c = rng.uniform(0.1, 1.0, m)
    return B, w_r, w_c


def _dense_gram(B, w_r, w_c):
    L = (sp.diags(w_r) @ B @ sp.diags(w_c)).toarray()
    return L.T @ L


@pytest.mark.parametrize(("r0", "r1", "rows"), [(0, 10, 4), (3, 17, 5), (7, 8, 100), (0, 0, 3)])
def test_chunk_pieces_tile_the_rows_on_the_grid(r0, r1, rows):
    pieces = _gram.chunk_pieces(r0, r1, rows)
    covered = [r for _, lo, hi in pieces for r in range(lo, hi)]
    assert covered == list(range(r0, r1))
    for c, lo, hi in pieces:  # each piece inside its chunk of the fixed grid
        assert c * rows <= lo < hi <= (c + 1) * rows


@pytest.mark.parametrize(
    ("shape", "nnz"),
    [((12000, 1000), 1.4e5), ((10**6, 10**5), 2e7), ((10**7, 10**6), 2e8), ((5e8, 5e7), 1e10)],
)
def test_the_grid_amortises_each_chunks_partial_sum(shape, nnz):
    n, m = int(shape[0]), int(shape[1])
    rows = _gram.chunk_rows_for(n, m, int(nnz))
    chunks = -(-n // rows)
    assert rows % 1024 == 0 and (rows // 1024) & (rows // 1024 - 1) == 0  # 2^p blocks
    assert chunks <= _gram.MAX_CHUNKS
    assert chunks >= _gram.MIN_CHUNKS or rows == 1024  # the products' parallelism
    # at least AMORTIZE x n_items entries per chunk where MIN_CHUNKS allows, and no more
    # than twice what that needs
    assert nnz * rows >= _gram.AMORTIZE * m * n or chunks >= _gram.MIN_CHUNKS or rows == 1024
    assert rows == 1024 or nnz * rows / 2 < _gram.AMORTIZE * m * n


def test_products_equal_the_dense_gram_matrix():
    B, w_r, w_c = _matrix()
    G = _dense_gram(B, w_r, w_c)
    Q = np.random.default_rng(0).standard_normal((B.shape[1], 7))
    np.testing.assert_allclose(_gram.gram_product(B, w_r, w_c, Q, 2000), G @ Q, rtol=1e-11)
    np.testing.assert_allclose(_gram.gram_matrix(B, w_r, w_c, 2000), G, rtol=1e-11, atol=1e-14)


def test_products_do_not_depend_on_the_threads():
    B, w_r, w_c = _matrix()
    Q = np.random.default_rng(1).standard_normal((B.shape[1], 12))
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _gram.gram_product(B, w_r, w_c, Q, 1000)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = _gram.gram_product(B, w_r, w_c, Q, 1000)
    finally:
        numba.set_num_threads(old)
    np.testing.assert_array_equal(one, many)


def test_randomized_vectors_converge_to_the_leading_eigenvectors():
    B, w_r, w_c = _matrix()
    vals, vecs = np.linalg.eigh(_dense_gram(B, w_r, w_c))
    top, span = vals[::-1][:4], vecs[:, ::-1][:, :4]
    errors = []
    for n_iter in (2, 4, 8):
        V, got = _gram.randomized_vectors(B, w_r, w_c, 4, seed=5, n_iter=n_iter, chunk_rows=3000)
        assert V.shape == (B.shape[1], 4) and got.shape == (14,)
        np.testing.assert_allclose(V.T @ V, np.eye(4), atol=1e-12)
        cos = np.linalg.svd(V.T @ span, compute_uv=False)  # cosines of the principal angles
        errors.append((1 - cos.min(), np.abs(got[:4] / top - 1).max()))
    # the error falls like (lambda_15 / lambda_4)^(2 n_iter): here 0.22^(2 n_iter)
    assert errors[1][0] < 1e-5 and errors[1][1] < 2e-5  # the default's 4 iterations
    assert errors[2][0] < 1e-9 and errors[2][1] < 1e-9
    assert errors[0][0] > errors[1][0] > errors[2][0]


def test_dcsbm_randomized_start_finds_the_arpack_fit():
    spec = planted_spec(6000, 800, 4, 3, mean_purchases=15.0, seed=2)
    M = generate(spec).purchases
    a = DCSBM(4, 3, svd_solver="randomized", random_state=1).fit(M)
    b = DCSBM(4, 3, random_state=1).fit(M)
    assert ari(a.row_labels_, b.row_labels_) == 1.0
    assert ari(a.column_labels_, b.column_labels_) == 1.0
    # Ritz values bound the eigenvalues from below and the (K+1)-th, of the noise bulk,
    # converges slowest: the ratio is at least Lanczos' (here 9.3), within 20 %
    assert b.detectability_ <= a.detectability_ < 1.2 * b.detectability_
    # the same seed, the same bits, whatever numba's threads
    c = DCSBM(4, 3, svd_solver="randomized", n_jobs=-1, random_state=1).fit(M)
    np.testing.assert_array_equal(c.row_labels_, a.row_labels_)
    assert c.log_likelihood_ == a.log_likelihood_
    with pytest.raises(ValueError, match="svd_solver"):
        DCSBM(4, 3, svd_solver="lobpcg").fit(M)
    with pytest.raises(ValueError, match="svd_iter"):
        DCSBM(4, 3, svd_iter=0).fit(M)


@pytest.mark.parametrize("bps", [1, 2, 5])
def test_products_on_shards_are_one_machines_bits(threads_client, bps):
    from fastbip.distributed import generate_dask
    from fastbip.distributed.dcsbm import float_shards
    from fastbip.distributed.spectral import _degrees, gram_on_shards

    spec = planted_spec(9000, 700, 4, 4, mean_purchases=10.0, seed=3)
    B = generate(spec).purchases.astype(np.float64)
    d_r, d_c = np.asarray(B.sum(axis=1)).ravel(), np.asarray(B.sum(axis=0)).ravel()
    Q = _gram.random_basis(B.shape[1], 9, 4)
    client = threads_client
    sds = generate_dask(spec, client=client, blocks_per_shard=bps)
    A = float_shards(client, sds)
    w, deg, tau, nnz = _degrees(client, A)
    assert nnz == B.nnz
    Qf = client.scatter(Q)
    got = gram_on_shards(client, A, sds.row_bounds, deg, w, tau, 2500, Qf).result()
    G = gram_on_shards(client, A, sds.row_bounds, deg, w, tau, 2500).result()
    client.cancel([*A, w, *deg, Qf])
    w_r, w_c = 1.0 / np.sqrt(d_r + tau), 1.0 / np.sqrt(d_c + tau)
    np.testing.assert_array_equal(got, _gram.gram_product(B, w_r, w_c, Q, 2500))
    np.testing.assert_array_equal(G, _gram.gram_matrix(B, w_r, w_c, 2500))


def test_the_dask_fit_shows_its_steps(one_worker, monkeypatch, capsys):
    pytest.importorskip("tqdm")
    from fastbip.distributed import dcsbm_fit_dask, generate_dask

    monkeypatch.setenv("FASTBIP_PROGRESS", "1")
    spec = planted_spec(4000, 500, 3, 3, mean_purchases=12.0, seed=8)
    sds = generate_dask(spec, client=one_worker, progress=False)
    fit = dcsbm_fit_dask(sds, 3, 3, n_init=2, random_state=0, client=one_worker)
    err = capsys.readouterr().err
    assert "DCSBM fit (dask)" in err
    # one bar: the eigensolver's 5 products, the 2 starts, 2 x 3 first sweeps, then the
    # best start's others (up to 97; the bar closes when the sweeps stop)
    counts = [tuple(map(int, m)) for m in re.findall(r"(\d+)/(\d+) \[", err)]
    assert counts and counts[-1][1] == 5 + 2 + 6 + 97
    assert counts[-1][0] >= 5 + 2 + fit.n_iter_ + 1 and max(c[0] for c in counts) == counts[-1][0]


def test_tree_sum_is_one_fixed_tree():
    cat = lambda a, b: f"({a}+{b})"  # noqa: E731
    assert _gram.tree_sum("a", cat) == "a"
    assert _gram.tree_sum("abcde", cat) == "(((a+b)+(c+d))+e)"
    assert _gram.tree_sum("abcdefg", cat) == "(((a+b)+(c+d))+((e+f)+g))"
    parts = [np.full(3, 0.1 * i) for i in range(11)]
    np.testing.assert_allclose(_gram.tree_sum(parts), sum(parts))


@pytest.mark.parametrize("chunk", [1024, 2**17, 2**20, 2**23])
@pytest.mark.parametrize("blocks", [1, 3, 100, 700, 1024, 1500, 5000, 20000])
def test_aligned_shards_never_straddle_a_chunk(chunk, blocks):
    got = _gram.aligned_blocks(blocks, 1024, chunk)
    assert 1 <= got <= blocks
    size = got * 1024
    assert chunk % size == 0 or size % chunk == 0  # shard bounds fall on chunk bounds
    assert 2 * got > blocks  # never a needless cut


def _sharded_from(M, bounds, client):
    """A ShardedDataset of M's row blocks ``bounds`` held by ``client``'s workers."""
    from fastbip.io.sharded import ShardedDataset

    M = sp.csr_matrix(M)
    shards, futs = [], []
    for r0, r1 in zip(bounds[:-1], bounds[1:], strict=True):
        S = M[r0:r1]
        shards.append({"rows": [int(r0), int(r1)], "nnz": int(S.nnz), "purchases": int(S.sum())})
        futs.append(client.scatter((S, None)))
    return ShardedDataset(
        spec=None,
        shape=M.shape,
        shards=shards,
        n_draws=int(M.sum()),
        has_events=False,
        futures=futs,
    )


def test_the_dask_fit_refuses_what_it_cannot_fit_like_one_machine(threads_client):
    from fastbip.distributed import dcsbm_fit_dask

    B, _, _ = _matrix(3000, 500)
    odd = _sharded_from(B * 0.7, [0, 1500, 3000], threads_client)  # 0.7, 1.4, ...
    with pytest.raises(ValueError, match="integer purchase counts.*shard 0"):
        dcsbm_fit_dask(odd, 3, 3, client=threads_client)
    empty = _sharded_from(B, [0, 1500, 1500, 3000], threads_client)
    with pytest.raises(ValueError, match="shard 1 of the sharded dataset has no rows"):
        dcsbm_fit_dask(empty, 3, 3, client=threads_client)
