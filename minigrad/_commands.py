"""What the command line's subcommands share: a run's settings (the ``config`` its checkpoints
hold), its data and validation split, and the ``evaluate``, ``predict`` and ``summary``
commands, which need nothing but a checkpoint.

A run's ``config`` says how to rebuild and feed its model::

    {"model": "cnn", "dataset": "digits", "classes": ["0", ..., "9"],
     "input": {"shape": [1, 8, 8], "range": [0.0, 1.0], "levels": 17, "ink": "light"},
     "epochs": 15, "batch_size": 64, "optimizer": "adam", "lr": 0.002, "seed": 0,
     "val_fraction": 0.1, "synthetic_size": 12000, "minigrad": "0.1.0"}

``input`` is the normalisation of the training images: values in ``range``, ``levels`` grey
levels (0: continuous), light ink on a dark background.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from minigrad import data, models, nn
from minigrad._extras import install_hint
from minigrad.serialization import load
from minigrad.tensor import Tensor

DATASETS = ("digits", "mnist", "fashion-mnist", "synthetic")
IMAGE_SHAPES = {name: (1, 8, 8) if name == "digits" else (1, 28, 28) for name in DATASETS}
LEVELS = {"digits": 17, "mnist": 256, "fashion-mnist": 256, "synthetic": 0}
MIN_SYNTHETIC = 100  # 10 images per class, so that every split holds some
NAMED = {"mlp": "an MLP", "cnn": "a CNN"}  # how messages name the models
SPLITS = ("test", "validation", "train")


class RunError(ValueError):
    """A checkpoint, setting or file that a command cannot use; the message says why."""


def classes(dataset: str) -> list[str]:
    """The class names of a dataset, in label order."""
    if dataset == "fashion-mnist":
        return list(data.FASHION_MNIST_CLASSES)
    return [str(digit) for digit in range(10)]


def new_config(settings: dict[str, Any]) -> dict[str, Any]:
    """The ``config`` of a run with these settings (see the module docstring)."""
    from minigrad import __version__

    dataset = settings["dataset"]
    return {
        **settings,
        "classes": classes(dataset),
        "input": {
            "shape": list(IMAGE_SHAPES[dataset]),
            "range": [0.0, 1.0],
            "levels": LEVELS[dataset],
            "ink": "light",
        },
        "minigrad": __version__,
    }


def read_run(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by ``minigrad train`` (``checkpoint.npz`` or ``best.npz``), with
    every field of its ``config`` checked; ``FileNotFoundError`` if there is none."""
    state = load(path)
    config = state.get("config")
    if not isinstance(config, dict):
        raise RunError(
            f"{path} holds no run settings ('config'): it was not written by `minigrad train` "
            "(or by an older minigrad), so the model cannot be rebuilt from it"
        )
    bad = [key for key, valid in _CONFIG_FIELDS.items() if not valid(config.get(key))]
    if "model" not in state:
        bad.append("the model's weights")
    if bad:
        raise RunError(f"{path}: the run settings are damaged ({', '.join(bad)})")
    return state


