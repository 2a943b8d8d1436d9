"""Purchase logs: a 10^7-row log (CSV and Parquet) into a dataset, against pandas + scipy in
the same run, with each reader's peak memory measured in its own subprocess.

    python benchmarks/bench_logs.py [ROWS [REPEAT]]  (default 10^7 rows, 3 rounds)
    pytest benchmarks/bench_logs.py                 (a 10^6-row smoke run)

The log: ``person`` (integers, 10^6 distinct), ``item`` (integers, 10^5 distinct) and
``ts`` (unix seconds), heavy-tailed so that people buy the same item more than once.

Reference: ``pandas.read_csv`` (or ``read_parquet``), ``pandas.factorize(sort=True)`` of
both id columns, ``scipy.sparse.coo_matrix((ones, (rows, cols))).tocsr()``: what a user
writes by hand. It builds the same counts matrix and the same sorted ids; fastbip also
checks every id and (in the ``+time`` runs) keeps every purchase time as
:class:`~fastbip.generate.Events`.

Each round runs every reader once, in its own process, the rounds one after the other; the
table keeps each reader's fastest round (on a loaded machine the load changes between the
processes of one round, and the fastest of three is the least disturbed).

Peak memory: ``ru_maxrss`` of the subprocess after the read minus its resident size just
before it (after the imports and a warm-up read of a tiny log, so numba's compilation is
not counted), beside the bytes of the result (CSR arrays, events).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROWS = 10_000_000


def make_log(rows: int, folder: Path) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    n_people, n_items = max(rows // 10, 10), max(rows // 100, 10)
    person = (rng.pareto(1.5, rows) * n_people / 20).astype(np.int64) % n_people
    item = (rng.pareto(1.2, rows) * n_items / 50).astype(np.int64) % n_items
    ts = 1_700_000_000 + rng.integers(0, 365 * 86_400, rows)
    table = pa.table({"person": person, "item": item, "ts": ts})
    paths = {"csv": folder / "log.csv", "parquet": folder / "log.parquet"}
    pcsv.write_csv(table, paths["csv"])
    pq.write_table(table, paths["parquet"])
    return paths


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def worker(mode: str, path: str) -> dict:
    """One read in this process: seconds, peak extra bytes, result bytes."""
    import pandas as pd
    import scipy.sparse as sp

    from fastbip.io import read_log

    with_time = mode.endswith("+time")
    tiny = Path(tempfile.mkdtemp()) / "tiny.csv"
    tiny.write_text("person,item,ts\n1,2,1700000000\n")
    read_log(tiny, time="ts", time_unit="s")  # compile (or load) the kernels
    base = _rss()
    t0 = time.perf_counter()
    if mode.startswith("fastbip"):
        kw = {"time": "ts", "time_unit": "s"} if with_time else {}
        ds = read_log(path, **kw)
        M = ds.purchases
        extra = 0 if ds.events is None else ds.events.offsets.nbytes + ds.events.times.nbytes
    else:
        if path.endswith(".parquet"):
            df = pd.read_parquet(path, columns=["person", "item"])
        else:
            df = pd.read_csv(path, usecols=["person", "item"])
        r, pid = pd.factorize(df["person"], sort=True)
        c, iid = pd.factorize(df["item"], sort=True)
        M = sp.coo_matrix((np.ones(r.size, np.int32), (r, c)), shape=(pid.size, iid.size)).tocsr()
        extra = 0
    seconds = time.perf_counter() - t0
    peak = _maxrss() - base
    result = M.data.nbytes + M.indices.nbytes + M.indptr.nbytes + extra
    return {
        "mode": mode,
        "seconds": seconds,
        "peak_extra_bytes": peak,
        "result_bytes": result,
        "nnz": int(M.nnz),
        "total": int(M.sum()),
        "shape": list(M.shape),
    }


def run(rows: int, repeat: int = 1) -> list[dict]:
    best: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        paths = make_log(rows, Path(folder))
        for mode, fmt in repeat * [
            ("pandas+scipy", "csv"),
            ("fastbip", "csv"),
            ("fastbip+time", "csv"),
            ("pandas+scipy", "parquet"),
            ("fastbip", "parquet"),
            ("fastbip+time", "parquet"),
        ]:
            r = subprocess.run(
                [sys.executable, __file__, "--worker", mode, str(paths[fmt])],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
            )
            row = json.loads(r.stdout.strip().splitlines()[-1])
            row["format"] = fmt
            old = best.get((mode, fmt))
            if old is None or row["seconds"] < old["seconds"]:
                best[(mode, fmt)] = row
    return list(best.values())


def report(rows: list[dict]) -> str:
    ref = {r["format"]: r for r in rows if r["mode"] == "pandas+scipy"}
    lines = [
        f"{'format':8s} {'reader':14s} {'seconds':>8s} {'x ref':>6s} {'peak MiB':>9s} "
        f"{'result MiB':>10s} {'peak/result':>11s} {'peak x ref':>10s}"
    ]
    for r in rows:
        base = ref[r["format"]]
        lines.append(
            f"{r['format']:8s} {r['mode']:14s} {r['seconds']:8.2f} "
            f"{base['seconds'] / r['seconds']:6.2f} {r['peak_extra_bytes'] / 2**20:9.0f} "
            f"{r['result_bytes'] / 2**20:10.0f} "
            f"{r['peak_extra_bytes'] / r['result_bytes']:11.2f} "
            f"{r['peak_extra_bytes'] / base['peak_extra_bytes']:10.2f}"
        )
    return "\n".join(lines)


def test_logs_smoke():
    import pytest

    pytest.importorskip("pyarrow")
    pytest.importorskip("pandas")
    rows = run(1_000_000)
    by = {(r["mode"], r["format"]): r for r in rows}
    for fmt in ("csv", "parquet"):
        mine, ref = by[("fastbip", fmt)], by[("pandas+scipy", fmt)]
        assert mine["nnz"] == ref["nnz"] and mine["total"] == ref["total"] == 1_000_000
        assert mine["shape"] == ref["shape"]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        n = int(float(sys.argv[1])) if len(sys.argv) > 1 else ROWS
        repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
        rows = run(n, repeat)
        print(f"{n:,}-row log, fastest of {repeat} rounds")
        print(report(rows))
