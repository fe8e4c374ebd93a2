"""Hooks on tensors and layers: PyTorch's semantics, removable, never state, free when unused."""

from __future__ import annotations

import copy
import gc
import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad import autograd


def f64(rng, *shape, grad: bool = True) -> mg.Tensor:
    return mg.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=grad)


# ---------------------------------------------------------------------------------------------
# tensor hooks
# ---------------------------------------------------------------------------------------------
def test_a_non_leaf_hook_sees_the_total_gradient_and_may_replace_it(rng) -> None:
    x = f64(rng, 3)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.copy()))
    y.register_hook(lambda g: g * 10)  # runs second, sees what the first left unchanged
    (y * 3 + y).sum().backward()  # y is used twice: the hook sees the sum, once
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], np.full(3, 4.0))
    np.testing.assert_array_equal(x.grad, np.full(3, 80.0))  # 4 * 10 * dy/dx


def test_a_leaf_hook_runs_before_accumulation_on_this_pass_only(rng) -> None:
    x = f64(rng, 2)
    seen = []

    def hook(g):
        seen.append(g.copy())
        return g + 1

    x.register_hook(hook)
    (x * 3).sum().backward()
    (x * 5).sum().backward()  # accumulates: the hook sees 5, not 3 + 5
    np.testing.assert_array_equal(seen[1], np.full(2, 5.0))
    np.testing.assert_array_equal(x.grad, np.full(2, 4.0 + 6.0))


def test_hooks_run_in_registration_order_and_see_a_read_only_gradient(rng) -> None:
    x = f64(rng, 2)
    order = []
    x.register_hook(lambda g: order.append("first"))
    x.register_hook(lambda g: order.append("second"))

    def mutate(g):
        g[0] = 99.0

    x.register_hook(mutate)
    with pytest.raises(ValueError, match="read-only"):
        (x * 1).sum().backward()
    assert order == ["first", "second"]


def test_a_replacement_of_the_wrong_shape_is_refused(rng) -> None:
    x = f64(rng, 3)

    def bad(g):
        return np.ones(4)

    x.register_hook(bad)
    with pytest.raises(RuntimeError, match=r"hook 'bad' returned a gradient of shape \(4,\) for"):
        x.sum().backward()


def test_handles_remove_hooks_and_the_table_empties(rng) -> None:
    x = f64(rng, 2)
    handle = x.register_hook(lambda g: g * 0)
    with x.register_hook(lambda g: g * 2):
        (x * 1).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(2))
    handle.remove()
    handle.remove()  # harmless
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(2))
    assert not x._hooks


def hook_on_itself(rng) -> None:
    x = f64(rng, 2)
    x.register_hook(lambda g: print(x.shape))


def test_backward_looks_for_hooks_only_while_some_exist(rng) -> None:
    gc.collect()  # tensors other tests left in reference cycles go first
    before = autograd._hooked
    y = f64(rng, 2) * 2
    handle = y.register_hook(lambda g: None)
    y.register_hook(lambda g: None)
    assert autograd._hooked == before + 1  # one hooked place, however many hooks
    handle.remove()
    assert autograd._hooked == before + 1
    del y, handle  # freed with a hook on it
    assert autograd._hooked == before
    hook_on_itself(rng)
    gc.collect()  # the cycle a hook referring to its own tensor makes is freed

    assert autograd._hooked == before


def test_a_tensor_that_requires_no_grad_cannot_be_hooked() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="callable"):
        mg.tensor([1.0], requires_grad=True).register_hook(3)


def test_hooks_apply_to_captured_gradients_too(rng) -> None:
    x = f64(rng, 3)
    x.register_hook(lambda g: g * 2)
    (grad,) = mg.grad((x * x).sum(), x)
    np.testing.assert_allclose(grad, 4 * x.data)
    assert x.grad is None


def test_a_hook_registered_before_an_in_place_change_sees_the_old_value_gradient(rng) -> None:
    # PyTorch: the hook stays with the value the tensor had when it was registered.
    x = f64(rng, 3)
    y = x * 1
    before, after = [], []
    y.register_hook(lambda g: before.append(g.copy()))
    y.mul_(3)
    y.register_hook(lambda g: after.append(g.copy()))
    y.sum().backward()
    np.testing.assert_array_equal(after[0], np.ones(3))
    np.testing.assert_array_equal(before[0], np.full(3, 3.0))


