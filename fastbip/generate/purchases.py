"""The planted relation -> purchases (canonical CSR): :func:`sample_purchases`.

Model (degree-corrected Poisson block model, Karrer-Newman normalisation)::

    M[i, j] ~ Poisson(theta[i] * phi[j] * omega[a[i], b[j]] * f(i, j))

with ``theta`` summing to 1 inside each people-cluster, ``phi`` summing to 1 inside each
item-cluster (both are renormalised here), so that ``omega[k, l]`` is the expected number
of purchases between clusters ``k`` and ``l``; ``f`` is 1 unless an affinity is given.

Sampling costs O(purchases): each person draws a count ~ Poisson(theta[i] * sum_l
omega[k, l]), each purchase an item-cluster with probability proportional to
``omega[k, l]`` and an item inside it in proportion to ``phi`` (alias tables, O(1) per
draw). Rows are cut into blocks of ``block_size`` rows, each with its own random stream
derived from ``seed`` and the block index, so the result is bit-identical whatever the
number of threads. The CSR arrays are written row-parallel in place: per block the draws
are radix-sorted by item, scattered by row and merged into counts, then copied to their
final offsets; peak memory is about the output plus O(n_people + n_items) plus a small
staging buffer. The kernels are in :mod:`fastbip._kernels.generate`.

Variants (``model``):

* ``"poisson"`` (default): the multigraph above; ``data`` holds counts.
* ``"bernoulli"``: simple graph, ``M[i, j] = 1`` with probability ``1 - exp(-rate)``
  (the Poisson draw with every positive count set to 1), never repeated.
* ``"exact"``: the total of block pair ``(k, l)`` is exactly ``np.rint(omega[k, l])``;
  the total is allocated over the pair's people in proportion to ``theta`` and its items
  in proportion to ``phi`` (a multinomial), not Poisson. The allocation to people runs
  serially (one stream per block pair, O(purchases)) into an extra int32
  (n_people, K_B) table; the items are then drawn row-parallel as above.

``affinity`` (list of ``(x_people, y_items, scale)``) multiplies the rate by
``f(i, j) = prod exp(-(x[i] - y[j])**2 / (2 * scale**2))``. It is applied by thinning
(each draw kept with probability ``f``), so block totals fall below ``omega``:
:func:`fastbip.generate.relation.expected_block_totals` gives the thinned expectation.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from fastbip._kernels import generate as _k
from fastbip._kernels import sampling as _ks
from fastbip._progress import progress as progress_bar
from fastbip._rng import as_seed_sequence
from fastbip._validation import as_labels, as_weights, check_choice, check_int
from fastbip.spec.model import MODELS

__all__ = ["MODELS", "sample_purchases"]

#: ``affinity``: (x_people (n_people,), y_items (n_items,), scale > 0) terms
Affinity = list[tuple[ArrayLike, ArrayLike, float]]


_INT32_MAX = 2**31 - 1
# draws staged per wave of row blocks (8 or 12 bytes per draw of staging)
_WAVE_DRAWS = 1 << 21
# draws sorted at once inside a block (16 bytes each of per-thread scratch)
_CHUNK_DRAWS = 1 << 13
# Below this many draws the kernels' serial twins run (same results): a parallel kernel
# compiles several times slower and is no faster on a small sample (the first call of a
# small generation, such as ``fastbip demo``, is mostly compilation).
_PARALLEL_MIN_DRAWS = 1 << 20
# Alias tables of fewer entries are built by the kernel's Python source (a millisecond)
_ALIAS_PYTHON_MAX = 1 << 11


# --------------------------------------------------------------------------- validation


def _key_from_seed(seed: Any, name: str = "seed") -> np.uint64:
    """The 64-bit key of the kernels' streams, from a seed (see ``fastbip._rng``)."""
    return as_seed_sequence(seed, name).generate_state(1, np.uint64)[0]


def _check_options(seed: Any, model: Any, block_size: Any) -> tuple[np.uint64, str, int]:
    """(stream key, model, block_size), checked."""
    key = _key_from_seed(seed)
    check_choice(model, "model", MODELS)
    return key, model, check_int(block_size, "block_size", 1)


