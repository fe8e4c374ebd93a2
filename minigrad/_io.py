"""File helpers shared by checkpoints, training histories and dataset downloads."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import IO


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


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb", what: str = "save") -> Iterator[IO]:
    """Write ``path`` all or nothing: yield a new temporary file beside it, then flush, fsync
    and move it over ``path`` with ``os.replace``.

    Any failure, an interrupt included (Ctrl-C, or SIGTERM where the program turns it into
    one), removes the temporary file and leaves the previous ``path`` untouched. Text modes
    write UTF-8 and leave line endings as written. An ``OSError``
    is raised again with ``path`` as its file name and ``what`` in its message, so that a
    missing or read-only folder names the target, never the hidden temporary file. The file
    gets the permissions a new file gets (the umask applies).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = _create_temp(folder, os.path.basename(path))
        try:
            text = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
            with os.fdopen(fd, mode, **text) as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise type(exc)(exc.errno, f"{what}: cannot write {exc.strerror or exc}", path) from exc
    fsync_folder(folder)


def _create_temp(folder: str, name: str) -> tuple[int, str]:
    """Create a new temporary file beside the target; unlike ``mkstemp`` it honours the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {folder}")
