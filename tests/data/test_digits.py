"""load_digits: the UCI digits shipped inside minigrad (two IDX files and their licence)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import subprocess_env

from minigrad.data import digits, load_digits
from minigrad.data.idx import read_idx, write_idx

TRAIN_PER_CLASS = [143, 146, 142, 147, 145, 146, 145, 144, 140, 144]
TEST_PER_CLASS = [35, 36, 35, 36, 36, 36, 36, 35, 34, 36]


@pytest.mark.parametrize(
    ("split", "per_class"), [("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)]
)
def test_shapes_dtypes_range_and_documented_counts(split, per_class):
    images, labels = load_digits(split)
    n = sum(per_class)
    assert images.shape == (n, 1, 8, 8) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert np.bincount(labels, minlength=10).tolist() == per_class
    assert set(np.unique(images * 16)) <= set(range(17))  # 17 grey levels


def _sklearn_table() -> np.ndarray:
    """scikit-learn's copy of the digits (the file minigrad's were converted from)."""
    sklearn = pytest.importorskip("sklearn")
    csv = Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"
    return np.loadtxt(csv, delimiter=",", dtype=np.int64)


def test_split_is_deterministic_disjoint_and_complete():
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    pixels = read_idx(digits.IMAGES_FILE).reshape(-1, 64)
    labels = read_idx(digits.LABELS_FILE)
    assert len(x_train) + len(x_test) == len(labels) == 1797
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        test[np.flatnonzero(labels == digit)[4::5]] = True
    np.testing.assert_array_equal(x_test.reshape(-1, 64) * 16, pixels[test])
    np.testing.assert_array_equal(x_train.reshape(-1, 64) * 16, pixels[~test])
    np.testing.assert_array_equal(y_train, labels[~test])
    np.testing.assert_array_equal(load_digits("test")[1], y_test)


def test_shipped_files_are_scikit_learns_digits_converted(tmp_path):
    """The one-time conversion, repeated: the same rows, values and order, the same bytes."""
    table = _sklearn_table()
    images = write_idx(tmp_path / "i.gz", table[:, :64].reshape(-1, 8, 8).astype(np.uint8))
    labels = write_idx(tmp_path / "l.gz", table[:, 64].astype(np.uint8))
    assert images.read_bytes() == digits.IMAGES_FILE.read_bytes()
    assert labels.read_bytes() == digits.LABELS_FILE.read_bytes()


def test_attribution_and_licence_ship_beside_the_data():
    readme = (digits.FOLDER / "README.md").read_text()
    for words in ("E. Alpaydin and C. Kaynak", "https://doi.org/10.24432/C50P49", "CC BY 4.0"):
        assert words in readme
    licence = (digits.FOLDER / "LICENSE.txt").read_text()
    assert licence.startswith("Attribution 4.0 International")
    assert "Section 1 -- Definitions." in licence


def test_matches_scikit_learn():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits as sklearn_load_digits

    reference = sklearn_load_digits()
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    pixels = np.concatenate([x_train, x_test]).reshape(-1, 64) * 16
    labels = np.concatenate([y_train, y_test])
    key = np.lexsort((labels, *pixels.T))
    ref_key = np.lexsort((reference.target, *reference.data.T))
    np.testing.assert_array_equal(pixels[key], reference.data[ref_key])
    np.testing.assert_array_equal(labels[key], reference.target[ref_key])


def test_calls_return_fresh_arrays():
    images, labels = load_digits()
    images[:] = -1
    labels[:] = -1
    again, again_labels = load_digits()
    assert again.min() == 0.0 and again_labels.min() == 0


def test_loads_with_scikit_learn_unimportable():
    code = (
        "import sys; sys.modules['sklearn'] = None; from minigrad.data import load_digits; "
        "print(load_digits('train')[0].shape)"
    )
    assert run_python(code) == "(1442, 1, 8, 8)"


def test_the_data_files_are_in_the_wheel():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'packages = ["minigrad"]' in pyproject  # hatchling ships every file under it
    assert (digits.FOLDER / "images-idx3-ubyte.gz").stat().st_size < 50_000


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_digits("val")


def run_python(code: str) -> str:
    env = subprocess_env()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return out.stdout.strip()


def test_import_and_load_do_not_import_scikit_learn_or_the_network_stack():
    code = (
        "import sys, minigrad.data as d; d.load_digits(); "
        "print(sorted(m for m in ('sklearn', 'urllib.request') if m in sys.modules))"
    )
    assert run_python(code) == "[]"
