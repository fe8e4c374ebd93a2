"""The embedded default dataset: the UCI handwritten digits that ship inside scikit-learn.

scikit-learn's wheel carries ``sklearn/datasets/data/digits.csv.gz`` (1,797 images of 8x8 pixels
with 17 grey levels 0..16, ten classes; 65 comma-separated columns per row: 64 pixels, then the
label). It is read here with NumPy, without importing scikit-learn, and with no network.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from minigrad.data.errors import DatasetError

_RELATIVE_PATH = ("datasets", "data", "digits.csv.gz")
_MISSING = "load_digits needs scikit-learn's bundled data: pip install 'minigrad[data]'"
TEST_EVERY = 5  # within each class, every 5th image in file order goes to the test split


def load_digits(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The UCI handwritten digits (8x8, ten classes), embedded: no download needed.

    Returns ``(images, labels)``: float32 (N, 1, 8, 8) in [0, 1] (grey levels 0..16 divided by 16)
    and int64 (N,). The split is fixed, deterministic and stratified: within each class, taking the
    images in file order, every 5th one (positions 4, 9, 14, ...) is a test image and the rest are
    training images. That gives 1,442 training images (per class 0-9: 143 146 142 147 145 146 145
    144 140 144) and 355 test images (35 36 35 36 36 36 36 35 34 36), about 80/20, each in file
    order. The parsed file is cached in memory; each call returns fresh arrays.
    Raises ``ModuleNotFoundError`` if scikit-learn (which ships the file) is not installed.

    Example:
        >>> images, labels = load_digits("test")
        >>> images.shape, labels.shape
        ((355, 1, 8, 8), (355,))
    """
    if split not in ("train", "test"):
        raise ValueError(f"load_digits: split must be 'train' or 'test', got {split!r}")
    images, labels, test = _read_digits(_digits_file())
    keep = test if split == "test" else ~test
    return images[keep], labels[keep]


def _digits_file() -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(_MISSING, name="sklearn")
    candidates = [
        Path(folder).joinpath(*_RELATIVE_PATH) for folder in spec.submodule_search_locations
    ]
    for path in candidates:
        if path.is_file():
            return path
    raise DatasetError(
        f"scikit-learn is installed but its digits file is missing: looked for "
        f"{', '.join(map(str, candidates))}"
    )


@functools.cache
def _read_digits(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse the file once per process: images, labels, and the test-split mask (all read-only)."""
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot parse the digits file ({exc})") from exc
    if table.shape[1] != 65 or table.size == 0:
        raise DatasetError(f"{path}: expected rows of 65 columns, got shape {table.shape}")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise DatasetError(f"{path}: pixel values must be 0..16 and labels 0..9")
    images = (pixels.astype(np.float32) / 16).reshape(-1, 1, 8, 8)
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        test[np.flatnonzero(labels == digit)[TEST_EVERY - 1 :: TEST_EVERY]] = True
    for array in (images, labels, test):
        array.setflags(write=False)
    return images, labels, test
