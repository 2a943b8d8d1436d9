"""A study of a sharded dataset on a Dask cluster, as ``fastbip analyze`` / ``report`` run it.

:func:`run_sharded_study`: the DCSBM fit from its spectral start on the shards
(:func:`~fastbip.distributed.dcsbm_fit_dask`), the block counts and their statistics under
the fit and, for generated data, under the planted truth, and the recovery of the truth
(adjusted Rand index from the fit-by-truth contingency tables, counted per shard). Only
K x K tables and the item labels come to the client: the people's labels are written per
shard by the workers. :func:`write_sharded_page` writes the study's page (HTML tables).

Files written into ``out``::

    results.json              sizes, K, timings, log-likelihood, omega, block statistics,
                              the recovery of the truth
    column_labels.npy         int64 (n_items,): each item's cluster
    row_labels/shard-00000.npy, ...   int64: the people's clusters, shard by shard (rows as in
                              the dataset's manifest)
"""

from __future__ import annotations

import html
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from fastbip.blocks import block_stats
from fastbip.io import sharded as _sh
from fastbip.metrics import _ari_from_table

from ._client import get_client as _get_client
from ._client import release as _release
from .labels import ShardedLabels, base_handle, rows_on_worker
from .spectral import dcsbm_fit_dask
from .study import block_counts_dask

__all__ = ["run_sharded_study", "write_sharded_page"]


def _contingency_task(fit_rows, truth_rows, k_fit, k_true):
    f = np.asarray(fit_rows, dtype=np.int64)
    t = rows_on_worker(truth_rows, k_true).labels()
    keep = (f >= 0) & (t >= 0)
    return np.bincount(f[keep] * k_true + t[keep], minlength=k_fit * k_true).reshape(k_fit, k_true)


def _write_rows_task(rows, path):
    tmp = Path(str(path) + ".tmp.npy")
    np.save(tmp, np.asarray(rows, dtype=np.int64), allow_pickle=False)
    os.replace(tmp, path)
    return True


def row_contingency(client: Any, sds: _sh.ShardedDataset, labels: ShardedLabels) -> np.ndarray:
    """int64 (K_fit, K_true): people by fitted and planted cluster, counted per shard."""
    h = base_handle(sds)
    k_true = int(sds.spec.people.k)
    b = sds.row_bounds
    futures = [
        client.submit(
            _contingency_task,
            f,
            ("truth", h, int(r0), int(r1)),
            labels.n_row_clusters,
            k_true,
            pure=False,
        )
        for f, r0, r1 in zip(labels.rows, b[:-1], b[1:], strict=True)
    ]
    try:
        tables = client.gather(futures)
    finally:
        _release(futures)
    return sum(tables[1:], tables[0].copy())


def _ari(table: np.ndarray) -> float:
    return float(_ari_from_table(sp.csr_matrix(table)))


