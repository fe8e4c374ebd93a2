"""Classify digit images with an LSTM that reads them one row of pixels at a time.

    python examples/train_lstm_digits.py [--dataset digits|synthetic] [--epochs 20]

An 8x8 digit becomes a sequence of 8 steps of 8 pixels (a 28x28 synthetic digit: 28 steps of
28); the LSTM's last hidden state, after it has seen every row, feeds a linear classifier. The
gradient norm is clipped before every update (``--clip-value`` clips each element instead).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset, load_digits, synthetic_digits


class RowReader(nn.Layer):
    """(N, 1, H, W) images -> H steps of W pixels -> LSTM -> logits from the last step."""

    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(width, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, images: mg.Tensor) -> mg.Tensor:
        rows = images.reshape(images.shape[0], images.shape[2], images.shape[3])  # (N, T=H, W)
        _, (h_n, _) = self.lstm(rows)  # h_n: (1, N, hidden), the state after the last row
        return self.head(h_n[0])


def load(name: str, size: int, seed: int) -> tuple[tuple, tuple]:
    if name == "digits":
        return load_digits("train"), load_digits("test")
    return synthetic_digits(size, seed=seed), synthetic_digits(size // 5, seed=seed + 1)


def accuracy(model: nn.Layer, x: np.ndarray, y: np.ndarray) -> float:
    with mg.no_grad():
        predictions = np.concatenate(
            [model(x[i : i + 500]).numpy().argmax(axis=1) for i in range(0, len(x), 500)]
        )
    return float((predictions == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("digits", "synthetic"), default="digits")
    parser.add_argument("--size", type=int, default=6000, help="synthetic training images")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--clip", type=float, default=1.0, help="max total gradient norm")
    parser.add_argument("--clip-value", type=float, help="clip each gradient element instead")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    mg.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.dataset, args.size, args.seed)
    width = x_train.shape[3]
    model = RowReader(width, args.hidden)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True, seed=0)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    print(
        f"LSTM reading {x_train.shape[2]} rows of {width} pixels: {len(x_train)} training, "
        f"{len(x_test)} test images, hidden {args.hidden}"
    )
    began = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total, norms = 0.0, []
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()  # backpropagation through time, across every row
            if args.clip_value is not None:
                optim.clip_grad_value(model.parameters(), args.clip_value)
            else:
                norms.append(optim.clip_grad_norm(model.parameters(), args.clip))
            optimizer.step()
            total += loss.item() * len(y)
        clipped = f"  median gradient norm {np.median(norms):.2f}" if norms else ""
        print(
            f"epoch {epoch:3d}  train loss {total / len(y_train):.4f}{clipped}  "
            f"test accuracy {accuracy(model, x_test, y_test):.2%}  "
            f"{time.perf_counter() - began:.0f}s"
        )
    print(f"test accuracy {accuracy(model, x_test, y_test):.2%}")


if __name__ == "__main__":
    main()
