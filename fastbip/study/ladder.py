"""The standard difficulty ladder, run on any algorithms, and its leaderboard.

A :class:`Ladder` is a grid of planted datasets of the standard family
(:func:`fastbip.spec.planted_spec`): numbers of clusters ``ks`` (K x K), mean purchases per
person ``mean_purchases``, target signal-to-noise ratios ``snrs`` (1 is the detection
threshold; the mixing is solved for each) and ``seeds``. :data:`STANDARD` runs from below the
threshold (0.8) to easy (12) for K of 2, 5 and 10 and 5 and 20 purchases a person;
:data:`QUICK` is a slice of it that runs in seconds; :data:`PLUGIN` is the ladder of the
pytest fixture ``fastbip_ladder``. A rung whose SNR the family cannot reach at some seed
(few purchases and many clusters) is skipped, with the reason, for every algorithm alike.

:func:`run_ladder` fits the algorithms (registry names, estimators, classes or
``"module:Class"`` strings, by the one runner :mod:`fastbip.study._fit`) beside fastbip's own
(:data:`BASELINES`) and the oracle on every rung and seed, and :func:`leaderboard` ranks
them. The score of an algorithm is its ARI averaged over the rungs and both sides, with a
fit that failed counted as ARI 0; the interval is the 95 % Student t interval over seeds:
``mean +- t(0.975, n - 1) * sd / sqrt(n)`` of the per-seed averages (``n`` seeds, ``sd``
with ``ddof=1``; no interval with one seed). The seeds are the independent replicates: each
seed is a new dataset on every rung.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BASELINES",
    "PLUGIN",
    "QUICK",
    "STANDARD",
    "Ladder",
    "LadderRun",
    "bench_recovery",
    "format_leaderboard",
    "leaderboard",
    "run_ladder",
]

#: fastbip's own co-clusterers, run beside the user's
BASELINES: tuple[str, ...] = ("dcsbm", "svd-kmeans", "spectral-cocluster")
_INTERVAL = "95% t interval over seeds: mean +- t(0.975, n-1) * sd / sqrt(n)"


@dataclass(frozen=True)
class Ladder:
    """A grid of planted datasets: sizes, ``ks`` x ``mean_purchases`` x ``snrs``, ``seeds``.

    Attributes
    ----------
    n_people, n_items : int
        Population sizes of every rung.
    ks : tuple of int
        Numbers of clusters (the same on both sides).
    mean_purchases : tuple of float
        Expected purchases per person.
    snrs : tuple of float
        Target signal-to-noise ratios of the planted structure (1: detection threshold).
    seeds : tuple of int
        Dataset seeds; each algorithm gets the dataset's seed as ``random_state``.
    """

    n_people: int
    n_items: int
    ks: tuple[int, ...]
    mean_purchases: tuple[float, ...]
    snrs: tuple[float, ...]
    seeds: tuple[int, ...] = (0, 1, 2)

    def rungs(self) -> list[dict[str, Any]]:
        """The keyword arguments of :func:`fastbip.testing.planted` for each rung (no seed),
        K outermost, then mean purchases, then SNR."""
        return [
            {
                "n_people": self.n_people,
                "n_items": self.n_items,
                "k_people": k,
                "k_items": k,
                "mean_purchases": float(d),
                "snr": float(s),
            }
            for k in self.ks
            for d in self.mean_purchases
            for s in self.snrs
        ]

    def with_(self, **changes: Any) -> Ladder:
        """A copy with ``changes`` (e.g. ``seeds=(0, 1)``)."""
        return dataclasses.replace(self, **changes)


STANDARD = Ladder(2000, 500, (2, 5, 10), (5.0, 20.0), (0.8, 1.5, 3.0, 6.0, 12.0))
QUICK = Ladder(600, 200, (3,), (20.0,), (0.8, 3.0, 12.0))
PLUGIN = Ladder(2000, 500, (3,), (20.0,), (1.5, 3.0, 6.0, 12.0), seeds=(0,))


@dataclass
class LadderRun:
    """What :func:`run_ladder` found: the :class:`~fastbip.study.Results` (one row per rung,
    seed, algorithm and side), each row's rung, the rungs skipped and the seconds taken."""

    results: Any
    rungs: list[dict[str, Any]]
    ladder: Ladder
    skipped: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows of :attr:`results`, each with its rung's ``k``, ``mean_purchases`` and
        ``target_snr``."""
        return [
            {
                **row,
                "k": r["k_people"],
                "mean_purchases": r["mean_purchases"],
                "target_snr": r["snr"],
            }
            for row, r in zip(self.results.rows, self.rungs, strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        """:meth:`Results.to_dict <fastbip.study.Results.to_dict>` with the rung of every row,
        the ladder, the rungs skipped and the leaderboard (JSON-ready)."""
        from .results import _clean

        d = self.results.to_dict()
        d["rows"] = [{k: _clean(v) for k, v in r.items()} for r in self.rows]
        d["ladder"] = dataclasses.asdict(self.ladder)
        d["skipped"] = self.skipped
        d["interval"] = _INTERVAL
        d["leaderboard"] = [
            {k: (_clean(v) if not isinstance(v, dict) else _clean_nested(v)) for k, v in b.items()}
            for b in leaderboard(self.rows)
        ]
        d["seconds"] = self.seconds
        return d

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text (NaN written as null)."""
        import json

        return json.dumps(self.to_dict(), indent=2)