def _validate(people_labels, item_labels, theta, phi, omega):
    """The arrays of the planted relation, checked: (a, b, theta, phi, omega)."""
    om = np.asarray(omega)
    if om.ndim != 2:
        raise ValueError(f"omega must be a 2-D (K_A, K_B) array; got shape {om.shape}")
    if not (np.issubdtype(om.dtype, np.floating) or np.issubdtype(om.dtype, np.integer)):
        raise TypeError(f"omega must be numeric; got dtype {om.dtype}")
    om = np.ascontiguousarray(om, dtype=np.float64)
    if not np.all(np.isfinite(om)):
        raise ValueError("omega must be finite; got NaN or infinite values")
    if om.size and om.min() < 0:
        raise ValueError(f"omega must be >= 0; got minimum {om.min()}")
    ka, kb = om.shape
    # int32 and narrower labels are kept as they are, wider ones become int64
    a = as_labels(people_labels, "people_labels", n_clusters=ka, unassigned=False, dtype=None)
    b = as_labels(item_labels, "item_labels", n_clusters=kb, unassigned=False, dtype=None)
    theta = as_weights(theta, "theta", a.size, "people_labels")
    phi = as_weights(phi, "phi", b.size, "item_labels")
    return a, b, theta, phi, om


def _validate_affinity(affinity, n, m):
    if affinity is None:
        return np.zeros((0, n)), np.zeros((0, m)), np.zeros(0)
    if isinstance(affinity, tuple) and len(affinity) == 3 and np.ndim(affinity[2]) == 0:
        affinity = [affinity]
    try:
        terms = list(affinity)
    except TypeError:
        raise TypeError(
            "affinity must be None or a list of (x_people, y_items, scale) tuples; "
            f"got {type(affinity).__name__}"
        ) from None
    xs, ys, ws = [], [], []
    for q, term in enumerate(terms):
        if not (isinstance(term, (tuple, list)) and len(term) == 3):
            raise TypeError(
                f"affinity[{q}] must be a (x_people, y_items, scale) tuple; got {term!r:.60}"
            )
        x = np.asarray(term[0], dtype=np.float64)
        y = np.asarray(term[1], dtype=np.float64)
        scale = term[2]
        if x.shape != (n,):
            raise ValueError(f"affinity[{q}] x_people must have shape ({n},); got {x.shape}")
        if y.shape != (m,):
            raise ValueError(f"affinity[{q}] y_items must have shape ({m},); got {y.shape}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError(f"affinity[{q}] features must be finite; got NaN or infinite values")
        if not (isinstance(scale, numbers.Real) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"affinity[{q}] scale must be a finite number > 0; got {scale!r}")
        xs.append(x)
        ys.append(y)
        ws.append(1.0 / (2.0 * float(scale) ** 2))
    if not xs:
        return np.zeros((0, n)), np.zeros((0, m)), np.zeros(0)
    return np.ascontiguousarray(xs), np.ascontiguousarray(ys), np.asarray(ws, np.float64)


# --------------------------------------------------------------------------- tables


def _group_tables(labels, weights, k):
    """Alias tables of ``weights`` inside each cluster: (starts, packed uint32 table)."""
    order = np.argsort(labels, kind="stable").astype(np.int64)
    starts = np.zeros(k + 1, np.int64)
    np.cumsum(np.bincount(labels, minlength=k), out=starts[1:])
    table = np.empty((order.size, 4), np.uint32)  # numpy memory: huge pages when large
    _alias_tables(np.ascontiguousarray(weights[order]), order, starts, table)
    return starts, table


def _alias_tables(weights, ids, starts, table):
    """``build_alias_tables``; below ``_ALIAS_PYTHON_MAX`` entries its Python source runs as
    it is (the same float operations in the same order: the same tables, and nothing to
    compile on a small first call)."""
    build = _ks.build_alias_tables
    (build.py_func if weights.size < _ALIAS_PYTHON_MAX else build)(weights, ids, starts, table)


def _radix_digits(m):
    bits = max(1, int(m - 1).bit_length()) if m > 1 else 1
    n_pass = -(-bits // 11)
    return -(-bits // n_pass), n_pass


def _wrap_csr(data, indices, indptr, shape):
    """A csr_matrix around the given arrays, without scipy copying or re-checking them."""
    if indices.dtype == np.int32:
        out = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
    else:  # scipy would downcast int64 arrays whose values fit in int32: set them directly
        out = sp.csr_matrix(shape, dtype=data.dtype)
        out.indptr, out.indices, out.data = indptr, indices, data
    out.has_sorted_indices = True
    out.has_canonical_format = True
    return out


def _shrink(a, size):
    """Resize ``a`` to ``size`` entries in place (realloc, no copy of the kept part)."""
    if a.size == size:
        return a
    try:
        a.resize(size, refcheck=False)
        return a
    except ValueError:  # not the owner of its memory
        return a[:size].copy()


# --------------------------------------------------------------------------- purchases


def _cluster_rates(a, b, theta, phi, om):
    """Cluster totals of theta and phi, omega without the item-clusters of zero popularity
    (``om_eff``), and the factor of pass 1: person i draws Poisson(theta_i * factor[a_i])
    purchases, factor[k] = sum_l om_eff[k, l] / theta_sums[k]."""
    ka, kb = om.shape
    theta_sums = np.bincount(a, weights=theta, minlength=ka)
    phi_sums = np.bincount(b, weights=phi, minlength=kb)
    om_eff = om * (phi_sums > 0)[None, :]
    factor = np.divide(om_eff.sum(axis=1), theta_sums, out=np.zeros(ka), where=theta_sums > 0)
    return theta_sums, phi_sums, om_eff, factor


def _row_draws(theta, a32, factor, block_size, key, first_block):
    """Pass 1 over rows (the rows of blocks ``first_block``, ... when sharded): each row's
    number of draws in ``draw_off[1:]`` (not yet cumulated), and the largest one."""
    draw_off = np.zeros(theta.size + 1, np.int64)
    expected = float(np.dot(theta, factor[a32])) if theta.size else 0.0
    kernel = (
        _k.row_counts_poisson if expected >= _PARALLEL_MIN_DRAWS else _k.row_counts_poisson_serial
    )
    max_row = int(kernel(theta, a32, factor, block_size, key, draw_off, first_block))
    return draw_off, max_row


def sample_purchases(
    people_labels: ArrayLike,
    item_labels: ArrayLike,
    theta: ArrayLike,
    phi: ArrayLike,
    omega: ArrayLike,
    *,
    seed: int | np.random.SeedSequence | np.random.Generator | None,
    model: str = "poisson",
    affinity: Affinity | None = None,
    block_size: int = 1024,
    row_blocks: tuple[int, int] | None = None,
    progress: bool | None = None,
) -> sp.csr_matrix:
    """Sample the purchase matrix of the planted relation (see the module docstring).

    Parameters
    ----------
    people_labels : int array (n_people,), values in [0, K_A).
    item_labels : int array (n_items,), values in [0, K_B).
    theta : float array (n_people,), >= 0, finite; renormalised to sum 1 per people-cluster.
    phi : float array (n_items,), >= 0, finite; renormalised to sum 1 per item-cluster.
    omega : float array (K_A, K_B), >= 0, finite: expected purchases per block pair.
    seed : int >= 0, numpy.random.SeedSequence or Generator (converted once by
        ``fastbip._rng.as_seed_sequence``; None draws fresh entropy).
    model : "poisson" | "bernoulli" | "exact".
    affinity : None or list of (x_people (n_people,), y_items (n_items,), scale > 0).
    block_size : rows per random stream (part of the seed: another value gives another
        sample).
    row_blocks : None, or (b0, b1) with 0 <= b0 <= b1 <= ceil(n_people / block_size): only
        the rows of blocks [b0, b1), i.e. rows [b0 * block_size, min(n_people,
        b1 * block_size)), bit-identical to those rows of the whole matrix (a shard for
        a distributed run; stacking the shards gives the whole matrix). The arrays are
        still those of all people. Not available for model="exact", whose totals are
        allocated over all people at once. The index dtype follows the shard's size.
    progress : bool or None
        A progress bar over the draws (by waves) on standard error: None shows it where
        standard error is a terminal, False never (also ``FASTBIP_PROGRESS=0``); see
        :mod:`fastbip._progress`. It does not change the result.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (rows, n_items), canonical (sorted indices, no
    repeats), int32 data; int32 indptr/indices when the number of draws fits in int32,
    int64 for both otherwise.
    """
    key, model, block_size = _check_options(seed, model, block_size)
    a, b, theta, phi, om = _validate(people_labels, item_labels, theta, phi, omega)
    n, m = a.size, b.size
    ka, kb = om.shape
    ax, ay, aw = _validate_affinity(affinity, n, m)
    if model == "exact" and aw.size:
        raise ValueError(
            "affinity is not supported with model='exact' (thinning would "
            "change the exact totals); use model='poisson' or 'bernoulli'"
        )
    nb_all = -(-n // block_size)
    if row_blocks is None:
        first_block, r0, r1 = 0, 0, n
    else:
        if model == "exact":
            raise ValueError(
                "row_blocks is not available with model='exact' (its totals "
                "are allocated over all people at once)"
            )
        ok = (
            isinstance(row_blocks, (tuple, list))
            and len(row_blocks) == 2
            and all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in row_blocks)
        )
        if not ok or not 0 <= row_blocks[0] <= row_blocks[1] <= nb_all:
            raise ValueError(
                f"row_blocks must be (b0, b1) with 0 <= b0 <= b1 <= {nb_all} "
                f"(blocks of {block_size} rows); got {row_blocks!r}"
            )
        first_block = int(row_blocks[0])
        r0, r1 = first_block * block_size, min(n, int(row_blocks[1]) * block_size)
    theta_sums, phi_sums, om_eff, factor = _cluster_rates(a, b, theta, phi, om)
    live_items = phi_sums > 0
    live_people = theta_sums > 0

    # alias tables normalise within each group, so theta and phi need no renormalising
    istart, itab = _group_tables(b, phi, kb)
    cstart = np.arange(ka + 1, dtype=np.int64) * kb
    cids = np.tile(np.arange(kb, dtype=np.int64), ka)
    ctab = np.empty((cids.size, 4), np.uint32)
    _alias_tables(np.ascontiguousarray(om_eff.ravel()), cids, cstart, ctab)
    a32 = a.astype(np.int32, copy=False)

    if model == "exact":
        totals = np.rint(om).astype(np.int64)
        bad = (totals > 0) & ~(live_people[:, None] & live_items[None, :])
        if bad.any():
            k, l = np.argwhere(bad)[0]
            raise ValueError(
                f"model='exact' needs people with theta > 0 in cluster {k} and items with "
                f"phi > 0 in cluster {l} for omega[{k}, {l}] = {om[k, l]}; got none"
            )
        pstart, ptab = _group_tables(a, theta, ka)
        cluster_counts = _k.exact_cluster_counts(totals, pstart, ptab, n, key)
        draw_off = np.zeros(n + 1, np.int64)
        cluster_counts.sum(axis=1, dtype=np.int64, out=draw_off[1:])
        max_row = int(draw_off.max())
    else:
        cluster_counts = np.zeros((0, 0), np.int32)
        if row_blocks is not None:  # from here on, only the shard's rows
            theta, a32, ax = theta[r0:r1], a32[r0:r1], np.ascontiguousarray(ax[:, r0:r1])
            n = r1 - r0
        draw_off, max_row = _row_draws(theta, a32, factor, block_size, key, first_block)
    np.cumsum(draw_off, out=draw_off)
    total = int(draw_off[-1])
    idx_dtype = np.int32 if max(total, m, n) <= _INT32_MAX else np.int64
    indptr = np.zeros(n + 1, idx_dtype)
    indices = np.empty(total, idx_dtype)
    data = np.empty(total, np.int32)
    digit_bits, n_pass = _radix_digits(m)

    # waves of consecutive row blocks holding about _WAVE_DRAWS draws
    nb = -(-n // block_size)
    block_draws = draw_off[np.minimum(np.arange(nb + 1) * block_size, n)]
    waves = [0]
    while waves[-1] < nb:
        w0 = waves[-1]
        w1 = int(np.searchsorted(block_draws, block_draws[w0] + _WAVE_DRAWS, side="right")) - 1
        waves.append(min(nb, max(w0 + 1, w1)))
    staging = int(np.max(np.diff(block_draws[waves]))) if nb else 0
    per_chunk = max(_CHUNK_DRAWS, max_row)
    scratch = np.empty((numba.config.NUMBA_NUM_THREADS, 2 * per_chunk), np.uint64)
    st_idx = np.empty(staging, idx_dtype)
    st_cnt = np.empty(staging, np.int32)
    parallel = total >= _PARALLEL_MIN_DRAWS
    fill = _k.fill_wave_csr if parallel else _k.fill_wave_csr_serial
    commit = _k.commit_wave_csr if parallel else _k.commit_wave_csr_serial
    bar = progress_bar(total=total, desc="purchases", unit="draw", enable=progress)
    old_chunk = numba.get_parallel_chunksize()
    numba.set_parallel_chunksize(1)
    try:
        for w0, w1 in zip(waves[:-1], waves[1:], strict=True):
            fill(
                w0,
                w1,
                block_size,
                draw_off,
                a32,
                ctab,
                istart,
                itab,
                cluster_counts,
                ax,
                ay,
                aw,
                key,
                digit_bits,
                n_pass,
                model == "bernoulli",
                _CHUNK_DRAWS,
                scratch,
                st_idx,
                st_cnt,
                indptr,
                first_block,
            )
            commit(w0, w1, block_size, draw_off, st_idx, st_cnt, indptr, indices, data)
            bar.update(int(block_draws[w1] - block_draws[w0]))
    finally:
        numba.set_parallel_chunksize(old_chunk)
        bar.close()
    del scratch, st_idx, st_cnt
    nnz = int(indptr[-1])
    indices = _shrink(indices, nnz)
    data = _shrink(data, nnz)
    return _wrap_csr(data, indices, indptr, (n, m))
