"""Peak resident memory of one call, above what the process held before it (Linux only)."""

import gc
import os

CAN_MEASURE = os.path.exists("/proc/self/clear_refs")


def _status(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_during(fn):
    """(fn(), bytes of resident memory at the call's peak above the memory before it): the
    kernel's peak counter (VmHWM) is reset through /proc/self/clear_refs before the call,
    so numba's and numpy's allocations are both seen."""
    gc.collect()
    base = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    out = fn()
    return out, _status("VmHWM") - base
