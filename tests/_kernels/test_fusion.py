"""ReLU then max pooling, fused in Sequential: bit-identical to running the layers one by one."""

from __future__ import annotations

import numpy as np
import pytest
from support import POOL_SETTINGS

import minigrad as mg
import minigrad.functional as F
from minigrad import kernels, nn
from minigrad._kernels.fusion import ReLUMaxPool2d


def model(kernel=2, stride=None, padding=0) -> nn.Sequential:
    mg.manual_seed(3)
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(kernel, stride, padding),
        nn.Flatten(),
    )


def inputs(rng, kind: str) -> np.ndarray:
    x = rng.standard_normal((3, 2, 7, 6)).astype(np.float32)
    if kind == "ties":
        x = rng.integers(-1, 2, x.shape).astype(np.float32)  # many equal and zero values
    elif kind == "nan":
        x[0, 0, 2, 3] = np.nan
    elif kind == "neg_inf":
        x[:, :, :3] = -np.inf
    return x


def run(m: nn.Sequential, x: np.ndarray, fused: bool, upstream: np.ndarray | None = None):
    m.zero_grad()
    xt = mg.tensor(x, requires_grad=True)
    if fused:
        out = m(xt)
    else:
        out = xt
        for layer in m:  # each layer's own call: never fused
            out = layer(out)
    upstream = np.ones(out.shape, np.float32) if upstream is None else upstream
    out.backward(upstream)
    return out, [out.numpy(), xt.grad, *(p.grad for p in m.parameters())]


@pytest.mark.parametrize("kind", ["normal", "ties", "nan", "neg_inf"])
@pytest.mark.parametrize(("kernel", "stride", "padding"), POOL_SETTINGS)
def test_fused_pair_is_bit_identical_to_the_layers_one_by_one(kernel, stride, padding, kind, rng):
    m = model(kernel, stride, padding)
    x = inputs(rng, kind)
    if kind == "neg_inf":  # the conv would turn -inf into NaN: feed the pair directly
        m = nn.Sequential(nn.ReLU(), nn.MaxPool2d(kernel, stride, padding), nn.Flatten())
    fused_out, fused = run(m, x, fused=True)
    _, unfused = run(m, x, fused=False)
    assert any(n.function is ReLUMaxPool2d for n in _nodes(fused_out))
    for a, b in zip(fused, unfused, strict=True):
        np.testing.assert_array_equal(a, b)


def _nodes(t: mg.Tensor) -> list:
    found, stack = [], [t.grad_fn]
    while stack:
        node = stack.pop()
        if isinstance(node, mg.autograd.Node):
            found.append(node)
            stack.extend(node.edges)
    return found


def test_each_member_of_a_fused_pair_keeps_its_own_backward(rng) -> None:
    """pool.backward returns dL/d(relu output), exactly as the unfused pool layer does (also
    where a window's maximum is a tie of zeros), and relu.backward maps it to dL/dx."""
    relu, pool = nn.ReLU(), nn.MaxPool2d(3, 2, 1)
    x = inputs(rng, "ties")
    g = rng.standard_normal((3, 2, 4, 3)).astype(np.float32)
    nn.Sequential(relu, pool)(x)
    fused = [pool.backward(g)]
    fused.append(relu.backward(fused[0]))
    pool(relu(x))  # unfused
    unfused = [pool.backward(g)]
    unfused.append(relu.backward(unfused[0]))
    for a, b in zip(fused, unfused, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fusion_only_in_the_fast_tier_and_also_without_grad(rng) -> None:
    m = model()
    x = inputs(rng, "normal")
    with kernels.use("reference"):
        out = m(mg.tensor(x, requires_grad=True))
        assert not any(n.function is ReLUMaxPool2d for n in _nodes(out))
        reference = out.numpy()
    unfused = run(m, x, fused=False)[0].numpy()
    with mg.no_grad():
        np.testing.assert_array_equal(m(x).numpy(), unfused)
    np.testing.assert_allclose(m(x).numpy(), reference, rtol=1e-6, atol=1e-6)


def test_a_fused_member_whose_graph_was_freed_says_so(rng) -> None:
    relu, pool = nn.ReLU(), nn.MaxPool2d(2)
    out = nn.Sequential(relu, pool)(mg.tensor(inputs(rng, "normal"), requires_grad=True))
    F.relu(out).sum().backward()  # runs, and frees, the fused node
    with pytest.raises(RuntimeError, match="already freed by a backward"):
        pool.backward(np.ones(out.shape))


def test_no_fusion_while_anything_watches(rng) -> None:
    """Hooks, traces and anomaly mode see every layer's own call, so the pair runs unfused."""
    m = model()
    x = inputs(rng, "normal")
    seen = []
    handle = m[1].register_forward_hook(lambda layer, inputs, output: seen.append(output.shape))
    out = m(mg.tensor(x, requires_grad=True))
    assert seen == [(3, 3, 7, 6)] and not any(n.function is ReLUMaxPool2d for n in _nodes(out))
    handle.remove()
    for watching in (mg.trace(m), mg.detect_anomaly()):
        with watching:
            out = m(mg.tensor(x, requires_grad=True))
        assert not any(n.function is ReLUMaxPool2d for n in _nodes(out))
    out = m(mg.tensor(x, requires_grad=True))
    assert any(n.function is ReLUMaxPool2d for n in _nodes(out))
