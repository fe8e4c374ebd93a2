"""LeNet-5 on MNIST, written the way PyTorch training scripts for it usually are.

    python examples/lenet5.py --download                 # fetch MNIST (~11 MB) once, train
    python examples/lenet5.py --synthetic 2000           # no download: generated digits

LeCun et al.'s network (1998): two 5x5 convolutions with average pooling, then 120-84-10 fully
connected units, tanh throughout, on 32x32 inputs (MNIST's 28x28 padded by 2). The script uses
the PyTorch idioms such scripts are made of: an ``nn.Module`` with ``nn.Sequential`` parts,
``model.to(device)``, ``outputs.max(1)`` giving ``(values, indices)``, a
``DataLoader`` from ``utils.data``, ``optimizer.zero_grad()``/``step()``, ``model.eval()``
with ``no_grad()``, and a checkpoint of ``model.state_dict()``.
"""

from __future__ import annotations

import argparse

import minigrad as mg
from minigrad import nn
from minigrad.data import DatasetError, load_mnist, synthetic_digits
from minigrad.utils.data import DataLoader, TensorDataset

MEAN, STD = 0.1307, 0.3081  # MNIST's pixel statistics


class LeNet5(nn.Module):
    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.feature_extractor = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, stride=1, padding=2),  # 28x28 -> 28x28 (as 32x32)
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2),  # -> 14x14
            nn.Conv2d(6, 16, kernel_size=5, stride=1),  # -> 10x10
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2),  # -> 5x5
            nn.Conv2d(16, 120, kernel_size=5, stride=1),  # -> 1x1
            nn.Tanh(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(120, 84),
            nn.Tanh(),
            nn.Linear(84, n_classes),
        )

    def forward(self, x):
        x = self.feature_extractor(x)
        x = mg.flatten(x, 1)
        logits = self.classifier(x)
        return logits


def train_epoch(model, loader, criterion, optimizer, device):
    model.train()
    running_loss = 0.0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * images.shape[0]
    return running_loss / len(loader.dataset)


def accuracy(model, loader, device):
    model.eval()
    correct = total = 0
    with mg.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            _, predicted = outputs.max(1)  # (values, indices), as in PyTorch
            total += labels.shape[0]
            correct += (predicted == labels).sum().item()
    return correct / total


def main() -> None:
    parser = argparse.ArgumentParser(description="LeNet-5 on MNIST with minigrad")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--download", action="store_true", help="fetch MNIST if missing")
    parser.add_argument(
        "--synthetic", type=int, default=0, metavar="N", help="use N generated digits instead"
    )
    parser.add_argument("--save", default="", metavar="PATH", help="save the weights here")
    args = parser.parse_args()

    mg.manual_seed(args.seed)
    device = mg.device("cuda" if mg.cuda.is_available() else "cpu")

    if args.synthetic:
        train_set = synthetic_digits(args.synthetic, seed=args.seed)
        test_set = synthetic_digits(max(args.synthetic // 5, 1), seed=args.seed + 1)
    else:
        try:
            train_set = load_mnist("train", download=args.download)
            test_set = load_mnist("test", download=args.download)
        except DatasetError as error:
            raise SystemExit(
                f"{error}\n(pass --download to fetch MNIST, or --synthetic N)"
            ) from None
    train_loader = DataLoader(
        TensorDataset((train_set[0] - MEAN) / STD, train_set[1]),
        batch_size=args.batch_size,
        shuffle=True,
    )
    test_loader = DataLoader(
        TensorDataset((test_set[0] - MEAN) / STD, test_set[1]), batch_size=1000
    )

    model = LeNet5().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"LeNet-5: {n_params} parameters, {len(train_loader.dataset)} training images")

    for epoch in range(1, args.epochs + 1):
        train_loss = train_epoch(model, train_loader, criterion, optimizer, device)
        train_acc = accuracy(model, train_loader, device)
        test_acc = accuracy(model, test_loader, device)
        print(
            f"epoch {epoch}: train loss {train_loss:.4f}, train accuracy {100 * train_acc:.2f}%,"
            f" test accuracy {100 * test_acc:.2f}%"
        )
    if args.save:
        mg.save(model.state_dict(), args.save)
        print(f"saved the weights to {args.save}")


if __name__ == "__main__":
    main()
