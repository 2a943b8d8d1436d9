"""Peak resident memory of one call, above what the process held before it (Linux only)."""

import ctypes
import ctypes.util
import gc
import os

CAN_MEASURE = os.path.exists("/proc/self/clear_refs")
_M_MMAP_THRESHOLD = -3


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _status(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_during(fn):
    """(fn(), bytes of resident memory at the call's peak above the memory before it): the
    kernel's peak counter (VmHWM) is reset through /proc/self/clear_refs before the call,
    so numba's and numpy's allocations are both seen. Every allocation of 64 KiB or more is
    made to map its own pages (glibc's mallopt), and the free memory glibc keeps is returned
    first (malloc_trim): otherwise a call could reuse memory freed earlier, resident
    already, and the peak would read low."""
    gc.collect()
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 16)
        libc.malloc_trim(0)
    base = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    out = fn()
    return out, _status("VmHWM") - base
