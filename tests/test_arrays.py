"""``InPlaceArray``: the ndarray behind ``.grad`` and user-made ``.data``, with PyTorch's
in-place methods, invisible to the ops (their results stay plain ndarrays) and untracked by
the version counter (as ``.data`` is in PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.arrays import InPlaceArray


def test_grads_and_user_data_have_the_methods() -> None:
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    assert type(w.grad) is InPlaceArray and type(w.data) is InPlaceArray
    for make in (mg.zeros, mg.ones, mg.randn, mg.rand):
        assert type(make(2).data) is InPlaceArray
    assert type(nn.Linear(2, 2).weight.data) is InPlaceArray
    assert type(mg.arange(3).data) is InPlaceArray


def test_methods_change_the_array_and_return_it() -> None:
    a = np.array([1.0, -2.0, 3.0]).view(InPlaceArray)
    assert a.add_(np.ones(3), alpha=2) is a and a.tolist() == [3.0, 0.0, 5.0]
    assert a.sub_(mg.tensor([1.0, 1.0, 1.0], dtype="float64")).tolist() == [2.0, -1.0, 4.0]
    assert a.sub_(1, alpha=2).tolist() == [0.0, -3.0, 2.0]
    assert a.mul_(2).tolist() == [0.0, -6.0, 4.0]
    assert a.div_(np.array([1.0, 2.0, 4.0])).tolist() == [0.0, -3.0, 1.0]
    assert a.clamp_(min=-1).tolist() == [0.0, -1.0, 1.0]
    assert a.clamp_(max=0.5).tolist() == [0.0, -1.0, 0.5]
    assert a.copy_([7.0, 8.0, 9.0]).tolist() == [7.0, 8.0, 9.0]
    assert a.fill_(2).tolist() == [2.0, 2.0, 2.0]
    assert a.zero_().tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="at least one of min and max"):
        a.clamp_()


def test_results_of_numpy_functions_are_plain_ndarrays() -> None:
    a = np.arange(6.0).reshape(2, 3).view(InPlaceArray)
    for result in (a + 1, a * a, np.exp(a), a @ np.ones(3), a.sum(axis=0), np.maximum(a, 2)):
        assert type(result) is np.ndarray
    assert isinstance(a.sum(), float)  # a scalar stays a scalar
    b = a
    b -= 1  # in place keeps the array (and its class)
    assert b is a and type(b) is InPlaceArray
    assert repr(a) == repr(a.view(np.ndarray))  # prints as an ndarray


def test_ops_on_parameters_give_plain_arrays() -> None:
    layer = nn.Linear(3, 2)
    y = layer(mg.ones(4, 3))
    assert type(y.data) is np.ndarray


def test_writes_are_not_tracked_by_the_version_counter() -> None:
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    before = w.version
    w.data.add_(1.0)
    w.data.zero_()
    assert w.version == before


def test_torch_idioms_train_a_parameter() -> None:
    """``w -= lr * w.grad`` under no_grad, ``w.grad.zero_()``, ``p.data.add_(...)`` and
    micrograd's ``p.data -= lr * p.grad``: each moves the parameter, keeps it a leaf that
    requires grad, and leaves the next backward correct."""
    lr = 0.1
    w = mg.tensor([1.0, -1.0], requires_grad=True)
    for idiom in ("isub", "add_", "data_isub"):
        w.grad = None
        (w * w).sum().backward()  # d/dw sum(w^2) = 2w
        before = w.data.copy()
        if idiom == "isub":
            with mg.no_grad():
                w -= lr * w.grad
        elif idiom == "add_":
            w.data.add_(w.grad, alpha=-lr)
        else:
            w.data -= lr * w.grad
        np.testing.assert_allclose(w.data, before * (1 - 2 * lr), rtol=1e-6)
        assert w.is_leaf and w.requires_grad and type(w.data) is InPlaceArray
        w.grad.zero_()
        assert w.grad.tolist() == [0.0, 0.0]
        (w * 3).sum().backward()  # accumulates into the zeroed array
        assert w.grad.tolist() == [3.0, 3.0]
