"""The spec's time profiles: when purchases happen, per item-cluster.

A profile is typed (:class:`TimeProfile` holding :class:`Peak`, :class:`Seasonal` and an
optional :class:`Histogram` term) and validated where it is built;
:func:`fastbip.generate.events.intensity` evaluates it. In a spec file a profile is a table
``{base, trend, peaks = [...], seasonal = [...], histogram = {edges, levels}}``; see
``docs/spec-format.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

from ._parse import SpecError, _fail, _get, _list, _no_extra, _nonneg, _number, _positive, _require

__all__ = ["Histogram", "Peak", "Seasonal", "TimeProfile", "TimeSpec"]


@dataclass(frozen=True)
class Peak:
    """A Gaussian bump ``height * exp(-(t - center)**2 / (2 width**2))`` in a profile.

    Parameters
    ----------
    center : float
        Time of the peak (finite).
    width : float
        Its standard deviation, > 0.
    height : float
        Its height in purchase intensity, >= 0.
    """

    center: float
    width: float
    height: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", _number(self.center, "Peak.center"))
        object.__setattr__(self, "width", _positive(self.width, "Peak.width"))
        object.__setattr__(self, "height", _nonneg(self.height, "Peak.height"))

    @classmethod
    def from_dict(cls, d: Any, path: str) -> Peak:
        """Parse a ``{center, width, height}`` table found at ``path``."""
        d = _require(d, path)
        _no_extra(d, {"center", "width", "height"}, path)
        return cls(
            _number(_get(d, "center", path), f"{path}.center"),
            _positive(_get(d, "width", path), f"{path}.width"),
            _nonneg(_get(d, "height", path), f"{path}.height"),
        )

    def to_dict(self) -> dict:
        """The table of this peak, as written in a spec file."""
        return asdict(self)


@dataclass(frozen=True)
class Seasonal:
    """A periodic term ``base * amplitude * (1 + cos(2 pi (t - phase) / period)) / 2``.

    Parameters
    ----------
    period : float
        Its period, > 0.
    amplitude : float
        Its amplitude relative to the profile's base, >= 0.
    phase : float, default 0.0
        The time of its maximum (finite).
    """

    period: float
    amplitude: float
    phase: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", _positive(self.period, "Seasonal.period"))
        object.__setattr__(self, "amplitude", _nonneg(self.amplitude, "Seasonal.amplitude"))
        object.__setattr__(self, "phase", _number(self.phase, "Seasonal.phase"))

    @classmethod
    def from_dict(cls, d: Any, path: str) -> Seasonal:
        """Parse a ``{period, amplitude, phase}`` table found at ``path``."""
        d = _require(d, path)
        _no_extra(d, {"period", "amplitude", "phase"}, path)
        return cls(
            _positive(_get(d, "period", path), f"{path}.period"),
            _nonneg(_get(d, "amplitude", path), f"{path}.amplitude"),
            _number(d.get("phase", 0.0), f"{path}.phase"),
        )

    def to_dict(self) -> dict:
        """The table of this term, as written in a spec file."""
        return asdict(self)


@dataclass(frozen=True)
class Histogram:
    """A piecewise-constant term: intensity ``levels[i]`` on ``[edges[i], edges[i + 1])``, 0
    outside ``[edges[0], edges[-1])``.

    It lets a profile reproduce an observed histogram of purchase times exactly in
    expectation: when sampling, each cell of the time grid gets the term's exact mean over
    the cell (not its value at the cell's middle), so the expected share of the purchases
    in ``[edges[i], edges[i + 1])`` is ``levels[i] * (edges[i + 1] - edges[i])`` over the
    profile's total mass, up to the grid's resolution (2**14 cells over the period) where
    an edge falls inside a cell.

    Parameters
    ----------
    edges : tuple of float
        Strictly increasing, finite, at least two.
    levels : tuple of float
        One per bin (``len(edges) - 1``), each >= 0.
    """

    edges: tuple[float, ...]
    levels: tuple[float, ...]

    def __post_init__(self) -> None:
        edges, levels = _histogram_fields(self.edges, self.levels, "Histogram")
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "levels", levels)

    @classmethod
    def from_dict(cls, d: Any, path: str) -> Histogram:
        """Parse an ``{edges, levels}`` table found at ``path``."""
        d = _require(d, path)
        _no_extra(d, {"edges", "levels"}, path)
        return cls(*_histogram_fields(_get(d, "edges", path), _get(d, "levels", path), path))

    def to_dict(self) -> dict:
        """The table of this term, as written in a spec file."""
        return {"edges": list(self.edges), "levels": list(self.levels)}


def _histogram_fields(edges: Any, levels: Any, path: str) -> tuple[tuple, tuple]:
    edges_t = tuple(
        _number(e, f"{path}.edges[{i}]") for i, e in enumerate(_list(edges, f"{path}.edges", 2))
    )
    if any(b <= a for a, b in zip(edges_t, edges_t[1:], strict=False)):
        raise _fail(f"{path}.edges", "must be strictly increasing", list(edges_t))
    levels_t = tuple(
        _nonneg(v, f"{path}.levels[{i}]") for i, v in enumerate(_list(levels, f"{path}.levels"))
    )
    if len(levels_t) != len(edges_t) - 1:
        raise _fail(
            f"{path}.levels", f"must have one level per bin ({len(edges_t) - 1})", len(levels_t)
        )
    return edges_t, levels_t


def _profile_fields(
    base: Any, trend: Any, peaks: Any, seasonal: Any, histogram: Any, path: str
) -> tuple[float, float, tuple[Peak, ...], tuple[Seasonal, ...], Histogram | None]:
    """Check a profile's five fields (``path`` names it in errors) and return them typed."""
    base = _nonneg(base, f"{path}.base")
    trend = _number(trend, f"{path}.trend")
    if trend < -1:
        raise _fail(f"{path}.trend", "must be >= -1 (the base rate may not become negative)", trend)
    peaks_t = tuple(
        p if isinstance(p, Peak) else Peak.from_dict(p, f"{path}.peaks[{i}]")
        for i, p in enumerate(_list(peaks, f"{path}.peaks"))
    )
    seasonal_t = tuple(
        s if isinstance(s, Seasonal) else Seasonal.from_dict(s, f"{path}.seasonal[{i}]")
        for i, s in enumerate(_list(seasonal, f"{path}.seasonal"))
    )
    if histogram is not None and not isinstance(histogram, Histogram):
        histogram = Histogram.from_dict(histogram, f"{path}.histogram")
    if (
        base == 0
        and not any(p.height > 0 for p in peaks_t)
        and not (histogram is not None and any(v > 0 for v in histogram.levels))
    ):
        raise SpecError(
            f"{path} has zero intensity everywhere: give base > 0, a peak with height > 0 "
            "or a histogram with a level > 0"
        )
    return base, trend, peaks_t, seasonal_t, histogram


@dataclass(frozen=True)
class TimeProfile:
    """The purchase intensity of one item-cluster over the period ``[start, end)``.

    ``base * (1 + trend * (t - start) / (end - start))`` plus its peaks, seasonal terms and
    histogram (:func:`fastbip.generate.events.intensity`). Only its shape matters: purchase
    times are drawn from it normalised on the period.

    Parameters
    ----------
    base : float, default 1.0
        The base rate, >= 0.
    trend : float, default 0.0
        Relative change of the base rate from start to end, >= -1 (so the rate stays >= 0).
    peaks : tuple of Peak, default ()
        Gaussian bumps (tables ``{center, width, height}`` are converted).
    seasonal : tuple of Seasonal, default ()
        Periodic terms (tables ``{period, amplitude, phase}`` are converted).
    histogram : Histogram or None, default None
        A piecewise-constant term (a table ``{edges, levels}`` is converted); a twin's
        profile (:func:`fastbip.fit_spec`) is one with ``base = 0``.

    Raises
    ------
    SpecError
        If a term is out of range, or if the intensity is zero everywhere (``base == 0``, no
        peak with ``height > 0`` and no histogram level > 0).
    """

    base: float = 1.0
    trend: float = 0.0
    peaks: tuple[Peak, ...] = ()
    seasonal: tuple[Seasonal, ...] = ()
    histogram: Histogram | None = None

    def __post_init__(self) -> None:
        for name, value in zip(
            ("base", "trend", "peaks", "seasonal", "histogram"),
            _profile_fields(
                self.base, self.trend, self.peaks, self.seasonal, self.histogram, "TimeProfile"
            ),
            strict=True,
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def from_dict(cls, d: Any, path: str) -> TimeProfile:
        """Parse one entry of ``time.profiles`` found at ``path``."""
        d = _require(d, path)
        _no_extra(d, {"base", "trend", "peaks", "seasonal", "histogram"}, path)
        return cls(
            *_profile_fields(
                d.get("base", 1.0),
                d.get("trend", 0.0),
                d.get("peaks", []),
                d.get("seasonal", []),
                d.get("histogram"),
                path,
            )
        )

    def to_dict(self) -> dict:
        """The table of this profile, as written in a spec file (every key present, but
        ``histogram`` only when there is one)."""
        d = {
            "base": self.base,
            "trend": self.trend,
            "peaks": [p.to_dict() for p in self.peaks],
            "seasonal": [s.to_dict() for s in self.seasonal],
        }
        if self.histogram is not None:
            d["histogram"] = self.histogram.to_dict()
        return d

    def __getitem__(self, key: str) -> Any:
        """Deprecated: profiles were dicts; read the attributes instead."""
        warnings.warn(
            f"profile[{key!r}] is deprecated: time profiles are TimeProfile objects; "
            f"use profile.{key} (or profile.to_dict()[{key!r}])",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.to_dict()[key]


@dataclass(frozen=True)
class TimeSpec:
    """Purchase times: a period and one :class:`TimeProfile` per item-cluster.

    Parameters
    ----------
    start, end : float
        The period ``[start, end)``, ``end > start``.
    profiles : tuple of TimeProfile
        One per item-cluster, in cluster order.
    """

    start: float
    end: float
    profiles: tuple[TimeProfile, ...]

    @classmethod
    def from_dict(cls, d: Any, path: str, n_item_clusters: int) -> TimeSpec:
        """Parse the ``time`` table (``path`` is its name) for ``n_item_clusters`` clusters."""
        t = _require(d, path)
        _no_extra(t, {"start", "end", "profiles"}, path)
        start = _number(t.get("start", 0.0), f"{path}.start")
        end = _number(t.get("end", 365.0), f"{path}.end")
        if not end > start:
            raise _fail(f"{path}.end", f"must be > {path}.start = {start}", end)
        profs = _list(_get(t, "profiles", path), f"{path}.profiles")
        if len(profs) != n_item_clusters:
            raise _fail(
                f"{path}.profiles",
                f"must have one profile per item-cluster ({n_item_clusters})",
                len(profs),
            )
        return cls(
            start,
            end,
            tuple(TimeProfile.from_dict(p, f"{path}.profiles[{i}]") for i, p in enumerate(profs)),
        )

    def to_dict(self) -> dict:
        """The ``time`` table, as written in a spec file."""
        return {
            "start": self.start,
            "end": self.end,
            "profiles": [p.to_dict() for p in self.profiles],
        }
