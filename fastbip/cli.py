"""The ``fastbip`` command.

fastbip demo [--n-people N] [--n-items M] [--seed S] [--spec FILE] [--algorithms a,b]
             [--out DIR]
fastbip generate (--spec FILE | --planted) --out FILE.fbp [...]
fastbip spec [--format toml|json]         print the built-in study's spec
fastbip algorithms                        list the registered algorithms
fastbip info FILE.fbp                     summarise a saved dataset
fastbip bench recovery [...]              ARI against difficulty, with the oracle and SNR
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _spec_from_args(args: argparse.Namespace):
    from .spec import default_spec, load_spec, planted_spec

    if getattr(args, "spec", None):
        spec = load_spec(args.spec)
        return spec.with_(n_people=args.n_people, n_items=args.n_items, seed=args.seed)
    if getattr(args, "planted", False):
        return planted_spec(
            args.n_people or 10_000,
            args.n_items or 2_000,
            args.k_people,
            args.k_items,
            args.mean_purchases,
            args.mixing,
            0 if args.seed is None else args.seed,
            ratio=args.ratio,
        )
    return default_spec(
        n_people=args.n_people or 2000,
        n_items=args.n_items or 500,
        seed=0 if args.seed is None else args.seed,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from .dataset import generate, save
    from .study import run_study

    t0 = time.perf_counter()
    spec = _spec_from_args(args)
    ds = generate(spec)
    t_gen = time.perf_counter() - t0
    print(ds.summary())
    print(f"generated in {t_gen:.2f} s\n")
    algos = args.algorithms.split(",") if args.algorithms else None
    result = run_study(ds, algorithms=algos, random_state=args.seed or 0)
    print(result.table())
    total = time.perf_counter() - t0
    print(f"\ntotal {total:.1f} s")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(result.to_json())
        (out / "spec.json").write_text(spec.to_json())
        save(ds, out / "dataset.fbp")
        print(f"wrote {out / 'results.json'}, {out / 'spec.json'} and {out / 'dataset.fbp'}")
    return 1 if result.failures else 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from .dataset import generate, save

    t0 = time.perf_counter()
    ds = generate(_spec_from_args(args))
    t1 = time.perf_counter()
    save(ds, args.out)
    print(ds.summary())
    print(f"generated in {t1 - t0:.2f} s, saved to {args.out} in {time.perf_counter() - t1:.2f} s")
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
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .dataset import load

    ds = load(args.path)
    print(ds.summary())
    return 0


def _cmd_bench_recovery(args: argparse.Namespace) -> int:
    if args.algorithm or args.quick or args.ladder:
        from .study.ladder import bench_recovery

        return bench_recovery(
            args.algorithm,
            quick=args.quick,
            seeds=args.seeds,
            baselines=args.algorithms,
            out=args.out,
        )
    from .study import recovery_sweep

    try:
        mixings = [float(x) for x in args.mixings.split(",")]
        seeds = [int(x) for x in args.seeds.split(",")]
    except ValueError as e:
        raise ValueError(
            f"--mixings takes numbers and --seeds integers, comma-separated; "
            f"got {args.mixings!r} and {args.seeds!r}"
        ) from e
    algos = args.algorithms.split(",") if args.algorithms else None
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
    if args.out:
        Path(args.out).write_text(result.to_json())
        print(f"wrote {args.out}")
    return 0


def _add_size(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n-people", type=int, default=None, help="number of people")
    p.add_argument("--n-items", type=int, default=None, help="number of items")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the spec's)")
    p.add_argument("--spec", help="a spec file (.toml or .json); default: the built-in study")
    p.add_argument("--planted", action="store_true", help="use the planted benchmark family")
    p.add_argument("--k-people", type=int, default=5)
    p.add_argument("--k-items", type=int, default=5)
    p.add_argument("--mean-purchases", type=float, default=20.0)
    p.add_argument("--mixing", type=float, default=0.0)
    p.add_argument(
        "--ratio",
        type=float,
        default=10.0,
        help="planted family: affinity of diagonal pairs relative to the others",
    )


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="fastbip", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"fastbip {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate the built-in study, run every algorithm, score")
    _add_size(p)
    p.add_argument("--algorithms", help="comma-separated registry names (default: all)")
    p.add_argument("--out", help="directory for results.json, spec.json and dataset.fbp")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("generate", help="generate a dataset and save it")
    _add_size(p)
    p.add_argument("--out", required=True, help="output file (.fbp)")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("spec", help="print a spec (the built-in study by default)")
    _add_size(p)
    p.add_argument("--format", choices=("toml", "json"), default="toml")
    p.set_defaults(func=_cmd_spec)

    p = sub.add_parser("algorithms", help="list the registered algorithms")
    p.set_defaults(func=_cmd_algorithms)

    p = sub.add_parser("info", help="summarise a saved dataset")
    p.add_argument("path")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("bench", help="benchmarks")
    bsub = p.add_subparsers(dest="bench", required=True)
    b = bsub.add_parser("recovery", help="ARI against difficulty, with the oracle and the SNR")
    b.add_argument("--n-people", type=int, default=5000)
    b.add_argument("--n-items", type=int, default=1000)
    b.add_argument("--k-people", type=int, default=4)
    b.add_argument("--k-items", type=int, default=4)
    b.add_argument("--mean-purchases", type=float, default=10.0)
    b.add_argument(
        "--ratio",
        type=float,
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
    b.set_defaults(func=_cmd_bench_recovery)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, ImportError) as e:
        print(f"fastbip: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