def _int(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _real(value: Any, low: float, high: float = math.inf) -> bool:
    real = isinstance(value, int | float) and not isinstance(value, bool)
    return real and math.isfinite(value) and low <= value <= high


def _input(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    shape = value.get("shape")
    shaped = isinstance(shape, list) and len(shape) == 3 and all(_int(n, 1) for n in shape)
    return shaped and _int(value.get("levels"), 0)


_CONFIG_FIELDS = {
    "model": lambda v: isinstance(v, str) and v in models.MODELS,
    "dataset": lambda v: isinstance(v, str) and v in DATASETS,
    "classes": lambda v: isinstance(v, list) and bool(v) and all(isinstance(c, str) for c in v),
    "input": _input,
    "epochs": lambda v: _int(v, 1),
    "lr": lambda v: _real(v, 0) and v > 0,
    "optimizer": lambda v: isinstance(v, str) and v in ("sgd", "adam"),
    "batch_size": lambda v: _int(v, 1),
    "seed": lambda v: _int(v, 0),
    "val_fraction": lambda v: _real(v, 0, 0.5),
    "synthetic_size": lambda v: _int(v, MIN_SYNTHETIC),
}


def rebuild(state: dict[str, Any], path: str | Path) -> nn.Layer:
    """The model of a checkpoint read by :func:`read_run`, with its weights, in eval mode."""
    config = state["config"]
    model = models.build(config["model"], tuple(config["input"]["shape"]), len(config["classes"]))
    try:
        model.load_state_dict(state["model"])
    except (KeyError, ValueError, TypeError) as exc:
        reason = exc.args[0] if exc.args else exc
        raise RunError(f"{path}: the weights do not fit a {config['model']}: {reason}") from None
    return model.eval()


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def load_data(config: dict[str, Any], args: argparse.Namespace) -> tuple[tuple, tuple]:
    """``((x_train, y_train), (x_test, y_test))`` of the run's dataset; MNIST files come from
    ``--root`` (or the cache), downloaded with ``--download``."""
    name = config["dataset"]
    if name == "digits":
        return data.load_digits("train"), data.load_digits("test")
    if name == "synthetic":
        n, seed = config["synthetic_size"], config["seed"]
        return data.synthetic_digits(n, seed=seed), data.synthetic_digits(n // 5, seed + 1)
    load_split = data.load_mnist if name == "mnist" else data.load_fashion_mnist
    options = {"root": args.root, "download": args.download}
    try:
        return load_split("train", **options), load_split("test", **options)
    except data.DatasetError as error:
        if error.fetchable:  # say it with the command line's flag
            raise data.DatasetError(f"{error.problem}; pass --download to fetch it") from None
        raise


def hold_out(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)`` of a stratified split of the training images: from
    each class, a random ``fraction`` (rounded, at least one when ``fraction > 0``) is held out
    for validation; the rest trains. The same labels, fraction and seed give the same split.

    Example:
        >>> train, val = hold_out(np.repeat(np.arange(3), 10), 0.2, seed=0)
        >>> len(train), len(val), np.bincount(np.repeat(np.arange(3), 10)[val]).tolist()
        (24, 6, [2, 2, 2])
    """
    rng = np.random.default_rng([seed, 0x5EED])  # a stream of its own, apart from training
    held: list[np.ndarray] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n = max(1, round(fraction * len(members))) if fraction > 0 else 0
        held.append(rng.permutation(members)[:n])
    val = np.sort(np.concatenate(held)) if held else np.zeros(0, np.int64)
    train = np.setdiff1d(np.arange(len(labels)), val)
    return train, val


def split(config: dict[str, Any], args: argparse.Namespace, which: str) -> tuple:
    """The images and labels of one split of the run: ``train`` (what trained, the
    validation images held out), ``validation`` or ``test``."""
    (x_train, y_train), test = load_data(config, args)
    if which == "test":
        return test
    train, val = hold_out(y_train, config["val_fraction"], config["seed"])
    keep = val if which == "validation" else train
    if len(keep) == 0:
        raise RunError("this run has no validation split (it was trained with --val-fraction 0)")
    return x_train[keep], y_train[keep]


# --------------------------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------------------------
def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n: int) -> np.ndarray:
    """Counts ``m[true, predicted]`` over ``n`` classes.

    Example:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2).tolist()
        [[1, 0], [1, 1]]
    """
    return np.bincount(labels * n + predicted, minlength=n * n).reshape(n, n)


def confusion_text(matrix: np.ndarray, names: list[str]) -> str:
    """The confusion matrix as text: a row per true class, a column per predicted class
    (numbered as the rows are), then each class's accuracy (its recall) and count.

    Example:
        >>> print(confusion_text(np.array([[3, 1], [0, 4]]), ["cat", "dog"]))
        true \\ predicted   0   1   accuracy
        0  cat             3   1     75.00% of 4
        1  dog             0   4    100.00% of 4
    """
    width = max(len(str(matrix.max())), len(str(len(names) - 1)), 3)
    rows = [f"{i}  {name}" for i, name in enumerate(names)]
    corner = "true \\ predicted"
    label = max(len(corner), *map(len, rows))
    cells = " ".join(f"{i:>{width}}" for i in range(len(names)))
    lines = [f"{corner:<{label}} {cells}   accuracy"]
    for i, (row, counts) in enumerate(zip(rows, matrix, strict=True)):
        total = int(counts.sum())
        accuracy = f"{counts[i] / total:8.2%} of {total}" if total else "       - of 0"
        values = " ".join(f"{v:>{width}}" for v in counts)
        lines.append(f"{row:<{label}} {values}   {accuracy}")
    return "\n".join(lines)


def plot_confusion(matrix: np.ndarray, names: list[str], path: Path, title: str) -> bool:
    """Save the confusion matrix as a PNG heat map; False (nothing written) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    from minigrad._io import atomic_file

    n = len(names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * n, 0.6 + 0.6 * n))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(n):
        for j in range(n):
            if matrix[i, j]:
                light = matrix[i, j] > matrix.max() / 2
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                        color="white" if light else "black", fontsize=8)  # fmt: skip
    fig.tight_layout()
    with atomic_file(path, "wb", "minigrad evaluate") as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)
    return True


