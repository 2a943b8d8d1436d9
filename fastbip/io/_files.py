"""File-system steps of an atomic save: refuse a target that cannot be replaced, and sync
the folder after the rename."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["fsync_dir", "writable"]


def writable(target: Path) -> None:
    """Refuse a folder or a write-protected file as the target of a save (before writing)."""
    try:
        st = target.stat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, f"cannot save a dataset to {str(target)!r}: it is a directory")
    if not (st.st_mode & 0o222) or not os.access(target, os.W_OK):
        raise PermissionError(
            13,
            f"cannot save a dataset to {str(target)!r}: the file is write-protected "
            "(make it writable or remove it first)",
        )


def fsync_dir(folder: Path) -> None:
    """Sync ``folder`` so that a rename in it survives a crash (where the platform can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a folder that cannot be opened (some platforms): the rename stands
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
