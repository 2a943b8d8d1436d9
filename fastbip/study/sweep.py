"""Recovery sweep: how much of the planted truth each algorithm finds, across difficulty.

:func:`recovery_sweep` walks the difficulty knob ``mixing`` of the standard planted family
(:func:`fastbip.spec.planted_spec`; 0 is the planted relation, 1 is uniform, no structure) over
several seeds. For every dataset it computes the signal-to-noise ratio of the planted
structure (:func:`fastbip.blocks.snr`; detection is possible above 1) and the oracle's labels
(:func:`fastbip.truth.oracle_labels`), then fits every algorithm with the true numbers of
clusters and scores it against the truth, by the same runner as
:func:`fastbip.study.run_study`. :meth:`Results.table` gives the medians over seeds.

>>> res = recovery_sweep(2000, 1000, 4, 4, 10.0, mixings=[0.0, 0.5], seeds=[0, 1])
>>> print(res.table())
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._fit import (
    fit_algorithm,
    fit_oracle,
    oracle_references,
    resolve_algorithms,
    score_fits,
)
from .results import Results

__all__ = ["recovery_sweep"]


def recovery_sweep(
    n_people: int,
    n_items: int,
    k_people: int,
    k_items: int,
    mean_purchases: float,
    mixings: Iterable[float],
    seeds: Iterable[int],
    algorithms: Iterable[Any] | Mapping[str, Any] | None = None,
    *,
    oracle: bool = True,
    progress: Callable[[dict], None] | bool | None = None,
    keep_fits: bool = False,
    **spec_options: Any,
) -> Results:
    """Score ``algorithms`` on the planted family over ``mixings`` x ``seeds``.

    Parameters
    ----------
    n_people, n_items, k_people, k_items, mean_purchases
        The planted family (:func:`fastbip.spec.planted_spec`).
    mixings : iterable of float
        Difficulty values in [0, 1] (0 = planted relation, 1 = no structure).
    seeds : iterable of int
        Dataset seeds (>= 0); each algorithm gets the dataset's seed as ``random_state``.
    algorithms : list or dict, optional
        As :func:`fastbip.study.run_study` takes them (registry names, estimators, classes,
        ``"module:Class"`` strings, or a dict from row name to one of these); default every
        available ``"purchases"`` algorithm, plus the ``"joint"`` ones when
        ``features=True`` is passed to the spec.
    oracle : bool
        Compute the oracles' labels per dataset: their rows (:data:`fastbip.study.ORACLES`;
        the features and joint ones with ``features=True``) and every row's ``oracle``,
        ``oracle_ari`` and ``oracle_ami`` (the oracle reading what its algorithm reads).
    progress : callable, bool or None
        A callable is called with each finished row (a dict of
        :data:`fastbip.study.COLUMNS`). A progress bar over the datasets shows on standard
        error where it is a terminal, unless ``progress=False`` (or ``FASTBIP_PROGRESS=0``;
        see :mod:`fastbip._progress`).
    keep_fits : bool
        Keep every fit's labels and estimator in the entries (memory: the labels of every
        dataset); by default only the scores are kept.
    **spec_options
        Passed to :func:`fastbip.spec.planted_spec` (``ratio``, ``activity``, ``features``,
        ...).

    Returns
    -------
    Results
        One row per mixing x seed x algorithm x side, with the columns of
        :data:`fastbip.study.COLUMNS`: the dataset's ``mixing``, ``seed`` and ``snr``, and
        the scores; an algorithm that failed is a row with its ``error`` and NaN scores.

    Raises
    ------
    TypeError, ValueError
        ``mixings``, ``seeds`` or ``algorithms`` is not a non-empty list of what it must hold
        (the message names the offending entry).
    """
    from .. import algorithms as registry
    from .._validation import check_int, check_list, check_real
    from ..generate import generate
    from ..spec import planted_spec
    from ..truth import snr as planted_snr

    mixings = check_list(
        mixings, "mixings", "numbers in [0, 1]", check=lambda v, n: check_real(v, n, 0.0, 1.0)
    )
    seeds = check_list(seeds, "seeds", "integers >= 0", check=lambda v, n: check_int(v, n, 0))
    default = registry.names("purchases", include_slow=False)
    if spec_options.get("features"):
        default += registry.names("joint", include_slow=False)
    chosen = resolve_algorithms(algorithms, default)

    from .._progress import progress as progress_bar

    entries = []
    grid = [(mixing, seed) for mixing in mixings for seed in seeds]
    bar = None if callable(progress) else progress
    for mixing, seed in progress_bar(grid, desc="recovery sweep", unit="dataset", enable=bar):
        spec = planted_spec(
            n_people, n_items, k_people, k_items, mean_purchases, mixing, seed, **spec_options
        )
        ds = generate(spec, progress=False)  # the sweep has its own bar
        where = {"snr": float(planted_snr(ds.truth)), "mixing": mixing, "seed": seed}
        oracle_ari = None
        if oracle:
            rows = score_fits(ds, fit_oracle(ds), keep=keep_fits, **where)
            oracle_ari = oracle_references(rows)
            _add(entries, rows, progress)
        for name, algorithm, kind in chosen:
            fits = fit_algorithm(name, algorithm, kind, ds, k_people, k_items, seed)
            rows = score_fits(ds, fits, oracle_ari=oracle_ari, keep=keep_fits, **where)
            _add(entries, rows, progress)
    summary = (
        f"planted family: {n_people} people, {n_items} items, K = {k_people} x {k_items}, "
        f"{mean_purchases:g} purchases per person; mixings {mixings}, seeds {seeds}"
    )
    return Results(entries, snr=None, summary=summary)


def _add(entries: list, rows: list, progress: Callable[[dict], None] | None) -> None:
    entries += rows
    if callable(progress):
        for e in rows:
            progress(e.row())
