"""The command line: ``minigrad train``, ``evaluate``, ``predict``, ``summary``, ``charlm`` and
``bench numdiff`` (also as ``python -m minigrad ...``).

Every failure (a mistake in the arguments, a missing or corrupt file, a checkpoint that does
not fit, training that diverges, running out of memory) ends with one line on stderr,
``minigrad: error: ...``, and a non-zero exit status, never a traceback. Ctrl-C and SIGTERM
(which the command line's main thread treats like Ctrl-C) stop with status 130 and 143; a
file being written at that moment is either complete or absent, never half-written.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from minigrad import __version__, models, nn, optim
from minigrad._commands import (
    DATASETS,
    MIN_SYNTHETIC,
    NAMED,
    SPLITS,
    RunError,
    evaluate_command,
    hold_out,
    load_data,
    new_config,
    predict_command,
    read_run,
    summary_command,
)
from minigrad._extras import install_hint

# per dataset: (epochs, learning rate for sgd, learning rate for adam)
DEFAULTS = {
    "digits": (15, 0.05, 2e-3),
    "synthetic": (5, 0.05, 1e-3),
    "mnist": (5, 0.05, 1e-3),
    "fashion-mnist": (8, 0.05, 1e-3),
}
# The settings a run records; on --resume, a setting left out comes from the checkpoint and one
# given must agree with it, except epochs and lr, which a resumed run may change.
RUN_SETTINGS = {
    "model": "cnn",
    "dataset": "digits",
    "optimizer": "adam",
    "batch_size": 64,
    "seed": 0,
    "val_fraction": 0.1,
    "synthetic_size": 12_000,
}
RUN_FILES = (
    "checkpoint.npz",
    "best.npz",
    "history.json",
    "history.csv",
    "curves.png",
    *(f"confusion-{split}.png" for split in SPLITS),
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line instead of the whole usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class _Formatter(argparse.HelpFormatter):
    """Shows each option's default after its help, unless the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"


def _number(kind: type, low: float, high: float | None = None, open_low: bool = False) -> Any:
    """An argparse type: a ``kind`` in ``[low, high]`` (``(low, high]`` with ``open_low``)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        too_low = value <= low if open_low else value < low
        if not np.isfinite(value) or too_low or (high is not None and value > high):
            rule = f"> {low}" if open_low else f">= {low}"
            rule += f" and <= {high}" if high is not None else ""
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    return parse


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", choices=tuple(models.MODELS), help="network to train (default: cnn)"
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        help="digits: the 8x8 digits that ship with minigrad (default); mnist, fashion-mnist: "
        "28x28 (needs the files or --download); synthetic: generated 28x28 digits",
    )
    epochs = ", ".join(f"{k} {v[0]}" for k, v in DEFAULTS.items())
    parser.add_argument(
        "--epochs",
        type=_number(int, 0, open_low=True),
        help=f"epochs in all, counting those of a resumed run (default: {epochs})",
    )
    parser.add_argument(
        "--batch-size", type=_number(int, 0, open_low=True), help="images per step (default: 64)"
    )
    parser.add_argument(
        "--lr",
        type=_number(float, 0, open_low=True),
        help="starting learning rate of the cosine schedule (default: 0.002 for adam on "
        "digits, 0.001 for adam elsewhere, 0.05 for sgd)",
    )
    parser.add_argument(
        "--optimizer", choices=("sgd", "adam"), help="sgd has Nesterov momentum 0.9 (default: adam)"
    )
    parser.add_argument(
        "--seed",
        type=_number(int, 0),
        help="weights, shuffling and the validation split (default: 0)",
    )
    parser.add_argument(
        "--val-fraction",
        type=_number(float, 0, 0.5),
        help="fraction of the training images held out to validate each epoch; 0 for none "
        "(default: 0.1)",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="download MNIST/Fashion-MNIST into the cache if missing",
    )
    parser.add_argument(
        "--root", help="folder holding the MNIST files (default: the cache, ~/.cache/minigrad)"
    )
    parser.add_argument(
        "--synthetic-size",
        type=_number(int, MIN_SYNTHETIC),
        help="number of generated images for --dataset synthetic (default: 12000)",
    )
    parser.add_argument(
        "--out",
        help="folder for checkpoint.npz, best.npz, history.json/.csv and curves.png "
        "(default: runs/<model>-<dataset>)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run whose checkpoint is in --out"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start a new run in an --out folder that holds an earlier run, replacing it",
    )
    parser.add_argument(
        "--save-best",
        action="store_true",
        help="also keep the epoch with the lowest validation loss, in best.npz",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the final result")
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="train as one of the processes of `mpiexec -n N ...`, each on its share of the "
        "data with --batch-size examples a step (needs minigrad[mpi])",
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="watch gradient health: print the report and write diagnostics.txt/.json and "
        "plots into --out",
    )


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------
def _settings(args: argparse.Namespace, out: Path, checkpoint: Path) -> tuple[dict, int]:
    """The run's settings and the epochs already trained (0 for a new run)."""
    given = {k: getattr(args, k) for k in RUN_SETTINGS if getattr(args, k) is not None}
    if not args.resume:
        settings = {**RUN_SETTINGS, **given}
        default_epochs, sgd_lr, adam_lr = DEFAULTS[settings["dataset"]]
        settings["epochs"] = args.epochs or default_epochs
        settings["lr"] = args.lr or (adam_lr if settings["optimizer"] == "adam" else sgd_lr)
        return settings, 0
    try:
        state = read_run(checkpoint)
    except FileNotFoundError:
        raise RunError(f"--resume: no checkpoint at {checkpoint}") from None
    config, done = state["config"], state.get("epoch")
    for key, value in given.items():
        if config.get(key) != value:
            flag = "--" + key.replace("_", "-")
            raise RunError(
                f"--resume: the run in {out} was trained with {flag} {config.get(key)}, not "
                f"{value}: leave {flag} out to continue it, or start a new run elsewhere"
            )
    settings = {key: config[key] for key in (*RUN_SETTINGS, "epochs", "lr")}
    settings["epochs"] = args.epochs or config["epochs"]
    settings["lr"] = args.lr or config["lr"]
    if isinstance(done, int) and settings["epochs"] <= done:  # fit checks the field itself
        raise RunError(
            f"--resume: the run in {out} has trained {done} of --epochs {settings['epochs']}: "
            f"pass a larger --epochs to train it longer"
        )
    return settings, done if isinstance(done, int) else 0


