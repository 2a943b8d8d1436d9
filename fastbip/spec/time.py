"""The spec's time profiles: when purchases happen, per item-cluster.

A profile is typed (:class:`TimeProfile` holding :class:`Peak` and :class:`Seasonal` terms)
and validated where it is built; :func:`fastbip.generate.events.intensity` evaluates it. In a spec
file a profile is a table ``{base, trend, peaks = [...], seasonal = [...]}``; see
``docs/spec-format.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

from ._parse import SpecError, _fail, _get, _list, _no_extra, _nonneg, _number, _positive, _require

__all__ = ["Peak", "Seasonal", "TimeProfile", "TimeSpec"]


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


def _profile_fields(
    base: Any, trend: Any, peaks: Any, seasonal: Any, path: str
) -> tuple[float, float, tuple[Peak, ...], tuple[Seasonal, ...]]:
    """Check a profile's four fields (``path`` names it in errors) and return them typed."""
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
    if base == 0 and not any(p.height > 0 for p in peaks_t):
        raise SpecError(
            f"{path} has zero intensity everywhere: give base > 0 or a peak with height > 0"
        )
    return base, trend, peaks_t, seasonal_t


@dataclass(frozen=True)
class TimeProfile:
    """The purchase intensity of one item-cluster over the period ``[start, end)``.

    ``base * (1 + trend * (t - start) / (end - start))`` plus its peaks and seasonal terms
    (:func:`fastbip.generate.events.intensity`). Only its shape matters: purchase times are drawn
    from it normalised on the period.

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

    Raises
    ------
    SpecError
        If a term is out of range, or if the intensity is zero everywhere (``base == 0`` and
        no peak with ``height > 0``).
    """

    base: float = 1.0
    trend: float = 0.0
    peaks: tuple[Peak, ...] = ()
    seasonal: tuple[Seasonal, ...] = ()

    def __post_init__(self) -> None:
        for name, value in zip(
            ("base", "trend", "peaks", "seasonal"),
            _profile_fields(self.base, self.trend, self.peaks, self.seasonal, "TimeProfile"),
            strict=True,
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def from_dict(cls, d: Any, path: str) -> TimeProfile:
        """Parse one entry of ``time.profiles`` found at ``path``."""
        d = _require(d, path)
        _no_extra(d, {"base", "trend", "peaks", "seasonal"}, path)
        return cls(
            *_profile_fields(
                d.get("base", 1.0),
                d.get("trend", 0.0),
                d.get("peaks", []),
                d.get("seasonal", []),
                path,
            )
        )

    def to_dict(self) -> dict:
        """The table of this profile, as written in a spec file (every key present)."""
        return {
            "base": self.base,
            "trend": self.trend,
            "peaks": [p.to_dict() for p in self.peaks],
            "seasonal": [s.to_dict() for s in self.seasonal],
        }

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
