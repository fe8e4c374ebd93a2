"""The one exception that dataset files and downloads raise."""

from __future__ import annotations


class DatasetError(OSError):
    """A dataset file is missing, corrupt, or could not be downloaded.

    The message names the file (or every URL tried) and what was wrong with it. It subclasses
    ``OSError``, so code that already handles I/O failures handles it too. ``fetchable`` is
    True when downloading would fix it (the message then ends with how to ask for that from
    Python, ``download=True``; ``problem`` is the message without that advice, for programs
    such as the command line that say it their own way).

    Example:
        >>> err = DatasetError("/tmp/x.gz: bad magic number 0x00000000")
        >>> isinstance(err, OSError)
        True
        >>> str(DatasetError("mnist/t10k-images-idx3-ubyte.gz not found", fetchable=True))
        'mnist/t10k-images-idx3-ubyte.gz not found; pass download=True to fetch it'
    """

    def __init__(self, problem: str, fetchable: bool = False) -> None:
        super().__init__(problem + ("; pass download=True to fetch it" if fetchable else ""))
        self.problem = problem
        self.fetchable = fetchable

    def __reduce__(self) -> tuple:
        return type(self), (self.problem, self.fetchable)
