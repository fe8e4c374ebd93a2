"""The shipped verse, the character vocabulary and the truncated-BPTT batches."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.data import CharVocabulary, bptt_batches, load_verse


def test_the_verse_ships_inside_the_package() -> None:
    text = load_verse()
    assert text.startswith("SONNET 18\n\nShall I compare thee to a summer's day?")
    assert 25_000 < len(text) < 300_000 and text.isascii()
    assert "To strive, to seek, to find, and not to yield." in text


def test_vocabulary_round_trip() -> None:
    text = load_verse()
    vocab = CharVocabulary(text)
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.max() == len(vocab) - 1
    assert vocab.decode(ids) == text
    assert vocab.chars == sorted(vocab.chars)


def test_vocabulary_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        CharVocabulary("")
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        CharVocabulary("abc").encode("abz")


def test_bptt_batches_continue_each_stream_and_target_the_next_id() -> None:
    ids = np.arange(103)
    chunks = list(bptt_batches(ids, batch_size=4, seq_len=7))
    length = 102 // 4
    assert [x.shape for x, _ in chunks] == [(7, 4)] * 3 + [(length - 21, 4)]
    xs = np.concatenate([x for x, _ in chunks])
    ys = np.concatenate([y for _, y in chunks])
    np.testing.assert_array_equal(xs, np.arange(length)[:, None] + length * np.arange(4))
    np.testing.assert_array_equal(ys, xs + 1)


@pytest.mark.parametrize(
    ("batch_size", "seq_len", "message"), [(0, 5, "positive"), (20, 5, "too few")]
)
def test_bptt_batches_errors(batch_size: int, seq_len: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next(bptt_batches(np.arange(10), batch_size, seq_len))
