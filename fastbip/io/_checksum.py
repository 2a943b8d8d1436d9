"""The integrity checksums of dataset files: which one a manifest uses, computing and checking.

Files of format version 2 record, per array, ``"xxh64t"``: the XXH64 tree digest of the
array's bytes (16 hex digits; XXH64 of the little-endian sequence of the XXH64 digests of
consecutive leaves of ``xxh64t_chunk_bytes`` bytes, recorded once in the manifest; see
:mod:`fastbip._kernels.checksum`). It is computed at memory speed on every core and does
not depend on the number of threads. It is a non-cryptographic checksum: it detects
corruption and truncation, not a deliberate alteration. Version 1 files record ``"sha256"``
and are checked with SHA-256 as before.

Every check raises :class:`~fastbip.io._fbpcheck.Inconsistent`; nothing here names a file.
"""

from __future__ import annotations

import hashlib
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

XXH64T = "xxh64t"
SHA256 = "sha256"
CHUNK_FIELD = "xxh64t_chunk_bytes"
CHUNK_BYTES = 4 << 20  # bytes per leaf of the tree written by this fastbip
_CHUNK_MAX = 1 << 30
_HEX = {XXH64T: re.compile(r"^[0-9a-f]{16}$"), SHA256: re.compile(r"^[0-9a-f]{64}$")}
_NAME = {XXH64T: "XXH64 tree checksum", SHA256: "SHA-256"}
_TASK_LEAVES = 4  # leaves per thread task (16 MiB): small enough to balance, large per call
_SHA_STEP = 16 << 20


def algorithm(version: int) -> str:
    """The per-array checksum field of a dataset file of format ``version`` (1 or 2)."""
    return SHA256 if version == 1 else XXH64T


def describe(alg: str) -> str:
    """The checksum's name in messages: ``"SHA-256"`` or ``"XXH64 tree checksum"``."""
    return _NAME[alg]


def check_fields(m: dict, alg: str) -> None:
    """The manifest's checksum fields: every array's digest of ``alg`` and, for ``xxh64t``,
    the leaf size (a multiple of 32 bytes from 32 to 2^30)."""
    from ._fbpcheck import MANIFEST, Inconsistent

    if alg == XXH64T:
        c = m.get(CHUNK_FIELD)
        if not (
            isinstance(c, int) and not isinstance(c, bool) and 32 <= c <= _CHUNK_MAX and c % 32 == 0
        ):
            raise Inconsistent(
                MANIFEST,
                f"{CHUNK_FIELD} must be a multiple of 32 from 32 to {_CHUNK_MAX}; got {c!r}",
            )
    for name, meta in m["arrays"].items():
        v = meta.get(alg)
        if not isinstance(v, str) or not _HEX[alg].match(v):
            n = 16 if alg == XXH64T else 64
            raise Inconsistent(MANIFEST, f"arrays[{name!r}].{alg} must be {n} hex digits")


# --------------------------------------------------------------------------- XXH64 tree