def _clean_nested(d: dict) -> dict:
    from .results import _clean

    return {str(k): {kk: _clean(vv) for kk, vv in v.items()} for k, v in d.items()}


def _named(chosen: list[tuple]) -> list[tuple]:
    """Drop repeats of one algorithm under one name; number different ones sharing a name."""
    out, seen = [], {}
    for name, algorithm, kind in chosen:
        if name in seen:
            if seen[name] is algorithm or seen[name] == algorithm:
                continue
            n = 2
            while f"{name}#{n}" in seen:
                n += 1
            name = f"{name}#{n}"
        seen[name] = algorithm
        out.append((name, algorithm, kind))
    return out


def run_ladder(
    algorithms: Iterable[Any] | Mapping[str, Any] | None = None,
    ladder: Ladder = STANDARD,
    *,
    baselines: Iterable[str] = BASELINES,
    oracle: bool = True,
    progress: Callable[[str], None] | None = None,
) -> LadderRun:
    """Fit ``algorithms`` beside ``baselines`` and the oracle on every rung and seed.

    Parameters
    ----------
    algorithms : list or dict, optional
        The user's algorithms, as :func:`fastbip.study.run_study` takes them: registry names,
        estimator instances or classes, ``"module:Class"`` strings, or a dict from the name
        of the rows to one of these (None: the registry entry of that name).
    ladder : Ladder
        The rungs and seeds (:data:`STANDARD`, :data:`QUICK` or your own).
    baselines : iterable of str
        Registry names run beside them (default :data:`BASELINES`; ``()`` for none).
    oracle : bool
        Also score the oracle (the ceiling of every rung).
    progress : callable, optional
        Called with a line of text after each rung.

    Returns
    -------
    LadderRun

    Raises
    ------
    TypeError, ValueError, ImportError
        An algorithm that cannot be resolved (see
        :func:`fastbip.study._fit.resolve_algorithms`), or no algorithm at all.
    """
    from ..blocks import snr as planted_snr
    from ..generate import generate
    from ..spec import planted_spec
    from ._fit import (
        fit_algorithm,
        fit_oracle,
        oracle_references,
        resolve_algorithms,
        score_fits,
    )
    from .results import Results

    base = list(baselines)
    chosen = (resolve_algorithms(base, []) if base else []) + (
        resolve_algorithms(algorithms, []) if algorithms is not None else []
    )
    chosen = _named(chosen)
    if not chosen and not oracle:
        raise ValueError("run_ladder needs at least one algorithm, a baseline or the oracle")
    t0 = time.perf_counter()
    entries, rungs, skipped = [], [], []
    for rung in ladder.rungs():
        try:
            specs = [planted_spec(**rung, seed=seed) for seed in ladder.seeds]
        except ValueError as exc:  # the family cannot reach this SNR: skip it for everyone
            skipped.append({**rung, "reason": str(exc)})
            if progress is not None:
                progress(f"skipped {_rung_text(rung)}: {exc}")
            continue
        for seed, spec in zip(ladder.seeds, specs, strict=True):
            ds = generate(spec)
            where = {"snr": float(planted_snr(ds.truth)), "mixing": spec.relation.mixing}
            where["seed"] = seed
            oracle_ari = None
            rows = []
            if oracle:
                rows = score_fits(ds, fit_oracle(ds), keep=False, **where)
                oracle_ari = oracle_references(rows)
            for name, algorithm, kind in chosen:
                fits = fit_algorithm(
                    name, algorithm, kind, ds, rung["k_people"], rung["k_items"], seed
                )
                rows += score_fits(ds, fits, oracle_ari=oracle_ari, keep=False, **where)
            entries += rows
            rungs += [rung] * len(rows)
        if progress is not None:
            progress(f"done {_rung_text(rung)} ({time.perf_counter() - t0:.1f} s)")
    summary = (
        f"difficulty ladder: {ladder.n_people} people x {ladder.n_items} items, K in "
        f"{list(ladder.ks)}, mean purchases in {list(ladder.mean_purchases)}, SNR in "
        f"{list(ladder.snrs)}, seeds {list(ladder.seeds)}"
    )
    results = Results(entries, snr=None, summary=summary)
    return LadderRun(results, rungs, ladder, skipped, time.perf_counter() - t0)


