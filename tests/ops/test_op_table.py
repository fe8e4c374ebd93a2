"""One table describes every op; it drives the forward, gradcheck and shape/dtype tests.

Each row names the op, a minigrad function of tensors, a NumPy/SciPy reference of arrays, the
input shapes to try (broadcasting, size-1 axes and 0-d included) and a sampler that keeps inputs
away from kinks and outside-domain values. The table checks the reference rules of
``minigrad/ops/`` (every one of them has a row: a test says so); the fast kernels are held equal
to those rules in ``tests/_kernels/test_tiers.py``, and the image ops' full geometry grids run in
their own files.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from scipy import special
from support import FWD_ATOL, FWD_RTOL, GC_ATOL, GC_EPS, GC_RTOL, away_from

import minigrad as mg
import minigrad.functional as F
import minigrad.ops
import minigrad.ops.recurrent as R
from minigrad import kernels
from minigrad.autograd import Function, Node
from minigrad.gradcheck import gradcheck

Sampler = Callable[[np.random.Generator, tuple[int, ...], int], np.ndarray]


def normal(rng: np.random.Generator, shape: tuple[int, ...], i: int) -> np.ndarray:
    return rng.standard_normal(shape)


def positive(rng: np.random.Generator, shape: tuple[int, ...], i: int) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def nonzero(rng: np.random.Generator, shape: tuple[int, ...], i: int) -> np.ndarray:
    return away_from(rng.standard_normal(shape), (0.0,), 0.2)


def separated(rng: np.random.Generator, shape: tuple[int, ...], i: int) -> np.ndarray:
    """Input 0 on the grid k + 0.25, input 1 on k + 0.75: never tied, always 0.5 apart."""
    return rng.integers(-3, 3, size=shape) + (0.25 if i == 0 else 0.75)


def distinct(rng: np.random.Generator, shape: tuple[int, ...], i: int) -> np.ndarray:
    """All values distinct (no ties in max/min)."""
    n = int(np.prod(shape))
    return rng.permutation(np.linspace(-3, 3, n)).reshape(shape) + 0.01 * rng.random(shape)


def probabilities(rng: np.random.Generator, shape: tuple[int, ...], i: int) -> np.ndarray:
    return rng.standard_normal(shape) if i == 0 else rng.uniform(0.05, 0.95, shape)


def log_probs(rng: np.random.Generator, shape: tuple[int, ...], i: int) -> np.ndarray:
    return special.log_softmax(rng.standard_normal(shape), axis=-1)


@dataclass
class Case:
    name: str
    fn: Callable
    ref: Callable
    shapes: list[tuple[tuple[int, ...], ...]]
    sample: Sampler = normal
    differentiable: tuple[int, ...] | None = None  # positions to gradcheck (default: all)
    extra: dict = field(default_factory=dict)  # constant (non-tensor) arguments


BINARY_SHAPES = [
    ((), ()),
    ((3,), ()),
    ((), (2, 3)),
    ((2, 3), (3,)),
    ((2, 1, 3), (4, 1)),
    ((1,), (2, 3)),
    ((2, 3), (2, 3)),
]
UNARY_SHAPES = [((),), ((4,),), ((2, 1, 3),)]
REDUCE_SHAPES = [((2, 3, 4),)]
LABELS = np.array([2, 0, 1, 2, 3])


def _ref_leaky(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.1 * x)


def _windows(x: np.ndarray, kernel, stride, padding, dilation=(1, 1), fill=0.0) -> np.ndarray:
    """Receptive fields (N, C, OH, OW, KH, KW), written independently of minigrad.ops.geometry."""
    (ph, pw), (dh, dw) = padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    span = (dh * (kernel[0] - 1) + 1, dw * (kernel[1] - 1) + 1)
    view = np.lib.stride_tricks.sliding_window_view(xp, span, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1], ::dh, ::dw]


def _ref_conv(x, w, b, stride=(2, 1), padding=(1, 1), dilation=(1, 2), groups=2):
    fields = _windows(x, w.shape[2:], stride, padding, dilation)
    n, c, oh, ow = fields.shape[:4]
    o = w.shape[0]
    fields = fields.reshape(n, groups, c // groups, oh, ow, *w.shape[2:])
    z = np.einsum("ngcpqij,gocij->ngopq", fields, w.reshape(groups, o // groups, *w.shape[1:]))
    return z.reshape(n, o, oh, ow) + b[:, None, None]


def _ref_batch_norm(x, gamma, beta):
    axes = (0, 2, 3)
    xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    return xhat * gamma[:, None, None] + beta[:, None, None]


RUNNING = np.array([0.5, -0.2, 0.1]), np.array([1.5, 0.7, 2.0])
EMBEDDING_INDICES = np.array([[2, 0, 2], [1, 2, 3]])  # repeated rows accumulate


def _ref_lstm_step(xg, state, w_hh):
    h, c = state
    i, f, g, o = np.split(xg + h @ w_hh.T, 4, axis=-1)
    c = special.expit(f) * c + special.expit(i) * np.tanh(g)
    return np.stack([special.expit(o) * np.tanh(c), c])


def _ref_gru_step(xg, h, w_hh, b_hh):
    xr, xz, xn = np.split(xg, 3, axis=-1)
    hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
    r, z = special.expit(xr + hr), special.expit(xz + hz)
    return (1 - z) * np.tanh(xn + r * hn) + z * h


def _ref_recurrence(step):
    def run(xg, state, *weights):
        states = []
        for x in xg:
            state = step(x, state, *weights)
            states.append(state)
        return np.stack(states)

    return run


CASES = [
    # elementwise
    Case("add", lambda x, y: x + y, np.add, BINARY_SHAPES),
    Case("sub", lambda x, y: x - y, np.subtract, BINARY_SHAPES),
    Case("mul", lambda x, y: x * y, np.multiply, BINARY_SHAPES),
    Case("div", lambda x, y: x / y, np.divide, BINARY_SHAPES, nonzero),
    Case("pow", lambda x, y: x**y, np.power, BINARY_SHAPES, positive),
    Case("pow_scalar_2", lambda x: x**2, lambda x: x**2, UNARY_SHAPES),
    Case("pow_scalar_3", lambda x: x**3, lambda x: x**3, UNARY_SHAPES),
    Case("pow_scalar_half", lambda x: x**0.5, np.sqrt, UNARY_SHAPES, positive),
    Case("pow_scalar_neg", lambda x: x**-1.5, lambda x: x**-1.5, UNARY_SHAPES, positive),
    Case("rpow", lambda x: 2.0**x, lambda x: 2.0**x, UNARY_SHAPES),
    Case("rsub", lambda x: 2 - x, lambda x: 2 - x, UNARY_SHAPES),
    Case("rdiv", lambda x: 1 / x, lambda x: 1 / x, UNARY_SHAPES, nonzero),
    Case("neg", lambda x: -x, np.negative, UNARY_SHAPES),
    Case("exp", lambda x: x.exp(), np.exp, UNARY_SHAPES),
    Case("log", lambda x: x.log(), np.log, UNARY_SHAPES, positive),
    Case("sqrt", lambda x: x.sqrt(), np.sqrt, UNARY_SHAPES, positive),
    Case("sin", lambda x: x.sin(), np.sin, UNARY_SHAPES),
    Case("cos", lambda x: mg.cos(x), np.cos, UNARY_SHAPES),
    Case("abs", lambda x: x.abs(), np.abs, UNARY_SHAPES, nonzero),
    Case("maximum", lambda x, y: x.maximum(y), np.maximum, BINARY_SHAPES, separated),
    Case("minimum", lambda x, y: x.minimum(y), np.minimum, BINARY_SHAPES, separated),
    Case(
        "where",
        lambda x, y: mg.where(x > 0.1, x, y),
        lambda x, y: np.where(x > 0.1, x, y),
        BINARY_SHAPES,
        nonzero,
    ),
    Case(
        "clip",
        lambda x: x.clip(-0.5, 0.7),
        lambda x: np.clip(x, -0.5, 0.7),
        UNARY_SHAPES,
        lambda r, s, i: away_from(r.standard_normal(s), (-0.5, 0.7)),
    ),
    # reductions
    *[
        Case(
            f"{name}_axis{axis}_keep{keep}",
            (lambda n, a, k: lambda x: getattr(x, n)(axis=a, keepdims=k))(name, axis, keep),
            (lambda r, a, k: lambda x: r(x, axis=a, keepdims=k))(ref, axis, keep),
            REDUCE_SHAPES,
            distinct,
        )
        for name, ref in [
            ("sum", np.sum),
            ("mean", np.mean),
            ("var", np.var),
            ("max", np.max),
            ("min", np.min),
            ("logsumexp", special.logsumexp),
        ]
        for axis, keep in [(None, False), (0, False), (-1, True), ((0, 2), False)]
    ],
    Case("sum_0d", lambda x: x.sum(), np.sum, [((),)]),
    Case(
        "var_ddof1", lambda x: x.var(axis=1, ddof=1), lambda x: x.var(axis=1, ddof=1), [((3, 4),)]
    ),
    # shape
    Case("reshape", lambda x: x.reshape(3, -1), lambda x: x.reshape(3, -1), [((2, 3, 2),)]),
    Case(
        "transpose", lambda x: x.transpose(2, 0, 1), lambda x: x.transpose(2, 0, 1), [((2, 3, 4),)]
    ),
    Case("T", lambda x: x.T, lambda x: x.T, [((2, 3),)]),
    Case("flatten", lambda x: x.flatten(1), lambda x: x.reshape(2, -1), [((2, 3, 4),)]),
    Case("squeeze", lambda x: x.squeeze(), np.squeeze, [((1, 3, 1),)]),
    Case("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x[..., None], [((2, 3),)]),
    Case(
        "broadcast_to",
        lambda x: x.broadcast_to((4, 2, 3)),
        lambda x: np.broadcast_to(x, (4, 2, 3)),
        [((2, 1),), ((),)],
    ),
    Case("astype", lambda x: x.astype("float64"), lambda x: x, UNARY_SHAPES),
    Case(
        "getitem_basic",
        lambda x: x[1:, ::2, None, -1],
        lambda x: x[1:, ::2, None, -1],
        [((3, 4, 2),)],
    ),
    Case("getitem_int_repeats", lambda x: x[[0, 2, 0, 0]], lambda x: x[[0, 2, 0, 0]], [((3, 2),)]),
    Case(
        "getitem_pairs",
        lambda x: x[[0, 1, 1], [2, 0, 2]],
        lambda x: x[[0, 1, 1], [2, 0, 2]],
        [((2, 3),)],
    ),
    Case("getitem_mask", lambda x: x[x.data > 0], lambda x: x[x > 0], [((3, 4),)], nonzero),
    Case(
        "concat",
        lambda x, y: mg.concat([x, y], axis=1),
        lambda x, y: np.concatenate([x, y], axis=1),
        [((2, 3), (2, 1))],
    ),
    Case(
        "stack",
        lambda x, y: mg.stack([x, y], axis=-1),
        lambda x, y: np.stack([x, y], -1),
        [((2, 3), (2, 3)), ((), ())],
    ),
    Case(
        "pad",
        lambda x: F.pad(x, ((1, 0), (2, 1))),
        lambda x: np.pad(x, ((1, 0), (2, 1))),
        [((2, 3),)],
    ),
    # linear algebra
    Case(
        "matmul",
        lambda x, y: x @ y,
        np.matmul,
        [
            ((3,), (3,)),
            ((3,), (3, 4)),
            ((2, 3), (3,)),
            ((2, 3), (3, 4)),
            ((2, 2, 3), (3, 4)),
            ((3,), (2, 3, 4)),
            ((2, 3, 4), (4,)),
            ((2, 1, 3, 4), (5, 4, 2)),
        ],
    ),
    Case(
        "linear",
        lambda x, w, b: F.linear(x, w, b),
        lambda x, w, b: x @ w.T + b,
        [((5, 3), (4, 3), (4,)), ((2, 5, 3), (4, 3), (4,))],
    ),
    # activations
    Case("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0), UNARY_SHAPES, nonzero),
    Case("leaky_relu", lambda x: F.leaky_relu(x, 0.1), _ref_leaky, UNARY_SHAPES, nonzero),
    Case("sigmoid", lambda x: x.sigmoid(), special.expit, UNARY_SHAPES),
    Case("tanh", lambda x: x.tanh(), np.tanh, UNARY_SHAPES),
    Case("softmax", lambda x: x.softmax(), lambda x: special.softmax(x, -1), [((4,),), ((3, 5),)]),
    Case(
        "softmax_axis0", lambda x: x.softmax(axis=0), lambda x: special.softmax(x, 0), [((3, 5),)]
    ),
    Case(
        "log_softmax", lambda x: x.log_softmax(), lambda x: special.log_softmax(x, -1), [((3, 5),)]
    ),
    Case(
        "log_softmax_axis1",
        lambda x: x.log_softmax(axis=1),
        lambda x: special.log_softmax(x, 1),
        [((2, 3, 4),)],
    ),
    # image ops (their full geometry grids are in test_conv.py and test_pool.py)
    Case(
        "conv2d",
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
        _ref_conv,
        [((2, 4, 5, 6), (4, 2, 3, 2), (4,))],
    ),
    Case(
        "max_pool2d",
        lambda x: F.max_pool2d(x, 3, 2, 1),
        lambda x: _windows(x, (3, 3), (2, 2), (1, 1), fill=-np.inf).max(axis=(-2, -1)),
        [((2, 3, 6, 5),)],
        distinct,
    ),
    Case(
        "avg_pool2d",
        lambda x: F.avg_pool2d(x, (2, 3), (1, 2), (1, 1)),
        lambda x: _windows(x, (2, 3), (1, 2), (1, 1)).mean(axis=(-2, -1)),
        [((2, 3, 5, 6),)],
    ),
    Case(
        "batch_norm_train",
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
        _ref_batch_norm,
        [((4, 3, 2, 5), (3,), (3,))],
    ),
    Case(
        "batch_norm_eval",
        lambda x, g, b: F.batch_norm(x, *RUNNING, g, b, training=False),
        lambda x, g, b: (
            (x - RUNNING[0][:, None, None])
            / np.sqrt(RUNNING[1][:, None, None] + 1e-5)
            * g[:, None, None]
            + b[:, None, None]
        ),
        [((4, 3, 2, 5), (3,), (3,))],
    ),
    Case(
        "dropout",
        lambda x: F.dropout(x, 0.3, generator=np.random.default_rng(7)),
        lambda x: x * (np.random.default_rng(7).random(x.shape) >= 0.3) / 0.7,
        [((4, 5),)],
    ),
    # recurrent steps, whole passes (the gradient gathered over the steps), embedding
    Case("lstm_step", R.lstm_step, _ref_lstm_step, [((3, 8), (2, 3, 2), (8, 2))]),
    Case("gru_step", R.gru_step, _ref_gru_step, [((3, 6), (3, 2), (6, 2), (6,))]),
    Case(
        "rnn_step",
        lambda x, h, w: R.rnn_step(x, h, w, "tanh"),
        lambda x, h, w: np.tanh(x + h @ w.T),
        [((3, 2), (3, 2), (2, 2))],
    ),
    Case(
        "recurrence_lstm",
        lambda x, s, w: mg.stack(R.recurrence("LSTM", x, s, w)),
        _ref_recurrence(_ref_lstm_step),
        [((4, 3, 8), (2, 3, 2), (8, 2))],
    ),
    Case(
        "recurrence_gru",
        lambda x, h, w, b: mg.stack(R.recurrence("GRU", x, h, w, b)),
        _ref_recurrence(_ref_gru_step),
        [((4, 3, 6), (3, 2), (6, 2), (6,))],
    ),
    Case(
        "embedding",
        lambda w: R.embedding(EMBEDDING_INDICES, w),
        lambda w: w[EMBEDDING_INDICES],
        [((4, 3),)],
    ),
    # losses
    *[
        Case(
            f"cross_entropy_{red}",
            (lambda r: lambda x: F.cross_entropy(x, LABELS, reduction=r))(red),
            (lambda r: lambda x: _reduce(-special.log_softmax(x, 1)[range(5), LABELS], r))(red),
            [((5, 4),)],
        )
        for red in ("mean", "sum", "none")
    ],
    Case(
        "nll_loss",
        lambda x: F.nll_loss(x, LABELS),
        lambda x: -x[range(5), LABELS].mean(),
        [((5, 4),)],
        log_probs,
    ),
    Case(
        "mse_loss",
        lambda x, y: F.mse_loss(x, y),
        lambda x, y: ((x - y) ** 2).mean(),
        [((3, 4), (3, 4))],
    ),
    Case(
        "mse_loss_sum",
        lambda x, y: F.mse_loss(x, y, reduction="sum"),
        lambda x, y: ((x - y) ** 2).sum(),
        [((3,), (3,))],
    ),
    Case(
        "bce_with_logits",
        lambda x, y: F.binary_cross_entropy_with_logits(x, y),
        lambda x, y: np.mean(-(y * np.log(special.expit(x)) + (1 - y) * np.log(special.expit(-x)))),
        [((3, 4), (3, 4))],
        probabilities,
    ),
]


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](losses)


PARAMS = [
    pytest.param(case, shapes, id=f"{case.name}-{'x'.join(map(str, shapes))}")
    for case in CASES
    for shapes in case.shapes
]


def _inputs(case: Case, shapes, rng, dtype="float64") -> list[np.ndarray]:
    return [np.asarray(case.sample(rng, s, i), dtype=dtype) for i, s in enumerate(shapes)]


@pytest.fixture(autouse=True)
def _reference_tier():
    """The table checks the reference rules, the ones the docs derive."""
    with kernels.use("reference"):
        yield


@pytest.mark.parametrize(("case", "shapes"), PARAMS)
def test_forward_matches_reference(case: Case, shapes, rng) -> None:
    arrays = _inputs(case, shapes, rng)
    got = case.fn(*[mg.tensor(a, dtype="float64") for a in arrays])
    np.testing.assert_allclose(got.numpy(), case.ref(*arrays), rtol=FWD_RTOL, atol=FWD_ATOL)


@pytest.mark.parametrize(("case", "shapes"), PARAMS)
def test_gradcheck(case: Case, shapes, rng) -> None:
    tensors = [
        mg.tensor(a, dtype="float64", requires_grad=True) for a in _inputs(case, shapes, rng)
    ]
    assert gradcheck(case.fn, tensors, eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)


@pytest.mark.parametrize("tier", kernels.TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("case", "shapes"), PARAMS)
def test_gradient_shape_and_dtype_match_input(case: Case, shapes, rng, dtype, tier) -> None:
    tensors = [mg.tensor(a, dtype=dtype, requires_grad=True) for a in _inputs(case, shapes, rng)]
    with kernels.use(tier):
        out = case.fn(*tensors)
    assert out.dtype == np.dtype(dtype) or case.name == "astype"
    out.backward(rng.standard_normal(out.shape))
    for t in tensors:
        assert t.grad is not None
        assert t.grad.shape == t.shape
        assert t.grad.dtype == t.dtype


BINARY_OPS = {
    "add": (lambda x, y: x + y, np.add),
    "sub": (lambda x, y: x - y, np.subtract),
    "mul": (lambda x, y: x * y, np.multiply),
    "div": (lambda x, y: x / y, np.divide),
    "maximum": (lambda x, y: x.maximum(y), np.maximum),
}


@settings(max_examples=25, deadline=None)
@given(
    op=st.sampled_from(sorted(BINARY_OPS)),
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_broadcasting_fuzz(op: str, shapes, seed: int) -> None:
    fn, ref = BINARY_OPS[op]
    rng = np.random.default_rng(seed)
    arrays = [
        separated(rng, s, i) if op == "maximum" else nonzero(rng, s, i)
        for i, s in enumerate(shapes.input_shapes)
    ]
    tensors = [mg.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    out = fn(*tensors)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.numpy(), ref(*arrays), rtol=FWD_RTOL, atol=FWD_ATOL)
    assert gradcheck(fn, tensors, eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)
    for t in tensors:
        assert t.grad is None  # gradcheck does not touch .grad


def _reference_rules() -> set[type]:
    """Every Function subclass defined in a module of minigrad/ops/."""
    rules = set()
    for info in pkgutil.iter_modules(minigrad.ops.__path__):
        module = importlib.import_module(f"minigrad.ops.{info.name}")
        rules.update(
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj)
            and issubclass(obj, Function)
            and obj.__module__ == module.__name__
        )
    return rules


def _functions_in_graph(out: mg.Tensor) -> set[type]:
    seen, stack, found = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if type(node) is Node and id(node) not in seen:
            seen.add(id(node))
            found.add(node.function)
            stack.extend(node.edges)
    return found


def test_every_reference_rule_has_a_row(rng) -> None:
    exercised = set()
    for case in CASES:
        for shapes in case.shapes:
            tensors = [
                mg.tensor(a, dtype="float64", requires_grad=True)
                for a in _inputs(case, shapes, rng)
            ]
            exercised |= _functions_in_graph(case.fn(*tensors))
    missing = sorted(rule.__name__ for rule in _reference_rules() - exercised)
    assert not missing, f"ops with no row in the op table: {missing}"
