"""The planted relation -> purchases (canonical CSR) and their timestamps.

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
staging buffer.

Variants (``model``):

* ``"poisson"`` (default): the multigraph above; ``data`` holds counts.
* ``"bernoulli"``: simple graph, ``M[i, j] = 1`` with probability ``1 - exp(-rate)``
  (the Poisson draw with every positive count set to 1), never repeated.
* ``"exact"``: the total of block pair ``(k, l)`` is exactly ``np.rint(omega[k, l])``;
  the total is allocated over the pair's people in proportion to ``theta`` and its items
  in proportion to ``phi`` (a multinomial), not Poisson. The allocation to people runs
  serially (one stream per block pair, O(purchases)) into an extra int32
  (n_people, K_B) table; the items are then drawn row-parallel as above.

Events: :func:`sample_events` gives each purchase a timestamp from its item-cluster's
temporal profile (:func:`intensity`), stored as :class:`Events` aligned with the CSR
entries; :meth:`Events.window` is the purchase matrix of a time window.

``affinity`` (list of ``(x_people, y_items, scale)``) multiplies the rate by
``f(i, j) = prod exp(-(x[i] - y[j])**2 / (2 * scale**2))``. It is applied by thinning
(each draw kept with probability ``f``), so block totals fall below ``omega``:
:func:`expected_block_totals` gives the thinned expectation.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

from fastbip._kernels import generate as _k
from fastbip._validation import as_purchases
from fastbip.spec.model import MODELS, TimeProfile

__all__ = [
    "MODELS",
    "Events",
    "expected_block_totals",
    "intensity",
    "sample_events",
    "sample_purchases",
]


_INT32_MAX = 2**31 - 1
# draws staged per wave of row blocks (8 or 12 bytes per draw of staging)
_WAVE_DRAWS = 1 << 21
# draws sorted at once inside a block (16 bytes each of per-thread scratch)
_CHUNK_DRAWS = 1 << 13


# --------------------------------------------------------------------------- validation


def _key_from_seed(seed, name="seed"):
    if isinstance(seed, np.random.SeedSequence):
        ss = seed
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if int(seed) < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {seed}")
        ss = np.random.SeedSequence(int(seed))
    else:
        raise TypeError(
            f"{name} must be an int or a numpy.random.SeedSequence; got {type(seed).__name__}"
        )
    return ss.generate_state(1, np.uint64)[0]


def _labels(x, name):
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integers; got dtype {a.dtype}")
    if a.dtype.itemsize > 4 or not a.size:  # int32 and narrower are kept as they are
        return a.astype(np.int64, copy=False)
    return np.ascontiguousarray(a)


def _weights(x, name, n, labels_name):
    a = np.asarray(x)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) like {labels_name}; got shape {a.shape}")
    if a.size and not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name} must be numeric; got dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite; got NaN or infinite values")
    if a.size and a.min() < 0:
        raise ValueError(f"{name} must be >= 0; got minimum {a.min()}")
    return a


def _check_range(labels, k, name, k_name):
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(
            f"{name} must lie in [0, {k}) ({k_name}); got values in "
            f"[{labels.min()}, {labels.max()}]"
        )


def _normalise(w, labels, k):
    """w divided by its sum inside each cluster; also returns each cluster's sum."""
    sums = np.bincount(labels, weights=w, minlength=k)
    scale = np.divide(1.0, sums, out=np.zeros(k), where=sums > 0)
    return w * scale[labels], sums


def _validate(people_labels, item_labels, theta, phi, omega):
    a = _labels(people_labels, "people_labels")
    b = _labels(item_labels, "item_labels")
    theta = _weights(theta, "theta", a.size, "people_labels")
    phi = _weights(phi, "phi", b.size, "item_labels")
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
    _check_range(a, ka, "people_labels", "K_A = omega.shape[0]")
    _check_range(b, kb, "item_labels", "K_B = omega.shape[1]")
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
    _k.build_alias_tables(np.ascontiguousarray(weights[order]), order, starts, table)
    return starts, table


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
    max_row = int(_k.row_counts_poisson(theta, a32, factor, block_size, key, draw_off, first_block))
    return draw_off, max_row


