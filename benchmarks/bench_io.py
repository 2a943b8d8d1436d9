"""Saving and loading large datasets: fastbip's .fbp against reading the file once.

Run as a script: ``python benchmarks/bench_io.py`` (about 2*10^7 purchases, each with a
timestamp) or ``python benchmarks/bench_io.py --quick`` (2*10^6). In one process it measures
``save``, ``load`` (``verify=True`` and ``verify=False``), ``read_manifest`` and the
``fastbip info`` command, and, as the reference, ``cat FILE > /dev/null`` on the same file
(warm page cache for all, since every timing follows a save or a read of the file). Where
the same data written as format version 1 (SHA-256 per array, as the code before
version 2 wrote it, aligned the same way) is loaded for comparison. Where
the code at commit 39bc045 can be loaded from git (``git show 39bc045:fastbip/dataset.py``),
its ``save`` and ``load`` are timed on the same data too. Every figure is the best of
``--repeat`` runs; the ratios are what to compare across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # time the fastbip of this tree, not an installed one

from fastbip.generate import generate  # noqa: E402
from fastbip.io import _checksum as _sum  # noqa: E402
from fastbip.io import _fbpcheck as _chk  # noqa: E402
from fastbip.io import fbp  # noqa: E402
from fastbip.io.fbp import load, read_manifest, save  # noqa: E402
from fastbip.spec import default_spec  # noqa: E402

OLD_COMMIT = "39bc045"


def best(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def old_module():
    """fastbip/dataset.py at commit 39bc045 as a module, or None when git cannot show it."""
    try:
        src = subprocess.run(
            ["git", "show", f"{OLD_COMMIT}:fastbip/dataset.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    mod = types.ModuleType(f"fastbip._dataset_{OLD_COMMIT}")
    mod.__package__ = "fastbip"
    sys.modules[mod.__name__] = mod
    try:
        exec(compile(src, f"dataset_{OLD_COMMIT}.py", "exec"), mod.__dict__)
    except Exception as e:  # noqa: BLE001 - a reference that does not import is left out
        print(f"(the code at {OLD_COMMIT} does not import here: {e})")
        return None
    return mod


def write_version_1(path: Path, manifest: dict, arrays: dict) -> None:
    """The arrays as a version 1 file (SHA-256 per array), members aligned as ``save`` does."""
    m = json.loads(json.dumps(manifest))
    m["version"] = 1
    del m[_sum.CHUNK_FIELD]
    with open(path, "wb") as fh, ThreadPoolExecutor(max_workers=1) as pool:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name in m["arrays"]:
                a = arrays[name]
                fbp._write_member(zf, fh, f"arrays/{name}.npy", a, pool)
                del m["arrays"][name][_sum.XXH64T]
                m["arrays"][name]["sha256"] = _sum.sha256_hexdigest(fbp._bytes(a))
            zf.writestr(fbp.MANIFEST, json.dumps(m, indent=1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2*10^6 purchases instead of 2*10^7")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", help="folder for the files (default: a temporary one)")
    args = ap.parse_args(argv)
    n_people = 10**5 if args.quick else 10**6  # about 20 purchases per person
    t = time.perf_counter()
    ds = generate(default_spec(n_people=n_people, n_items=n_people // 10, seed=0))
    print(
        f"generated {ds.n_purchases:,} purchases in {ds.purchases.nnz:,} entries "
        f"({time.perf_counter() - t:.1f} s)"
    )
    folder = Path(args.dir or tempfile.mkdtemp(prefix="bench_io_"))
    path = folder / "big.fbp"
    rows = []

    t_save = best(lambda: save(ds, path), args.repeat)
    size = path.stat().st_size
    t_cat = best(
        lambda: subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True),
        args.repeat,
    )
    t_load = best(lambda: load(path), args.repeat)
    t_load_nv = best(lambda: load(path, verify=False), args.repeat)
    t_manifest = best(lambda: read_manifest(path), args.repeat)
    mapped = load(path, verify=False)
    arrays = {
        "purchases.indptr": mapped.purchases.indptr,
        "purchases.indices": mapped.purchases.indices,
        "purchases.data": mapped.purchases.data,
        "people.labels": mapped.people.labels,
        "items.labels": mapped.items.labels,
        "events.offsets": mapped.events.offsets,
        "events.times": mapped.events.times,
    }
    arrays |= {f"truth.{n}": getattr(mapped.truth, n) for n in _chk._TRUTH}
    for side in ("people", "items"):
        pop = getattr(mapped, side)
        arrays |= {f"{side}.col{i}": c for i, c in enumerate(pop.columns.values())}
    manifest = read_manifest(path)
    t_checks = best(lambda: _chk.check_values(manifest, arrays), args.repeat)
    v1_path = folder / "v1.fbp"
    write_version_1(v1_path, manifest, arrays)
    t_load_v1 = best(lambda: load(v1_path), args.repeat)
    cmd = [sys.executable, "-m", "fastbip.cli", "info", str(path)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t_info = best(lambda: subprocess.run(cmd, env=env, capture_output=True, check=True), 2)
    t_py = best(
        lambda: subprocess.run([sys.executable, "-c", "import numpy"], env=env, check=True), 2
    )
    rows += [
        ("cat FILE > /dev/null (reference)", t_cat, 1.0),
        ("save", t_save, t_save / t_cat),
        ("load (verify=True)", t_load, t_load / t_cat),
        ("load (verify=False)", t_load_nv, t_load_nv / t_cat),
        ("load (verify=True), version 1 file (SHA-256)", t_load_v1, t_load_v1 / t_cat),
        ("  of which the structural checks", t_checks, t_checks / t_cat),
        ("read_manifest", t_manifest, t_manifest / t_cat),
        ("`fastbip info` command (whole process)", t_info, t_info / t_cat),
        ("`python -c 'import numpy'` (process floor)", t_py, t_py / t_cat),
    ]
    old = old_module()
    if old is not None:
        old_ds = old.Dataset(ds.people, ds.items, ds.purchases, ds.truth, ds.spec, ds.events)
        old_path = folder / "old.fbp"
        t_old_save = best(lambda: old.save(old_ds, old_path), args.repeat)
        t_old_load = best(lambda: old.load(old_path), args.repeat)
        t_old_load_new = best(lambda: old.load(v1_path), args.repeat)
        rows += [
            (f"save at {OLD_COMMIT}", t_old_save, t_old_save / t_cat),
            (f"load at {OLD_COMMIT} (its own file)", t_old_load, t_old_load / t_cat),
            (f"load at {OLD_COMMIT} (the version 1 file)", t_old_load_new, t_old_load_new / t_cat),
        ]
        old_path.unlink()
    print(f"file: {size / 2**20:,.0f} MiB, {os.cpu_count()} CPUs, best of {args.repeat}")
    print(f"{'operation':44s} {'seconds':>9s} {'x cat':>8s}")
    for name, s, r in rows:
        print(f"{name:44s} {s:9.3f} {r:8.2f}")
    if old is not None:
        print(
            f"save {t_old_save / t_save:.2f}x, load {t_old_load / t_load:.2f}x faster than at "
            f"{OLD_COMMIT}; read_manifest {t_manifest * 1e3:.1f} ms"
        )
    v1_path.unlink()
    if not args.dir:
        path.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
