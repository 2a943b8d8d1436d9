"""The ``fastbip`` command's argument types and checks, run before any work starts.

Every check raises ``ValueError`` (or :class:`_UsageError` for a flag that does not fit) with
a message naming the flag or file, which :func:`fastbip.cli.main` prints as one line.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path


class _UsageError(Exception):
    """A mistake in the command line, reported as one line and exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line ``fastbip: error: ...`` (no usage block)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{message} (see '{self.prog} --help')")


# ------------------------------------------------------------------ argument value types


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {text!r}")
        return v

    return parse


def _float_in(low: float, high: float | None = None, *, open_low: bool = False):
    if high is not None:
        want = f"a number in [{low:g}, {high:g}]"
    else:
        want = f"a number {'>' if open_low else '>='} {low:g}"

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {want}; got {text!r}") from None
        ok = math.isfinite(v) and (v > low if open_low else v >= low)
        if high is not None:
            ok = ok and v <= high
        if not ok:
            raise argparse.ArgumentTypeError(f"must be {want}; got {text!r}")
        return v

    return parse


# ------------------------------------------------------------------ checks before any work

_PLANTED_ONLY = ("k_people", "k_items", "mean_purchases", "mixing", "ratio")
_PLANTED_DEFAULTS = {
    "k_people": 5,
    "k_items": 5,
    "mean_purchases": 20.0,
    "mixing": 0.0,
    "ratio": 10.0,
}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _check_input_file(path: str, flag: str) -> Path:
    if not path:
        raise _UsageError(f"{flag} must name a file; got an empty string")
    p = Path(path)
    if not p.exists():
        raise _UsageError(f"{flag} {path!r} does not exist")
    if p.is_dir():
        raise _UsageError(f"{flag} {path!r} is a directory; expected a file")
    if not os.access(p, os.R_OK):
        raise _UsageError(f"{flag} {path!r}: permission denied (cannot read it)")
    return p


def _writable_ancestor(p: Path, flag: str, path: str) -> None:
    parent = p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise _UsageError(f"{flag} {path!r}: {str(parent)!r} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _UsageError(f"{flag} {path!r}: directory {str(parent)!r} is not writable")


def _check_out_file(path: str, flag: str) -> Path:
    """An output file: not an existing directory, in a directory that can be written."""
    if not path:
        raise _UsageError(f"{flag} must name a file; got an empty string")
    p = Path(path)
    if p.is_dir():
        raise _UsageError(f"{flag} {path!r} is a directory; expected a file name")
    if p.exists() and not os.access(p, os.W_OK):
        raise _UsageError(f"{flag} {path!r}: the file exists and is not writable")
    _writable_ancestor(p, flag, path)
    return p


def _check_out_dir(path: str, flag: str) -> Path:
    """An output directory: an existing directory, or a new one that can be created."""
    if not path:
        raise _UsageError(f"{flag} must name a directory; got an empty string")
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise _UsageError(f"{flag} {path!r} is an existing file; expected a directory")
        if not os.access(p, os.W_OK | os.X_OK):
            raise _UsageError(f"{flag} {path!r}: the directory is not writable")
        return p
    _writable_ancestor(p, flag, path)
    return p


def _check_algorithms(text: str | None) -> list[str] | None:
    if text is None:
        return None
    from . import algorithms as registry

    names = [a.strip() for a in text.split(",")]
    known = registry.names(available_only=False)
    for a in names:
        if not a:
            raise _UsageError(
                f"--algorithms {text!r} has an empty name; give names separated by commas"
            )
        if ":" not in a and a not in known:
            raise _UsageError(
                f"--algorithms: unknown algorithm {a!r}; known algorithms: {', '.join(known)}"
            )
    return names


def _physical_memory() -> int | None:
    from .generate.plan import physical_memory

    return physical_memory()


def _check_memory(
    n_people: int, n_items: int, mean_purchases: float, n_features: int, with_time: bool
) -> None:
    from .generate.plan import estimate_bytes

    need = estimate_bytes(n_people, n_items, mean_purchases, n_features, with_time=with_time)
    have = _physical_memory()
    if have is not None and need > have:
        raise _UsageError(
            f"{n_people:,} people x {n_items:,} items (--n-people, --n-items) need about "
            f"{need / 2**30:,.1f} GiB of memory to generate; this machine has "
            f"{have / 2**30:,.1f} GiB"
        )


def _check_size_args(args: argparse.Namespace) -> None:
    """Flags that only the planted family reads, and --spec against --planted."""
    if getattr(args, "spec", None) is not None and getattr(args, "planted", False):
        raise _UsageError("--spec and --planted cannot be used together; give one of them")
    if not getattr(args, "planted", False):
        given = [_flag(d) for d in _PLANTED_ONLY if getattr(args, d, None) is not None]
        if given:
            raise _UsageError(
                f"{', '.join(given)} only appl{'y' if len(given) > 1 else 'ies'} to --planted; "
                "add --planted or remove them"
            )
    if getattr(args, "spec", None) is not None:
        _check_input_file(args.spec, "--spec")


def _spec_from_args(args: argparse.Namespace, *, check_memory: bool = False):
    from .spec import default_spec, load_spec, planted_spec

    _check_size_args(args)
    if args.spec is not None:
        spec = load_spec(args.spec)
        spec = spec.with_(n_people=args.n_people, n_items=args.n_items, seed=args.seed)
    elif args.planted:
        v = {
            d: getattr(args, d) if getattr(args, d) is not None else _PLANTED_DEFAULTS[d]
            for d in _PLANTED_ONLY
        }
        spec = planted_spec(
            args.n_people or 10_000,
            args.n_items or 2_000,
            v["k_people"],
            v["k_items"],
            v["mean_purchases"],
            v["mixing"],
            0 if args.seed is None else args.seed,
            ratio=v["ratio"],
        )
    else:
        spec = default_spec(
            n_people=args.n_people or 2000,
            n_items=args.n_items or 500,
            seed=0 if args.seed is None else args.seed,
        )
    if check_memory:
        n_feat = len(spec.people.features) + len(spec.items.features)
        _check_memory(
            spec.people.n, spec.items.n, spec.relation.mean_purchases, n_feat, spec.time is not None
        )
    return spec
