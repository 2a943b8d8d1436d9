"""The ``fastbip`` command on a Dask cluster: the client of ``--scheduler`` / ``--workers``
and ``analyze`` / ``report`` of a sharded dataset directory."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from fastbip._cli_args import _UsageError


@contextlib.contextmanager
def _dask_client(args: argparse.Namespace):
    """A client of ``--scheduler ADDRESS``, or of a local cluster of ``--workers N``."""
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1; got {args.workers}")
    try:
        import distributed
    except ImportError:
        raise ImportError(
            "--scheduler and --workers need dask: pip install 'fastbip[dask]'"
        ) from None
    cluster = None
    if args.scheduler:
        try:
            client = distributed.Client(args.scheduler, timeout="30s")
        except ValueError as e:  # not an address at all
            raise ValueError(
                f"--scheduler {args.scheduler!r} is not a Dask scheduler address (expected "
                f"tcp://HOST:PORT, as `dask scheduler` prints it): {e}"
            ) from None
        except (OSError, TimeoutError) as e:
            raise ValueError(
                f"--scheduler {args.scheduler}: no Dask scheduler answered there ({e}); start "
                "one (`dask scheduler`, then `dask worker ADDRESS`) or give --workers N for a "
                "local cluster"
            ) from None
    else:
        cluster = distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, dashboard_address=None
        )
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _study_on_dask(args: argparse.Namespace, data: str, out: Path, page: Path | None) -> int:
    """``analyze`` / ``report`` of a sharded directory on a Dask cluster: the fit and the
    block counts run on the workers (fastbip.distributed.sharded_study)."""
    if Path(data).is_dir() and not (Path(data) / "manifest.json").is_file():
        raise _UsageError(
            f"{data!r} is a directory without manifest.json, not a fastbip sharded dataset; "
            "give a file (a log for analyze, a dataset or results for report) or a sharded "
            "dataset's directory"
        )
    if not (args.scheduler or args.workers is not None):
        raise _UsageError(
            f"{data!r} is a sharded dataset directory: give --scheduler ADDRESS or "
            "--workers N to study it on a Dask cluster"
        )
    if getattr(args, "algorithms", None) or getattr(args, "twin", False):
        raise _UsageError(
            "a sharded dataset is fitted with the block model (dcsbm) only: --algorithms "
            "and --twin do not apply"
        )
    from fastbip.io.sharded import load_sharded

    sds = load_sharded(data)
    with _dask_client(args) as client:
        from fastbip.distributed.sharded_study import run_sharded_study

        print(sds.summary())
        facts = run_sharded_study(
            sds,
            out,
            k_people=getattr(args, "k_people", None),
            k_items=getattr(args, "k_items", None),
            seed=getattr(args, "seed", None) or 0,
            client=client,
        )
    print(f"wrote {out / 'results.json'} and the labels")
    if page is not None:  # the local report's three questions, from the facts alone
        from fastbip.report.sharded import write_sharded_page

        write_sharded_page(facts, page)
        print(f"wrote {page}")
    return 0
