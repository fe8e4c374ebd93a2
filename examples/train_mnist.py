"""Train a CNN on real MNIST (or Fashion-MNIST), or on synthetic digits when no files exist.

    python examples/train_mnist.py --download               # fetch MNIST (~11 MB) and train
    python examples/train_mnist.py --dataset fashion-mnist --download
    python examples/train_mnist.py --synthetic              # no download: generated 28x28 digits

The network: two conv-conv-pool blocks with batchnorm, dropout, Adam with cosine decay and
random one-pixel shifts as augmentation. What it reaches is what this script prints (no run on
real MNIST is recorded in this repository: these machines have no internet).
"""

from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import (
    DataLoader,
    DatasetError,
    TensorDataset,
    load_fashion_mnist,
    load_mnist,
    synthetic_digits,
)
from minigrad.train import evaluate, fit


def block(c_in: int, c_out: int) -> list[nn.Layer]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]


def make_model() -> nn.Sequential:
    return nn.Sequential(
        *block(1, 32),
        *block(32, 64),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(64 * 7 * 7, 128),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(128, 10),
    )


def shifted(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by up to one pixel in each direction (zero-filled)."""
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.empty_like(images)
    dy, dx = rng.integers(0, 3, (2, len(images)))
    for i in range(len(images)):
        out[i] = padded[i, :, dy[i] : dy[i] + 28, dx[i] : dx[i] + 28]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("mnist", "fashion-mnist"), default="mnist")
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--synthetic", action="store_true", help="use generated digits")
    parser.add_argument("--limit", type=int, default=None, help="use only this many images")
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()

    mg.manual_seed(0)
    if args.synthetic:
        (x, y), test = synthetic_digits(20_000, seed=0), synthetic_digits(4_000, seed=1)
    else:
        load = load_mnist if args.dataset == "mnist" else load_fashion_mnist
        try:
            (x, y) = load("train", download=args.download)
            test = load("test", download=args.download)
        except DatasetError as error:
            raise SystemExit(
                f"{error}\n(pass --download, or --synthetic to train without it)"
            ) from None
    if args.limit:
        x, y, test = (
            x[: args.limit],
            y[: args.limit],
            (test[0][: args.limit], test[1][: args.limit]),
        )
    x = shifted(x, np.random.default_rng(0))  # one fixed augmented copy keeps the loop simple

    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    train_loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True, seed=0)
    test_loader = DataLoader(TensorDataset(*test), batch_size=500)
    fit(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        train_loader,
        args.epochs,
        val_loader=test_loader,
        scheduler=scheduler,
    )
    print(f"test accuracy {evaluate(model, test_loader)['accuracy']:.2%}")


if __name__ == "__main__":
    main()
