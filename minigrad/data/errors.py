"""The one exception that dataset files and downloads raise."""

from __future__ import annotations


class DatasetError(OSError):
    """A dataset file is missing, corrupt, or could not be downloaded.

    The message names the file (or every URL tried) and what was wrong with it. It subclasses
    ``OSError``, so code that already handles I/O failures handles it too.

    Example:
        >>> err = DatasetError("/tmp/x.gz: bad magic number 0x00000000")
        >>> isinstance(err, OSError)
        True
    """
