"""A study of one planted dataset: every algorithm against the truth, beside the oracle.

Every registered algorithm (or the ones named) is fitted with the true numbers of clusters,
timed, and scored against the truth by the one runner (:mod:`fastbip.study._fit`): ARI, AMI
and NMI per side, and the relation recovery (:func:`fastbip.metrics.relation_recovery`); a
one-side algorithm is scored for relation recovery with the other side's true labels. The
oracles (the best assignments anyone could make knowing the planted parameters, from the
purchases, from the features and from both: :data:`fastbip.study.ORACLES`) and the planted
structure's signal-to-noise ratio are reported beside them; each algorithm's
``oracle_ari`` is that of the oracle reading what it reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._fit import (
    fit_algorithm,
    fit_oracle,
    oracle_references,
    resolve_algorithms,
    score_fits,
)
from .results import Results

__all__ = ["run_study"]


def run_study(
    ds: Any,
    algorithms: Iterable[Any] | Mapping[str, Any] | None = None,
    random_state: Any = 0,
    oracle: bool = True,
) -> Results:
    """Fit ``algorithms`` on ``ds`` with its true numbers of clusters and score them.

    Parameters
    ----------
    ds : Dataset
        A dataset with a planted truth (a generated one).
    algorithms : list or dict, optional
        Registry names (default: every available registered algorithm but the slow ones,
        such as bp, which run when named), users' own
        estimators (an instance is cloned before fitting), their classes, or
        ``"module:Class"`` strings; or a dict from the name the rows carry to one of these
        (None: the registry entry of that name), e.g. ``{"mine": est, "dcsbm": None}``. An
        estimator needs only ``fit`` and the label attributes (see
        :func:`fastbip.study._fit.resolve_algorithms`).
    random_state : int, Generator or None
        Passed to every estimator's ``random_state``.
    oracle : bool
        Also compute the oracles' labels and report them as the rows ``"oracle"``
        (purchases), ``"oracle-features"`` and ``"oracle-joint"`` (on the sides with
        features) and in every row's ``oracle``, ``oracle_ari`` and ``oracle_ami`` (the
        oracle reading what the row's algorithm reads).

    Returns
    -------
    Results
        A row per algorithm and side; an algorithm whose fit failed is a row with its
        ``error`` and NaN scores.

    Raises
    ------
    ValueError
        ``ds`` has no truth, or an algorithm name is unknown or unavailable.
    TypeError, ImportError
        An algorithm without ``fit`` (the message names it), or a ``"module:Class"`` that
        cannot be imported.
    """
    from .. import algorithms as registry
    from ..truth import snr

    if getattr(ds, "truth", None) is None:
        raise ValueError(
            "run_study needs a dataset with a planted truth (a generated one); "
            "real logs have no truth to score against"
        )
    chosen = resolve_algorithms(algorithms, registry.names(include_slow=False))
    ka, kb = ds.truth.shape
    snr_value = float(snr(ds.truth))
    entries = []
    oracle_ari = None
    if oracle:
        entries = score_fits(ds, fit_oracle(ds), snr=snr_value)
        oracle_ari = oracle_references(entries)
    for name, algorithm, kind in chosen:
        fits = fit_algorithm(name, algorithm, kind, ds, ka, kb, random_state)
        entries += score_fits(ds, fits, snr=snr_value, oracle_ari=oracle_ari)
    return Results(entries, snr=snr_value, summary=ds.summary())
