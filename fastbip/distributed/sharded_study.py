"""A study of a sharded dataset on a Dask cluster, as ``fastbip analyze`` / ``report`` run it.

:func:`run_sharded_study`: the DCSBM fit from its spectral start on the shards
(:func:`~fastbip.distributed.dcsbm_fit_dask`), the block counts and their statistics under
the fit and, for generated data, under the planted truth, and the recovery of the truth
(adjusted Rand index from the fit-by-truth contingency tables, counted per shard) beside
the purchases oracle's (:mod:`~fastbip.distributed.sharded_truth`) and the spec's expected
SNR. Only K x K tables, cluster sizes and the item labels come to the client: the people's
labels are written per shard by the workers. :func:`write_sharded_page` writes the study's
page (:mod:`fastbip.report.sharded`: the local report's three questions).

Files written into ``out``::

    results.json              sizes, K, timings, log-likelihood, omega, block statistics,
                              the fitted cluster sizes; for generated data the planted sizes,
                              relation and block counts, SNR, the fit's and the oracle's
                              ARI and contingency tables (found by planted cluster)
    column_labels.npy         int64 (n_items,): each item's cluster
    row_labels/shard-00000.npy, ...   int64: the people's clusters, shard by shard (rows as in
                              the dataset's manifest)
"""

from __future__ import annotations

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
from .labels import base_handle
from .sharded_truth import label_sizes, row_contingency, sharded_oracle_labels
from .spectral import dcsbm_fit_dask
from .study import block_counts_dask

__all__ = ["run_sharded_study", "write_sharded_page"]


def _write_rows_task(rows, path):
    tmp = Path(str(path) + ".tmp.npy")
    np.save(tmp, np.asarray(rows, dtype=np.int64), allow_pickle=False)
    os.replace(tmp, path)
    return True


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
        if sds.spec is not None:  # the planted clusters' names, for the page
            facts["cluster_names"] = {
                "people": [c.name for c in sds.spec.people.clusters],
                "items": [c.name for c in sds.spec.items.clusters],
            }
        t0 = time.perf_counter()
        sizes = label_sizes(client, fit.labels.rows, k_people)
        cols = np.asarray(fit.column_labels_, np.int64)
        facts["people_sizes"] = sizes[:-1].tolist()
        facts["people_unassigned"] = int(sizes[-1])
        facts["item_sizes"] = np.bincount(cols[cols >= 0], minlength=k_items).tolist()
        facts["items_unassigned"] = int(np.sum(cols < 0))
        seconds["cluster sizes"] = time.perf_counter() - t0
        if sds.spec is not None:  # generated: the planted truth is in the base
            facts.update(_truth_facts(client, sds, fit, k_people, k_items, seconds, say))
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


def _truth_facts(client, sds, fit, k_people, k_items, seconds, say) -> dict:
    """The planted truth beside the fit: block counts, planted sizes, the SNR, the fit's and
    the oracle's recovery (ARI and the contingency tables, found by planted cluster)."""
    from fastbip.truth import detectable_clusters, snr

    spec = sds.spec
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    C_true = block_counts_dask(sds, "truth", "truth", client=client)
    seconds["block counts"] = time.perf_counter() - t0
    say(f"block counts under the planted truth: {seconds['block counts']:.1f} s")
    out["truth_block_counts"] = C_true.tolist()
    out["truth_cramers_v"] = float(block_stats(C_true).cramers_v)
    out["planted_omega"] = np.asarray(
        client.submit(_truth_omega, base_handle(sds), pure=False).result(), float
    ).tolist()
    out["snr"] = float(snr(spec))
    out["detectable"] = {k: int(v) for k, v in detectable_clusters(spec).items()}
    truth_cols = _truth_columns(client, sds)
    k_true = (int(spec.people.k), int(spec.items.k))
    rows = row_contingency(client, sds, fit.labels.rows, k_people)
    out["planted_item_sizes"] = np.bincount(truth_cols, minlength=k_true[1]).tolist()
    out["contingency_people"] = rows.tolist()
    out["ari_people"] = _ari(rows)
    cols = np.asarray(fit.column_labels_, np.int64)
    table = _item_table(cols, truth_cols, k_items, k_true[1])
    out["contingency_items"] = table.tolist()
    out["ari_items"] = _ari(table)
    say(f"recovery: ARI people {out['ari_people']:.4f}, items {out['ari_items']:.4f}")
    t0 = time.perf_counter()
    oracle = sharded_oracle_labels(sds, "people", client=client)
    try:
        o_rows = row_contingency(client, sds, oracle.rows, k_true[0])
    finally:
        oracle.release()
    o_items = _item_table(
        sharded_oracle_labels(sds, "items", client=client), truth_cols, k_true[1], k_true[1]
    )
    seconds["oracle"] = time.perf_counter() - t0
    out["oracle_contingency_people"] = o_rows.tolist()
    out["oracle_contingency_items"] = o_items.tolist()
    # the oracle labels everyone: its table's column sums are the planted sizes
    out["planted_people_sizes"] = o_rows.sum(axis=0).tolist()
    out["oracle_ari_people"] = _ari(o_rows)
    out["oracle_ari_items"] = _ari(o_items)
    say(
        f"oracle (each member's most likely cluster): ARI people "
        f"{out['oracle_ari_people']:.4f}, items {out['oracle_ari_items']:.4f}, "
        f"{seconds['oracle']:.1f} s"
    )
    return out


def _item_table(found: np.ndarray, truth: np.ndarray, k_found: int, k_true: int) -> np.ndarray:
    """int64 (k_found, k_true): items by found and planted cluster (-1 left out)."""
    keep = (found >= 0) & (truth >= 0)
    flat = np.bincount(found[keep] * k_true + truth[keep], minlength=k_found * k_true)
    return flat.reshape(k_found, k_true)


def _truth_omega(h):
    from .labels import base_of

    return base_of(h)[2].omega


def _truth_columns_only(h):
    from .labels import _truth, base_of

    return _truth(base_of(h), "columns").astype(np.int64)


def _truth_columns(client, sds):
    return client.submit(_truth_columns_only, base_handle(sds), pure=False).result()


def write_sharded_page(facts: dict, path: str | os.PathLike) -> Path:
    """The page of a sharded study (:func:`run_sharded_study`'s result): the local report's
    three questions from the study's facts (:func:`fastbip.report.sharded.build_sharded_page`).

    Parameters
    ----------
    facts : dict, the contents of ``results.json``.
    path : the page (HTML).

    Returns
    -------
    Path, the page written.
    """
    from fastbip.report.sharded import write_sharded_page as write

    return write(facts, path)
