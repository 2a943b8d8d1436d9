"""Datasets in and out: the versioned dataset file (:mod:`~fastbip.io.fbp`) and real purchase
logs (:mod:`~fastbip.io.logs`).

The log readers are imported on first use (PEP 562), so reading a file's manifest
(``fastbip info``) does not import the generator and its kernels.
"""

from typing import Any

from .fbp import FORMAT_NAME, FORMAT_VERSION, DatasetFormatError, load, save

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "DatasetFormatError",
    "from_log",
    "load",
    "read_log",
    "save",
]


def __getattr__(name: str) -> Any:
    if name in ("from_log", "read_log"):
        from . import logs

        return getattr(logs, name)
    raise AttributeError(f"module 'fastbip.io' has no attribute {name!r}")