def test_copies_of_a_parameter_carry_no_hooks() -> None:
    p = nn.Parameter(np.ones(2))
    p.register_hook(lambda g: g * 100)
    q = copy.deepcopy(p)
    (q * 1).sum().backward()
    np.testing.assert_array_equal(q.grad, np.ones(2))


# ---------------------------------------------------------------------------------------------
# layer hooks
# ---------------------------------------------------------------------------------------------
def test_forward_pre_and_forward_hooks_see_and_may_replace(rng) -> None:
    fc = nn.Linear(3, 2)
    calls = []
    fc.register_forward_pre_hook(lambda layer, inputs: calls.append(("pre", layer, len(inputs))))
    fc.register_forward_hook(lambda layer, inputs, out: calls.append(("fwd", out.shape)))
    x = rng.standard_normal((4, 3)).astype(np.float32)
    fc(x)
    assert calls == [("pre", fc, 1), ("fwd", (4, 2))]

    doubled = fc.register_forward_pre_hook(lambda layer, inputs: inputs[0] * 2)
    zeroed = fc.register_forward_hook(lambda layer, inputs, out: out * 0)
    np.testing.assert_array_equal(fc(x).data, np.zeros((4, 2)))
    zeroed.remove()
    expected = (2 * x) @ fc.weight.data.T + fc.bias.data
    np.testing.assert_allclose(fc(x).data, expected, rtol=1e-6)
    doubled.remove()


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).to("float64")


def test_full_backward_hooks_see_the_gradients_autograd_computes(rng) -> None:
    model = mlp()
    x = f64(rng, 6, 4)
    target = rng.integers(0, 3, 6)
    seen: dict = {}

    def keep(key):
        def hook(*args):
            seen[key] = args[-2:] if len(args) == 3 else args[0].copy()

        return hook

    for i, layer in enumerate(model):
        layer.register_full_backward_hook(keep(i))
    h = model[1](model[0](x))
    loss = nn.CrossEntropyLoss()(model[2](h), target)
    h.register_hook(keep("h"))
    loss.backward()
    grad_input, grad_output = seen[2]
    assert isinstance(grad_input, tuple) and isinstance(grad_output, tuple)
    np.testing.assert_array_equal(grad_input[0], seen["h"])  # dL/dh, what Linear 2 sends back
    np.testing.assert_array_equal(seen[1][1][0], seen["h"])  # the tanh's grad_output
    np.testing.assert_array_equal(seen[0][0][0], x.grad)  # x is a leaf used only by layer 0


def test_a_backward_hook_on_the_first_layer_fires_with_none_for_data(rng) -> None:
    model = mlp()
    fired = []
    model[0].register_full_backward_hook(lambda layer, gi, go: fired.append((gi, go)))
    data = rng.standard_normal((6, 4))
    nn.CrossEntropyLoss()(model(data), rng.integers(0, 3, 6)).backward()
    (grad_input, grad_output) = fired[0]
    assert grad_input == (None,)  # plain data needs no gradient
    assert grad_output[0].shape == (6, 5)


def test_a_backward_hook_may_replace_grad_input(rng) -> None:
    model = mlp()
    x = f64(rng, 6, 4)
    model[1].register_full_backward_hook(lambda layer, gi, go: (gi[0] * 0,))
    nn.CrossEntropyLoss()(model(x), rng.integers(0, 3, 6)).backward()
    np.testing.assert_array_equal(model[0].weight.grad, np.zeros((5, 4)))
    np.testing.assert_array_equal(x.grad, np.zeros((6, 4)))
    assert np.abs(model[2].weight.grad).sum() > 0


def test_a_backward_hook_returning_the_wrong_structure_is_refused(rng) -> None:
    relu = nn.ReLU()
    relu.register_full_backward_hook(lambda layer, gi, go: (np.ones(2), np.ones(2)))
    with pytest.raises(RuntimeError, match="returned 2 gradients for 1 inputs"):
        relu(f64(rng, 3)).sum().backward()
    relu2 = nn.ReLU()
    relu2.register_full_backward_hook(lambda layer, gi, go: (np.ones(2),))
    with pytest.raises(RuntimeError, match=r"shape \(2,\) for input 0.*shape \(3,\)"):
        relu2(f64(rng, 3)).sum().backward()