def _split(u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whole little-endian uint64 words, tail bytes) of a uint8 array, read-only views (a
    copy only when the bytes are not 8-aligned in memory or the host is big-endian)."""
    n = u8.shape[0] - u8.shape[0] % 8
    words = u8[:n].view(np.uint64) if n else np.empty(0, np.uint64)
    if not words.flags.aligned:
        words = words.copy()
    if sys.byteorder != "little":
        words = words.byteswap()
    tail = u8[n:]
    words, tail = words.view(), tail.view()
    words.flags.writeable = False  # one compiled variant for read-only and writable input
    tail.flags.writeable = False
    return words, np.ascontiguousarray(tail)


def _as_u8(view: memoryview | np.ndarray) -> np.ndarray:
    if isinstance(view, np.ndarray):
        return view.reshape(-1).view(np.uint8)
    return np.frombuffer(view, np.uint8) if len(view) else np.empty(0, np.uint8)


def _n_leaves(nbytes: int, chunk: int) -> int:
    return -(-nbytes // chunk)


def _root(leaves: np.ndarray) -> str:
    from fastbip._kernels import checksum as kc

    leaves = leaves.astype("<u8", copy=False)
    words, tail = _split(leaves.view(np.uint8))
    return f"{int(kc._xxh64_words_tail(words, tail, np.uint64(0))):016x}"


def xxh64_leaves(view: memoryview | np.ndarray, chunk: int = CHUNK_BYTES) -> np.ndarray:
    """The leaf digests (uint64) of ``view``'s bytes, serially; ``chunk`` a multiple of 32."""
    from fastbip._kernels import checksum as kc

    words, tail = _split(_as_u8(view))
    out = np.zeros(_n_leaves(words.shape[0] * 8 + tail.shape[0], chunk), np.uint64)
    kc._xxh64_tree_leaves(words, tail, chunk // 8, 0, out.shape[0], out)
    return out


class TreeHasher:
    """The XXH64 tree digest of a byte string fed in pieces (as :func:`save` streams it).

    Every piece but the last must be a whole number of leaves (a multiple of ``chunk``)."""

    def __init__(self, chunk: int = CHUNK_BYTES) -> None:
        self.chunk = chunk
        self.leaves: list[np.ndarray] = []

    def update(self, piece: memoryview | np.ndarray) -> None:
        """Add the leaves of the next piece (called on a worker thread: the kernel releases
        the GIL)."""
        self.leaves.append(xxh64_leaves(piece, self.chunk))

    def hexdigest(self) -> str:
        """The tree digest of everything added, 16 hex digits."""
        return _root(np.concatenate(self.leaves) if self.leaves else np.zeros(0, np.uint64))


def xxh64t_hexdigests(
    views: dict[str, Any], chunk: int = CHUNK_BYTES, threads: int | None = None
) -> dict[str, str]:
    """The XXH64 tree digest of each array's bytes, the leaves of all arrays shared out to
    ``threads`` threads (default: numba's thread count, ``NUMBA_NUM_THREADS``) in tasks of a
    few leaves; the digests do not depend on ``threads``."""
    from numba import config

    from fastbip._kernels import checksum as kc

    threads = max(1, int(threads or config.NUMBA_NUM_THREADS))
    parts, tasks = {}, []
    for name, view in views.items():
        words, tail = _split(_as_u8(view))
        out = np.zeros(_n_leaves(words.shape[0] * 8 + tail.shape[0], chunk), np.uint64)
        parts[name] = out
        n = out.shape[0]
        tasks += [
            (words, tail, chunk // 8, s, min(s + _TASK_LEAVES, n), out)
            for s in range(0, n, _TASK_LEAVES)
        ]
    if threads == 1 or len(tasks) <= 1:
        for t in tasks:
            kc._xxh64_tree_leaves(*t)
    else:
        with ThreadPoolExecutor(max_workers=min(threads, len(tasks))) as pool:
            list(pool.map(lambda t: kc._xxh64_tree_leaves(*t), tasks))
    return {name: _root(out) for name, out in parts.items()}


# --------------------------------------------------------------------------- SHA-256


def sha256_hexdigest(view: memoryview) -> str:
    """SHA-256 of ``view``'s bytes (hashlib releases the GIL on each step)."""
    h = hashlib.sha256()
    for s in range(0, len(view), _SHA_STEP):
        h.update(view[s : s + _SHA_STEP])
    return h.hexdigest()


def sha256_hexdigests(views: dict[str, memoryview], threads: int = 4) -> dict[str, str]:
    """SHA-256 of each array's bytes, the arrays on up to ``threads`` threads."""
    names = sorted(views, key=lambda n: -len(views[n]))
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        found = pool.map(lambda n: sha256_hexdigest(views[n]), names)
        return dict(zip(names, found, strict=True))


def hexdigests(alg: str, views: dict[str, memoryview], m: dict) -> dict[str, str]:
    """The digests of ``alg`` of every array, as the manifest ``m`` records them."""
    if alg == XXH64T:
        return xxh64t_hexdigests(views, m[CHUNK_FIELD])
    import os

    return sha256_hexdigests(views, max(1, min(4, os.cpu_count() or 1)))
