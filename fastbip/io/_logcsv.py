"""Plain CSV logs read in chunks: :func:`csv_chunks` (the integer fields of simple lines
parsed by ``fastbip._kernels.logs.parse_int_fields``, the rest by ``pyarrow.csv``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fastbip._kernels import logs as _kl

from ._logcols import _arrow

__all__ = ["csv_chunks"]


def _fast_fields(chunk: bytes, n_fields: int, pos: list[int]):
    """The fields ``pos`` of CSV lines as int64 arrays when every line is simple (comma
    delimited, no quotes, those fields plain decimal integers):
    ``fastbip._kernels.logs.parse_int_fields``; else None."""
    from concurrent.futures import ThreadPoolExecutor

    pa, _ = _arrow()
    buf = np.frombuffer(chunk, dtype=np.uint8)
    slot = np.full(n_fields, -1, np.int64)
    slot[pos] = np.arange(len(pos))
    # two halves cut at a line end, parsed in two threads (the kernel releases the GIL)
    mid = chunk.find(b"\n", len(chunk) // 2) + 1 if len(chunk) > 1 << 20 else 0
    cuts = [0, mid, len(chunk)] if 0 < mid < len(chunk) else [0, len(chunk)]
    parts = [buf[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
    outs = [
        np.empty((len(pos), chunk.count(b"\n", a, b) + 1), np.int64)
        for a, b in zip(cuts, cuts[1:], strict=False)
    ]

    def parse(k: int) -> int:
        return _kl.parse_int_fields(parts[k], 44, slot, outs[k])

    if len(parts) == 1:
        ns = [parse(0)]
    else:
        with ThreadPoolExecutor(2) as pool:
            ns = list(pool.map(parse, range(2)))
    if min(ns) < 0:
        return None
    return [
        pa.array(np.concatenate([o[r, :n] for o, n in zip(outs, ns, strict=True)]))
        for r in range(len(pos))
    ]


def csv_chunks(
    path: Path, names: list[str], id_cols: list[str], columns: list[str], block: int
) -> Iterator[Any]:
    """The record batches of the plain CSV file ``path`` (header ``names``; ``id_cols``
    read as ids) for ``columns``, read in chunks of about ``block``
    bytes, each cut at a line end and parsed by ``pyarrow.csv.read_csv`` (in parallel,
    the chosen columns only). Like pyarrow's own block reader, it takes no line end to
    sit inside a quoted value."""
    pa, _ = _arrow()
    import pyarrow.csv as pcsv

    types = {c: pa.string() for c in id_cols}
    conv = pcsv.ConvertOptions(
        include_columns=columns, column_types=types, strings_can_be_null=True
    )
    read = pcsv.ReadOptions(column_names=names, block_size=1 << 20)
    ids = [c for c in id_cols if c in columns]
    others = [c for c in columns if c not in ids]
    pos = {c: names.index(c) for c in columns}
    with open(path, "rb") as fh:
        fh.readline()  # the header
        while chunk := fh.read(block):
            if not chunk.endswith(b"\n"):
                chunk += fh.readline()  # to the end of the chunk's last line
            if chunk.isspace():
                continue
            # simple lines: integer fields parsed here (all the columns if they are, else
            # the ids), the rest by pyarrow; otherwise pyarrow alone
            fast, rest = None, others
            if len(ids) == 2:
                for mine in (columns, ids) if others else (ids,):
                    fast = _fast_fields(chunk, len(names), [pos[c] for c in mine])
                    if fast is not None:
                        rest = [c for c in columns if c not in mine]
                        arrays = dict(zip(mine, fast, strict=True))
                        break
            if fast is not None and rest:
                conv_rest = pcsv.ConvertOptions(include_columns=rest, strings_can_be_null=True)
                other = pcsv.read_csv(
                    pa.BufferReader(chunk), read_options=read, convert_options=conv_rest
                )
                if other.num_rows == len(fast[0]):
                    other = other.combine_chunks()
                    arrays.update({c: other.column(c).chunk(0) for c in rest})
                else:
                    fast = None
            if fast is not None:
                yield pa.record_batch([arrays[c] for c in columns], names=columns)
                continue
            table = pcsv.read_csv(pa.BufferReader(chunk), read_options=read, convert_options=conv)
            yield from table.to_batches()