def _rung_text(rung: dict) -> str:
    return f"K={rung['k_people']}, {rung['mean_purchases']:g} purchases/person, snr={rung['snr']:g}"


def _interval(values: list[float]) -> tuple[float, float]:
    """The mean and the half-width of the 95 % t interval (NaN with fewer than 2 values)."""
    import numpy as np
    from scipy import stats

    x = np.asarray(values, dtype=float)
    mean = float(x.mean()) if x.size else math.nan
    if x.size < 2:
        return mean, math.nan
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, half


def _per_seed_mean(rows: list[dict]) -> list[float]:
    by_seed: dict[Any, list[float]] = {}
    for r in rows:
        ari = r["ari"]
        failed = r.get("error") is not None or ari is None or math.isnan(ari)
        by_seed.setdefault(r["seed"], []).append(0.0 if failed else float(ari))
    return [sum(v) / len(v) for _, v in sorted(by_seed.items())]


def leaderboard(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ranking of the algorithms in ``rows`` (those of :attr:`LadderRun.rows`).

    Each algorithm's score is its ARI averaged over its rows (rungs and sides) per seed, a
    failed fit counted as 0, then the mean over seeds with the 95 % t interval (see the
    module's docstring); the same per target SNR.

    Parameters
    ----------
    rows : iterable of dict
        With ``algorithm``, ``seed``, ``target_snr``, ``ari``, ``seconds`` and ``error``.

    Returns
    -------
    list of dict
        The oracle first (the ceiling), then by mean ARI, best first: ``algorithm``,
        ``ari``, ``ci`` (the half-width; NaN with one seed), ``n_seeds``, ``of_oracle`` (the
        mean ARI over the oracle's), ``by_snr`` (target SNR -> ``{"ari", "ci"}``),
        ``seconds`` (median per fit), ``failed`` and ``fits`` (rows with an error, rows).
    """
    import numpy as np

    groups: dict[str, list[Mapping]] = {}
    for r in rows:
        groups.setdefault(r["algorithm"], []).append(r)
    board = []
    for name, rs in groups.items():
        ari, ci = _interval(_per_seed_mean(rs))
        by_snr = {}
        for s in sorted({r["target_snr"] for r in rs}):
            a, c = _interval(_per_seed_mean([r for r in rs if r["target_snr"] == s]))
            by_snr[s] = {"ari": a, "ci": c}
        secs = [
            r["seconds"] for r in rs if r["seconds"] is not None and not math.isnan(r["seconds"])
        ]
        board.append(
            {
                "algorithm": name,
                "ari": ari,
                "ci": ci,
                "n_seeds": len({r["seed"] for r in rs}),
                "of_oracle": math.nan,
                "by_snr": by_snr,
                "seconds": float(np.median(secs)) if secs else math.nan,
                "failed": sum(r.get("error") is not None for r in rs),
                "fits": len(rs),
            }
        )
    orc = next((b["ari"] for b in board if b["algorithm"] == "oracle"), math.nan)
    for b in board:
        b["of_oracle"] = b["ari"] / orc if orc > 0 else math.nan
    board.sort(
        key=lambda b: (b["algorithm"] != "oracle", -b["ari"] if not math.isnan(b["ari"]) else 1)
    )
    return board


def format_leaderboard(board: list[dict[str, Any]], title: str = "") -> str:
    """The leaderboard as a fixed-width text table (the oracle unranked, as the ceiling)."""
    from .results import _f, _grid

    snrs = list(board[0]["by_snr"]) if board else []
    header = ["rank", "algorithm", "ARI", "+-95%", "of oracle"]
    header += [f"snr={s:g}" for s in snrs] + ["s/fit", "failed"]
    body, rank = [], 0
    for b in board:
        is_oracle = b["algorithm"] == "oracle"
        rank += 0 if is_oracle else 1
        cells = ["ceiling" if is_oracle else str(rank), b["algorithm"], _f(b["ari"]), _f(b["ci"])]
        cells.append(_f(b["of_oracle"], 2))
        for s in snrs:
            v = b["by_snr"].get(s)
            cells.append("-" if v is None else f"{_f(v['ari'])}+-{_f(v['ci'])}")
        cells += [_f(b["seconds"], 2), f"{b['failed']}/{b['fits']}"]
        body.append(cells)
    n = max((b["n_seeds"] for b in board), default=0)
    lines = [title] if title else []
    lines += _grid(header, body, {1})
    lines.append(
        f"ARI averaged over rungs and both sides (a failed fit counts 0); +-: {_INTERVAL} "
        f"(n = {n} seeds)"
    )
    return "\n".join(lines)


def _parse_seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(x) for x in str(text).split(","))
    except ValueError:
        seeds = ()
    if not seeds or any(s < 0 for s in seeds):
        raise ValueError(f"--seeds takes integers >= 0, comma-separated; got {text!r}")
    return seeds


def bench_recovery(
    algorithms: list[str] | None,
    *,
    quick: bool = False,
    seeds: str | None = None,
    baselines: str | None = None,
    out: str | None = None,
    report: Any = None,
) -> int:
    """``fastbip bench recovery --algorithm ...``: run the ladder and print the leaderboard.

    Parameters
    ----------
    algorithms : list of str or None
        ``"module:Class"`` strings or registry names (``--algorithm``, repeatable).
    quick : bool
        Run :data:`QUICK` instead of :data:`STANDARD`.
    seeds : str, optional
        Comma-separated seeds replacing the ladder's.
    baselines : str, optional
        Comma-separated registry names replacing :data:`BASELINES`.
    out : str, optional
        A file for :meth:`LadderRun.to_json`.
    report : path, optional
        A page (:func:`fastbip.report.write_report`) of the sweep: ARI against SNR for every
        algorithm, the other sections drawn on the easiest rung's dataset (its first seed).

    Returns
    -------
    int
        0, or 1 when a fit failed (its error is printed).
    """
    import sys
    from pathlib import Path

    ladder = QUICK if quick else STANDARD
    if seeds is not None:
        ladder = ladder.with_(seeds=_parse_seeds(seeds))
    base = BASELINES if baselines is None else tuple(b for b in baselines.split(",") if b)
    run = run_ladder(
        algorithms or None,
        ladder,
        baselines=base,
        progress=lambda line: print(line, file=sys.stderr),
    )
    board = leaderboard(run.rows)
    print(format_leaderboard(board, run.results.summary))
    for s in run.skipped:
        print(f"skipped {_rung_text(s)}: {s['reason']}")
    for name, msg in run.results.failures.items():
        print(f"{name} failed: {msg}")
    print(f"ran in {run.seconds:.1f} s")
    if out:
        Path(out).write_text(run.to_json())
        print(f"wrote {out}")
    if report is not None:
        from ..generate import generate
        from ..report import write_report
        from ..spec import planted_spec

        easiest = max(ladder.rungs(), key=lambda r: r["snr"])
        ds = generate(planted_spec(**easiest, seed=ladder.seeds[0]), progress=False)
        write_report(run.results, ds, report)
        print(f"wrote {report} (ARI against SNR; the other sections on the easiest rung)")
    return 1 if run.results.failures else 0
