"""Counter-based random streams for the generator kernels (numba, inline helpers only).

Each fixed-size block of rows gets its own SplitMix64 stream, whose start is a hash of a
64-bit key (drawn from a ``numpy.random.SeedSequence`` by the caller), the block index and a
stream number (``STREAM_*`` below). A block's draws are a pure function of ``(key, block
index, stream)``, so every kernel that uses them gives bit-identical output for any number
of threads, workers or row shards.

Cache and threads: nothing here is a kernel of its own; every function is
``@njit(inline="always")`` and is compiled into the kernel that calls it (in
``sampling.py``, ``generate.py``, ``events.py``), so it has no cache entry and no thread
decision of its own. numba's cache of a calling kernel is keyed on the caller's file only:
after changing anything here, clear the cached kernels (the ``__pycache__`` entries of
``fastbip/_kernels``), or they keep the old code.

A state is a uint64; every helper takes the state and returns the new state first.
"""

import numpy as np
from numba import njit

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53

#: stream numbers mixed into each block's seed
STREAM_COUNTS = 1
STREAM_ITEMS = 2
STREAM_EXACT = 3
STREAM_EVENTS = 4


@njit(inline="always")
def _mix(z):
    """SplitMix64 finaliser of ``z`` (uint64 scalar): a well-mixed uint64 of the same bits."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(inline="always")
def _next(s):
    """SplitMix64 step of ``s`` (uint64 state): (new state, uint64 output)."""
    s = s + _GAMMA
    return s, _mix(s)


@njit(inline="always")
def _uniform(s):
    """Uniform draw from state ``s`` (uint64): (state, float64 in [0, 1) with 53 random bits)."""
    s, z = _next(s)
    return s, (z >> _S11) * _INV53


@njit(inline="always")
def _block_state(key, block, stream):
    """Start state (uint64) of row block ``block`` (int) in stream ``stream`` (int) of ``key``.

    ``key`` is the uint64 key of the seed; each (block, stream) pair gets its own stream.
    """
    h = _mix(key ^ _mix(np.uint64(block) * _GAMMA + np.uint64(stream)))
    return _mix(h + _GAMMA)
