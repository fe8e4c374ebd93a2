"""Train a multilayer perceptron on the embedded 8x8 digits, written out step by step.

    python examples/train_mlp.py [--epochs 30] [--hidden 64]

Every piece is visible: the data loader, the model, the loss, the optimizer and the loop that
zeroes gradients, runs the forward pass, backpropagates and updates.
"""

from __future__ import annotations

import argparse

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset, load_digits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    mg.manual_seed(args.seed)
    x_train, y_train = load_digits("train")  # (1442, 1, 8, 8) float32 in [0, 1], int64 labels
    x_test, y_test = load_digits("test")  # (355, 1, 8, 8)
    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)

    model = nn.Sequential(
        nn.Flatten(),  # (N, 1, 8, 8) -> (N, 64)
        nn.Linear(64, args.hidden),
        nn.ReLU(),
        nn.Linear(args.hidden, 10),  # one logit per digit class
    )
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()  # gradients accumulate, so clear last step's
            loss = loss_fn(model(x), y)  # forward pass: records the graph
            loss.backward()  # backward pass: fills p.grad for every parameter
            optimizer.step()  # p -= lr * (momentum-smoothed) p.grad
            total += loss.item() * len(y)
        if epoch % 5 == 0 or epoch == 1:
            with mg.no_grad():  # evaluation needs no graph
                model.eval()
                accuracy = (model(x_test).numpy().argmax(axis=1) == y_test).mean()
                model.train()
            print(
                f"epoch {epoch:3d}  train loss {total / len(y_train):.4f}  "
                f"test accuracy {accuracy:.2%}"
            )


if __name__ == "__main__":
    main()
