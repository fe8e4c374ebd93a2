"""MNIST and Fashion-MNIST: the four IDX files per dataset, their hashes, mirrors and loaders.

Files live in one cache folder per dataset (``mnist`` and ``fashion-mnist`` under the folder given
by :func:`minigrad.data.download.cache_dir`, or under ``root``), because both datasets use the same
file names. Every load checks the files' sizes and SHA-256 against the tables below.

The mirror lists can be overridden with the environment variables ``MINIGRAD_MNIST_MIRRORS`` and
``MINIGRAD_FASHION_MNIST_MIRRORS``: base URLs separated by whitespace, tried in order.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from minigrad.data.download import cache_dir, ensure_file
from minigrad.data.errors import DatasetError
from minigrad.data.idx import read_idx

IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension

# file name -> (size in bytes, SHA-256 of the .gz)
MNIST_FILES: dict[str, tuple[int, str]] = {
    "train-images-idx3-ubyte.gz": (
        9912422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train-labels-idx1-ubyte.gz": (
        28881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "t10k-images-idx3-ubyte.gz": (
        1648877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        4542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}
FASHION_MNIST_FILES: dict[str, tuple[int, str]] = {
    "train-images-idx3-ubyte.gz": (
        26421880,
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    "train-labels-idx1-ubyte.gz": (
        29515,
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ),
    "t10k-images-idx3-ubyte.gz": (
        4422102,
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        5148,
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
}
# The original MNIST site has refused downloads since 2024.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FASHION_MNIST_MIRRORS: tuple[str, ...] = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def load_mnist(
    split: str = "train", root: str | os.PathLike[str] | None = None, download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28, classes 0-9.

    Returns ``(images, labels)``: float32 (N, 1, 28, 28) in [0, 1] and int64 (N,). The splits are
    the official ones. Files are read from ``root/mnist/`` (default: the cache folder, see
    :func:`minigrad.data.download.cache_dir`); with ``download=True`` missing or corrupt files are
    fetched (about 11 MB) and verified. Mirrors are tried in order: ``MNIST_MIRRORS``, or the
    whitespace-separated base URLs in ``$MINIGRAD_MNIST_MIRRORS``. Licence: CC BY-SA 3.0.

    Example:
        >>> images, labels = load_mnist("test", download=True)  # doctest: +SKIP
        >>> images.shape, labels.dtype  # doctest: +SKIP
        ((10000, 1, 28, 28), dtype('int64'))
    """
    mirrors = _mirrors("MINIGRAD_MNIST_MIRRORS", MNIST_MIRRORS)
    return _load("mnist", "MNIST", MNIST_FILES, mirrors, split, root, download)


def load_fashion_mnist(
    split: str = "train", root: str | os.PathLike[str] | None = None, download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST: 60,000 training and 10,000 test clothing images, 28x28, 10 classes.

    Same interface and return types as :func:`load_mnist`; files live in ``root/fashion-mnist/``
    (about 30 MB); the mirrors are ``FASHION_MNIST_MIRRORS`` or ``$MINIGRAD_FASHION_MNIST_MIRRORS``.
    Class names in label order are ``FASHION_MNIST_CLASSES``. Licence: MIT.

    Example:
        >>> images, labels = load_fashion_mnist("test", download=True)  # doctest: +SKIP
        >>> FASHION_MNIST_CLASSES[int(labels[0])]  # doctest: +SKIP
        'Ankle boot'
    """
    mirrors = _mirrors("MINIGRAD_FASHION_MNIST_MIRRORS", FASHION_MNIST_MIRRORS)
    return _load(
        "fashion-mnist", "Fashion-MNIST", FASHION_MNIST_FILES, mirrors, split, root, download
    )


def _mirrors(env_var: str, default: tuple[str, ...]) -> tuple[str, ...]:
    override = os.environ.get(env_var, "").split()
    return tuple(override) if override else default


def _load(
    name: str,
    title: str,
    files: dict[str, tuple[int, str]],
    mirrors: tuple[str, ...],
    split: str,
    root: str | os.PathLike[str] | None,
    download: bool,
) -> tuple[np.ndarray, np.ndarray]:
    if split not in _SPLITS:
        raise ValueError(
            f"load_{name.replace('-', '_')}: split must be 'train' or 'test', got {split!r}"
        )
    folder = cache_dir(name) if root is None else Path(root).expanduser() / name
    image_path, label_path = (
        ensure_file(filename, folder, *files[filename], mirrors, download, title)
        for filename in _SPLITS[split]
    )
    images = read_idx(image_path, magic=IMAGES_MAGIC)
    labels = read_idx(label_path, magic=LABELS_MAGIC)
    if len(images) != len(labels):
        raise DatasetError(
            f"{title} {split} files disagree: {image_path} has {len(images)} images but "
            f"{label_path} has {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{label_path}: label {labels.max()} is out of range for 10 classes")
    x = np.divide(images[:, None], 255, dtype=np.float32)
    return x, labels.astype(np.int64)
