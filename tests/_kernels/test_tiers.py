"""Both tiers agree: every fast kernel gives its reference rule's forward and every gradient.

Run in float64 on the op tests' geometry grids (stride, padding, dilation, groups; tiling,
overlapping and padded pools; ties; batchnorm in training and evaluation), plus the tier switch
itself: thread-local, fixed per node at forward time.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from support import CONV_GRID, CONV_IDS, POOL_SETTINGS, SAME_ATOL, SAME_RTOL

import minigrad as mg
import minigrad.functional as F
from minigrad import kernels
from minigrad._kernels import layout
from minigrad.autograd import Function


def run(tier: str, fn, arrays: list[np.ndarray], upstream_seed: int = 0):
    """Forward of ``fn`` on float64 tensors made from ``arrays`` in ``tier``, then backward
    with a random upstream gradient: the output and every input's gradient."""
    tensors = [mg.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    with kernels.use(tier):
        out = fn(*tensors)
    upstream = np.random.default_rng(upstream_seed).standard_normal(out.shape)
    out.backward(upstream)
    return out.numpy(), [t.grad for t in tensors]


def assert_tiers_agree(fn, arrays: list[np.ndarray]) -> None:
    fast_out, fast_grads = run("fast", fn, arrays)
    ref_out, ref_grads = run("reference", fn, arrays)
    np.testing.assert_allclose(fast_out, ref_out, rtol=SAME_RTOL, atol=SAME_ATOL)
    for i, (a, b) in enumerate(zip(fast_grads, ref_grads, strict=True)):
        np.testing.assert_allclose(a, b, rtol=SAME_RTOL, atol=SAME_ATOL, err_msg=f"input {i}")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("setting", CONV_GRID, ids=CONV_IDS)
def test_conv2d(setting, bias: bool, rng) -> None:
    n, c, h, w, o, kernel, stride, padding, dilation, groups = setting
    arrays = [rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c // groups, *kernel))]
    if bias:
        arrays.append(rng.standard_normal(o))
    settings = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    assert_tiers_agree(lambda x, weight, b=None: F.conv2d(x, weight, b, **settings), arrays)


def _pool_inputs(rng, kind: str, shape=(2, 3, 7, 6)) -> np.ndarray:
    if kind == "distinct":
        return rng.permutation(np.linspace(-3, 3, int(np.prod(shape)))).reshape(shape)
    if kind == "ties":  # few distinct values: most windows hold tied maxima
        return rng.integers(0, 3, shape).astype(np.float64)
    x = rng.standard_normal(shape)
    if kind == "nan":  # a NaN is its window's maximum: the gradient goes to the first NaN
        x[0, 0, 1, 1:3] = np.nan
        return x
    x[:, :, :2] = -np.inf  # whole rows of -inf: padded windows with no finite pixel
    return x


@pytest.mark.parametrize("kind", ["distinct", "ties", "neg_inf", "nan"])
@pytest.mark.parametrize(("kernel", "stride", "padding"), POOL_SETTINGS)
def test_max_pool2d(kernel, stride, padding, kind: str, rng) -> None:
    x = _pool_inputs(rng, kind)
    assert_tiers_agree(lambda t: F.max_pool2d(t, kernel, stride, padding), [x])


@pytest.mark.parametrize(("kernel", "stride", "padding"), POOL_SETTINGS)
def test_avg_pool2d(kernel, stride, padding, rng) -> None:
    x = _pool_inputs(rng, "distinct")
    assert_tiers_agree(lambda t: F.avg_pool2d(t, kernel, stride, padding), [x])


def test_an_all_neg_inf_padded_window_routes_to_its_first_pixel_in_both_tiers() -> None:
    x = np.full((1, 1, 2, 2), -np.inf)
    for tier in kernels.TIERS:
        out, (grad,) = run(tier, lambda t: F.max_pool2d(t, 3, 1, 1), [x])
        assert np.isneginf(out).all()
        assert grad.sum() == pytest.approx(np.random.default_rng(0).standard_normal(4).sum())
        assert grad[0, 0, 0, 0] != 0  # the first real pixel of the first window, not padding


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(16, 5), (6, 4, 7), (4, 3, 5, 6)], ids=["1d", "1d_seq", "2d"])
def test_batch_norm(shape, affine: bool, training: bool, rng) -> None:
    c = shape[1]
    arrays = [rng.standard_normal(shape) * 3 + 1]
    if affine:
        arrays += [rng.uniform(0.5, 2, c), rng.standard_normal(c)]
    initial_stats = rng.uniform(-1, 1, c), rng.uniform(0.5, 2, c)
    results = {}
    for tier in kernels.TIERS:
        mean, var = (s.copy() for s in initial_stats)
        out, grads = run(
            tier,
            lambda x, *p: F.batch_norm(x, mean, var, *p, training=training, momentum=0.3),  # noqa: B023
            arrays,
        )
        results[tier] = [out, *grads, mean, var]  # the running statistics too
    for a, b in zip(results["fast"], results["reference"], strict=True):
        np.testing.assert_allclose(a, b, rtol=SAME_RTOL, atol=SAME_ATOL)


