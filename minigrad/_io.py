"""File helpers shared by checkpoints and dataset downloads."""

from __future__ import annotations

import contextlib
import os


def fsync_folder(folder: str | os.PathLike) -> None:
    """Make a rename inside ``folder`` durable where the platform allows it (POSIX).

    Some systems (Windows) cannot open a folder; then there is nothing to do.
    """
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
