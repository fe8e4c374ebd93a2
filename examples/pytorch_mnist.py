"""PyTorch's MNIST example, ported to minigrad by changing its imports and its data source only.

    python examples/pytorch_mnist.py                    # downloads MNIST (~11 MB) once
    python examples/pytorch_mnist.py --synthetic 512 --epochs 1 --dry-run   # no download

The model, the training and test loops, the optimizer (Adadelta with a StepLR decay), the
device handling and the command line follow ``mnist/main.py`` of pytorch/examples at commit
77f55b912142e11fcfdf5b530231fb9c52f181e8 statement for statement (this file is written afresh:
its messages, help texts and formatting are its own). ``import minigrad as torch`` makes every
``torch.`` name in the body resolve to minigrad's (``torch.flatten``, ``torch.no_grad``,
``torch.utils.data.DataLoader``, ``torch.device``, ``torch.accelerator``, ``torch.save``).
Ported as it is, the original runs on minigrad with its import block and its data source
changed and no other line edited: torchvision's ``datasets.MNIST`` with a
``ToTensor``/``Normalize`` transform becomes :func:`minigrad.data.load_mnist` (or, with
``--synthetic N``, N generated digits) normalised the same way, in a ``TensorDataset``.
docs/porting.md walks through it.

Its default settings (14 epochs of a 1.2M-parameter CNN on 60,000 images) take hours on a CPU
in NumPy; ``--epochs 1`` gives a first test accuracy.
"""

import argparse

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.data import load_mnist, synthetic_digits
from minigrad.optim.lr_scheduler import StepLR
from minigrad.utils.data import TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            done = batch_idx * len(data)
            print(
                f"Train Epoch: {epoch} [{done}/{len(train_loader.dataset)} "
                f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}"
            )
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()  # summed over the batch
            pred = output.argmax(dim=1, keepdim=True)  # the class with the largest log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    n = len(test_loader.dataset)
    print(
        f"\nTest set: Average loss: {test_loss:.4f}, "
        f"Accuracy: {correct}/{n} ({100.0 * correct / n:.0f}%)\n"
    )


def main():
    parser = argparse.ArgumentParser(description="PyTorch's MNIST example, on minigrad")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        metavar="N",
        help="input batch size for training (default: 64)",
    )
    parser.add_argument(
        "--test-batch-size",
        type=int,
        default=1000,
        metavar="N",
        help="input batch size for testing (default: 1000)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=14,
        metavar="N",
        help="number of epochs to train (default: 14)",
    )
    parser.add_argument(
        "--lr", type=float, default=1.0, metavar="LR", help="learning rate (default: 1.0)"
    )
    parser.add_argument(
        "--gamma",
        type=float,
        default=0.7,
        metavar="M",
        help="learning rate step gamma (default: 0.7)",
    )
    parser.add_argument("--no-accel", action="store_true", help="disables accelerator")
    parser.add_argument("--dry-run", action="store_true", help="quickly check a single pass")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default: 1)")
    parser.add_argument(
        "--log-interval",
        type=int,
        default=10,
        metavar="N",
        help="batches between training status lines",
    )
    parser.add_argument("--save-model", action="store_true", help="save the trained weights")
    parser.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="N",
        help="train on N generated digits instead of MNIST",
    )
    args = parser.parse_args()

    use_accel = not args.no_accel and torch.accelerator.is_available()

    torch.manual_seed(args.seed)

    if use_accel:  # noqa: SIM108 (the original's form)
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")

    train_kwargs = {"batch_size": args.batch_size}
    test_kwargs = {"batch_size": args.test_batch_size}
    if use_accel:
        accel_kwargs = {
            "num_workers": 1,
            "persistent_workers": True,
            "pin_memory": True,
            "shuffle": True,
        }
        train_kwargs.update(accel_kwargs)
        test_kwargs.update(accel_kwargs)

    # The data source: MNIST (or generated digits) normalised with MNIST's mean and std.
    def mnist(split):
        if args.synthetic:
            images, labels = synthetic_digits(args.synthetic, seed=args.seed + (split == "test"))
        else:
            images, labels = load_mnist(split, download=True)
        return TensorDataset((images - 0.1307) / 0.3081, labels)

    dataset1 = mnist("train")
    dataset2 = mnist("test")
    train_loader = torch.utils.data.DataLoader(dataset1, **train_kwargs)
    test_loader = torch.utils.data.DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), "mnist_cnn.pt")


if __name__ == "__main__":
    main()