@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (2, 3, 4, 5)])
def test_relu(shape, rng) -> None:
    assert_tiers_agree(F.relu, [rng.standard_normal(shape) + 0.05])


def test_a_chain_through_every_fast_kernel_with_a_cropped_gradient(rng) -> None:
    """Fast outputs (batch-last) flow into reference-tier and plain ops and back; a gradient
    that arrives in another layout (a crop of a conv output) is aligned, not misread."""

    def net(x, w, gamma, beta):
        y = F.conv2d(x, w, padding=1)
        y = F.batch_norm(y, None, None, gamma, beta, training=True)
        y = F.max_pool2d(F.relu(y), 2)
        return F.avg_pool2d(y[:, :, 1:, :-1] * 2.0, 1)

    arrays = [
        rng.standard_normal((3, 2, 8, 8)),
        rng.standard_normal((4, 2, 3, 3)),
        rng.uniform(0.5, 2, 4),
        rng.standard_normal(4),
    ]
    assert_tiers_agree(net, arrays)
    with layout.recording() as copies:
        run("fast", net, arrays)
    assert copies, "the cropped gradient reached the fast pool without being aligned"


def test_the_tier_is_fixed_per_node_at_forward_time(rng) -> None:
    x = mg.tensor(rng.standard_normal((2, 3, 6, 6)), dtype="float64", requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 3, 3, 3)), dtype="float64", requires_grad=True)
    with kernels.use("fast"):
        y = F.conv2d(x, w, padding=1)
    assert y.grad_fn.function.__module__ == "minigrad._kernels.conv"
    with kernels.use("reference"):
        y.sum().backward()  # runs the fast rule its forward ran
    fast_grad = x.grad.copy()
    x.grad = None
    with kernels.use("reference"):
        z = F.conv2d(x, w, padding=1)
    assert z.grad_fn.function.__module__ == "minigrad.ops.conv"
    with kernels.use("fast"):
        z.sum().backward()
    np.testing.assert_allclose(x.grad, fast_grad, rtol=SAME_RTOL, atol=SAME_ATOL)


def test_the_switch_is_thread_local_and_nests() -> None:
    seen = {}

    def worker() -> None:
        seen["start"] = kernels.current()
        kernels.use("reference")
        seen["set"] = kernels.current()

    with kernels.use("reference"):
        with kernels.use("fast"):
            assert kernels.current() == "fast"
        assert kernels.current() == "reference"
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert kernels.current() == "fast"
    assert seen == {"start": "fast", "set": "reference"}
    with pytest.raises(ValueError, match="tier must be one of"):
        kernels.use("turbo")


def test_every_fast_kernel_subclasses_its_reference_rule_and_is_tested_here() -> None:
    registered = dict(kernels._fast)
    names = {reference.__name__ for reference in registered}
    assert names == {"Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm", "ReLU"}
    for reference, fast in registered.items():
        assert issubclass(reference, Function) and issubclass(fast, reference)
        assert fast.__name__ == reference.__name__
        assert reference.__module__.startswith("minigrad.ops.")
        assert fast.__module__.startswith("minigrad._kernels.")
    with pytest.raises(ValueError, match="already has a fast kernel"):
        kernels.fast_kernel(next(iter(registered)))(registered[next(iter(registered))])