def evaluate_command(args: argparse.Namespace) -> int:
    """``minigrad evaluate CHECKPOINT``: accuracy, loss, per-class accuracy and the confusion
    matrix of a trained model on one split, printed, and plotted to a PNG."""
    from minigrad.data import DataLoader, TensorDataset
    from minigrad.train import evaluate

    state = read_run(args.checkpoint)
    config = state["config"]
    model = rebuild(state, args.checkpoint)
    x, y = split(config, args, args.split)
    loader = DataLoader(TensorDataset(x, y), 256)
    result = evaluate(model, loader, nn.CrossEntropyLoss())
    predicted = np.concatenate([model(xb).data.argmax(axis=1) for xb, _ in loader])
    names = config["classes"]
    matrix = confusion_matrix(y, predicted, len(names))
    epochs = state.get("epoch", "?")
    trained = f"{epochs} epoch{'' if epochs == 1 else 's'}"
    print(
        f"{args.checkpoint}: {NAMED[config['model']]} trained {trained} on {config['dataset']}; "
        f"{args.split} split, {len(y):,} images"
    )
    print(f"accuracy {result['accuracy']:.2%} ({int(np.trace(matrix)):,} of {len(y):,} right)")
    print(f"loss {result['loss']:.4f}\n")
    print(confusion_text(matrix, names))
    plot = (
        Path(args.plot)
        if args.plot
        else Path(args.checkpoint).with_name(f"confusion-{args.split}.png")
    )
    title = f"{config['model']} on {config['dataset']} ({args.split})"
    if plot_confusion(matrix, names, plot, title):
        print(f"\nsaved {plot}")
    else:
        print("\n" + install_hint(f"the plot {plot.name}", "plot"))
    return 0


# --------------------------------------------------------------------------------------------
# predict
# --------------------------------------------------------------------------------------------
def read_image(path: str | Path) -> np.ndarray:
    """An image file as grey values in [0, 1], shape (H, W) (any format Pillow reads)."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ImportError(install_hint("minigrad predict (reading image files)", "image")) from None
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"), dtype=np.float32) / 255
    except UnidentifiedImageError:
        raise RunError(f"{path}: not an image file Pillow can read") from None


def area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D image by area averaging: each output pixel is the mean of the input area
    it covers (fractional pixels weighted by their overlap).

    Example:
        >>> area_resize(np.kron(np.eye(2), np.ones((3, 3))), 2, 2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    return _area_weights(height, image.shape[0]) @ image @ _area_weights(width, image.shape[1]).T


def _area_weights(n_out: int, n_in: int) -> np.ndarray:
    """(n_out, n_in): row i averages the input interval [i, i + 1) * n_in / n_out."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    left, right = edges[:-1, None], edges[1:, None]
    pixels = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(right, pixels + 1) - np.maximum(left, pixels), 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def prepare(image: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    """A grey image (H, W) in [0, 1] made like the run's training images, (1, C, h, w):

    inverted if its background (the border) is light, as the training images have light ink on
    a dark background; stretched so that its values span [0, 1]; resized to the model's input
    by area averaging; and rounded to the training data's grey levels (17 for the 8x8 digits).
    The digit should fill the frame as in the training images.
    """
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > 0.5:
        image = 1 - image
    low, high = float(image.min()), float(image.max())
    if high > low:
        image = (image - low) / (high - low)
    channels, height, width = config["input"]["shape"]
    small = area_resize(image.astype(np.float64), height, width)
    levels = config["input"]["levels"]
    if levels:
        small = np.round(small * (levels - 1)) / (levels - 1)
    return np.broadcast_to(small, (1, channels, height, width)).astype(np.float32)


def predict_command(args: argparse.Namespace) -> int:
    """``minigrad predict CHECKPOINT IMAGE...``: the class of each image, with the
    probabilities of the most likely classes."""
    from minigrad.autograd import no_grad

    state = read_run(args.checkpoint)
    config = state["config"]
    model = rebuild(state, args.checkpoint)
    names = config["classes"]
    for path in args.images:
        with no_grad():
            logits = model(Tensor(prepare(read_image(path), config)))
        probabilities = logits.softmax(axis=1).data[0]
        top = np.argsort(-probabilities, kind="stable")[: args.top]
        ranked = ", ".join(f"{names[i]} {probabilities[i]:.1%}" for i in top)
        print(f"{path}: {names[top[0]]}  ({ranked})")
    return 0


# --------------------------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------------------------
def summary_command(args: argparse.Namespace) -> int:
    """``minigrad summary [CHECKPOINT]``: the model's layers, output shapes and parameters."""
    if args.checkpoint:
        state = read_run(args.checkpoint)
        config = state["config"]
        model = rebuild(state, args.checkpoint)
        shape = tuple(config["input"]["shape"])
        title = f"{args.checkpoint}: {config['model']} for {config['dataset']}"
    else:
        name, dataset = args.model or "cnn", args.dataset or "digits"
        shape = IMAGE_SHAPES[dataset]
        model = models.build(name, shape, len(classes(dataset)))
        title = f"{name} for {dataset} (images of {shape[1]}x{shape[2]})"
    print(title)
    print(models.summary(model, shape))
    return 0
