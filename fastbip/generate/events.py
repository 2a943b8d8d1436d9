"""Purchase times: :func:`sample_events` gives each purchase a timestamp from its item-cluster's
temporal profile (:func:`intensity`), stored as :class:`Events` aligned with the CSR entries;
:meth:`Events.window` is the purchase matrix of a time window. The kernels are in
:mod:`fastbip._kernels.events`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from fastbip._kernels import events as _ke
from fastbip._validation import as_labels, as_purchases, check_int, check_offsets
from fastbip.spec.time import TimeProfile

from .purchases import _key_from_seed, _wrap_csr

__all__ = ["Events", "intensity", "sample_events"]

# Below this many events the kernels' serial twins run (the same results; a parallel kernel
# compiles several times slower and gains nothing on a small input).
_PARALLEL_MIN_EVENTS = 1 << 20


def _profile_terms(profile, name):
    """``(base, trend, peaks, seasonal, histogram)`` of a profile; histogram is ``None`` or
    ``(edges, levels)`` as float64 arrays."""
    if isinstance(profile, TimeProfile):  # validated when built
        peaks = [(p.center, p.width, p.height) for p in profile.peaks]
        seasonal = [(s.period, s.amplitude, s.phase) for s in profile.seasonal]
        h = profile.histogram
        hist = None if h is None else (np.asarray(h.edges, float), np.asarray(h.levels, float))
        return profile.base, profile.trend, peaks, seasonal, hist
    if not isinstance(profile, dict):
        raise TypeError(f"{name} must be a TimeProfile or a dict; got {type(profile).__name__}")
    unknown = set(profile) - {"base", "trend", "peaks", "seasonal", "histogram"}
    if unknown:
        raise ValueError(
            f"{name} has unknown keys {sorted(unknown)}; expected base, trend, peaks, "
            "seasonal, histogram"
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
    hist = None
    if profile.get("histogram") is not None:
        from fastbip.spec.time import Histogram

        try:
            h = (
                profile["histogram"]
                if isinstance(profile["histogram"], Histogram)
                else Histogram.from_dict(profile["histogram"], f"{name}['histogram']")
            )
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        hist = (np.asarray(h.edges, float), np.asarray(h.levels, float))
    return base, trend, peaks, seasonal, hist


def _histogram_at(t, edges, levels):
    """The histogram term at times ``t``: ``levels[i]`` on ``[edges[i], edges[i + 1])``."""
    i = np.searchsorted(edges, t, side="right") - 1
    inside = (i >= 0) & (i < levels.size)
    return np.where(inside, levels[np.clip(i, 0, levels.size - 1)], 0.0)


def _histogram_cell_means(grid, edges, levels):
    """The exact mean of the histogram term over each cell ``[grid[g], grid[g + 1])``: the
    difference of its integral (piecewise linear, exact at the edges) over the cell width."""
    cum = np.concatenate(([0.0], np.cumsum(levels * np.diff(edges))))
    integral = np.interp(grid, edges, cum)  # 0 before edges[0], the total after edges[-1]
    return np.diff(integral) / np.diff(grid)


def intensity(t, profile, start, end):
    """Purchase intensity of an item-cluster profile at times ``t`` (float64 array).

    ``profile`` is a :class:`fastbip.spec.TimeProfile` or a dict with the same keys.

    ``base * (1 + trend * (t - start) / (end - start))``
    ``+ sum_peaks height * exp(-(t - center)**2 / (2 width**2))``
    ``+ sum_seasonal base * amplitude * (1 + cos(2 pi (t - phase) / period)) / 2``
    ``+ histogram.levels[i]`` for ``t`` in ``[edges[i], edges[i + 1])``.
    Only its shape matters for sampling (times are drawn from it normalised on
    [start, end)); it is the expected profile of the events.
    """
    base, trend, peaks, seasonal, hist = _profile_terms(profile, "profile")
    t = np.asarray(t, dtype=np.float64)
    span = float(end) - float(start)
    out = base * (1.0 + trend * (t - start) / span)
    for c, w, h in peaks:
        out = out + h * np.exp(-((t - c) ** 2) / (2.0 * w * w))
    for per, amp, ph in seasonal:
        out = out + base * amp * (1.0 + np.cos(2.0 * np.pi * (t - ph) / per)) / 2.0
    if hist is not None:
        out = out + _histogram_at(t, *hist)
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

    def window(self, M: sp.csr_matrix, start: float, end: float) -> sp.csr_matrix:
        """Purchase matrix of the events in ``[start, end)``: a CSR with M's shape.

        Entries with no event in the window are dropped; windows that partition the
        period sum back to ``M``.
        """
        M = as_purchases(M, accept="csr", canonical=False)
        times = np.asarray(self.times)
        if times.ndim != 1 or not (
            np.issubdtype(times.dtype, np.floating) or np.issubdtype(times.dtype, np.integer)
        ):
            raise TypeError(
                f"events.times must be a 1-D array of numbers; got dtype {times.dtype}, "
                f"shape {times.shape}"
            )
        offsets = np.asarray(self.offsets)
        if offsets.ndim == 1 and offsets.shape[0] != M.nnz + 1:
            raise ValueError(
                f"M has {M.nnz} entries but the events describe {offsets.shape[0] - 1} "
                f"(events.offsets must have nnz + 1 = {M.nnz + 1} entries)"
            )
        offsets = check_offsets(offsets, M.nnz, times.shape[0])
        start, end = _window_bounds(start, end)
        indptr = np.zeros(M.shape[0] + 1, M.indptr.dtype)
        times = np.ascontiguousarray(times, dtype=np.float64)
        window = _ke.window_csr if times.size >= _PARALLEL_MIN_EVENTS else _ke.window_csr_serial
        indices, data = window(M.indptr, M.indices, offsets, times, start, end, indptr)
        return _wrap_csr(data, indices, indptr, M.shape)


def _window_bounds(start, end):
    for value, what in ((start, "start"), (end, "end")):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{what} must be a number; got {value!r}")
    start, end = float(start), float(end)
    if math.isnan(start) or math.isnan(end) or not end >= start:
        raise ValueError(f"end must be >= start, neither NaN; got start={start}, end={end}")
    return start, end


_GRID = 1 << 14


def sample_events(
    M: sp.csr_matrix,
    item_labels: ArrayLike,
    profiles: Sequence[dict],
    *,
    seed: int | np.random.SeedSequence | np.random.Generator | None,
    start: float,
    end: float,
    block_size: int = 1024,
    first_block: int = 0,
) -> Events:
    """A timestamp for every purchase of ``M``, from its item's cluster profile.

    Parameters
    ----------
    M : scipy.sparse CSR (n_people, n_items), integer counts >= 0.
    item_labels : int array (n_items,) in [0, len(profiles)).
    profiles : list of dicts, one per item-cluster: ``base`` (>= 0), ``trend`` (>= -1,
        relative change of the base rate from ``start`` to ``end``), ``peaks`` (list of
        ``{center, width, height}``, Gaussian bumps), ``seasonal`` (list of ``{period,
        amplitude, phase}``), ``histogram`` (``{edges, levels}``, piecewise constant);
        see :func:`intensity`. Profiles may also be :class:`fastbip.spec.TimeProfile`.
    seed : int >= 0, numpy.random.SeedSequence or Generator (see ``fastbip._rng``).
    start, end : the period; every time lies in [start, end).
    block_size : rows per random stream (part of the seed).
    first_block : int >= 0, the row block of ``M``'s first row when ``M`` is the row shard
        ``[first_block * block_size, ...)`` of a larger matrix: the times are then those of
        these rows in the larger matrix's events (a shard for a distributed run).

    Returns
    -------
    Events aligned with ``M``'s entries: the ``M.data[e]`` times of entry ``e`` are
    ``times[offsets[e]:offsets[e + 1]]``, sorted. Times follow the profile normalised on
    the period, tabulated on a grid of 2**14 cells (piecewise-constant density inside a
    cell, exact inversion): a cell's density is the profile at its middle, but for a
    histogram term, which contributes its exact mean over the cell. Row blocks of
    ``block_size`` rows have their own streams: the same seed gives the same times
    whatever the number of threads.
    """
    key = _key_from_seed(seed)
    M = as_purchases(M, accept="csr")
    if isinstance(profiles, dict) or not isinstance(profiles, (list, tuple)):
        raise TypeError(
            f"profiles must be a list of dicts (one per item-cluster); "
            f"got {type(profiles).__name__}"
        )
    k = len(profiles)
    # int32 and narrower labels are kept as they are, wider ones become int64
    b = as_labels(
        item_labels, "item_labels", n=M.shape[1], n_clusters=k, unassigned=False, dtype=None
    )
    block_size = check_int(block_size, "block_size", 1)
    first_block = check_int(first_block, "first_block", 0)
    start, end = float(start), float(end)
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise ValueError(f"end must be > start, both finite; got start={start}, end={end}")
    if M.nnz and (M.data.min() < 0 or not np.all(np.equal(np.mod(M.data, 1), 0))):
        raise ValueError("M must hold non-negative integer counts")
    step = (end - start) / _GRID
    mid = start + (np.arange(_GRID) + 0.5) * step
    cdf = np.zeros((k, _GRID + 1))
    used = np.bincount(b[M.indices], minlength=k) > 0 if M.nnz else np.zeros(k, bool)
    grid = None
    for l, prof in enumerate(profiles):
        hist = _profile_terms(prof, f"profiles[{l}]")[4]
        if hist is None:
            mass = np.maximum(intensity(mid, prof, start, end), 0.0)
        else:  # the other terms at the cells' middles, the histogram's exact cell means
            if grid is None:
                grid = start + np.arange(_GRID + 1) * step
                grid[-1] = end
            rest = prof.to_dict() if isinstance(prof, TimeProfile) else dict(prof)
            rest.pop("histogram")
            mass = intensity(mid, rest, start, end) + _histogram_cell_means(grid, *hist)
            mass = np.maximum(mass, 0.0)
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
    kernel = (
        _ke.event_times_csr if offsets[-1] >= _PARALLEL_MIN_EVENTS else _ke.event_times_csr_serial
    )
    times = kernel(
        M.indptr,
        M.indices,
        data,
        offsets,
        b,
        cdf,
        guide,
        start,
        step,
        end,
        block_size,
        key,
        first_block,
    )
    return Events(offsets, times)
