"""Train a small convolutional network on the embedded digits with ``minigrad.train.fit``.

    python examples/train_cnn.py [--epochs 10] [--out runs/example-cnn]

Saves a checkpoint every epoch; run it again with ``--resume`` to continue where it stopped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset, load_digits
from minigrad.train import evaluate, fit


def make_model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),  # (N, 1, 8, 8) -> (N, 16, 8, 8)
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),  # -> (N, 32, 8, 8)
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),  # -> (N, 32, 4, 4)
        nn.Flatten(),  # -> (N, 512)
        nn.Dropout(0.25),
        nn.Linear(512, 10),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("runs/example-cnn"))
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()

    mg.manual_seed(0)
    train_data, test_data = load_digits("train"), load_digits("test")
    train_loader = DataLoader(TensorDataset(*train_data), batch_size=64, shuffle=True, seed=0)
    test_loader = DataLoader(TensorDataset(*test_data), batch_size=256)

    model = make_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    args.out.mkdir(parents=True, exist_ok=True)
    history = fit(
        model,
        loss_fn,
        optimizer,
        train_loader,
        epochs=args.epochs,
        val_loader=test_loader,
        scheduler=scheduler,
        checkpoint=args.out / "checkpoint.npz",
        resume=args.resume,
    )
    history.to_json(args.out / "history.json")
    result = evaluate(model, test_loader, loss_fn)
    print(f"test accuracy {result['accuracy']:.2%}, loss {result['loss']:.4f}")


if __name__ == "__main__":
    main()
