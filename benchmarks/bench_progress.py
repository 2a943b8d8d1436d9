"""What a progress bar costs: save and load with the bar drawn against without, same process.

Run as a script: ``python benchmarks/bench_progress.py`` (about 2*10^7 purchases) or
``python benchmarks/bench_progress.py --quick`` (2*10^6). ``save`` and ``load`` run in turns
with ``progress=True`` (the bar forced on by ``FASTBIP_PROGRESS=1``, drawn into a file) and
``progress=False``; each figure is the median of ``--repeat`` runs, and the ratio is what to
compare across machines. The bar advances once per 16 MiB chunk (save and load) and is
redrawn at most every 0.2 s, so its cost should stay within the noise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # time the fastbip of this tree, not an installed one

import numpy as np  # noqa: E402

from fastbip.generate import generate  # noqa: E402
from fastbip.io.fbp import load, save  # noqa: E402
from fastbip.spec import default_spec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n_people = 10**5 if args.quick else 10**6
    ds = generate(default_spec(n_people=n_people, n_items=n_people // 10, seed=0), progress=False)
    folder = Path(tempfile.mkdtemp(prefix="fastbip-bench-progress-"))
    path = folder / "d.fbp"
    save(ds, path, progress=False)
    size = path.stat().st_size
    os.environ["FASTBIP_PROGRESS"] = "1"
    times: dict[tuple[str, bool], list[float]] = {}
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        for _ in range(args.repeat):
            for shown in (True, False):
                for name, call in (
                    ("save", lambda s=shown: save(ds, path, progress=s)),
                    ("load", lambda s=shown: load(path, progress=s)),
                ):
                    t = time.perf_counter()
                    call()
                    times.setdefault((name, shown), []).append(time.perf_counter() - t)
    print(
        f"{ds.purchases.nnz:,} stored purchases, file {size / 2**20:,.0f} MiB, median of "
        f"{args.repeat} (load average {os.getloadavg()[0]:.2f})"
    )
    print("| call | with the bar (s) | without (s) | ratio |")
    print("|---|---|---|---|")
    for name in ("save", "load"):
        on = float(np.median(times[(name, True)]))
        off = float(np.median(times[(name, False)]))
        print(f"| {name} | {on:.3f} | {off:.3f} | {on / off:.3f} |")
    path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
