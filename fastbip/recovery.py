"""Recovery sweep: how much of the planted truth each algorithm finds, across difficulty.

:func:`recovery_sweep` walks the difficulty knob ``mixing`` of the standard planted family
(:func:`fastbip.spec.planted_spec`; 0 is the planted relation, 1 is uniform, no structure) over
several seeds. For every dataset it computes the signal-to-noise ratio of the planted
structure (:func:`fastbip.blocks.snr`; detection is possible above 1) and the oracle's labels
(:func:`fastbip.oracle.oracle_labels`), then fits every algorithm with the true numbers of
clusters and scores it against the truth. :func:`format_table` gives the medians over seeds.

>>> rows = recovery_sweep(2000, 1000, 4, 4, 10.0, mixings=[0.0, 0.5], seeds=[0, 1])
>>> print(format_table(rows))
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = ["COLUMNS", "recovery_sweep", "format_table", "rows_to_json"]

COLUMNS = (
    "mixing",
    "seed",
    "snr",
    "algorithm",
    "side",
    "k_found",
    "ari",
    "ami",
    "nmi",
    "relation_recovery",
    "seconds",
    "oracle_ari",
    "error",
)

_NAN = float("nan")


def _check_list(values, name, kind):
    try:
        out = list(values)
    except TypeError as exc:
        raise TypeError(f"{name} must be a list of {kind}; got {values!r}") from exc
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


def _score(true, found):
    from fastbip.metrics import score_labels

    s = score_labels(true, found)
    return float(s["ari"]), float(s["ami"]), float(s["nmi"])


def _fit_one(name, kind, ds, k_people, k_items, seed):
    """Fit one registered algorithm; returns ``{side: labels}`` and the seconds taken."""
    from fastbip import algorithms

    def make(**wanted):
        est = algorithms.get(name)
        params = est.get_params(deep=False)
        return est.set_params(**{k: v for k, v in wanted.items() if k in params})

    if kind == "features":
        out, seconds = {}, 0.0
        for side, pop, k in (("people", ds.people, k_people), ("items", ds.items, k_items)):
            if not getattr(pop, "columns", None):
                continue
            est = make(n_clusters=k, random_state=seed)
            t0 = time.perf_counter()
            est.fit(pop)
            seconds += time.perf_counter() - t0
            out[side] = np.asarray(est.labels_)
        if not out:
            raise ValueError("the planted family has no features; pass features=True")
        return out, seconds
    est = make(n_row_clusters=k_people, n_col_clusters=k_items, random_state=seed)
    t0 = time.perf_counter()
    if kind == "joint":
        est.fit(
            ds.purchases,
            row_features=ds.people if getattr(ds.people, "columns", None) else None,
            column_features=ds.items if getattr(ds.items, "columns", None) else None,
        )
    else:
        est.fit(ds.purchases)
    seconds = time.perf_counter() - t0
    return {"people": np.asarray(est.row_labels_), "items": np.asarray(est.column_labels_)}, seconds


def recovery_sweep(
    n_people: int,
    n_items: int,
    k_people: int,
    k_items: int,
    mean_purchases: float,
    mixings: Iterable[float],
    seeds: Iterable[int],
    algorithms: Iterable[str] | None = None,
    *,
    oracle: bool = True,
    progress: Callable[[dict], None] | None = None,
    **spec_options: Any,
) -> list[dict]:
    """Score ``algorithms`` on the planted family over ``mixings`` x ``seeds``.

    Parameters
    ----------
    n_people, n_items, k_people, k_items, mean_purchases
        The planted family (:func:`fastbip.spec.planted_spec`).
    mixings : difficulty values in [0, 1] (0 = planted relation, 1 = no structure).
    seeds : dataset seeds; each algorithm gets the same seed as ``random_state``.
    algorithms : registry names; default every available ``"purchases"`` algorithm, plus the
        ``"joint"`` ones when ``features=True`` is passed to the spec.
    oracle : compute the oracle's labels and their ARI per side (``oracle_ari``).
    progress : called with each finished row (for a progress display).
    **spec_options : passed to :func:`fastbip.spec.planted_spec` (``ratio``, ``activity``,
        ``features``, ...).

    Returns
    -------
    list of dict, one per mixing x seed x algorithm x side, with the keys in
    :data:`COLUMNS`: ``snr`` of the planted structure, ``k_found`` (distinct labels found),
    ``ari``/``ami``/``nmi`` against the true labels of that side, ``relation_recovery``
    (:func:`fastbip.metrics.relation_recovery` of both sides' labels; a one-side algorithm is
    paired with the other side's true labels), ``seconds`` (the fit), ``oracle_ari``, and
    ``error`` (None, or the message of an algorithm that failed; its scores are then NaN).
    """
    from fastbip import algorithms as registry
    from fastbip.dataset import generate
    from fastbip.metrics import relation_recovery
    from fastbip.spec import planted_spec
    from fastbip.truth import snr as planted_snr

    mixings = [float(x) for x in _check_list(mixings, "mixings", "numbers in [0, 1]")]
    bad = [x for x in mixings if not 0.0 <= x <= 1.0]
    if bad:
        raise ValueError(f"mixings must lie in [0, 1]; got {bad}")
    seeds = _check_list(seeds, "seeds", "integers")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"seeds must be integers >= 0; got {s!r}")
    if algorithms is None:
        names = registry.names("purchases")
        if spec_options.get("features"):
            names += registry.names("joint")
    else:
        names = _check_list(algorithms, "algorithms", "registry names")
        available = registry.names()
        for name in names:
            registry.info(name)  # unknown names raise, listing the known ones
            if name not in available:
                raise ValueError(
                    f"algorithm {name!r} is unavailable: {registry.info(name).unavailable_reason}"
                )
    kinds = {name: registry.info(name).kind for name in names}

    rows: list[dict] = []
    for mixing in mixings:
        for seed in seeds:
            spec = planted_spec(
                n_people,
                n_items,
                k_people,
                k_items,
                mean_purchases,
                mixing,
                int(seed),
                **spec_options,
            )
            ds = generate(spec)
            truth = ds.truth
            true = {
                "people": np.asarray(truth.people_labels),
                "items": np.asarray(truth.item_labels),
            }
            snr_value = float(planted_snr(truth))
            oracle_ari = {"people": _NAN, "items": _NAN}
            if oracle:
                from fastbip.truth import oracle_labels

                for side in ("people", "items"):
                    oracle_ari[side] = _score(true[side], oracle_labels(ds, side))[0]
            for name in names:
                try:
                    found, seconds = _fit_one(name, kinds[name], ds, k_people, k_items, int(seed))
                    labels = {**true, **found}
                    rel = float(
                        relation_recovery(truth, ds.purchases, labels["people"], labels["items"])
                    )
                    error = None
                except Exception as exc:  # one failing algorithm must not hide the others
                    found, seconds, rel = {"people": None, "items": None}, _NAN, _NAN
                    error = f"{type(exc).__name__}: {exc}"
                for side, labels_found in found.items():
                    if labels_found is None:
                        ari = ami = nmi = _NAN
                        k_found = 0
                    else:
                        ari, ami, nmi = _score(true[side], labels_found)
                        k_found = int(np.unique(labels_found[labels_found >= 0]).size)
                    row = {
                        "mixing": mixing,
                        "seed": int(seed),
                        "snr": snr_value,
                        "algorithm": name,
                        "side": side,
                        "k_found": k_found,
                        "ari": ari,
                        "ami": ami,
                        "nmi": nmi,
                        "relation_recovery": rel,
                        "seconds": seconds,
                        "oracle_ari": oracle_ari[side],
                        "error": error,
                    }
                    rows.append(row)
                    if progress is not None:
                        progress(row)
    return rows


def _median(values):
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.median(vals)) if vals else _NAN


def format_table(rows: list[dict]) -> str:
    """Fixed-width table of the medians over seeds, per mixing x algorithm x side.

    Columns: mixing, SNR, algorithm, side, seeds, K found, ARI, AMI, NMI, relation recovery,
    oracle ARI, ARI as a fraction of the oracle's, seconds; then the errors, if any.
    """
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["mixing"], r["algorithm"], r["side"]), []).append(r)
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

    def f(x, digits=3):
        return "-" if x is None or math.isnan(x) else f"{x:.{digits}f}"

    body = []
    errors = []
    for (mixing, name, side), rs in groups.items():
        ari = _median(r["ari"] for r in rs)
        orc = _median(r["oracle_ari"] for r in rs)
        frac = ari / orc if orc and not math.isnan(orc) and orc > 0 else _NAN
        body.append(
            [
                f"{mixing:.2f}",
                f(_median(r["snr"] for r in rs), 2),
                name,
                side,
                str(len(rs)),
                f(_median(r["k_found"] for r in rs), 0),
                f(ari),
                f(_median(r["ami"] for r in rs)),
                f(_median(r["nmi"] for r in rs)),
                f(_median(r["relation_recovery"] for r in rs)),
                f(orc),
                f(frac, 2),
                f(_median(r["seconds"] for r in rs), 2),
            ]
        )
        errors.extend(
            f"{name} (mixing {mixing}, seed {r['seed']}): {r['error']}"
            for r in rs
            if r.get("error") and side == "people"
        )
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)
    ]
    text_cols = {2, 3}

    def line(cells):
        return "  ".join(
            c.ljust(w) if i in text_cols else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(header), "  ".join("-" * w for w in widths), *(line(b) for b in body)]
    out += [f"error: {e}" for e in errors]
    return "\n".join(out)


def rows_to_json(rows: list[dict]) -> str:
    """The rows as JSON (NaN written as null)."""

    def clean(v):
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, np.generic):
            return v.item()
        return v

    return json.dumps([{k: clean(v) for k, v in r.items()} for r in rows], indent=2)