def sample_purchases(
    people_labels,
    item_labels,
    theta,
    phi,
    omega,
    *,
    seed,
    model="poisson",
    affinity=None,
    block_size=1024,
    row_blocks=None,
):
    """Sample the purchase matrix of the planted relation (see the module docstring).

    Parameters
    ----------
    people_labels : int array (n_people,), values in [0, K_A).
    item_labels : int array (n_items,), values in [0, K_B).
    theta : float array (n_people,), >= 0, finite; renormalised to sum 1 per people-cluster.
    phi : float array (n_items,), >= 0, finite; renormalised to sum 1 per item-cluster.
    omega : float array (K_A, K_B), >= 0, finite: expected purchases per block pair.
    seed : int >= 0 or numpy.random.SeedSequence.
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

    Returns
    -------
    scipy.sparse.csr_matrix of shape (rows, n_items), canonical (sorted indices, no
    repeats), int32 data; int32 indptr/indices when the number of draws fits in int32,
    int64 for both otherwise.
    """
    key = _key_from_seed(seed)
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}; got {model!r}")
    if not (
        isinstance(block_size, numbers.Integral)
        and not isinstance(block_size, bool)
        and block_size >= 1
    ):
        raise ValueError(f"block_size must be an integer >= 1; got {block_size!r}")
    block_size = int(block_size)
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
    _k.build_alias_tables(np.ascontiguousarray(om_eff.ravel()), cids, cstart, ctab)
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
    old_chunk = numba.get_parallel_chunksize()
    numba.set_parallel_chunksize(1)
    try:
        for w0, w1 in zip(waves[:-1], waves[1:], strict=True):
            _k.fill_wave(
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
            _k.commit_wave(w0, w1, block_size, draw_off, st_idx, st_cnt, indptr, indices, data)
    finally:
        numba.set_parallel_chunksize(old_chunk)
    del scratch, st_idx, st_cnt
    nnz = int(indptr[-1])
    indices = _shrink(indices, nnz)
    data = _shrink(data, nnz)
    return _wrap_csr(data, indices, indptr, (n, m))


def expected_block_totals(
    people_labels, item_labels, theta, phi, omega, *, affinity=None, model="poisson", chunk=4096
):
    """Expected purchases between each pair of clusters, float64 (K_A, K_B).

    Without affinity this is ``omega`` with the pairs of empty clusters (or clusters whose
    ``theta``/``phi`` sum to 0) set to 0 (and ``np.rint(omega)`` for ``model="exact"``).
    With affinity, the thinned expectation ``sum_{i in k, j in l} theta_i phi_j
    omega[k, l] f(i, j)`` is computed exactly in O(n_people * n_items) time by chunks of
    people. For ``model="bernoulli"`` the expected number of distinct pairs
    ``sum 1 - exp(-rate_ij)`` is returned (also O(n_people * n_items)).
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}; got {model!r}")
    a, b, theta, phi, om = _validate(people_labels, item_labels, theta, phi, omega)
    ka, kb = om.shape
    n, m = a.size, b.size
    ax, ay, aw = _validate_affinity(affinity, n, m)
    theta, ts = _normalise(theta, a, ka)
    phi, ps = _normalise(phi, b, kb)
    live = (ts > 0)[:, None] & (ps > 0)[None, :]
    if model == "exact":
        return np.where(live, np.rint(om), 0.0)
    if aw.size == 0 and model == "poisson":
        return np.where(live, om, 0.0)
    out = np.zeros((ka, kb))
    zb = np.zeros((m, kb))
    zb[np.arange(m), b] = 1.0
    for s in range(0, n, chunk):
        e = slice(s, min(n, s + chunk))
        rate = theta[e, None] * phi[None, :] * om[a[e]][:, b]
        for q in range(aw.size):
            rate *= np.exp(-aw[q] * (ax[q, e, None] - ay[q, None, :]) ** 2)
        if model == "bernoulli":
            rate = -np.expm1(-rate)
        np.add.at(out, a[e], rate @ zb)
    return out


# --------------------------------------------------------------------------- events


def _profile_terms(profile, name):
    if isinstance(profile, TimeProfile):  # validated when built
        peaks = [(p.center, p.width, p.height) for p in profile.peaks]
        seasonal = [(s.period, s.amplitude, s.phase) for s in profile.seasonal]
        return profile.base, profile.trend, peaks, seasonal
    if not isinstance(profile, dict):
        raise TypeError(f"{name} must be a TimeProfile or a dict; got {type(profile).__name__}")
    unknown = set(profile) - {"base", "trend", "peaks", "seasonal"}
    if unknown:
        raise ValueError(
            f"{name} has unknown keys {sorted(unknown)}; expected base, trend, peaks, seasonal"
        )
    base = float(profile.get("base", 1.0))
    trend = float(profile.get("trend", 0.0))
    if not (math.isfinite(base) and base >= 0):
        raise ValueError(f"{name}['base'] must be a finite number >= 0; got {base}")
    if not (math.isfinite(trend) and trend >= -1.0):
        raise ValueError(f"{name}['trend'] must be >= -1 so the rate stays >= 0; got {trend}")
    peaks = []
    for q, pk in enumerate(profile.get("peaks", []) or []):
        try:
            c, w, h = float(pk["center"]), float(pk["width"]), float(pk["height"])
        except (KeyError, TypeError):
            raise ValueError(
                f"{name}['peaks'][{q}] must have center, width, height; got {pk!r}"
            ) from None
        if not (math.isfinite(c) and math.isfinite(w) and w > 0 and math.isfinite(h) and h >= 0):
            raise ValueError(
                f"{name}['peaks'][{q}] needs finite center, width > 0, height >= 0; got {pk!r}"
            )
        peaks.append((c, w, h))
    seasonal = []
    for q, se in enumerate(profile.get("seasonal", []) or []):
        try:
            per, amp, ph = float(se["period"]), float(se["amplitude"]), float(se.get("phase", 0))
        except (KeyError, TypeError):
            raise ValueError(
                f"{name}['seasonal'][{q}] must have period, amplitude, phase; got {se!r}"
            ) from None
        if not (
            math.isfinite(per) and per > 0 and math.isfinite(amp) and amp >= 0 and math.isfinite(ph)
        ):
            raise ValueError(
                f"{name}['seasonal'][{q}] needs period > 0, amplitude >= 0, "
                f"finite phase; got {se!r}"
            )
        seasonal.append((per, amp, ph))
    return base, trend, peaks, seasonal


def intensity(t, profile, start, end):
    """Purchase intensity of an item-cluster profile at times ``t`` (float64 array).

    ``profile`` is a :class:`fastbip.spec.TimeProfile` or a dict with the same keys.

    ``base * (1 + trend * (t - start) / (end - start))``
    ``+ sum_peaks height * exp(-(t - center)**2 / (2 width**2))``
    ``+ sum_seasonal base * amplitude * (1 + cos(2 pi (t - phase) / period)) / 2``.
    Only its shape matters for sampling (times are drawn from it normalised on
    [start, end)); it is the expected profile of the events.
    """
    base, trend, peaks, seasonal = _profile_terms(profile, "profile")
    t = np.asarray(t, dtype=np.float64)
    span = float(end) - float(start)
    out = base * (1.0 + trend * (t - start) / span)
    for c, w, h in peaks:
        out = out + h * np.exp(-((t - c) ** 2) / (2.0 * w * w))
    for per, amp, ph in seasonal:
        out = out + base * amp * (1.0 + np.cos(2.0 * np.pi * (t - ph) / per)) / 2.0
    return out


@dataclass(frozen=True, eq=False)
class Events:
    """Timestamps of purchases, aligned with the entries of a CSR purchase matrix ``M``.

    ``times[offsets[e]:offsets[e + 1]]`` are the ``M.data[e]`` times (sorted) of entry
    ``e`` of ``M`` (the e-th stored entry in CSR order). offsets: int64 (nnz + 1,);
    times: float64 (total purchases,), each in [start, end).
    """

    offsets: np.ndarray
    times: np.ndarray

    def window(self, M, start, end):
        """Purchase matrix of the events in ``[start, end)``: a CSR with M's shape.

        Entries with no event in the window are dropped; windows that partition the
        period sum back to ``M``.
        """
        M = as_purchases(M, accept="csr")
        if self.offsets.shape != (M.nnz + 1,):
            raise ValueError(
                f"M has {M.nnz} entries but the events describe {self.offsets.size - 1}"
            )
        start, end = float(start), float(end)
        if not end >= start:
            raise ValueError(f"end must be >= start; got start={start}, end={end}")
        indptr = np.zeros(M.shape[0] + 1, M.indptr.dtype)
        offsets = np.ascontiguousarray(self.offsets, dtype=np.int64)
        times = np.ascontiguousarray(self.times, dtype=np.float64)
        indices, data = _k.window_matrix(M.indptr, M.indices, offsets, times, start, end, indptr)
        return _wrap_csr(data, indices, indptr, M.shape)


_GRID = 1 << 14


def sample_events(M, item_labels, profiles, *, seed, start, end, block_size=1024):
    """A timestamp for every purchase of ``M``, from its item's cluster profile.

    Parameters
    ----------
    M : scipy.sparse CSR (n_people, n_items), integer counts >= 0.
    item_labels : int array (n_items,) in [0, len(profiles)).
    profiles : list of dicts, one per item-cluster: ``base`` (>= 0), ``trend`` (>= -1,
        relative change of the base rate from ``start`` to ``end``), ``peaks`` (list of
        ``{center, width, height}``, Gaussian bumps), ``seasonal`` (list of ``{period,
        amplitude, phase}``); see :func:`intensity`.
    seed : int >= 0 or numpy.random.SeedSequence.
    start, end : the period; every time lies in [start, end).

    Returns
    -------
    Events aligned with ``M``'s entries: the ``M.data[e]`` times of entry ``e`` are
    ``times[offsets[e]:offsets[e + 1]]``, sorted. Times follow the profile normalised on
    the period, tabulated on a grid of 2**14 cells (piecewise-constant density inside a
    cell, exact inversion). Row blocks of ``block_size`` rows have their own streams: the
    same seed gives the same times whatever the number of threads.
    """
    key = _key_from_seed(seed)
    M = as_purchases(M, accept="csr")
    b = _labels(item_labels, "item_labels")
    if b.size != M.shape[1]:
        raise ValueError(
            f"item_labels must have shape ({M.shape[1]},) like M's columns; got shape {b.shape}"
        )
    if isinstance(profiles, dict) or not isinstance(profiles, (list, tuple)):
        raise TypeError(
            f"profiles must be a list of dicts (one per item-cluster); "
            f"got {type(profiles).__name__}"
        )
    k = len(profiles)
    _check_range(b, k, "item_labels", "one profile per item-cluster: len(profiles)")
    start, end = float(start), float(end)
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise ValueError(f"end must be > start, both finite; got start={start}, end={end}")
    if M.nnz and (M.data.min() < 0 or not np.all(np.equal(np.mod(M.data, 1), 0))):
        raise ValueError("M must hold non-negative integer counts")
    step = (end - start) / _GRID
    mid = start + (np.arange(_GRID) + 0.5) * step
    cdf = np.zeros((k, _GRID + 1))
    used = np.bincount(b[M.indices], minlength=k) > 0 if M.nnz else np.zeros(k, bool)
    for l, prof in enumerate(profiles):
        _profile_terms(prof, f"profiles[{l}]")
        mass = np.maximum(intensity(mid, prof, start, end), 0.0)
        tot = mass.sum()
        if not tot > 0:
            if used[l]:
                raise ValueError(
                    f"profiles[{l}] has zero intensity on [start, end) but item-"
                    f"cluster {l} has purchases"
                )
            mass, tot = np.ones(_GRID), float(_GRID)
        np.cumsum(mass / tot, out=cdf[l, 1:])
        cdf[l, -1] = 1.0
    data = M.data if M.data.dtype.kind in "iu" else M.data.astype(np.int64)
    offsets = np.zeros(M.nnz + 1, np.int64)
    np.cumsum(data, out=offsets[1:])
    guide = np.empty((k, _GRID), np.int64)
    for l in range(k):
        guide[l] = np.searchsorted(cdf[l], np.arange(_GRID) / _GRID, side="right") - 1
    np.clip(guide, 0, _GRID - 1, out=guide)
    times = _k.sample_event_times(
        M.indptr, M.indices, data, offsets, b, cdf, guide, start, step, end, int(block_size), key
    )
    return Events(offsets, times)
