"""A character-level language model trained with truncated backpropagation through time.

``python -m minigrad charlm`` runs :func:`main`: an embedding, an LSTM (or GRU) and a linear
read-out learn to predict the next character of the public-domain verse that ships with minigrad
(``minigrad.data.load_verse``), printing text sampled from the model as it trains.

The training loop shows the truncated-BPTT pattern: the text is cut into parallel streams, read
in chunks of ``seq_len`` characters; the state the LSTM reaches at the end of one chunk starts
the next one, *detached*, so each backward pass runs through one chunk only while the model still
sees context from before it. Gradients are clipped by their total norm before every update.
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from minigrad import nn, optim
from minigrad.autograd import no_grad
from minigrad.data.text import CharVocabulary, bptt_batches, load_verse
from minigrad.ops.loss import cross_entropy
from minigrad.random import manual_seed
from minigrad.tensor import Tensor

VALIDATION_FRACTION = 0.1  # the last tenth of the text is held out


class CharLM(nn.Layer):
    """``Embedding -> LSTM or GRU -> Linear``: next-character logits at every step.

    ``forward(idx (T, N), state)`` returns ``(logits (T, N, V), state)``; pass the state back
    (detached) to continue the text.

    Example:
        >>> model = CharLM(vocab_size=20, hidden_size=16)
        >>> logits, state = model(np.zeros((5, 3), dtype=np.int64))
        >>> logits.shape
        (5, 3, 20)
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 32,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"CharLM: cell must be 'lstm' or 'gru', got {cell!r}")
        self.embed = nn.Embedding(vocab_size, embed_dim)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(embed_dim, hidden_size, num_layers=num_layers, dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx: Any, state: Any = None) -> tuple[Tensor, Any]:
        output, state = self.rnn(self.embed(idx), state)
        return self.head(output), state


def detach(state: Any) -> Any:
    """The state with its history cut: a tensor, or a tuple of them (an LSTM's ``(h, c)``).

    Example:
        >>> import minigrad as mg
        >>> h = mg.tensor([1.0], requires_grad=True) * 2
        >>> detach((h, h))[0].requires_grad
        False
    """
    if isinstance(state, tuple):
        return tuple(detach(s) for s in state)
    return state.detach()


def sample(
    model: CharLM,
    vocab: CharVocabulary,
    length: int,
    prime: str = "\n",
    temperature: float = 0.8,
    rng: np.random.Generator | None = None,
) -> str:
    """``length`` characters drawn from the model one at a time after reading ``prime``.

    Each character is drawn from ``softmax(logits / temperature)``: below 1 the model's
    favourite characters get likelier, above 1 the text gets wilder.

    Example:
        >>> vocab = CharVocabulary("ab\\n")
        >>> len(sample(CharLM(len(vocab), hidden_size=8), vocab, 10))
        10
    """
    if temperature <= 0:
        raise ValueError(f"sample: temperature must be positive, got {temperature}")
    rng = rng or np.random.default_rng()
    was_training = model.training
    model.eval()
    chars = []
    with no_grad():
        logits, state = model(vocab.encode(prime)[:, None])
        for _ in range(length):
            z = logits.numpy()[-1, 0].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            chars.append(vocab.chars[nxt])
            logits, state = model(np.array([[nxt]]), state)
    model.train(was_training)
    return "".join(chars)


def evaluate_loss(model: CharLM, ids: np.ndarray, seq_len: int) -> float:
    """Mean cross-entropy (nats per character) over ``ids``, read as one stream.

    Example:
        >>> model = CharLM(5, hidden_size=8)
        >>> evaluate_loss(model, np.arange(5).repeat(4), seq_len=6) > 0
        True
    """
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    with no_grad():
        for x, y in bptt_batches(ids, batch_size=1, seq_len=seq_len):
            logits, state = model(x, state)
            total += (
                cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item() * y.size
            )
            count += y.size
    model.train(was_training)
    return total / count


