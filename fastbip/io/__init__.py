"""Datasets in and out: the versioned dataset file (:mod:`~fastbip.io.fbp`) and real purchase
logs (:mod:`~fastbip.io.logs`)."""

from .fbp import FORMAT_NAME, FORMAT_VERSION, DatasetFormatError, load, save
from .logs import from_log, read_log

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "DatasetFormatError",
    "from_log",
    "load",
    "read_log",
    "save",
]