def _prepare_out(out: Path, args: argparse.Namespace, checkpoint: Path) -> None:
    """Refuse to replace an earlier run by accident; check that ``out`` can be written."""
    if args.resume and args.overwrite:
        raise RunError("--resume continues the run in --out and --overwrite replaces it: pick one")
    if not args.resume and checkpoint.exists():
        if not args.overwrite:
            raise RunError(
                f"{out} already holds a run (checkpoint.npz): pass --resume to continue it, "
                "--overwrite to replace it, or choose another --out"
            )
        for name in RUN_FILES:
            with contextlib.suppress(FileNotFoundError):
                (out / name).unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise OSError(exc.errno, f"--out {out}: cannot write there ({exc.strerror})") from None


class _RunSchedule(optim.lr_scheduler.CosineAnnealingLR):
    """The command line's cosine schedule over ``--epochs``. Resuming takes only the epoch
    count from the checkpoint and keeps this run's length and starting ``--lr``, so a resumed
    run follows, from its next epoch on, the schedule of a straight run of its length (and
    never reaches a learning rate of 0 inside it)."""

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the epoch count of ``state_dict``; keep ``T_max``, ``eta_min``, ``base_lrs``."""
        own = {"T_max": self.T_max, "eta_min": self.eta_min, "base_lrs": list(self.base_lrs)}
        super().load_state_dict({**state_dict, **own})


def _save_best(model: nn.Layer, path: Path, config: dict[str, Any]) -> Any:
    """A ``fit`` callback keeping, in ``path``, the epoch with the lowest validation loss so far
    (counting an earlier best of a resumed run)."""
    from minigrad.serialization import load, save

    best = [float(load(path).get("val_loss", np.inf)) if path.exists() else np.inf]

    def callback(history: Any) -> None:
        loss = history["val_loss"][-1]
        if loss < best[0]:
            best[0] = loss
            epoch = history["epoch"][-1]
            save(
                {"config": config, "epoch": epoch, "val_loss": loss, "model": model.state_dict()},
                path,
            )

    return callback


def train(args: argparse.Namespace) -> int:
    """Train, validate every epoch, then report the test set once; returns the exit status."""
    import minigrad as mg
    from minigrad import diagnostics
    from minigrad.data import DataLoader, TensorDataset
    from minigrad.train import evaluate, fit

    world = None  # one process, unless one of an MPI launch
    if args.distributed:  # first: from here on, an error in one process ends them all
        from minigrad import distributed

        world = distributed.init()
    main_process = world is None or world.rank == 0
    model_name, dataset = args.model or "cnn", args.dataset or "digits"
    out = Path(args.out or f"runs/{model_name}-{dataset}")
    checkpoint = out / "checkpoint.npz"
    settings, done = _settings(args, out, checkpoint)
    if args.save_best and settings["val_fraction"] == 0:
        raise RunError(
            "--save-best picks the epoch by validation loss: it needs --val-fraction > 0"
        )
    _prepare_out(out, args, checkpoint)
    config = new_config(settings)

    mg.manual_seed(settings["seed"])
    (x_all, y_all), (x_test, y_test) = load_data(settings, args)
    train_idx, val_idx = hold_out(y_all, settings["val_fraction"], settings["seed"])
    image_shape = x_all.shape[1:]
    model = models.build(settings["model"], image_shape, len(config["classes"]))
    if world is not None:
        model = distributed.DistributedDataParallel(model)
    lr = settings["lr"]
    if settings["optimizer"] == "adam":
        optimizer = optim.Adam(model.parameters(), lr=lr)
    else:
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True)
    scheduler = _RunSchedule(optimizer, T_max=settings["epochs"])
    train_set = TensorDataset(x_all[train_idx], y_all[train_idx])
    if world is not None:  # each process takes its own shard of every epoch
        sampler = distributed.DistributedSampler(train_set, seed=settings["seed"])
        train_loader = DataLoader(train_set, settings["batch_size"], sampler=sampler)
    else:
        train_loader = DataLoader(
            train_set, settings["batch_size"], shuffle=True, seed=settings["seed"]
        )
    val_loader = None
    if len(val_idx):
        val_loader = DataLoader(TensorDataset(x_all[val_idx], y_all[val_idx]), 256)
    test_loader = DataLoader(TensorDataset(x_test, y_test), 256)
    callbacks = []
    if args.save_best and main_process:
        callbacks.append(_save_best(model, out / "best.npz", config))

    say = print if main_process and not args.quiet else (lambda *a: None)
    params = sum(p.size for p in model.parameters())
    resumed = f", resuming after epoch {done}" if done else ""
    say(
        f"minigrad {__version__}: training {NAMED[settings['model']]} ({params:,} parameters) on "
        f"{settings['dataset']}: {len(train_idx):,} training / {len(val_idx):,} validation / "
        f"{len(x_test):,} test images of {image_shape[1]}x{image_shape[2]}, "
        f"{settings['epochs']} epochs, {settings['optimizer']} lr {lr:g}{resumed}"
        + (f", in {world.size} processes" if world is not None else "")
    )
    diagnosis = diagnostics.Diagnostics(model) if args.diagnose else False
    began = time.perf_counter()
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        train_loader,
        settings["epochs"],
        val_loader=val_loader,
        scheduler=scheduler,
        callbacks=callbacks,
        progress=not args.quiet,
        checkpoint=checkpoint,
        resume=args.resume,
        config=config,
        diagnose=diagnosis,
    )
    seconds = time.perf_counter() - began
    result = evaluate(model, test_loader, nn.CrossEntropyLoss())
    if not main_process:
        return 0
    history.to_json(out / "history.json")
    history.to_csv(out / "history.csv")
    plotted = history.plot(out / "curves.png")
    epochs_run = f"{len(history)} epoch{'' if len(history) == 1 else 's'}"
    print(
        f"test accuracy {result['accuracy']:.2%} (loss {result['loss']:.4f}) after "
        f"{epochs_run} in {seconds:.1f}s"
    )
    written = [checkpoint, *([out / "best.npz"] if args.save_best else [])]
    written += [out / "history.json", out / "history.csv"]
    say("saved " + ", ".join(map(str, written + ([out / "curves.png"] if plotted else []))))
    if not plotted:
        say(install_hint("curves.png", "plot"))
    if diagnosis:
        print(f"\n{diagnosis.report()}\n(also in {out / 'diagnostics.txt'}, with plots)")
    return 0


# --------------------------------------------------------------------------------------------
# the parser and main
# --------------------------------------------------------------------------------------------
def _prog() -> str:
    """``minigrad`` when run as the console script, ``python -m minigrad`` otherwise."""
    script = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else ""
    return "minigrad" if script == "minigrad" else "python -m minigrad"


def build_parser(prog: str = "python -m minigrad") -> argparse.ArgumentParser:
    """The command line's argument parser, usage lines starting with ``prog``."""
    parser = _Parser(
        prog=prog,
        description="minigrad: train small networks and watch backprop work.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"minigrad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help, formatter_class=_Formatter)

    _train_arguments(command("train", "train a model on digit images"))
    from minigrad import charlm

    charlm.add_arguments(
        command("charlm", "train a character-level language model (LSTM or GRU) on verse")
    )
    evaluate = command(
        "evaluate", "accuracy, per-class accuracy and confusion matrix of a trained model"
    )
    evaluate.add_argument("checkpoint", help="checkpoint.npz or best.npz written by train")
    evaluate.add_argument("--split", choices=SPLITS, default="test", help="images to evaluate on")
    evaluate.add_argument(
        "--plot",
        help="where to save the confusion matrix plot (default: "
        "confusion-<split>.png beside the checkpoint)",
    )
    _data_arguments(evaluate)
    predict = command("predict", "the class of each image file, by a trained model")
    predict.add_argument("checkpoint", help="checkpoint.npz or best.npz written by train")
    predict.add_argument("images", nargs="+", metavar="image", help="image files (PNG, JPEG...)")
    predict.add_argument(
        "--top", type=_number(int, 0, open_low=True), default=3, help="classes to list"
    )
    summary = command("summary", "layers, output shapes and parameter counts of a model")
    summary.add_argument("checkpoint", nargs="?", help="a checkpoint (else --model, --dataset)")
    summary.add_argument("--model", choices=tuple(models.MODELS), help="network (default: cnn)")
    summary.add_argument(
        "--dataset", choices=DATASETS, help="sets the input size (default: digits)"
    )
    bench = commands.add_parser("bench", help="benchmarks that ship with the package")
    which = bench.add_subparsers(dest="benchmark", required=True, parser_class=_Parser)
    from minigrad.bench import numdiff

    numdiff.add_arguments(
        which.add_parser(
            "numdiff",
            help="backprop versus per-parameter numerical differentiation",
            formatter_class=_Formatter,
        )
    )
    return parser


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--download", action="store_true", help="download MNIST if missing")
    parser.add_argument("--root", help="folder holding the MNIST files (default: the cache)")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C, so that the same cleanup runs."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    if args.command == "train":
        return train(args)
    if args.command == "evaluate":
        return evaluate_command(args)
    if args.command == "predict":
        return predict_command(args)
    if args.command == "summary":
        return summary_command(args)
    if args.command == "charlm":
        from minigrad import charlm

        return charlm.main(args)
    from minigrad.bench import numdiff

    return numdiff.main(args)