def train(
    args: argparse.Namespace, text: str, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Train a :class:`CharLM` on ``text`` as ``args`` say; returns the final numbers.

    Example:
        >>> args = build_parser().parse_args(["--steps", "2", "--hidden", "8", "--quiet"])
        >>> train(args, "abc abc abc\\n" * 40, say=lambda s: None)["steps"]
        2
    """
    manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    vocab = CharVocabulary(text)
    ids = vocab.encode(text)
    split = int(len(ids) * (1 - VALIDATION_FRACTION))
    train_ids, val_ids = ids[:split], ids[split:]
    if len(train_ids) <= 2 * args.batch_size or len(val_ids) < 2:
        raise ValueError(
            f"charlm: the text has {len(text)} characters, too few to hold out a tenth and cut "
            f"the rest into {args.batch_size} streams (--batch-size)"
        )
    model = CharLM(len(vocab), args.embed, args.hidden, args.layers, args.cell, args.dropout)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    params = sum(p.size for p in model.parameters())
    say(
        f"char model: {args.cell.upper()} {args.layers}x{args.hidden}, {params:,} parameters, "
        f"{len(vocab)} characters; {len(train_ids):,} training / {len(val_ids):,} validation "
        f"characters; chunks of {args.seq_len} x {args.batch_size} streams, clip {args.clip}"
    )
    budget = args.minutes * 60 if args.steps is None else math.inf
    began = time.perf_counter()
    step, epoch, loss_avg = 0, 0, None
    while True:
        epoch += 1
        state = None  # each epoch starts the streams afresh
        for x, y in bptt_batches(train_ids, args.batch_size, args.seq_len):
            logits, state = model(x, state)
            state = detach(state)  # truncated BPTT: the next chunk does not backprop into this one
            loss = cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optim.clip_grad_norm(model.parameters(), args.clip)
            optimizer.step()
            step += 1
            value = loss.item()
            loss_avg = value if loss_avg is None else 0.95 * loss_avg + 0.05 * value
            elapsed = time.perf_counter() - began
            done = step == args.steps or elapsed >= budget
            if step % args.sample_every == 0 or done:
                val = evaluate_loss(model, val_ids, args.seq_len)
                say(
                    f"step {step:5d}  epoch {epoch:3d}  train loss {loss_avg:.3f}  "
                    f"validation {val:.3f} nats ({val / math.log(2):.2f} bits/char)  "
                    f"{elapsed:5.0f}s"
                )
                say(sample(model, vocab, args.sample_length, temperature=args.temperature, rng=rng))
                say("")
            if done:
                return {
                    "steps": step,
                    "epochs": epoch,
                    "seconds": elapsed,
                    "train_loss": loss_avg,
                    "validation_loss": val,
                    "model": model,
                    "vocab": vocab,
                }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``charlm`` options."""
    positive_int = _positive(int)
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--hidden", type=positive_int, default=128, help="hidden size (128)")
    parser.add_argument("--embed", type=positive_int, default=32, help="embedding size (32)")
    parser.add_argument("--layers", type=positive_int, default=1)
    parser.add_argument("--dropout", type=float, default=0.0, help="between layers")
    parser.add_argument("--seq-len", type=positive_int, default=64, help="BPTT chunk length")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="parallel streams")
    parser.add_argument("--lr", type=_positive(float), default=3e-3, help="Adam's learning rate")
    parser.add_argument("--clip", type=_positive(float), default=1.0, help="max gradient norm")
    parser.add_argument("--minutes", type=_positive(float), default=3.0, help="training time")
    parser.add_argument("--steps", type=positive_int, help="stop after this many steps instead")
    parser.add_argument("--sample-every", type=positive_int, default=250, help="steps")
    parser.add_argument("--sample-length", type=positive_int, default=300)
    parser.add_argument("--temperature", type=_positive(float), default=0.8)
    parser.add_argument("--text", type=Path, help="train on this UTF-8 file instead of the verse")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="print only the final result")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m minigrad charlm`` on its own (the examples use it).

    Example:
        >>> build_parser().parse_args(["--cell", "gru"]).cell
        'gru'
    """
    parser = argparse.ArgumentParser(prog="charlm", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return parser


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def main(args: argparse.Namespace) -> int:
    """Train and report, for the command line; returns the exit status."""
    text = load_verse() if args.text is None else args.text.read_text(encoding="utf-8")
    say = (lambda *a: None) if args.quiet else functools.partial(print, flush=True)
    result = train(args, text, say)
    print(
        f"validation loss {result['validation_loss']:.3f} nats/char "
        f"({result['validation_loss'] / math.log(2):.2f} bits/char) after {result['steps']} "
        f"steps ({result['epochs']} epochs) in {result['seconds']:.0f}s"
    )
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` with :func:`build_parser` and run :func:`main`."""
    return main(build_parser().parse_args(argv))
