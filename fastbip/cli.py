"""The ``fastbip`` command.

fastbip demo [--n-people N] [--n-items M] [--seed S] [--spec FILE] [--algorithms a,b]
             [--out DIR] [--report FILE.html]
fastbip report DATA.fbp [--algorithms a,b] [--out FILE.html]    fit, score, write the page
fastbip report DIR (--scheduler ADDRESS | --workers N)    a sharded dataset, fitted on Dask
fastbip report RESULTS.json DATA.fbp [--out FILE.html]          the page of saved results
fastbip generate (--spec FILE | --planted) --out FILE.fbp [...]
fastbip spec [--format toml|json]         print the built-in study's spec
fastbip algorithms                        list the registered algorithms
fastbip info FILE.fbp [--verify]          summarise a saved dataset
fastbip bench recovery [...]              ARI against difficulty, with the oracle and SNR
fastbip analyze LOG --person COL --item COL --out DIR [...]   analyse a real purchase log
fastbip analyze DIR --out OUT (--scheduler ADDRESS | --workers N)   a sharded dataset on Dask
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

__all__ = ["main"]


from ._cli_args import (
    _check_algorithms,
    _check_input_file,
    _check_memory,
    _check_out_dir,
    _check_out_file,
    _float_in,
    _int_at_least,
    _Parser,
    _spec_from_args,
    _UsageError,
)
from ._cli_dask import _dask_client, _study_on_dask


def _cmd_demo(args: argparse.Namespace) -> int:
    from .generate import generate
    from .io import save
    from .study import run_study

    out = _check_out_dir(args.out, "--out") if args.out is not None else None
    algos = _check_algorithms(args.algorithms)
    report = _report_path(args.report)
    t0 = time.perf_counter()
    spec = _spec_from_args(args, check_memory=True)
    ds = generate(spec)
    t_gen = time.perf_counter() - t0
    print(ds.summary())
    print(f"generated in {t_gen:.2f} s\n")
    result = run_study(ds, algorithms=algos, random_state=args.seed or 0)
    _answer_and_page(result, ds, report)
    print(result.table())
    total = time.perf_counter() - t0
    print(f"\ntotal {total:.1f} s")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(result.to_json())
        (out / "spec.json").write_text(spec.to_json())
        save(ds, out / "dataset.fbp")
        print(f"wrote {out / 'results.json'}, {out / 'spec.json'} and {out / 'dataset.fbp'}")
    return 1 if result.failures else 0


def _report_path(path: str | None) -> Path | None:
    """The page's path, checked before any work (None when no page is asked for)."""
    from .report import check_output_path

    return None if path is None else check_output_path(path, "--report")


def _answer_and_page(result, ds, report: Path | None) -> None:
    """Print the plain answer to the study's three questions; write the page if asked."""
    from .report.summary import answer_lines, study_facts

    facts = study_facts(result, ds, random_state=0)
    print("\n".join(answer_lines(facts)) + "\n")
    if report is not None:
        from .report import write_report

        t0 = time.perf_counter()
        write_report(result, ds, report, facts=facts)
        print(f"wrote {report} in {time.perf_counter() - t0:.1f} s\n")


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import check_output_path, write_report

    out = check_output_path(args.out, "--out")
    if len(args.inputs) == 1 and Path(args.inputs[0]).is_dir():
        results = out.with_suffix("")
        if results == out:  # a page without a suffix: not its own path
            results = out.with_name(out.name + ".results")
        elif results.resolve() == Path(args.inputs[0]).resolve():  # not into the dataset
            results = out.with_suffix(".results")
        return _study_on_dask(args, args.inputs[0], results, out)
    if len(args.inputs) not in (1, 2):
        raise ValueError(
            "fastbip report takes DATA.fbp, or RESULTS.json DATA.fbp; "
            f"got {len(args.inputs)} paths: {' '.join(args.inputs)}"
        )
    for p in args.inputs:
        if not Path(p).exists():
            raise ValueError(f"{p!r} does not exist")
    if len(args.inputs) == 2 and args.algorithms:
        raise ValueError(
            "--algorithms chooses what to fit; saved results are not refitted "
            f"(got --algorithms {args.algorithms} with {args.inputs[0]})"
        )
    from .io import load
    from .study import Results, run_study

    ds = load(args.inputs[-1])
    if len(args.inputs) == 2:
        try:
            result = Results.from_json(Path(args.inputs[0]).read_text())
        except (ValueError, TypeError) as e:  # JSONDecodeError and UnicodeDecodeError too
            raise ValueError(f"{args.inputs[0]!r} is not a results JSON file: {e}") from e
    else:
        algos = args.algorithms.split(",") if args.algorithms else None
        result = run_study(ds, algorithms=algos, random_state=0)
    t0 = time.perf_counter()
    write_report(result, ds, out, progress=print)
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from .generate import generate
    from .io import save

    if args.scheduler or args.workers is not None:
        return _generate_on_dask(args)
    out = _check_out_file(args.out, "--out")
    spec = _spec_from_args(args, check_memory=True)
    t0 = time.perf_counter()
    ds = generate(spec)
    t1 = time.perf_counter()
    save(ds, out)
    print(ds.summary())
    print(f"generated in {t1 - t0:.2f} s, saved to {args.out} in {time.perf_counter() - t1:.2f} s")
    return 0


