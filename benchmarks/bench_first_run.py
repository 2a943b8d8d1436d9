"""The first ``fastbip demo`` on an empty numba cache: this checkout against a git ref.

``python benchmarks/bench_first_run.py [--ref 39bc045] [--warm]`` checks the ref out in a
temporary git worktree (or uses ``--ref-dir``, an existing checkout), then runs
``fastbip demo`` in a fresh process for each, each with its own empty ``NUMBA_CACHE_DIR``,
one after the other in the same run, and prints both wall times and their ratio. With
``--warm`` a second demo on each (now filled) cache gives the warm figures too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = "import sys; from fastbip.cli import main; sys.exit(main(['demo']))"


def run_demo(root: str, cache: str) -> float:
    """Wall seconds of ``fastbip demo`` run with cwd ``root`` and numba cache ``cache``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=root, FASTBIP_PROGRESS="0")
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", DEMO], cwd=root, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    if res.returncode not in (0, 1):  # 1: an algorithm failed, still a full run
        raise RuntimeError(f"demo at {root} failed:\n{res.stderr[-3000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="39bc045", help="git ref to compare with")
    parser.add_argument("--ref-dir", default=None, help="an existing checkout of the ref")
    parser.add_argument("--warm", action="store_true", help="also time a second demo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ref_dir = args.ref_dir
        if ref_dir is None:
            ref_dir = os.path.join(tmp, "ref")
            subprocess.run(
                ["git", "worktree", "add", "--detach", ref_dir, args.ref],
                cwd=HERE,
                check=True,
                capture_output=True,
            )
        try:
            rows = []
            for name, root in (("this checkout", HERE), (f"ref {args.ref}", ref_dir)):
                cache = tempfile.mkdtemp(dir=tmp)
                cold = run_demo(root, cache)
                warm = run_demo(root, cache) if args.warm else float("nan")
                rows.append((name, cold, warm))
                print(f"{name:24s} first demo {cold:7.1f} s   warm {warm:6.1f} s", flush=True)
            print(f"first demo, this / ref: {rows[0][1] / rows[1][1]:.2f}")
            if args.warm:
                print(f"warm demo, this / ref: {rows[0][2] / rows[1][2]:.2f}")
        finally:
            if args.ref_dir is None:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", ref_dir], cwd=HERE, check=False
                )


if __name__ == "__main__":
    main()
