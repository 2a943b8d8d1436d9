"""Serial twins of parallel kernels: the same source compiled without ``parallel=True``.

numba's ``parallel=True`` compiles several times slower than a serial kernel and is no faster
on small inputs, so each row-parallel kernel that a small first call meets (the demo, the
tests) has a serial twin compiled from the same Python function: ``prange`` runs as
``range`` and ``numba.get_thread_id()`` is 0, so the twin computes bit for bit what the
parallel kernel computes. The caller picks the twin below a size threshold.

The twin is a copy of the function under the name ``<name>_serial``: numba's cache is
keyed on the function's qualified name (and file), so the two never share a cache entry.
"""

import types

from numba import njit


def serial_twin(dispatcher):
    """``njit(cache=True, nogil=True)`` of the Python function behind ``dispatcher``."""
    f = dispatcher.py_func
    g = types.FunctionType(
        f.__code__, f.__globals__, f.__name__ + "_serial", f.__defaults__, f.__closure__
    )
    g.__qualname__ = f.__qualname__ + "_serial"
    g.__module__ = f.__module__
    g.__doc__ = f"Serial twin of ``{f.__name__}`` (same arguments and results).\n\n{f.__doc__}"
    return njit(cache=True, nogil=True)(g)