def run_sharded_study(
    sharded: str | os.PathLike | _sh.ShardedDataset,
    out: str | os.PathLike,
    *,
    k_people: int | None = None,
    k_items: int | None = None,
    seed: int = 0,
    client: Any = None,
    progress: Any = print,
) -> dict:
    """Fit and describe a sharded dataset on the cluster; write ``out`` (module docstring).

    Parameters
    ----------
    sharded : a sharded dataset directory, or a ShardedDataset.
    out : the output directory (created).
    k_people, k_items : int or None; None takes the spec's planted K.
    seed : the fit's random_state.
    client : dask.distributed.Client or None (the default client).
    progress : callable or None, called with a line after each step.

    Returns
    -------
    dict, the contents of ``results.json``.
    """
    client = _get_client(client)
    sds = sharded if isinstance(sharded, _sh.ShardedDataset) else _sh.load_sharded(sharded)
    say = progress or (lambda s: None)
    if k_people is None or k_items is None:
        if sds.spec is None:
            raise ValueError(
                "the sharded dataset has no spec: give --k-people and --k-items (the numbers "
                "of clusters to fit)"
            )
        k_people = k_people or int(sds.spec.people.k)
        k_items = k_items or int(sds.spec.items.k)
    out = Path(out)
    (out / "row_labels").mkdir(parents=True, exist_ok=True)
    seconds = {}
    t0 = time.perf_counter()
    fit = dcsbm_fit_dask(sds, k_people, k_items, random_state=seed, client=client)
    seconds["fit"] = time.perf_counter() - t0
    say(f"DCSBM fit on the shards: {fit.n_iter_} sweeps, {seconds['fit']:.1f} s")
    try:
        stats = block_stats(fit.omega_)
        facts: dict[str, Any] = {
            "dataset": sds.summary(),
            "shape": list(sds.shape),
            "purchases": int(sds.n_purchases),
            "shards": int(sds.n_shards),
            "k_people": int(k_people),
            "k_items": int(k_items),
            "seed": int(seed),
            "log_likelihood": float(fit.log_likelihood_),
            "n_iter": int(fit.n_iter_),
            "omega": fit.omega_.tolist(),
            "chi2": float(stats.chi2),
            "cramers_v": float(stats.cramers_v),
            "adjusted_residuals": stats.adjusted_residuals.tolist(),
        }
        if sds.spec is not None:  # generated: the planted truth is in the base
            t0 = time.perf_counter()
            C_true = block_counts_dask(sds, "truth", "truth", client=client)
            seconds["block counts"] = time.perf_counter() - t0
            say(f"block counts under the planted truth: {seconds['block counts']:.1f} s")
            rows = row_contingency(client, sds, fit.labels)
            facts["truth_block_counts"] = C_true.tolist()
            facts["ari_people"] = _ari(rows)
            cols = np.asarray(fit.column_labels_)
            truth_cols = _truth_columns(client, sds)
            table = np.zeros((k_items, int(truth_cols.max(initial=0)) + 1), np.int64)
            np.add.at(table, (cols, truth_cols), 1)
            facts["ari_items"] = _ari(table)
            say(f"recovery: ARI people {facts['ari_people']:.4f}, items {facts['ari_items']:.4f}")
        t0 = time.perf_counter()
        writes = [
            client.submit(
                _write_rows_task,
                f,
                str(out / "row_labels" / f"{_sh.shard_name(i)}.npy"),
                pure=False,
            )
            for i, f in enumerate(fit.labels.rows)
        ]
        client.gather(writes)
        _release(writes)
        np.save(out / "column_labels.npy", np.asarray(fit.column_labels_, np.int64))
        seconds["write labels"] = time.perf_counter() - t0
        facts["seconds"] = seconds
        (out / "results.json").write_text(json.dumps(facts, indent=1))
    finally:
        fit.labels.release()
    return facts


def _truth_columns_only(h):
    from .labels import _truth, base_of

    return _truth(base_of(h), "columns").astype(np.int64)


def _truth_columns(client, sds):
    return client.submit(_truth_columns_only, base_handle(sds), pure=False).result()


def _table(rows: list, head: list | None = None) -> str:
    out = ["<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in head) + "</tr>")
    out.extend(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return "\n".join(out + ["</table>"])


def write_sharded_page(facts: dict, path: str | os.PathLike) -> Path:
    """The page of a sharded study (:func:`run_sharded_study`'s result): the dataset, the
    fit, omega and the adjusted residuals as tables, and the recovery of the truth."""
    path = Path(path)
    om = np.asarray(facts["omega"])
    res = np.asarray(facts["adjusted_residuals"])
    k_b = om.shape[1]
    head = ["people \\ items", *range(k_b)]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>fastbip: sharded study"
        "</title><style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;"
        "text-align:right;border-bottom:1px solid #ddd}</style></head><body>",
        "<h1>fastbip: a study on a Dask cluster</h1>",
        f"<p>{html.escape(facts['dataset'])}</p>",
        _table(
            [
                ["clusters (people x items)", f"{facts['k_people']} x {facts['k_items']}"],
                ["log-likelihood", f"{facts['log_likelihood']:.6g}"],
                ["sweeps", facts["n_iter"]],
                ["Cramér's V", f"{facts['cramers_v']:.4f}"],
                *(
                    [["ARI people", f"{facts['ari_people']:.4f}"]]
                    + [["ARI items", f"{facts['ari_items']:.4f}"]]
                    if "ari_people" in facts
                    else []
                ),
                *[[f"{k} (s)", f"{v:.1f}"] for k, v in facts["seconds"].items()],
            ]
        ),
        "<h2>Purchases per block (omega)</h2>",
        _table([[k, *(f"{x:.0f}" for x in row)] for k, row in enumerate(om)], head),
        "<h2>Adjusted residuals (against independence)</h2>",
        _table([[k, *(f"{x:.1f}" for x in row)] for k, row in enumerate(res)], head),
        "</body></html>",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
