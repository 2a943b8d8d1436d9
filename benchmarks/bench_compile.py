"""Compile time of every numba kernel that ``fastbip demo`` meets, in a fresh process.

``NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/bench_compile.py`` runs the demo with an
empty cache, then lists every dispatcher of ``fastbip._kernels`` with the specialisations
it compiled and numba's own timers for each (``compiler_lock``: the whole compilation,
``llvm_lock``: its LLVM part), largest first. Run it with a filled cache to see what was
loaded instead (0 s compile, no new specialisations).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import time


def main() -> None:
    from numba.core.registry import CPUDispatcher

    t0 = time.perf_counter()
    from fastbip.cli import main as cli

    with contextlib.redirect_stdout(io.StringIO()):
        cli(["demo"])
    total = time.perf_counter() - t0
    import fastbip._kernels as kernels

    rows, seen = [], set()
    for info in pkgutil.iter_modules(kernels.__path__):
        mod = importlib.import_module(f"fastbip._kernels.{info.name}")
        for name, obj in vars(mod).items():
            if not isinstance(obj, CPUDispatcher) or id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.__module__ != mod.__name__:
                continue
            par = bool(obj.targetoptions.get("parallel", False))
            for sig, cres in obj.overloads.items():
                timers = (cres.metadata or {}).get("timers", {})
                dtypes = ",".join(str(t).split("(")[-1].split(",")[0] for t in sig[:3])
                rows.append(
                    (
                        timers.get("compiler_lock", 0.0),
                        timers.get("llvm_lock", 0.0),
                        f"{info.name}.{name}",
                        par,
                        dtypes,
                    )
                )
    rows.sort(reverse=True)
    print(f"{'kernel':44s} {'parallel':8s} {'compile s':>9s} {'llvm s':>7s}  first args")
    for comp, llvm, name, par, dtypes in rows:
        print(f"{name:44s} {par!s:8s} {comp:9.2f} {llvm:7.2f}  {dtypes}")
    spent = sum(r[0] for r in rows)
    print(f"{len(rows)} specialisations, {spent:.1f} s compiling, demo {total:.1f} s")


if __name__ == "__main__":
    main()