def _generate_on_dask(args: argparse.Namespace) -> int:
    """``generate --scheduler ADDRESS`` or ``--workers N``: the workers write a sharded
    dataset directory at ``--out`` (fastbip.io.sharded)."""
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1; got {args.workers}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {args.out!r} is a file; a sharded dataset is a directory")
    from .distributed import generate_dask

    spec = _spec_from_args(args)
    with _dask_client(args) as client:
        t0 = time.perf_counter()
        sds = generate_dask(spec, client=client, out=args.out)
        print(sds.summary())
        print(f"generated and written by the workers in {time.perf_counter() - t0:.2f} s")
    return 0


def _cmd_spec(args: argparse.Namespace) -> int:
    spec = _spec_from_args(args)
    print(spec.to_toml() if args.format == "toml" else spec.to_json())
    return 0


def _cmd_algorithms(args: argparse.Namespace) -> int:
    from . import algorithms as registry

    for name in registry.names(available_only=False):
        info = registry.info(name)
        print(f"{name:24s} {info.kind:10s} {info.complexity}")
        print(f"{'':24s} {info.description}")
        if not info.available:
            print(f"{'':24s} unavailable: {info.unavailable_reason}")
        if info.slow:
            print(f"{'':24s} slow: left out of the default study; name it to run it")
    return 0


def _manifest_summary(m: dict, path: str) -> str:
    n, k = m["shape"]
    arrays = m["arrays"]
    lines = [
        f"{n:,} people x {k:,} items, {arrays['purchases.data']['shape'][0]:,} (person, item) pairs"
    ]
    if m["truth"] is not None:
        ka, kb = arrays["truth.omega"]["shape"]
        lines.append(
            f"planted: {ka} people-clusters x {kb} item-clusters, model {m['truth']['model']}"
        )
    if m["events"]:
        lines.append(f"{arrays['events.times']['shape'][0]:,} purchases, each with a timestamp")
    import numpy as np

    size = sum(math.prod(a["shape"]) * np.dtype(a["dtype"]).itemsize for a in arrays.values())
    lines.append(
        f"format {m['format']} version {m['version']}, written by fastbip "
        f"{m.get('fastbip_version', '?')}; {len(arrays)} arrays, about {size:,} bytes"
    )
    lines.append(
        f"checksums not verified (fastbip info --verify {path} reads and checks every array)"
    )
    return "\n".join(lines)