def _one_line(error: BaseException) -> str:
    text = error.args[0] if isinstance(error, KeyError) and error.args else error
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser(_prog()).parse_args(argv)
    try:
        # The training guards report NaN and infinity themselves, in one clear line.
        with _sigterm_as_interrupt(), np.errstate(all="ignore"):
            return _run(args)
    except _Terminated:
        print("minigrad: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("minigrad: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        hint = ": try a smaller --batch-size or --synthetic-size" if args.command == "train" else ""
        return _fail(args, f"minigrad: error: out of memory (MemoryError){hint}")
    except (OSError, ValueError, KeyError, ImportError, FloatingPointError) as error:
        return _fail(args, f"minigrad: error: {_one_line(error)}")
    except Exception as error:  # a bug: still one line, naming what went wrong
        where = os.environ.get("MINIGRAD_TRACEBACK")
        if where:
            raise
        return _fail(
            args,
            f"minigrad: error: unexpected {type(error).__name__}: {_one_line(error)} "
            "(set MINIGRAD_TRACEBACK=1 to see where)",
        )


def _fail(args: argparse.Namespace, message: str) -> int:
    """Report ``message`` in one line; in an MPI launch, end every process with it (the others
    would otherwise wait for this one for ever)."""
    if getattr(args, "distributed", False) and "mpi4py.MPI" in sys.modules:
        from minigrad.distributed import abort

        abort(message)
    print(message, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
