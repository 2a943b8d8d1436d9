"""The one results type of a study: :class:`Results`.

:func:`fastbip.study.run_study` (one dataset) and :func:`fastbip.study.recovery_sweep` (the
planted family over difficulty and seeds) both return it, with the same columns
(:data:`COLUMNS`): one row per algorithm and side (and, in a sweep, per dataset), beside the
references, the oracles' rows (:data:`ORACLES`: ``"oracle"`` from the purchases,
``"oracle-features"`` and ``"oracle-joint"``) and the signal-to-noise ratio of the planted
structure. :meth:`Results.table` is the text the command line prints,
:meth:`Results.to_json` what it writes, :meth:`Results.to_frame` a pandas DataFrame.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["COLUMNS", "ORACLES", "DegenerateClustersWarning", "Entry", "Results"]

#: The oracle rows, by the information they read (a registry ``kind``): each algorithm is
#: compared with the oracle that reads what it reads (``Entry.oracle``).
ORACLES: dict[str, str] = {
    "purchases": "oracle",
    "features": "oracle-features",
    "joint": "oracle-joint",
}


class DegenerateClustersWarning(UserWarning):
    """An algorithm's labels have a cluster of one member, or fewer clusters than asked for
    (a requested cluster came back empty)."""


#: The columns of every row, in order. ``mixing`` and ``seed`` are the sweep coordinates of
#: the row's dataset (None for a study of one dataset); ``snr`` the signal-to-noise ratio of
#: its planted structure; ``k_asked`` the number of clusters asked for, ``k_found`` the
#: distinct labels found (-1 not counted), ``n_unassigned`` the members labelled -1;
#: ``ari``, ``ami``, ``nmi`` against the true labels of that side; ``relation`` the relation
#: recovery; ``oracle_ari`` the ARI on that side and dataset of the oracle that reads the
#: same information as the row's algorithm (NaN without it), ``oracle`` that oracle's row
#: name (:data:`ORACLES`: the purchases oracle for purchases algorithms, the features oracle
#: for one-side feature clusterers, the joint oracle for joint ones; an oracle's own row
#: names itself) and ``oracle_ami`` its AMI; ``n_singletons`` the found clusters with exactly
#: one member; ``seconds`` of the fit; ``error`` None or the message of a failed fit (its
#: scores are then NaN); ``relation_adjusted`` the relation recovery adjusted for chance,
#: ``(relation - relation_chance) / (1 - relation_chance)`` (0 for random labels with the
#: found sizes, 1 for a perfect recovery, negative below chance; derived, not stored). The
#: ``nmi_chance`` the expected NMI of random labels with the found cluster sizes (NMI is
#: the one score here not adjusted for chance). The last five columns came after the
#: others, at the end.
COLUMNS = (
    "mixing",
    "seed",
    "snr",
    "algorithm",
    "side",
    "k_asked",
    "k_found",
    "n_unassigned",
    "ari",
    "ami",
    "nmi",
    "relation",
    "relation_chance",
    "oracle_ari",
    "seconds",
    "error",
    "oracle",
    "oracle_ami",
    "n_singletons",
    "relation_adjusted",
    "nmi_chance",
)
# computed from the others (a property of Entry), so never read back from a row
_DERIVED = frozenset({"relation_adjusted"})

_FLOATS = (
    "snr",
    "ari",
    "ami",
    "nmi",
    "relation",
    "relation_chance",
    "oracle_ari",
    "seconds",
    "oracle_ami",
    "nmi_chance",
)
_NAN = float("nan")
# keys of the rows of earlier releases: run_study's "k", recovery_sweep's "relation_recovery"
_LEGACY = {"k": "k_found", "relation_recovery": "relation"}


class _Row(dict):
    """A row: a dict of :data:`COLUMNS`, still answering the earlier keys (deprecated)."""

    def __missing__(self, key: str) -> Any:
        if key in _LEGACY:
            warnings.warn(
                f"the row key {key!r} is deprecated; use {_LEGACY[key]!r}",
                DeprecationWarning,
                stacklevel=2,
            )
            return self[_LEGACY[key]]
        raise KeyError(key)


@dataclass
class Entry:
    """One row of :class:`Results`, with the labels and the fitted estimator behind it
    (None after :meth:`Results.from_json`, or in a sweep run without ``keep_fits``)."""

    algorithm: str
    side: str
    mixing: float | None = None
    seed: int | None = None
    snr: float = _NAN
    k_asked: int | None = None
    k_found: int = 0
    n_unassigned: int = 0
    ari: float = _NAN
    ami: float = _NAN
    nmi: float = _NAN
    relation: float = _NAN
    relation_chance: float = _NAN
    oracle_ari: float = _NAN
    seconds: float = _NAN
    error: str | None = None
    oracle: str | None = None
    oracle_ami: float = _NAN
    n_singletons: int = 0
    nmi_chance: float = _NAN
    labels: np.ndarray | None = field(default=None, repr=False, compare=False)
    estimator: Any = field(default=None, repr=False, compare=False)

    @property
    def relation_adjusted(self) -> float:
        """Relation recovery adjusted for chance: 0 at the chance level, 1 when perfect."""
        r, c = self.relation, self.relation_chance
        if math.isnan(r) or math.isnan(c) or c >= 1.0:
            return _NAN
        return (r - c) / (1.0 - c)

    def row(self) -> dict[str, Any]:
        """The row as a dict of :data:`COLUMNS`."""
        return _Row((c, getattr(self, c)) for c in COLUMNS)


def _clean(v: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python ones, NaN and infinities as None."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _tree(v: Any) -> Any:
    """A nested dict / list with every leaf :func:`_clean` (numpy arrays as lists)."""
    if isinstance(v, dict):
        return {str(k): _tree(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_tree(x) for x in v]
    if isinstance(v, np.ndarray):
        return _tree(v.tolist())
    return _clean(v)


def _entry(row: dict) -> Entry:
    """An :class:`Entry` from a row dict (of this release or an earlier one)."""
    d = {_LEGACY.get(k, k): v for k, v in row.items()}
    d = {c: d[c] for c in COLUMNS if c in d and c not in _DERIVED}
    for c in _FLOATS:
        if c in d:
            d[c] = _NAN if d[c] is None else float(d[c])
    return Entry(**d)


@dataclass
class Results:
    """What a study found: per algorithm and side (and dataset), labels, scores, K and time.

    Attributes
    ----------
    entries : list of Entry
        One per row, in the order they were computed: the oracle's rows first for each
        dataset (when computed), then each algorithm's, people before items.
    snr : float or None
        The signal-to-noise ratio of a study's one dataset (None for a sweep, whose rows
        carry their datasets' ``snr``).
    summary : str
        What was studied (the dataset's summary, or the planted family of a sweep).
    analysis : dict or None
        What :func:`fastbip.study.analyze` found without a truth (chosen K, stability,
        agreement, names, relations, time), JSON-ready; None for a planted study.

    Iterating over a Results, ``len`` and indexing give the rows (:attr:`rows`), as the list
    that ``recovery_sweep`` returned before.
    """

    entries: list[Entry] = field(default_factory=list)
    snr: float | None = None
    summary: str = ""
    analysis: dict[str, Any] | None = None

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_rows(
        cls, rows: Iterable[dict], snr: float | None = None, summary: str = ""
    ) -> Results:
        """Results from row dicts (labels and estimators absent); keys of earlier releases
        (``k``, ``relation_recovery``) are read as the current ones."""
        return cls([_entry(r) for r in rows], snr=snr, summary=summary)

    @classmethod
    def from_json(cls, text: str) -> Results:
        """The inverse of :meth:`to_json` (null scores come back as NaN); a JSON list of rows,
        as ``recovery_sweep`` wrote before, is read too."""
        d = json.loads(text)
        if isinstance(d, list):
            return cls.from_rows(d)
        res = cls.from_rows(d.get("rows", []), snr=d.get("snr"), summary=d.get("summary", ""))
        res.analysis = d.get("analysis")
        return res

    # --- views --------------------------------------------------------------------------

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every row as a dict of :data:`COLUMNS`."""
        return [e.row() for e in self.entries]

    @property
    def failures(self) -> dict[str, str]:
        """The algorithms whose fit failed, each with its first error message."""
        out: dict[str, str] = {}
        for e in self.entries:
            if e.error is not None:
                out.setdefault(e.algorithm, e.error)
        return out

    @property
    def is_sweep(self) -> bool:
        """Whether the rows come from several datasets of a sweep (they have a ``mixing``)."""
        return any(e.mixing is not None for e in self.entries)

    def entry(self, algorithm: str, side: str, **coords: Any) -> Entry:
        """The one entry of ``algorithm`` on ``side`` (and ``mixing=``, ``seed=`` in a
        sweep); raises ``KeyError`` when there is none or several."""
        found = [
            e
            for e in self.entries
            if e.algorithm == algorithm
            and e.side == side
            and all(getattr(e, k) == v for k, v in coords.items())
        ]
        if len(found) != 1:
            raise KeyError(
                f"{len(found)} entries match algorithm={algorithm!r}, side={side!r}"
                + "".join(f", {k}={v!r}" for k, v in coords.items())
                + "; exactly one is needed"
            )
        return found[0]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [e.row() for e in self.entries[i]]
        return self.entries[i].row()

    # --- output -------------------------------------------------------------------------

    def to_frame(self):
        """The rows as a pandas DataFrame with the :data:`COLUMNS` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "Results.to_frame needs pandas; install it with pip install 'fastbip[io]'"
            ) from exc
        return pd.DataFrame(self.rows, columns=list(COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """``summary``, ``snr``, ``rows`` and ``failures`` (and ``analysis`` when there is
        one), JSON-ready (NaN as None)."""
        d = {
            "summary": self.summary,
            "snr": _clean(self.snr),
            "columns": list(COLUMNS),
            "rows": [{k: _clean(v) for k, v in r.items()} for r in self.rows],
            "failures": self.failures,
        }
        if self.analysis is not None:
            d["analysis"] = _tree(self.analysis)
        return d

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text (NaN and infinities written as null)."""
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        """The fixed-width text table the command line prints.

        A study of one dataset: a row per algorithm and side (K asked and found, marked
        ``*`` when fewer were found than asked, one-member clusters, members left
        unassigned, ARI, AMI, NMI beside its chance level, relation recovery beside its chance
        level and adjusted for it, the oracle
        reading what the algorithm reads and the ARI as a fraction of that oracle's,
        seconds), then the signal-to-noise ratio and the failures. A sweep: the medians over
        seeds per mixing, algorithm and side, with the ARI of the oracle reading what the
        algorithm reads and the ARI as a fraction of it, then the errors.
        """
        if self.is_sweep:
            return _sweep_table(self.entries)
        text = _study_table(self.entries)
        if self.snr is not None:
            text += (
                f"\nsignal-to-noise ratio of the planted structure: {self.snr:.3g} "
                "(its planted expectation, one value per spec; detection possible above 1)"
            )
        for name, msg in self.failures.items():
            text += f"\n{name} failed: {msg}"
        return text


# --- text tables ------------------------------------------------------------------------


def _f(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def _grid(header: list[str], body: list[list[str]], text_cols: set[int]) -> list[str]:
    """Lines of a table: names left-aligned, numbers right-aligned."""
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in text_cols else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return [line(header), "  ".join("-" * w for w in widths), *(line(b) for b in body)]


def _study_table(entries: list[Entry]) -> str:
    header = [
        "algorithm",
        "side",
        "K asked",
        "K found",
        "singletons",
        "unassigned",
        "ARI",
        "AMI",
        "NMI",
        "(chance)",
        "relation",
        "(chance)",
        "adjusted",
        "ceiling",
        "ARI/ceiling",
        "seconds",
    ]
    body = [
        [
            e.algorithm,
            e.side,
            "-" if e.k_asked is None else str(e.k_asked),
            "-" if e.error is not None else str(e.k_found) + _short(e),
            "-" if e.error is not None else str(e.n_singletons),
            "-" if e.error is not None else str(e.n_unassigned),
            _f(e.ari),
            _f(e.ami),
            _f(e.nmi),
            _f(e.nmi_chance),
            _f(e.relation),
            _f(e.relation_chance),
            _f(e.relation_adjusted, 2),
            "-" if e.oracle is None or e.oracle == e.algorithm else e.oracle,
            "-" if e.oracle == e.algorithm else _f(_fraction(e.ari, e.oracle_ari), 2),
            _f(e.seconds, 2),
        ]
        for e in entries
    ]
    text = "\n".join(_grid(header, body, {0, 1, 13}))
    if any(e.error is None and e.algorithm not in _ORACLE_ROWS and _short(e) for e in entries):
        text += "\n* fewer clusters found than asked for (some came back empty)"
    return text


_ORACLE_ROWS = frozenset(ORACLES.values())


def _short(e: Entry) -> str:
    """``"*"`` when an algorithm's row found fewer clusters than it asked for."""
    short = e.k_asked is not None and e.error is None and e.k_found < e.k_asked
    return "*" if short and e.algorithm not in _ORACLE_ROWS else ""


def _fraction(x: float, ref: float) -> float:
    return x / ref if not math.isnan(ref) and ref > 0 else _NAN


def _median(values: Iterable[Any]) -> float:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.median(vals)) if vals else _NAN


def _sweep_table(entries: list[Entry]) -> str:
    groups: dict[tuple, list[Entry]] = {}
    for e in entries:
        groups.setdefault((e.mixing, e.algorithm, e.side), []).append(e)
    header = [
        "mixing",
        "SNR",
        "algorithm",
        "side",
        "seeds",
        "K",
        "ARI",
        "AMI",
        "NMI",
        "relation",
        "oracle",
        "ARI/oracle",
        "seconds",
    ]
    body = []
    errors: dict[str, None] = {}
    for (mixing, name, side), es in groups.items():
        ari = _median(e.ari for e in es)
        orc = _median(e.oracle_ari for e in es)
        frac = ari / orc if not math.isnan(orc) and orc > 0 else _NAN
        body.append(
            [
                _f(mixing, 2),
                _f(_median(e.snr for e in es), 2),
                name,
                side,
                str(len(es)),
                _f(_median(e.k_found for e in es), 0),
                _f(ari),
                _f(_median(e.ami for e in es)),
                _f(_median(e.nmi for e in es)),
                _f(_median(e.relation for e in es)),
                _f(orc),
                _f(frac, 2),
                _f(_median(e.seconds for e in es), 2),
            ]
        )
        for e in es:
            if e.error is not None:
                errors[f"{name} (mixing {mixing}, seed {e.seed}): {e.error}"] = None
    return "\n".join(_grid(header, body, {2, 3}) + [f"error: {e}" for e in errors])
