"""load_digits: the embedded UCI digits, read with NumPy from scikit-learn's wheel."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest
from support import subprocess_env

from minigrad.data import digits, load_digits

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


def test_split_is_deterministic_disjoint_and_complete():
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    table = np.loadtxt(digits._digits_file(), delimiter=",")
    assert len(x_train) + len(x_test) == len(table) == 1797
    test = np.zeros(len(table), dtype=bool)
    for digit in range(10):
        test[np.flatnonzero(table[:, 64] == digit)[4::5]] = True
    np.testing.assert_array_equal(x_test.reshape(-1, 64) * 16, table[test, :64])
    np.testing.assert_array_equal(x_train.reshape(-1, 64) * 16, table[~test, :64])
    np.testing.assert_array_equal(y_train, table[~test, 64])
    np.testing.assert_array_equal(load_digits("test")[1], y_test)


def test_matches_scikit_learn():
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


def test_missing_scikit_learn_says_which_extra_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "sklearn" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'minigrad\[data\]'"):
        load_digits()


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_digits("val")


def test_import_and_load_do_not_import_scikit_learn_or_the_network_stack():
    code = (
        "import sys, minigrad.data as d; d.load_digits(); "
        "print(sorted(m for m in ('sklearn', 'urllib.request') if m in sys.modules))"
    )
    env = subprocess_env()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"
