"""Tensor construction, dtype rules, the API named in DESIGN.md, errors and stability."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


@pytest.mark.parametrize(
    "data",
    [1.5, [1.0, 2.0], np.array([1.0], dtype=np.float64), np.array([1.0], dtype=np.float16)],
)
def test_float_data_becomes_float32(data) -> None:
    assert mg.tensor(data).dtype == np.float32


def test_explicit_dtype_wins_and_default_can_change() -> None:
    assert mg.tensor([1.0], dtype="float64").dtype == np.float64
    mg.set_default_dtype("float64")
    assert mg.tensor([1.0]).dtype == np.float64
    assert mg.get_default_dtype() == np.float64
    with pytest.raises(TypeError, match="float"):
        mg.set_default_dtype("int32")


def test_integer_data_stays_integer_and_cannot_require_grad() -> None:
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor(np.array([1], dtype=np.int32)).dtype == np.int32
    with pytest.raises(TypeError, match="float"):
        mg.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("make", [mg.tensor, mg.Tensor], ids=["tensor", "Tensor"])
def test_user_data_is_copied(make) -> None:
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    x = make(a, requires_grad=True)
    assert not np.shares_memory(x.data, a)
    y = (x * x).sum()
    a[0] = 100  # the case: this used to change the gradient to 200
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])
    view = a[::2]
    assert not np.shares_memory(make(view).data, a)
    assert not np.shares_memory(make(x).data, x.data)


def test_from_numpy_shares_memory_and_keeps_the_dtype() -> None:
    a = np.zeros(3)
    t = mg.from_numpy(a)
    assert t.data is a and t.dtype == np.float64
    a[1] = 5
    assert t.tolist() == [0.0, 5.0, 0.0]
    assert mg.from_numpy(np.arange(3)).dtype == np.int64
    with pytest.raises(TypeError, match="expected an ndarray, got list"):
        mg.from_numpy([1.0])
    with pytest.raises(TypeError, match="dtype complex128 are not supported"):
        mg.from_numpy(np.zeros(2, complex))


@pytest.mark.parametrize("dtype", [object, complex, str, "datetime64[s]"])
def test_unsupported_dtypes_are_refused_at_construction(dtype) -> None:
    with pytest.raises(TypeError, match="tensors hold booleans, integers or floats"):
        mg.tensor([1], dtype=dtype)
    with pytest.raises(TypeError, match="tensors hold booleans, integers or floats"):
        mg.tensor(np.array([1], dtype=dtype))


@pytest.mark.parametrize("scalar", [2, 2.0, True])
def test_python_scalar_never_upcasts_float32(scalar) -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for y in (x + scalar, scalar - x, x * scalar, scalar / x, x**scalar, scalar**x):
        assert y.dtype == np.float32


def test_float64_array_constant_adopts_the_tensor_dtype() -> None:
    x = mg.tensor([1.0, 2.0])
    assert (x * np.array([2.0, 3.0])).dtype == np.float32
    assert (np.array([2.0, 3.0]) + x).dtype == np.float32
    assert (x + np.float64(1.0)).dtype == np.float32


def test_ndarray_on_the_left_defers_to_tensor() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([1.0, 1.0]) + x
    assert isinstance(y, mg.Tensor) and y.requires_grad


def test_properties_and_conversions() -> None:
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.float32
    assert x.T.shape == (3, 2)
    assert x.numpy() is x.data
    assert mg.tensor([[3.5]]).item() == 3.5
    assert len(x) == 2
    assert np.asarray(x).shape == (2, 3)
    d = (x * 1).detach()
    assert not d.requires_grad and d.is_leaf
    with pytest.raises(ValueError, match="not one"):
        x.item()


def test_comparisons_argmax_argmin_carry_no_gradient() -> None:
    x = mg.tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    for r in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, x.argmax(axis=1), x.argmin()):
        assert not r.requires_grad
    assert (x > 2).dtype == bool
    assert x.argmax(axis=1).tolist() == [1, 0]
    assert x.argmin().item() == 0


def test_tensors_hash_by_identity() -> None:
    a, b = mg.tensor([1.0]), mg.tensor([1.0])
    assert len({a, b}) == 2


def test_creation_functions() -> None:
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).shape == (2, 3)
    assert mg.ones(2, dtype="float64").dtype == np.float64
    assert mg.zeros_like(mg.ones(4)).tolist() == [0.0] * 4
    assert mg.ones_like(np.zeros((2,), dtype=np.float32)).dtype == np.float32
    assert mg.eye(3).numpy().trace() == 3.0
    assert mg.arange(5).dtype == np.int64 and mg.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert mg.randn(3, 4, requires_grad=True).requires_grad
    assert mg.concat([mg.ones(2), mg.zeros(1)]).tolist() == [1.0, 1.0, 0.0]
    assert mg.stack([mg.ones(2), mg.zeros(2)]).shape == (2, 2)
    assert mg.where(mg.tensor([True, False]), 1.0, mg.zeros(2)).tolist() == [1.0, 0.0]


def test_manual_seed_makes_draws_reproducible() -> None:
    mg.manual_seed(7)
    a = mg.randn(5).numpy().copy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(mg.randn(5).numpy(), a)
    assert not np.array_equal(mg.randn(5).numpy(), a)


def test_integer_input_to_float_functions_gives_default_float() -> None:
    x = mg.tensor([1, 2])
    assert x.exp().dtype == np.float32 and x.mean().dtype == np.float32


def test_requires_grad_only_settable_on_leaves() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


# ------------------------------------------------------------------ errors name the op and shapes
@pytest.mark.parametrize(
    ("fn", "op"),
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a.maximum(b), "maximum"),
    ],
)
def test_broadcast_mismatch_names_op_and_shapes(fn, op) -> None:
    with pytest.raises(ValueError, match=rf"{op}: shapes \(2, 3\) and \(4,\)"):
        fn(mg.zeros(2, 3), mg.zeros(4))


def test_matmul_mismatch_names_op_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\).*3.*4"):
        mg.zeros(2, 3) @ mg.zeros(4, 5)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 2, 3\) and \(3, 3, 4\)"):
        mg.zeros(2, 2, 3) @ mg.zeros(3, 3, 4)


def test_other_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\).*\(4,\)"):
        mg.zeros(2, 3).reshape(4)
    with pytest.raises(ValueError, match=r"concat: shapes \(2, 3\) and \(3, 4\)"):
        mg.concat([mg.zeros(2, 3), mg.zeros(3, 4)], axis=0)
    with pytest.raises(ValueError, match="linear"):
        F.linear(mg.zeros(2, 3), mg.zeros(4, 5))
    with pytest.raises(ValueError, match="mse_loss: input shape"):
        F.mse_loss(mg.zeros(4, 1), mg.zeros(4))
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        mg.zeros(2, 3).sum(axis=3)


@pytest.mark.parametrize("label", [-1, 4])
def test_cross_entropy_label_out_of_range_names_label_and_classes(label: int) -> None:
    with pytest.raises(ValueError, match=rf"label {label} at index 1 .* 4 classes"):
        F.cross_entropy(mg.zeros(3, 4), [0, label, 1])
    with pytest.raises(ValueError, match=rf"label {label} at index 1 .* 4 classes"):
        F.nll_loss(mg.zeros(3, 4), [0, label, 1])


def test_cross_entropy_rejects_float_targets_and_bad_shapes() -> None:
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(mg.zeros(3, 4), np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"targets have shape \(2,\)"):
        F.cross_entropy(mg.zeros(3, 4), [0, 1])
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(mg.zeros(3, 4), [0, 1, 2], reduction="avg")


# ------------------------------------------------------------------ numerical stability
BIG = 1e4


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.sigmoid(),
        lambda x: x.softmax(),
        lambda x: x.log_softmax(),
        lambda x: F.cross_entropy(x, [0, 1]),
        lambda x: F.binary_cross_entropy_with_logits(x, mg.ones(2, 3)),
        lambda x: x.logsumexp(axis=1),
    ],
    ids=["sigmoid", "softmax", "log_softmax", "cross_entropy", "bce_with_logits", "logsumexp"],
)
def test_stable_for_float32_inputs_of_magnitude_1e4(fn) -> None:
    # warnings are errors in this suite, so an overflow warning fails the test too
    x = mg.tensor([[BIG, -BIG, 0.0], [-BIG, -BIG, BIG]], requires_grad=True)
    out = fn(x)
    assert np.isfinite(out.numpy()).all()
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert np.isfinite(x.grad).all()


def test_logical_operators_on_masks() -> None:
    x = mg.tensor([-1.0, 0.5, 2.0])
    assert ((x > 0) & (x < 1)).tolist() == [False, True, False]
    assert ((x < 0) | (x > 1)).tolist() == [True, False, True]
    assert ((x > 0) ^ (x > 1)).tolist() == [False, True, False]
    assert (~(x > 0)).tolist() == [True, False, False]
    with pytest.raises(TypeError, match="boolean or integer"):
        ~x