def _cmd_info(args: argparse.Namespace) -> int:
    from .io.fbp import load, read_manifest

    try:
        if args.verify:
            print(load(args.path).summary())
            print("every array's checksum and the dataset's structure verified")
        else:
            print(_manifest_summary(read_manifest(args.path), args.path))
    except OSError as e:  # a folder or an unreadable file: one line, not a traceback
        print(f"fastbip: error: {args.path}: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0


def _cmd_bench_recovery(args: argparse.Namespace) -> int:
    if args.algorithm or args.quick or args.ladder:
        from .study.ladder import bench_recovery

        report = _report_path(args.report)
        if args.out is not None:
            _check_out_file(args.out, "--out")
        return bench_recovery(
            args.algorithm,
            quick=args.quick,
            seeds=args.seeds,
            baselines=args.algorithms,
            out=args.out,
            report=report,
        )
    if args.report is not None:
        raise _UsageError(
            "--report draws the ladder's page: give it with --algorithm, --quick or --ladder"
        )
    from .study import recovery_sweep

    out = _check_out_file(args.out, "--out") if args.out is not None else None
    try:
        mixings = [float(x) for x in args.mixings.split(",")]
    except ValueError:
        raise _UsageError(
            f"--mixings takes numbers in [0, 1] separated by commas; got {args.mixings!r}"
        ) from None
    bad = [x for x in mixings if not 0.0 <= x <= 1.0]
    if bad:
        raise _UsageError(f"--mixings must lie in [0, 1]; got {bad[0]!r} in {args.mixings!r}")
    try:
        seeds = [int(x) for x in args.seeds.split(",")]
    except ValueError:
        raise _UsageError(
            f"--seeds takes integers >= 0 separated by commas; got {args.seeds!r}"
        ) from None
    if any(x < 0 for x in seeds):
        raise _UsageError(f"--seeds must be integers >= 0; got {args.seeds!r}")
    algos = _check_algorithms(args.algorithms)
    n_feat = 4 if args.features else 0
    _check_memory(args.n_people, args.n_items, args.mean_purchases, n_feat, False)
    result = recovery_sweep(
        args.n_people,
        args.n_items,
        args.k_people,
        args.k_items,
        args.mean_purchases,
        mixings,
        seeds,
        algorithms=algos,
        ratio=args.ratio,
        features=args.features,
    )
    print(result.table())
    if out is not None:
        out.write_text(result.to_json())
        print(f"wrote {args.out}")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    """Read a log, analyse it without truth, write results.json and the labels with ids."""
    from .study._analysis_out import run_analysis

    if Path(args.log).is_dir() or args.scheduler or args.workers is not None:
        page = _check_out_file(args.report, "--report") if args.report is not None else None
        return _study_on_dask(args, args.log, _check_out_dir(args.out, "--out"), page)
    log = _check_input_file(args.log, "LOG")
    missing = [f for f in ("--person", "--item") if getattr(args, f[2:]) is None]
    if missing:
        raise _UsageError(f"the following arguments are required: {', '.join(missing)}")
    tables = {s: getattr(args, s) for s in ("people", "items")}
    for side, path in tables.items():
        if path is not None:
            _check_input_file(path, f"--{side}")
    if args.quantity is not None and args.weight is not None:
        raise _UsageError("give --quantity or --weight, not both")
    out = _check_out_dir(args.out, "--out")
    report = _check_out_file(args.report, "--report") if args.report is not None else None
    write_report = None
    if report is not None:
        try:
            from .report import write_report
        except ImportError as exc:
            raise _UsageError(f"--report is not available in this installation ({exc})") from None
    read = {k: getattr(args, k) for k in ("person", "item", "time", "time_unit", "quantity")}
    read.update(weight=args.weight, id=args.id, **{s: p for s, p in tables.items() if p})
    opts = {k: getattr(args, k) for k in ("k_people", "k_items", "n_seeds", "n_bootstrap")}
    opts.update(windows=args.windows, algorithms=_check_algorithms(args.algorithms))
    run_analysis(
        log,
        read,
        opts,
        out,
        twin=args.twin,
        seed=args.seed,
        report=report,
        write_report=write_report,
    )
    return 0


def _add_size(p: argparse.ArgumentParser) -> None:
    size = _int_at_least(1)
    p.add_argument("--n-people", type=size, default=None, help="number of people (>= 1)")
    p.add_argument("--n-items", type=size, default=None, help="number of items (>= 1)")
    p.add_argument(
        "--seed", type=_int_at_least(0), default=None, help="random seed (default: the spec's)"
    )
    p.add_argument("--spec", help="a spec file (.toml or .json); default: the built-in study")
    p.add_argument("--planted", action="store_true", help="use the planted benchmark family")
    p.add_argument("--k-people", type=size, default=None, help="--planted: people-clusters (5)")
    p.add_argument("--k-items", type=size, default=None, help="--planted: item-clusters (5)")
    p.add_argument(
        "--mean-purchases",
        type=_float_in(0.0, open_low=True),
        default=None,
        help="--planted: expected purchases per person (20)",
    )
    p.add_argument(
        "--mixing",
        type=_float_in(0.0, 1.0),
        default=None,
        help="--planted: 0 is the planted relation, 1 no structure (0)",
    )
    p.add_argument(
        "--ratio",
        type=_float_in(0.0, open_low=True),
        default=None,
        help="--planted: affinity of diagonal pairs relative to the others (10)",
    )


def _add_dask(p: argparse.ArgumentParser, what: str) -> None:
    dask = p.add_mutually_exclusive_group()
    dask.add_argument("--scheduler", metavar="ADDRESS", help=f"Dask scheduler: {what} its workers")
    dask.add_argument(
        "--workers", type=int, metavar="N", help=f"{what} a local Dask cluster of N workers"
    )


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="fastbip", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"fastbip {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate the built-in study, run every algorithm, score")
    _add_size(p)
    p.add_argument("--algorithms", help="comma-separated registry names (default: all)")
    p.add_argument("--out", help="directory for results.json, spec.json and dataset.fbp")
    p.add_argument("--report", help="also write the study's page (HTML) to this file")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("report", help="write a study's page: fit and score, or saved results")
    p.add_argument("inputs", nargs="+", metavar="PATH", help="DATA.fbp, or RESULTS.json DATA.fbp")
    p.add_argument("--out", default="report.html", help="the page (default: report.html)")
    p.add_argument("--algorithms", help="comma-separated registry names to fit (default: all)")
    _add_dask(p, "a sharded DATA directory is fitted on")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("generate", help="generate a dataset and save it")
    _add_size(p)
    p.add_argument(
        "--out", required=True, help="output file (.fbp); a directory with --scheduler/--workers"
    )
    _add_dask(p, "a sharded dataset is written by")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("spec", help="print a spec (the built-in study by default)")
    _add_size(p)
    p.add_argument("--format", choices=("toml", "json"), default="toml")
    p.set_defaults(func=_cmd_spec)

    p = sub.add_parser("algorithms", help="list the registered algorithms")
    p.set_defaults(func=_cmd_algorithms)

    p = sub.add_parser("info", help="summarise a saved dataset from its manifest")
    p.add_argument("path")
    p.add_argument(
        "--verify",
        action="store_true",
        help="load the dataset: check every array's checksum and its structure",
    )
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("analyze", help="analyse a real purchase log (no truth needed)")
    p.add_argument(
        "log",
        help="the log: .csv, .csv.gz or .parquet (or a fastbip-sharded directory, with "
        "--scheduler or --workers)",
    )
    p.add_argument("--person", help="the column of person ids (required for a log)")
    p.add_argument("--item", help="the column of item ids (required for a log)")
    p.add_argument("--time", help="the column of purchase times")
    p.add_argument("--time-unit", choices=("s", "ms", "us", "ns", "D"))
    p.add_argument("--quantity", help="the column of quantities")
    p.add_argument("--weight", help="the column of weights (ratings, spend)")
    p.add_argument("--people", help="a table of the people (with features), by --id")
    p.add_argument("--items", help="a table of the items (with features), by --id")
    p.add_argument("--id", default="id", help="the id column of --people and --items")
    p.add_argument("--out", required=True, help="directory for results.json and the labels")
    p.add_argument("--report", help="an HTML report to write")
    p.add_argument("--twin", action="store_true", help="also study a planted twin of the log")
    for flag, help_ in (
        ("--k-people", "people-clusters"),
        ("--k-items", "item-clusters"),
        ("--windows", "time windows (8)"),
    ):
        p.add_argument(flag, type=_int_at_least(1), help=f"fix the number of {help_}")
    p.add_argument("--n-seeds", type=_int_at_least(0), default=5)
    p.add_argument("--n-bootstrap", type=_int_at_least(0), default=5)
    p.add_argument("--algorithms", help="comma-separated names compared with the block model")
    p.add_argument("--seed", type=_int_at_least(0), default=0)
    _add_dask(p, "a sharded LOG directory is fitted on")
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser("bench", help="benchmarks")
    bsub = p.add_subparsers(dest="bench", required=True)
    b = bsub.add_parser("recovery", help="ARI against difficulty, with the oracle and the SNR")
    size = _int_at_least(1)
    b.add_argument("--n-people", type=size, default=5000)
    b.add_argument("--n-items", type=size, default=1000)
    b.add_argument("--k-people", type=size, default=4)
    b.add_argument("--k-items", type=size, default=4)
    b.add_argument("--mean-purchases", type=_float_in(0.0, open_low=True), default=10.0)
    b.add_argument(
        "--ratio",
        type=_float_in(0.0, open_low=True),
        default=10.0,
        help="affinity of diagonal pairs relative to the others (before mixing)",
    )
    b.add_argument(
        "--features",
        action="store_true",
        help="give both sides informative features (for feature/joint methods)",
    )
    b.add_argument("--mixings", default="0.0,0.3,0.5,0.6,0.7,0.8,0.9")
    b.add_argument("--seeds", default="0,1,2")
    b.add_argument("--algorithms", help="comma-separated registry names (default: all)")
    b.add_argument("--out", help="write the results as JSON")
    b.add_argument(
        "--algorithm",
        action="append",
        metavar="MODULE:CLASS",
        help="run the difficulty ladder on this estimator beside dcsbm, svd-kmeans, "
        "spectral-cocluster and the oracle, and print the leaderboard (repeatable)",
    )
    b.add_argument("--quick", action="store_true", help="the quick ladder (under a minute)")
    b.add_argument("--ladder", action="store_true", help="the standard ladder, no --algorithm")
    b.add_argument(
        "--report",
        metavar="FILE.html",
        help="with the ladder: also write the page, with ARI against SNR for every algorithm",
    )
    b.set_defaults(func=_cmd_bench_recovery)
    return parser