class Step(nn.Layer):
    """A recurrent-style layer: ``(x, (h, c)) -> (y, (h', c'))``."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(np.linspace(-1.0, 1.0, 9).reshape(3, 3))

    def forward(self, x, state):
        h, c = state
        c2 = c * 0.5 + (x @ self.w).tanh()
        h2 = c2.tanh() * h
        return h2 * 2.0, (h2, c2)


def test_backward_hooks_and_layer_backward_keep_nested_structures(rng) -> None:
    layer = Step().to("float64")
    x, h, c = (f64(rng, 2, 3) for _ in range(3))
    g_y, g_c = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    expected = layer(x, (h, c)) and layer.backward((g_y, (None, g_c)))
    layer.zero_grad()
    fired = []
    layer.register_full_backward_hook(lambda layer, gi, go: fired.append((gi, go)))
    layer(x, (h, c))
    grad_x, (grad_h, grad_c) = layer.backward((g_y, (None, g_c)))
    (grad_input, grad_output) = fired[0]
    np.testing.assert_array_equal(grad_output[0], g_y)
    assert grad_output[1][0] is None  # h' was given no gradient
    np.testing.assert_array_equal(grad_output[1][1], g_c)
    for got, hooked, want in zip(
        (grad_x, grad_h, grad_c), (grad_input[0], *grad_input[1]), _flat(expected), strict=True
    ):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(hooked, want)
    fired.clear()
    data = (x.detach(), (h.detach(), c))  # only c requires grad now
    layer(data[0], data[1])
    grad_x, (grad_h, grad_c) = layer.backward((g_y, (None, g_c)))
    grad_input = fired[0][0]
    assert grad_input[0] is None and grad_input[1][0] is None  # as in PyTorch: data gets None
    np.testing.assert_array_equal(grad_input[1][1], grad_c)
    np.testing.assert_array_equal(grad_x, _flat(expected)[0])  # layer.backward still returns it


def _flat(tree):
    return [leaf for item in tree for leaf in (_flat(item) if isinstance(item, tuple) else [item])]


def test_layer_backward_through_a_hooked_model_still_matches_autograd(rng) -> None:
    model = mlp()
    for layer in model:
        layer.register_full_backward_hook(lambda layer, gi, go: None)
        layer.register_forward_hook(lambda layer, i, o: None)
    x = rng.standard_normal((6, 4))
    target = rng.integers(0, 3, 6)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(x), target).backward()
    expected = {n: p.grad.copy() for n, p in model.named_parameters()}
    model.zero_grad()
    grad, _ = (loss_fn(model(x), target), loss_fn.backward())[1]
    for layer in reversed(list(model)):
        grad = layer.backward(grad)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad, expected[name], err_msg=name)


def test_removing_every_hook_restores_the_plain_call(rng) -> None:
    fc = nn.Linear(2, 2)
    handles = [
        fc.register_forward_pre_hook(lambda layer, i: None),
        fc.register_forward_hook(lambda layer, i, o: None),
        fc.register_full_backward_hook(lambda layer, gi, go: None),
    ]
    assert fc._hooks is not None
    for handle in handles:
        handle.remove()
    assert fc._hooks is None
    y = fc(np.ones((1, 2)))
    assert y.grad_fn.name == "Linear"  # no boundary node in the graph


def test_hooks_are_not_state_and_copies_keep_them_independently(rng) -> None:
    fc = nn.Linear(2, 2)
    calls = []
    handle = fc.register_forward_hook(lambda layer, i, o: calls.append(layer))
    fc.weight.register_hook(lambda g: g)
    state = fc.state_dict()
    assert sorted(state) == ["bias", "weight"]
    fc.load_state_dict(state)
    twin = fc.copy()  # as PyTorch's deepcopy of a module: the hooks come along
    handle.remove()  # ... but removing the original's handle leaves the copy's hook
    fc(np.ones((1, 2)))
    twin(np.ones((1, 2)))
    assert calls == [twin]


def test_hooks_run_under_no_grad_but_backward_hooks_need_a_graph() -> None:
    fc = nn.Linear(2, 2)
    calls = []
    fc.register_forward_hook(lambda layer, i, o: calls.append("fwd"))
    fc.register_full_backward_hook(lambda layer, gi, go: calls.append("bwd"))
    with mg.no_grad():
        y = fc(np.ones((1, 2)))
    assert calls == ["fwd"] and not y.requires_grad


def test_tensor_hooks_registered_in_one_thread_fire_in_another(rng) -> None:
    x = f64(rng, 2)
    seen = []
    x.register_hook(lambda g: seen.append(threading.current_thread().name))
    worker = threading.Thread(target=lambda: (x * 1).sum().backward(), name="worker")
    worker.start()
    worker.join()
    assert seen == ["worker"]
