"""The Layer base: registration, traversal, modes, dtype, state dicts, repr, backward errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn


class Block(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4))
        self.bn = nn.BatchNorm1d(4)
        self.register_buffer("steps", np.zeros(1))

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


def test_parameters_register_in_insertion_order_with_dotted_names() -> None:
    model = nn.Sequential(Block(), nn.ReLU(), nn.Linear(4, 2))
    names = [n for n, _ in model.named_parameters()]
    assert names == [
        "0.fc.weight",
        "0.fc.bias",
        "0.scale",
        "0.bn.weight",
        "0.bn.bias",
        "2.weight",
        "2.bias",
    ]
    assert len(list(model.parameters())) == 7
    assert [n for n, _ in model.named_buffers()] == [
        "0.bn.running_mean",
        "0.bn.running_var",
        "0.steps",
    ]
    assert [type(c).__name__ for c in model.children()] == ["Block", "ReLU", "Linear"]


def test_shared_parameters_are_listed_once() -> None:
    lin = nn.Linear(2, 2)
    model = nn.Sequential(lin, lin)
    assert len(list(model.parameters())) == 2


def test_reassigning_an_attribute_updates_the_registry() -> None:
    block = Block()
    block.scale = None
    assert "scale" not in [n for n, _ in block.named_parameters()]
    del block.fc
    assert not any(n.startswith("fc.") for n, _ in block.named_parameters())


def test_assigning_before_super_init_is_a_clear_error() -> None:
    class Broken(nn.Layer):
        def __init__(self) -> None:
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_train_and_eval_propagate() -> None:
    model = nn.Sequential(Block(), nn.Dropout())
    model.eval()
    assert not any(layer.training for layer in model.layers())
    model.train()
    assert all(layer.training for layer in model.layers())


def test_zero_grad_both_modes() -> None:
    lin = nn.Linear(2, 2)
    lin(np.ones((1, 2))).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert (lin.weight.grad == 0).all()
    lin.zero_grad()
    assert lin.weight.grad is None


def test_to_converts_parameters_and_buffers() -> None:
    block = Block().to("float64")
    assert all(p.dtype == np.float64 for p in block.parameters())
    assert all(b.dtype == np.float64 for b in block.buffers())
    assert block(np.ones((2, 3))).dtype == np.float64


def test_state_dict_round_trip_and_copies() -> None:
    a, b = Block(), Block()
    state = a.state_dict()
    assert set(state) == {
        "fc.weight",
        "fc.bias",
        "scale",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "steps",
    }
    state["scale"][...] = 5  # a copy: the model is untouched
    assert (a.scale.data == 1).all()
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_errors_name_the_key() -> None:
    block = Block()
    state = block.state_dict()
    with pytest.raises(ValueError, match=r"'fc.weight' has shape \(4, 4\)"):
        block.load_state_dict({**state, "fc.weight": np.zeros((4, 4), np.float32)})
    with pytest.raises(ValueError, match=r"'fc\.bias' has dtype float64"):
        block.load_state_dict({**state, "fc.bias": np.zeros(4)})
    with pytest.raises(KeyError, match=r"missing keys.*scale"):
        block.load_state_dict({k: v for k, v in state.items() if k != "scale"})
    with pytest.raises(KeyError, match=r"unexpected keys.*extra"):
        block.load_state_dict({**state, "extra": np.zeros(1)})
    result = block.load_state_dict({"scale": np.full(4, 2, np.float32)}, strict=False)
    assert "fc.weight" in result.missing_keys and (block.scale.data == 2).all()


def test_failed_load_changes_nothing() -> None:
    block = Block()
    before = block.state_dict()
    bad = {
        **block.state_dict(),
        "scale": np.full(4, 9, np.float32),
        "bn.bias": np.zeros(7, np.float32),
    }
    with pytest.raises(ValueError):
        block.load_state_dict(bad)
    np.testing.assert_array_equal(block.scale.data, before["scale"])


def test_repr_shows_the_tree() -> None:
    text = repr(nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Linear(4, 2)))
    assert "(0): Conv2d(1, 8, kernel_size=(3, 3)" in text
    assert "(2): Linear(in_features=4, out_features=2, bias=True)" in text


def test_backward_before_forward_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="forward pass first"):
        nn.Linear(2, 2).backward(np.ones((1, 2)))
    lin = nn.Linear(2, 2)
    with mg.no_grad():
        lin(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="forward pass first"):
        lin.backward(np.ones((1, 2)))


def test_backward_returns_input_gradient_for_plain_arrays() -> None:
    lin = nn.Linear(3, 2)
    x = np.random.default_rng(0).standard_normal((4, 3))
    lin(x)
    dx = lin.backward(np.ones((4, 2), np.float32))
    np.testing.assert_allclose(dx, np.ones((4, 2)) @ lin.weight.data, rtol=1e-6)


def test_loss_layer_backward_returns_none_for_targets() -> None:
    loss_fn = nn.CrossEntropyLoss()
    logits = mg.tensor(np.zeros((2, 3)), requires_grad=True)
    loss_fn(logits, mg.tensor([0, 2]))
    grad_logits, grad_target = loss_fn.backward()
    assert grad_target is None
    np.testing.assert_allclose(grad_logits, [[-1 / 3, 1 / 6, 1 / 6], [1 / 6, 1 / 6, -1 / 3]])


def test_input_tensor_without_grad_is_not_given_a_grad() -> None:
    x = mg.tensor(np.ones((2, 3)))
    nn.Linear(3, 1)(x).sum().backward()
    assert x.grad is None and not x.requires_grad


def test_copy_is_independent_and_drops_the_graph() -> None:
    lin = nn.Linear(2, 2)
    lin(np.ones((1, 2)))
    twin = lin.copy()
    twin.weight.data[...] = 0
    assert (lin.weight.data != 0).any()
    with pytest.raises(RuntimeError, match="forward pass first"):
        twin.backward(np.ones((1, 2)))


def test_a_layer_does_not_keep_its_last_activations_alive() -> None:
    import weakref

    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    hidden = model[1](model[0](np.ones((3, 4))))
    probe = weakref.ref(hidden.data)
    loss = model[2](hidden).sum()
    loss.backward()
    del hidden, loss
    assert probe() is None  # the layers remember graph nodes, which hold no data


def test_identity_layer_backward_passes_the_gradient_through() -> None:
    drop = nn.Dropout(0.0)
    drop(np.ones(3))
    np.testing.assert_array_equal(drop.backward(np.array([1.0, 2.0, 3.0])), [1.0, 2.0, 3.0])