def _is_user_error(e: BaseException) -> bool:
    """Whether ``e`` reports a user's mistake (one line) rather than a bug (a traceback).

    fastbip's own error types and OS errors on files are mistakes; a ``ValueError``,
    ``TypeError`` or ``ImportError`` is one when fastbip raised it (the innermost frame is
    fastbip's own, outside the kernels), not when it escaped from inside numpy, scipy or
    numba.
    """
    from .io import DatasetFormatError
    from .spec import SpecError

    if isinstance(e, (_UsageError, SpecError, DatasetFormatError, OSError)):
        return True
    if isinstance(e, ImportError) and "pip install" in str(e):
        return True
    # an ImportError of fastbip's own (a user's "module:Class" that does not import) too
    if isinstance(e, (ValueError, TypeError, ImportError)) and str(e):
        tb = e.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is None:
            return False
        where = Path(tb.tb_frame.f_code.co_filename).resolve()
        pkg = Path(__file__).resolve().parent
        return pkg in where.parents and (pkg / "_kernels") not in where.parents
    return False


def main(argv: list[str] | None = None) -> int:
    """Run the command; a user's mistake prints ``fastbip: error: ...`` and returns 2."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        with warnings.catch_warnings():
            # the command's table shows degenerate clusters (columns singletons, K found)
            warnings.filterwarnings("ignore", message=r".*: degenerate clusters: ")
            return args.func(args)
    except Exception as e:
        if not _is_user_error(e):
            raise
        message = " ".join(str(e).split())
        print(f"fastbip: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
