"""Numba kernels of the integrity checksum of the dataset files: XXH64 and its tree form.

XXH64 is the published 64-bit xxHash (Yann Collet, https://xxhash.com, the specification in
``doc/xxhash_spec.md`` of the xxHash repository): a fast non-cryptographic hash. It detects
corruption and truncation (a changed, lost or added byte changes the digest with
probability 1 - 2^-64); it does not resist someone who alters a file on purpose.

A byte string is given to the kernels as its whole little-endian 8-byte words (``words``,
uint64) and the bytes after the last whole word (``tail``, uint8, fewer than 8), so that the
inner loop reads one word per step; the caller (:mod:`fastbip.io._checksum`) makes both
views of an array's bytes without copying them.

The tree form: a string is cut into leaves of ``chunk_words`` words (the last leaf shorter,
and holding the tail); its digest is the XXH64 of the little-endian sequence of the leaves'
XXH64 digests (seed 0 throughout). The leaves are independent, so threads may compute
disjoint ranges of them, and the digest does not depend on how many threads did.

Cache and threads: serial (``cache=True, nogil=True``). Parallelism is the caller's: it
runs :func:`_xxh64_tree_leaves` on disjoint leaf ranges from a thread pool (the kernels
release the GIL), so no ``parallel=True`` variant is compiled.
"""

import numpy as np
from numba import njit

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x85EBCA77C2B2AE63)
_P5 = np.uint64(0x27D4EB2F165667C5)


@njit(cache=True, nogil=True, inline="always")
def _rotl(x, r):
    """``x`` (uint64) rotated left by ``r`` (uint64, 1 to 63) bits."""
    return (x << r) | (x >> (np.uint64(64) - r))


@njit(cache=True, nogil=True, inline="always")
def _round(acc, lane):
    """One XXH64 accumulator round: acc (uint64), lane (uint64); returns uint64."""
    acc = acc + lane * _P2
    acc = _rotl(acc, np.uint64(31))
    return acc * _P1


@njit(cache=True, nogil=True, inline="always")
def _merge(h, v):
    """Merge accumulator ``v`` (uint64) into ``h`` (uint64); returns uint64."""
    h = h ^ _round(np.uint64(0), v)
    return h * _P1 + _P4


@njit(cache=True, nogil=True)
def _xxh64_words_tail(words, tail, seed):
    """XXH64 of the byte string ``words`` (as little-endian bytes) followed by ``tail``.

    words : uint64 (n_words,), C-contiguous, any values: the string's whole 8-byte words,
        read as little-endian.
    tail : uint8 (n_tail,), n_tail <= 7 (not checked beyond that the string is words then
        tail), the bytes after the last whole word.
    seed : uint64, the XXH64 seed (fastbip uses 0).
    Returns the uint64 digest, equal to ``xxhash.xxh64_intdigest(bytes, seed)`` of the
    ``8 * n_words + n_tail`` bytes.
    """
    n_words = words.shape[0]
    n_tail = tail.shape[0]
    length = np.uint64(8 * n_words + n_tail)
    seed = np.uint64(seed)
    i = 0
    if n_words >= 4:
        v1 = seed + _P1 + _P2
        v2 = seed + _P2
        v3 = seed
        v4 = seed - _P1
        stop = n_words - n_words % 4
        while i < stop:
            v1 = _round(v1, words[i])
            v2 = _round(v2, words[i + 1])
            v3 = _round(v3, words[i + 2])
            v4 = _round(v4, words[i + 3])
            i += 4
        h = (
            _rotl(v1, np.uint64(1))
            + _rotl(v2, np.uint64(7))
            + _rotl(v3, np.uint64(12))
            + _rotl(v4, np.uint64(18))
        )
        h = _merge(h, v1)
        h = _merge(h, v2)
        h = _merge(h, v3)
        h = _merge(h, v4)
    else:
        h = seed + _P5
    h = h + length
    while i < n_words:
        h = h ^ _round(np.uint64(0), words[i])
        h = _rotl(h, np.uint64(27)) * _P1 + _P4
        i += 1
    j = 0
    if n_tail >= 4:
        k = (
            np.uint64(tail[0])
            | (np.uint64(tail[1]) << np.uint64(8))
            | (np.uint64(tail[2]) << np.uint64(16))
            | (np.uint64(tail[3]) << np.uint64(24))
        )
        h = h ^ (k * _P1)
        h = _rotl(h, np.uint64(23)) * _P2 + _P3
        j = 4
    while j < n_tail:
        h = h ^ (np.uint64(tail[j]) * _P5)
        h = _rotl(h, np.uint64(11)) * _P1
        j += 1
    h = h ^ (h >> np.uint64(33))
    h = h * _P2
    h = h ^ (h >> np.uint64(29))
    h = h * _P3
    h = h ^ (h >> np.uint64(32))
    return h


@njit(cache=True, nogil=True)
def _xxh64_tree_leaves(words, tail, chunk_words, first, stop, out):
    """XXH64 digests of the leaves ``first`` to ``stop - 1`` of a string, into ``out``.

    words : uint64 (n_words,), C-contiguous: the string's whole little-endian 8-byte words.
    tail : uint8 (n_tail,), n_tail <= 7: the bytes after the last whole word.
    chunk_words : int64 >= 1, the words per leaf (leaf ``i`` holds words
        ``[i * chunk_words, (i + 1) * chunk_words)``; the last leaf holds the rest and the
        tail).
    first, stop : int64, 0 <= first <= stop <= n_leaves, where n_leaves is
        ``ceil((8 * n_words + n_tail) / (8 * chunk_words))`` (0 for the empty string).
    out : uint64 (n_leaves,), written at ``[first, stop)`` only, so that threads may fill
        disjoint ranges of one array.
    Returns nothing.
    """
    n_words = words.shape[0]
    n_leaves = out.shape[0]
    empty = tail[:0]
    for i in range(first, stop):
        a = i * chunk_words
        b = min(a + chunk_words, n_words)
        if i == n_leaves - 1:
            out[i] = _xxh64_words_tail(words[a:b], tail, np.uint64(0))
        else:
            out[i] = _xxh64_words_tail(words[a:b], empty, np.uint64(0))
