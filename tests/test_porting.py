"""PyTorch's names and calling conventions, as DESIGN.md's "Public API" fixes them: each alias
gives the same result as the minigrad spelling it stands for, and each PyTorch-only rule (the
two-axis transpose, ``max(dim)``'s named tuple) behaves as PyTorch's does."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


def _t(rng: np.random.Generator, *shape: int, grad: bool = False) -> mg.Tensor:
    return mg.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=grad)


# ---------------------------------------------------------------- dim= and keepdim=
@pytest.mark.parametrize("method", ["sum", "mean", "var", "logsumexp"])
@pytest.mark.parametrize(("axis", "keep"), [(1, False), ((0, 2), True), (-1, True)])
def test_dim_and_keepdim_match_axis_and_keepdims(rng, method, axis, keep) -> None:
    x = _t(rng, 2, 3, 4)
    want = getattr(x, method)(axis=axis, keepdims=keep)
    got = getattr(x, method)(dim=axis, keepdim=keep)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_dim_calls_equal_axis_calls(rng) -> None:
    x = _t(rng, 3, 4)
    pairs = [
        (x.argmax(dim=1, keepdim=True), x.argmax(axis=1, keepdims=True)),
        (F.softmax(x, dim=0), F.softmax(x, axis=0)),
        (F.log_softmax(x, dim=0), F.log_softmax(x, 0)),
        (F.logsumexp(x, dim=0), F.logsumexp(x, 0)),
        (x.argmin(dim=0), x.argmin(0)),
        (x.softmax(dim=0), x.softmax(0)),
        (x[:1].squeeze(dim=0), x[0]),
        (mg.concat([x, x], dim=1), mg.concat([x, x], axis=1)),
        (mg.stack([x, x], dim=2), mg.stack([x, x], axis=2)),
        (x.unsqueeze(dim=0), x.unsqueeze(0)),
        (mg.flatten(x.reshape(3, 2, 2), start_dim=1), x.reshape(3, 2, 2).flatten(1)),
        (x.reshape(3, 2, 2).flatten(end_dim=1), x.reshape(6, 2)),
    ]
    for got, want in pairs:
        assert got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_axis_and_dim_together_is_an_error(rng) -> None:
    x = _t(rng, 3, 4)
    with pytest.raises(TypeError, match="axis= or dim="):
        x.sum(axis=0, dim=1)
    with pytest.raises(TypeError, match="keepdims= or keepdim="):
        x.mean(0, keepdims=True, keepdim=False)
    with pytest.raises(TypeError, match="axis= or dim="):
        x.max(1, axis=0)


# ---------------------------------------------------------------- transpose, permute, view
def test_transpose_with_two_axes_swaps_them(rng) -> None:
    x = _t(rng, 2, 3, 4)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.transpose(-1, 1).shape == (2, 4, 3)
    np.testing.assert_array_equal(x.transpose(0, 2).numpy(), np.swapaxes(x.numpy(), 0, 2))
    m = _t(rng, 2, 3)
    assert m.transpose(0, 1).shape == (3, 2)  # NumPy would read (0, 1) as "no change"
    assert x.transpose(1, 2, 0).shape == (3, 4, 2)  # three axes: a permutation, as NumPy
    assert x.transpose().shape == (4, 3, 2)
    with pytest.raises(ValueError, match="out of range"):
        x.transpose(0, 3)


def test_permute_view_view_as_and_their_gradients(rng) -> None:
    x = _t(rng, 2, 3, 4, grad=True)
    y = x.permute(2, 0, 1)
    assert y.shape == (4, 2, 3) and x.permute((2, 0, 1)).shape == (4, 2, 3)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    np.testing.assert_array_equal(x.grad, g.transpose(1, 2, 0))
    assert x.view(6, 4).shape == (6, 4) and x.view(-1).shape == (24,)
    assert x.view_as(mg.zeros(4, 6)).shape == (4, 6)


def test_numel_and_size() -> None:
    x = mg.zeros(2, 3)
    assert x.numel() == 6 and x.size == 6  # .size stays NumPy's element count


# ---------------------------------------------------------------- max and min
def test_max_min_calling_rules(rng) -> None:
    data = rng.standard_normal((3, 4))
    x = mg.tensor(data, dtype="float64")
    assert x.max().item() == data.max()  # no axis: the scalar
    np.testing.assert_array_equal(x.max(axis=1).numpy(), data.max(axis=1))  # axis=: values
    values, indices = x.max(1)  # positional: (values, indices)
    np.testing.assert_array_equal(values.numpy(), data.max(axis=1))
    np.testing.assert_array_equal(indices.numpy(), data.argmax(axis=1))
    out = x.min(dim=0, keepdim=True)
    assert out.values.shape == out.indices.shape == (1, 4)
    np.testing.assert_array_equal(out.indices.numpy()[0], data.argmin(axis=0))
    np.testing.assert_array_equal(x.max(mg.zeros(4)).numpy(), np.maximum(data, 0))


def test_max_with_dim_values_carry_the_gradient(rng) -> None:
    x = _t(rng, 3, 4, grad=True)
    x.max(1).values.sum().backward()
    want = np.zeros((3, 4))
    want[np.arange(3), x.numpy().argmax(axis=1)] = 1
    np.testing.assert_array_equal(x.grad, want)


def test_max_agrees_with_torch(rng) -> None:
    torch = pytest.importorskip("torch")
    data = rng.standard_normal((3, 4, 5))
    got = mg.tensor(data, dtype="float64").max(dim=1, keepdim=True)
    want = torch.tensor(data).max(dim=1, keepdim=True)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    assert got.indices.dtype == np.int64


# ---------------------------------------------------------------- casts and dtype names
def test_dtype_names() -> None:
    assert mg.float32 == np.float32 and mg.float64 == np.float64 and mg.int64 == np.int64
    assert mg.float == np.float32 and mg.double == np.float64 and mg.long == np.int64
    assert mg.int == np.int32 and mg.bool == np.bool_
    assert mg.tensor([1.0], dtype=mg.double).dtype == np.float64
    assert not {"float", "double", "long", "int", "bool"} & set(vars(mg))  # no shadowing
    with pytest.raises(AttributeError, match="no attribute 'float16'"):
        _ = mg.float16


def test_float_double_long_casts_and_gradient() -> None:
    x = mg.tensor([1.5, -2.5], requires_grad=True)
    assert x.double().dtype == np.float64 and x.float() is x
    assert x.long().tolist() == [1, -2] and x.long().dtype == np.int64
    assert mg.tensor([1, 2]).float().dtype == np.float32
    x.double().sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- small ops
def test_pow_clamp_mm_and_comparisons(rng) -> None:
    x = _t(rng, 3, 4, grad=True)
    w = _t(rng, 4, 2)
    np.testing.assert_array_equal(x.pow(2).numpy(), x.numpy() ** 2)
    np.testing.assert_array_equal(x.clamp(min=0).numpy(), np.clip(x.numpy(), 0, None))
    np.testing.assert_array_equal(x.clamp(-0.5, 0.5).numpy(), np.clip(x.numpy(), -0.5, 0.5))
    np.testing.assert_allclose(x.mm(w).numpy(), x.numpy() @ w.numpy())
    with pytest.raises(ValueError, match="mm: expects two 2-d tensors"):
        x.mm(mg.zeros(4))
    y = mg.tensor([1.0, 2.0, 3.0])
    assert y.eq(2).tolist() == [False, True, False] and y.ne(2).tolist() == [True, False, True]
    assert y.lt(2).tolist() == [True, False, False] and y.le(2).tolist() == [True, True, False]
    assert y.gt(2).tolist() == [False, False, True] and y.ge(2).tolist() == [False, True, True]


def test_creation_functions() -> None:
    np.testing.assert_allclose(mg.linspace(-1, 1, 5).numpy(), np.linspace(-1, 1, 5))
    assert mg.linspace(0, 1, 3).dtype == np.float32
    assert mg.linspace(0, 1, 3, dtype=mg.float64).dtype == np.float64
    a = mg.full((), 0.3, requires_grad=True)
    assert a.shape == () and a.dtype == np.float32 and a.requires_grad and a.is_leaf
    assert mg.full((2, 3), 7).dtype == np.int64 and mg.full(2, True).dtype == np.bool_
    assert mg.full((2,), 1.0, dtype=mg.float64).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="steps must be an int"):
        mg.linspace(0, 1, -1)


def test_top_level_flatten_and_argmax(rng) -> None:
    x = _t(rng, 2, 3, 4)
    assert mg.flatten(x, 1).shape == (2, 12) and mg.flatten(x).shape == (24,)
    np.testing.assert_array_equal(mg.argmax(x, 2).numpy(), x.numpy().argmax(2))


def test_clone_copies_and_passes_the_gradient() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert y.data is not x.data and y.tolist() == [1.0, 2.0]
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_setitem_under_no_grad_and_recorded(rng) -> None:
    x = mg.tensor([[1.0, -2.0], [-3.0, 4.0]])
    x[x < 0] = 0
    assert x.tolist() == [[1.0, 0.0], [0.0, 4.0]] and x.version == 1
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 2
    y[mg.tensor([0, 2])] = 5.0  # recorded: no gradient reaches the overwritten places
    assert y.tolist() == [5.0, 4.0, 5.0]
    y.sum().backward()
    assert w.grad.tolist() == [0.0, 2.0, 0.0]
    with pytest.raises(RuntimeError, match="requires grad"):
        w[0] = 1.0  # a leaf that requires grad, while gradients are recorded
    with mg.no_grad():
        w[0] = 1.0
    with pytest.raises(RuntimeError, match=r"minigrad\.where"):
        y[0] = w[0]


def test_setitem_makes_backward_refuse_stale_values() -> None:
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = w * 1
    y = x * x  # saves x
    with mg.no_grad():
        x[0] = 10.0
    with pytest.raises(RuntimeError, match="changed in place"):
        y.sum().backward()


# ---------------------------------------------------------------- the CPU device API
def test_device_api_is_cpu_only() -> None:
    cpu = mg.device("cpu")
    assert cpu == "cpu" and str(cpu) == "cpu" and repr(cpu) == "device(type='cpu')"
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0
    assert mg.accelerator.is_available() is False
    x = mg.tensor([1.0], device=cpu)
    assert x.to(cpu) is x and x.to("cpu") is x and x.cpu() is x and x.device == cpu
    assert (
        x.to("cpu", mg.float64).dtype == np.float64 and x.to(dtype=mg.float64).dtype == np.float64
    )
    assert x.to(mg.tensor([1], dtype=mg.int64)).dtype == np.int64
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.data is not x.data and copied.tolist() == x.tolist()
    for make in (mg.zeros, mg.ones, mg.randn, mg.rand):
        assert make(2, device="cpu").shape == (2,)
    assert mg.arange(3, device=cpu).tolist() == [0, 1, 2]
    assert mg.eye(2, device="cpu").shape == (2, 2)
    model = nn.Linear(2, 2)
    assert model.to(cpu) is model and model.cpu() is model
    assert model.to("cpu", dtype=mg.float64).weight.dtype == np.float64


@pytest.mark.parametrize(
    "call",
    [
        lambda: mg.device("cuda"),
        lambda: mg.tensor([1.0]).to("cuda:0"),
        lambda: mg.tensor([1.0]).cuda(),
        lambda: mg.zeros(2, device="cuda"),
        lambda: mg.linspace(0, 1, 2, device=mg.Tensor([0]).device.__class__("cuda")),
        lambda: nn.Linear(2, 2).to("cuda"),
    ],
)
def test_cuda_is_refused_clearly(call) -> None:
    with pytest.raises(RuntimeError, match="CPU only"):
        call()


def test_to_rejects_what_it_cannot_read() -> None:
    with pytest.raises(TypeError, match="expected a device or a dtype"):
        mg.tensor([1.0]).to(object())
    with pytest.raises(TypeError, match="unexpected keyword"):
        mg.tensor([1.0]).to(memory_format=None)


# ---------------------------------------------------------------- nn names
def test_module_and_module_list_are_layer_and_layer_list() -> None:
    assert nn.Module is nn.Layer and nn.ModuleList is nn.LayerList

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
    ]
    assert net(mg.zeros(3, 2)).shape == (3, 1)


def test_relu_inplace_and_flatten_dims(rng) -> None:
    x = _t(rng, 2, 3, 4, 5)
    np.testing.assert_array_equal(nn.ReLU(inplace=True)(x).numpy(), np.maximum(x.numpy(), 0))
    np.testing.assert_array_equal(F.relu(x, inplace=True).numpy(), np.maximum(x.numpy(), 0))
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 20)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(start_dim=0, end_dim=-2)(x).shape == (24, 5)
    import minigrad.nn.functional as nnF

    assert nnF.log_softmax is F.log_softmax


# ---------------------------------------------------------------- utils.data
def test_utils_data_mirrors_torch_utils_data() -> None:
    from minigrad.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split

    assert Dataset is mg.data.Dataset and DataLoader is mg.data.DataLoader
    ds = TensorDataset(mg.tensor(np.arange(10.0)), mg.tensor(np.arange(10)))
    loader = DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, pin_memory=True)
    seen = sorted(int(v) for _, y in loader for v in y.tolist())
    assert seen == list(range(10)) and len(loader.dataset) == 10
    assert len(DataLoader(ds)) == 10  # batch_size defaults to 1, as in PyTorch
    with pytest.raises(ValueError, match="num_workers must be >= 0"):
        DataLoader(ds, num_workers=-1)
    train, test = random_split(ds, [7, 3], seed=0)
    assert len(train) == 7 and len(test) == 3
    assert sorted(train.indices + test.indices) == list(range(10))
    assert isinstance(train, Subset) and train[0][1] == train.indices[0]
    with pytest.raises(ValueError, match="sum to"):
        random_split(ds, [5, 6])
    with pytest.raises(IndexError, match="out of range"):
        Subset(ds, [10])


# ---------------------------------------------------------------- save(model)
def test_save_of_a_model_says_to_save_its_state_dict(tmp_path) -> None:
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"model\.state_dict\(\)") as info:
        mg.save(model, tmp_path / "m.npz")
    assert "Linear" in str(info.value) and not (tmp_path / "m.npz").exists()
    with pytest.raises(TypeError, match="state_dict"):
        mg.save(mg.optim.SGD(model.parameters(), lr=0.1), tmp_path / "o.npz")
    mg.save(model.state_dict(), tmp_path / "m.npz")  # the way that works
    assert set(mg.load(tmp_path / "m.npz")) == {"weight", "bias"}
