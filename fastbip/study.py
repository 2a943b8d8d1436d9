"""A study: one dataset x a set of algorithms -> one results table.

Every registered algorithm (or the ones named) is fitted with the true numbers of
clusters, timed, and scored against the truth: ARI, AMI and NMI per side, and the relation
recovery (:func:`fastbip.metrics.relation_recovery`). A one-side algorithm is scored for
relation recovery with the other side's true labels. The oracle (the best assignment anyone
could make knowing the planted parameters) and the planted structure's signal-to-noise
ratio are reported beside them.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dataset import Dataset

__all__ = ["StudyResult", "run_study", "format_table"]

COLUMNS = ("algorithm", "side", "k", "ari", "ami", "nmi", "relation", "seconds")


@dataclass
class StudyResult:
    """The results of :func:`run_study`: one row per algorithm and side."""

    rows: list[dict[str, Any]]
    snr: float | None = None
    summary: str = ""
    failures: dict[str, str] = field(default_factory=dict)

    def table(self) -> str:
        text = format_table(self.rows)
        if self.snr is not None:
            text += (
                f"\nsignal-to-noise ratio of the planted structure: {self.snr:.3g} "
                "(detection possible above 1)"
            )
        for name, msg in self.failures.items():
            text += f"\n{name} failed: {msg}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "snr": self.snr,
            "rows": self.rows,
            "failures": self.failures,
        }

    def to_json(self) -> str:
        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, np.generic):
                return v.item()
            return v

        d = self.to_dict()
        d["rows"] = [{k: clean(v) for k, v in r.items()} for r in d["rows"]]
        d["snr"] = clean(d["snr"])
        return json.dumps(d, indent=2)


def format_table(rows: list[dict[str, Any]]) -> str:
    """Fixed-width text table of study rows."""
    header = ["algorithm", "side", "K", "ARI", "AMI", "NMI", "relation", "seconds"]
    body = []
    for r in rows:

        def f(x: Any, digits: int = 3) -> str:
            return (
                "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"
            )

        body.append(
            [
                r["algorithm"],
                r["side"],
                str(r.get("k", "-")),
                f(r.get("ari")),
                f(r.get("ami")),
                f(r.get("nmi")),
                f(r.get("relation")),
                f(r.get("seconds"), 2),
            ]
        )
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)
    ]

    def line(cells: list[str]) -> str:
        # names left-aligned, numbers right-aligned
        return "  ".join(
            x.ljust(w) if i < 2 else x.rjust(w)
            for i, (x, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(b) for b in body)])


def _configure(est: Any, **wanted: Any) -> Any:
    params = est.get_params(deep=False)
    est.set_params(**{k: v for k, v in wanted.items() if k in params})
    return est


def _score_row(
    ds: Dataset, name: str, side: str, labels: np.ndarray, seconds: float, relation: float | None
) -> dict[str, Any]:
    from .metrics import score_labels

    truth = ds.truth
    true = truth.people_labels if side == "people" else truth.item_labels
    s = score_labels(true, labels)
    k = int(np.unique(labels[labels >= 0]).size)
    return {
        "algorithm": name,
        "side": side,
        "k": k,
        "ari": float(s["ari"]),
        "ami": float(s["ami"]),
        "nmi": float(s["nmi"]),
        "relation": None if relation is None else float(relation),
        "seconds": seconds,
    }


def run_study(
    ds: Dataset, algorithms: list[str] | None = None, random_state: int = 0, oracle: bool = True
) -> StudyResult:
    """Fit ``algorithms`` (default: every registered one) on ``ds`` and score them."""
    from . import algorithms as registry
    from .metrics import relation_recovery
    from .truth import snr

    if ds.truth is None:
        raise ValueError(
            "run_study needs a dataset with a planted truth (a generated one); "
            "real logs have no truth to score against"
        )
    truth = ds.truth
    ka, kb = truth.shape
    names = list(registry.names()) if algorithms is None else list(algorithms)
    known = set(registry.names())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown algorithm(s) {unknown}; registered: {sorted(known)}")
    M = ds.purchases
    rows: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    if oracle:
        from .truth import oracle_labels

        t0 = time.perf_counter()
        rl = oracle_labels(ds, side="people")
        t1 = time.perf_counter()
        cl = oracle_labels(ds, side="items")
        t2 = time.perf_counter()
        rows.append(
            _score_row(
                ds,
                "oracle",
                "people",
                rl,
                t1 - t0,
                relation_recovery(truth, M, rl, truth.item_labels),
            )
        )
        rows.append(
            _score_row(
                ds,
                "oracle",
                "items",
                cl,
                t2 - t1,
                relation_recovery(truth, M, truth.people_labels, cl),
            )
        )
    for name in names:
        kind = registry.info(name).kind
        try:
            if kind == "features":
                for side, pop, k in (("people", ds.people, ka), ("items", ds.items, kb)):
                    if not pop.columns:
                        continue
                    est = _configure(registry.get(name), n_clusters=k, random_state=random_state)
                    t0 = time.perf_counter()
                    est.fit(pop)
                    sec = time.perf_counter() - t0
                    labels = np.asarray(est.labels_)
                    if side == "people":
                        rel = relation_recovery(truth, M, labels, truth.item_labels)
                    else:
                        rel = relation_recovery(truth, M, truth.people_labels, labels)
                    rows.append(_score_row(ds, name, side, labels, sec, rel))
            else:
                est = _configure(
                    registry.get(name),
                    n_row_clusters=ka,
                    n_col_clusters=kb,
                    random_state=random_state,
                )
                t0 = time.perf_counter()
                if kind == "joint":
                    est.fit(
                        M,
                        row_features=ds.people if ds.people.columns else None,
                        column_features=ds.items if ds.items.columns else None,
                    )
                else:
                    est.fit(M)
                sec = time.perf_counter() - t0
                rl, cl = np.asarray(est.row_labels_), np.asarray(est.column_labels_)
                rel = relation_recovery(truth, M, rl, cl)
                rows.append(_score_row(ds, name, "people", rl, sec, rel))
                rows.append(_score_row(ds, name, "items", cl, sec, rel))
        except Exception as e:  # one failing algorithm must not hide the others' results
            failures[name] = f"{type(e).__name__}: {e}"
    return StudyResult(rows=rows, snr=float(snr(truth)), summary=ds.summary(), failures=failures)
