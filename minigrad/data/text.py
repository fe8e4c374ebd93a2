"""Text for character-level language models: the shipped verse, a vocabulary, BPTT batches.

``load_verse()`` reads the public-domain anthology that ships inside the package
(``minigrad/data/corpus/verse.txt``; sources and public-domain status in ``SOURCES.md`` beside
it). ``CharVocabulary`` maps characters to integer ids, and ``bptt_batches`` cuts a long id
sequence into the time-major chunks truncated backpropagation through time trains on.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from typing import Any

import numpy as np

from minigrad.data.errors import DatasetError

VERSE = "verse.txt"


def load_verse() -> str:
    """The anthology of public-domain poems that ships with minigrad (about 30 KB of ASCII).

    Example:
        >>> text = load_verse()
        >>> text.splitlines()[0], len(text) > 25_000
        ('SONNET 18', True)
    """
    path = resources.files("minigrad.data") / "corpus" / VERSE
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read the shipped verse ({error})") from None


class CharVocabulary:
    """The sorted set of characters of a text, each given an integer id.

    Example:
        >>> vocab = CharVocabulary("hello")
        >>> len(vocab), vocab.encode("hell").tolist(), vocab.decode([3, 2])
        (4, [1, 0, 2, 2], 'ol')
    """

    def __init__(self, text: str) -> None:
        if not text:
            raise ValueError("CharVocabulary: the text is empty")
        self.chars = sorted(set(text))
        self._ids = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text``'s characters (int64); an unknown character is a ValueError."""
        try:
            return np.array([self._ids[c] for c in text], dtype=np.int64)
        except KeyError as error:
            raise ValueError(
                f"CharVocabulary.encode: character {error.args[0]!r} is not in the vocabulary"
            ) from None

    def decode(self, ids: Any) -> str:
        """The text spelled by ``ids``."""
        return "".join(self.chars[int(i)] for i in np.asarray(ids).reshape(-1))


def bptt_batches(
    ids: Any, batch_size: int, seq_len: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Chunks of ``batch_size`` parallel streams for truncated BPTT, time-major.

    ``ids`` is cut into ``batch_size`` equal streams laid side by side (the tail that does not
    fit is dropped); each chunk gives inputs ``x (T, batch_size)`` and the next characters
    ``y (T, batch_size)``, ``T = seq_len`` (shorter at the end). Column ``n`` of one chunk
    continues column ``n`` of the previous one, so a model can carry its state from chunk to
    chunk (detached: see the docs on truncated BPTT).

    Example:
        >>> chunks = list(bptt_batches(np.arange(11), batch_size=2, seq_len=2))
        >>> chunks[0][0].tolist(), chunks[0][1].tolist(), len(chunks)
        ([[0, 5], [1, 6]], [[1, 6], [2, 7]], 3)
    """
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if batch_size <= 0 or seq_len <= 0:
        raise ValueError(
            f"bptt_batches: batch_size and seq_len must be positive, got {batch_size}, {seq_len}"
        )
    length = (len(ids) - 1) // batch_size
    if length < 1:
        raise ValueError(
            f"bptt_batches: {len(ids)} ids are too few for {batch_size} streams of at least 2"
        )
    streams = np.stack([ids[n * length : n * length + length + 1] for n in range(batch_size)], 1)
    for start in range(0, length, seq_len):
        stop = min(start + seq_len, length)
        yield streams[start:stop], streams[start + 1 : stop + 1]
