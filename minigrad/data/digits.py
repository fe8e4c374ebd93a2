"""The embedded default dataset: the UCI handwritten digits, shipped inside minigrad.

``minigrad/data/uci-digits/`` holds 1,797 images of 8x8 pixels with 17 grey levels 0..16 and
their labels, ten classes, as two gzipped IDX files (about 44 kB), with their attribution and
licence (CC BY 4.0) beside them. Nothing is downloaded and nothing else needs installing.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from minigrad.data.errors import DatasetError
from minigrad.data.idx import read_idx
from minigrad.data.mnist import IMAGES_MAGIC, LABELS_MAGIC

FOLDER = Path(__file__).with_name("uci-digits")
IMAGES_FILE = FOLDER / "images-idx3-ubyte.gz"
LABELS_FILE = FOLDER / "labels-idx1-ubyte.gz"
TEST_EVERY = 5  # within each class, every 5th image in file order goes to the test split


def load_digits(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The UCI handwritten digits (8x8, ten classes), embedded: no download needed.

    Returns ``(images, labels)``: float32 (N, 1, 8, 8) in [0, 1] (grey levels 0..16 divided by 16)
    and int64 (N,). The split is fixed, deterministic and stratified: within each class, taking the
    images in file order, every 5th one (positions 4, 9, 14, ...) is a test image and the rest are
    training images. That gives 1,442 training images (per class 0-9: 143 146 142 147 145 146 145
    144 140 144) and 355 test images (35 36 35 36 36 36 36 35 34 36), about 80/20, each in file
    order. The files are read once per process; each call returns fresh arrays. The data is
    "Optical Recognition of Handwritten Digits" by E. Alpaydin and C. Kaynak, UCI Machine
    Learning Repository, CC BY 4.0 (see ``minigrad/data/uci-digits/README.md``).

    Example:
        >>> images, labels = load_digits("test")
        >>> images.shape, labels.shape
        ((355, 1, 8, 8), (355,))
    """
    if split not in ("train", "test"):
        raise ValueError(f"load_digits: split must be 'train' or 'test', got {split!r}")
    images, labels, test = _read_digits(IMAGES_FILE, LABELS_FILE)
    keep = test if split == "test" else ~test
    return images[keep], labels[keep]


@functools.cache
def _read_digits(images_file: Path, labels_file: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read the files once per process: images, labels, and the test-split mask (read-only)."""
    pixels = read_idx(images_file, magic=IMAGES_MAGIC)
    labels = read_idx(labels_file, magic=LABELS_MAGIC).astype(np.int64)
    if pixels.shape[1:] != (8, 8) or len(pixels) != len(labels):
        raise DatasetError(
            f"{images_file.parent}: expected N images of 8x8 and N labels, got images of "
            f"shape {pixels.shape} and {len(labels)} labels"
        )
    if pixels.max(initial=0) > 16 or labels.max(initial=0) > 9:
        raise DatasetError(f"{images_file.parent}: pixel values must be 0..16 and labels 0..9")
    images = (pixels.astype(np.float32) / 16)[:, None]
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        test[np.flatnonzero(labels == digit)[TEST_EVERY - 1 :: TEST_EVERY]] = True
    for array in (images, labels, test):
        array.setflags(write=False)
    return images, labels, test
