"""The command line: ``python -m minigrad train ...`` and ``python -m minigrad bench numdiff``.

Mistakes in arguments or data end with one line on stderr and a non-zero exit status, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

DATASETS = ("digits", "mnist", "fashion-mnist", "synthetic")
# per dataset: (epochs, learning rate for sgd, learning rate for adam)
DEFAULTS = {
    "digits": (15, 0.05, 2e-3),
    "synthetic": (5, 0.05, 1e-3),
    "mnist": (5, 0.05, 1e-3),
    "fashion-mnist": (8, 0.05, 1e-3),
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line instead of the whole usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", choices=("mlp", "cnn"), default="cnn", help="network to train (default: cnn)"
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="digits: embedded 8x8 digits (default); mnist, fashion-mnist: "
        "28x28 (needs the files or --download); synthetic: generated 28x28",
    )
    parser.add_argument("--epochs", type=_positive(int), help="default depends on the dataset")
    parser.add_argument("--batch-size", type=_positive(int), default=64)
    parser.add_argument("--lr", type=_positive(float), help="default depends on the optimizer")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="adam")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--download",
        action="store_true",
        help="download MNIST/Fashion-MNIST into the cache if missing",
    )
    parser.add_argument("--root", help="folder holding the MNIST files (default: the cache)")
    parser.add_argument(
        "--synthetic-size",
        type=_positive(int),
        default=12_000,
        help="number of generated images for --dataset synthetic",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="folder for checkpoint.npz, history.json/.csv and curves.png "
        "(default: runs/<model>-<dataset>)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from the checkpoint in --out"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the final result")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="watch gradient health: print the report and write diagnostics.txt/.json and "
        "plots into --out",
    )


def _load(args: argparse.Namespace) -> tuple[tuple, tuple]:
    from minigrad import data

    if args.dataset == "digits":
        return data.load_digits("train"), data.load_digits("test")
    if args.dataset == "synthetic":
        n = args.synthetic_size
        return data.synthetic_digits(n, seed=args.seed), data.synthetic_digits(
            n // 5, args.seed + 1
        )
    load = data.load_mnist if args.dataset == "mnist" else data.load_fashion_mnist
    kw = {"root": args.root, "download": args.download}
    return load("train", **kw), load("test", **kw)


def train(args: argparse.Namespace) -> int:
    """Train the chosen model and print the test accuracy; returns the exit status."""
    import minigrad as mg
    from minigrad import diagnostics, models, nn, optim
    from minigrad.data import DataLoader, TensorDataset
    from minigrad.train import evaluate, fit

    mg.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = _load(args)
    default_epochs, sgd_lr, adam_lr = DEFAULTS[args.dataset]
    epochs = args.epochs or default_epochs
    lr = args.lr or (adam_lr if args.optimizer == "adam" else sgd_lr)
    image_shape = x_train.shape[1:]
    model = (models.cnn if args.model == "cnn" else models.mlp)(image_shape, num_classes=10)
    if args.optimizer == "adam":
        optimizer = optim.Adam(model.parameters(), lr=lr)
    else:
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    train_loader = DataLoader(
        TensorDataset(x_train, y_train), args.batch_size, shuffle=True, seed=args.seed
    )
    test_loader = DataLoader(TensorDataset(x_test, y_test), 256)
    out = Path(args.out or f"runs/{args.model}-{args.dataset}")
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint.npz"
    if args.resume and not checkpoint.exists():
        raise FileNotFoundError(f"--resume: no checkpoint at {checkpoint}")
    say = (lambda *a: None) if args.quiet else print
    params = sum(p.size for p in model.parameters())
    say(
        f"minigrad {mg.__version__}: training a {args.model} ({params:,} parameters) on "
        f"{args.dataset}: {len(x_train):,} train / {len(x_test):,} test images of "
        f"{image_shape[1]}x{image_shape[2]}, {epochs} epochs, {args.optimizer} lr {lr:g}"
    )
    diagnosis = diagnostics.Diagnostics(model) if args.diagnose else False
    began = time.perf_counter()
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        train_loader,
        epochs,
        val_loader=test_loader,
        scheduler=scheduler,
        progress=not args.quiet,
        checkpoint=checkpoint,
        resume=args.resume,
        diagnose=diagnosis,
    )
    seconds = time.perf_counter() - began
    result = evaluate(model, test_loader, nn.CrossEntropyLoss())
    history.to_json(out / "history.json")
    history.to_csv(out / "history.csv")
    plotted = history.plot(out / "curves.png")
    epochs_run = f"{len(history)} epoch{'' if len(history) == 1 else 's'}"
    print(
        f"test accuracy {result['accuracy']:.2%} (loss {result['loss']:.4f}) after "
        f"{epochs_run} in {seconds:.1f}s"
    )
    say(
        f"saved {checkpoint}, {out / 'history.json'}, {out / 'history.csv'}"
        + (f", {out / 'curves.png'}" if plotted else " (install minigrad[plot] for curves.png)")
    )
    if diagnosis:
        print(f"\n{diagnosis.report()}\n(also in {out / 'diagnostics.txt'}, with plots)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m minigrad`` argument parser."""
    parser = _Parser(
        prog="python -m minigrad",
        description="minigrad: train small networks and watch backprop work.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train_parser = commands.add_parser("train", help="train a model on digit images")
    _train_arguments(train_parser)
    bench = commands.add_parser("bench", help="benchmarks that ship with the package")
    which = bench.add_subparsers(dest="benchmark", required=True, parser_class=_Parser)
    from minigrad.bench import numdiff

    numdiff.add_arguments(
        which.add_parser("numdiff", help="backprop versus per-parameter numerical differentiation")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    from minigrad.data import DatasetError
    from minigrad.serialization import CheckpointError
    from minigrad.train import NonFiniteLossError

    try:
        if args.command == "train":
            return train(args)
        from minigrad.bench import numdiff

        return numdiff.main(args)
    except (
        DatasetError,
        CheckpointError,
        NonFiniteLossError,
        OSError,
        ValueError,
        KeyError,
        ImportError,
    ) as error:
        print(f"minigrad: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("minigrad: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
