"""Dataset, TensorDataset and DataLoader: batching, shuffling from a seed, and exact resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minigrad
from minigrad import Tensor
from minigrad.data import DataLoader, Dataset, TensorDataset

N = 10


@pytest.fixture
def dataset() -> TensorDataset:
    x = np.arange(N * 3, dtype=np.float32).reshape(N, 3)
    return TensorDataset(x, np.arange(N))


def order(loader: DataLoader) -> list[int]:
    """The labels of one epoch in the order seen (labels are the item indices)."""
    return [int(i) for _, y in loader for i in y.data]


class Pairs(Dataset):
    """A generic dataset: item i is (a float vector, the int i)."""

    def __len__(self) -> int:
        return N

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return np.full(3, i, dtype=np.float32), i


def test_tensor_dataset_items_and_len(dataset):
    assert len(dataset) == N
    x, y = dataset[4]
    np.testing.assert_array_equal(x, [12, 13, 14])
    assert y == 4


def test_tensor_dataset_accepts_tensors():
    ds = TensorDataset(Tensor(np.ones((4, 2), np.float32)), np.arange(4))
    assert isinstance(ds.arrays[0], np.ndarray) and ds.arrays[0].shape == (4, 2)


def test_tensor_dataset_rejects_unequal_lengths():
    with pytest.raises(ValueError, match=r"same first dimension.*\(5, 3\), \(4,\)"):
        TensorDataset(np.zeros((5, 3)), np.zeros(4))


@pytest.mark.parametrize("arrays", [(), (np.float32(1.0),)])
def test_tensor_dataset_rejects_empty_or_0d(arrays):
    with pytest.raises(ValueError, match="TensorDataset"):
        TensorDataset(*arrays)


def test_base_dataset_must_be_subclassed():
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


@pytest.mark.parametrize(
    ("batch_size", "drop_last", "sizes"),
    [
        (4, False, [4, 4, 2]),
        (4, True, [4, 4]),
        (5, False, [5, 5]),
        (5, True, [5, 5]),
        (20, False, [10]),
        (20, True, []),
        (1, False, [1] * 10),
    ],
)
def test_batch_sizes_and_len(dataset, batch_size, drop_last, sizes):
    loader = DataLoader(dataset, batch_size, drop_last=drop_last)
    assert len(loader) == len(sizes)
    assert [len(y.data) for _, y in loader] == sizes


def test_unshuffled_batches_are_the_rows_in_order(dataset):
    batches = list(DataLoader(dataset, 4))
    x, y = batches[-1]
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    assert not x.requires_grad and not y.requires_grad
    np.testing.assert_array_equal(x.data, dataset.arrays[0][8:])
    np.testing.assert_array_equal(y.data, [8, 9])
    assert order(DataLoader(dataset, 3)) == list(range(N))


def test_batches_are_contiguous_copies_with_fixed_dtypes():
    x = np.arange(N * 4, dtype=np.float32).reshape(N, 2, 2)
    ds = TensorDataset(x, np.arange(N, dtype=np.int32))
    for bx, by in DataLoader(ds, 4, shuffle=True, seed=0):
        assert bx.dtype == np.float32 and by.dtype == np.int64
        assert bx.data.flags.c_contiguous and by.data.flags.c_contiguous
        assert not np.shares_memory(bx.data, x)
        np.testing.assert_array_equal(bx.data, x[by.data])


def test_float64_data_follows_the_default_dtype():
    ds = TensorDataset(np.zeros((4, 2)), np.zeros(4, np.int64))
    x, _ = next(iter(DataLoader(ds, 4)))
    assert x.dtype == minigrad.get_default_dtype()


def test_each_shuffled_epoch_is_a_new_permutation(dataset):
    loader = DataLoader(dataset, 3, shuffle=True, seed=0)
    epochs = [order(loader) for _ in range(4)]
    for epoch in epochs:
        assert sorted(epoch) == list(range(N))
    assert len({tuple(e) for e in epochs}) == 4
    assert loader.epoch == 4


def test_shuffling_is_reproducible_from_the_seed(dataset):
    a = DataLoader(dataset, 3, shuffle=True, seed=7)
    b = DataLoader(dataset, 3, shuffle=True, seed=7)
    c = DataLoader(dataset, 3, shuffle=True, seed=8)
    first = [order(a) for _ in range(3)]
    assert first == [order(b) for _ in range(3)]
    assert first != [order(c) for _ in range(3)]


def test_seed_none_follows_manual_seed(dataset):
    def run() -> list[list[int]]:
        loader = DataLoader(dataset, 4, shuffle=True)
        return [order(loader) for _ in range(2)]

    minigrad.manual_seed(3)
    first = run()
    minigrad.manual_seed(3)
    assert run() == first
    minigrad.manual_seed(4)
    assert run() != first


def test_seed_none_draws_from_the_global_generator_once_at_construction(dataset):
    minigrad.manual_seed(3)
    loader = DataLoader(dataset, 4, shuffle=True)
    expected = [order(loader) for _ in range(3)]

    minigrad.manual_seed(3)
    loader = DataLoader(dataset, 4, shuffle=True)
    got = []
    for _ in range(3):
        state = minigrad.random.get_rng_state()
        got.append(order(loader))
        assert minigrad.random.get_rng_state() == state  # an epoch leaves it alone
        minigrad.randn(7)  # and what else draws from it does not change the next epoch
    assert got == expected


def test_seed_none_state_restores_into_a_fresh_loader(dataset, tmp_path):
    original = DataLoader(dataset, 3, shuffle=True)
    order(original)
    minigrad.save({"loader": original.state_dict()}, tmp_path / "ckpt")
    expected = [order(original) for _ in range(2)]

    minigrad.manual_seed(99)
    fresh = DataLoader(dataset, 3, shuffle=True)
    fresh.load_state_dict(minigrad.load(tmp_path / "ckpt")["loader"])
    assert fresh.epoch == 1 and [order(fresh) for _ in range(2)] == expected


def test_unshuffled_loader_leaves_the_global_generator_alone(dataset):
    state = minigrad.random.get_rng_state()
    list(DataLoader(dataset, 4))
    assert minigrad.random.get_rng_state() == state


def test_shuffled_drop_last_drops_the_tail_of_the_permutation(dataset):
    loader = DataLoader(dataset, 4, shuffle=True, drop_last=True, seed=1)
    full = DataLoader(dataset, 4, shuffle=True, seed=1)
    seen, everything = order(loader), order(full)
    assert len(seen) == 8 and seen == everything[:8]


def test_each_iter_call_starts_an_epoch_in_call_order(dataset):
    reference = DataLoader(dataset, N, shuffle=True, seed=2)
    expected_first, expected_second = order(reference), order(reference)
    loader = DataLoader(dataset, N, shuffle=True, seed=2)
    first, second = iter(loader), iter(loader)
    assert loader.epoch == 2
    # Consumed in the opposite order: each order was drawn when iter() was called.
    assert next(second)[1].data.tolist() == expected_second
    assert next(first)[1].data.tolist() == expected_first


def test_state_dict_resume_reproduces_the_next_epochs(dataset):
    original = DataLoader(dataset, 3, shuffle=True, seed=11)
    for _ in range(2):
        order(original)
    state = json.loads(json.dumps(original.state_dict()))
    expected = [order(original) for _ in range(3)]

    resumed = DataLoader(dataset, 3, shuffle=True, seed=99)
    resumed.load_state_dict(state)
    assert resumed.epoch == 2
    assert [order(resumed) for _ in range(3)] == expected
    assert resumed.epoch == 5


def test_state_dict_is_a_snapshot(dataset):
    loader = DataLoader(dataset, 3, shuffle=True, seed=0)
    state = loader.state_dict()
    first = order(loader)
    fresh = DataLoader(dataset, 3, shuffle=True, seed=5)
    fresh.load_state_dict(state)
    assert order(fresh) == first


def test_unshuffled_state_round_trips(dataset):
    loader = DataLoader(dataset, 3)
    order(loader)
    other = DataLoader(dataset, 3)
    other.load_state_dict(loader.state_dict())
    assert other.epoch == 1 and order(other) == list(range(N))


BAD_STATES = [
    {"epoch": 0},
    {"epoch": 0, "generator": {"bit_generator": "Nope"}},
    {"epoch": 0, "generator": None},
]


@pytest.mark.parametrize("state", BAD_STATES)
def test_load_state_dict_rejects_bad_states(dataset, state):
    loader = DataLoader(dataset, 3, shuffle=True, seed=0)
    before = loader.state_dict()
    with pytest.raises(ValueError, match="load_state_dict"):
        loader.load_state_dict(state)
    assert loader.state_dict() == before


def test_generic_dataset_is_collated_like_a_tensor_dataset(dataset):
    generic = list(DataLoader(Pairs(), 4, shuffle=True, seed=3))
    fast = list(DataLoader(dataset, 4, shuffle=True, seed=3))
    assert len(generic) == len(fast) == 3
    for (gx, gy), (_, fy) in zip(generic, fast, strict=True):
        assert gx.shape == (len(gy.data), 3) and gx.dtype == np.float32 and gy.dtype == np.int64
        np.testing.assert_array_equal(gy.data, fy.data)
        np.testing.assert_array_equal(gx.data[:, 0], gy.data)


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True])
def test_bad_batch_size(dataset, batch_size):
    with pytest.raises((ValueError, TypeError), match="batch_size"):
        DataLoader(dataset, batch_size)


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_bad_seed(dataset, seed):
    with pytest.raises(ValueError, match="seed"):
        DataLoader(dataset, 2, shuffle=True, seed=seed)


class _Ragged(Dataset):
    """Six (image, label) items; item 4's image has a different shape."""

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int):
        return np.zeros((2, 3) if i != 4 else (2, 4), np.float32), i


def test_an_item_of_a_different_shape_is_named_by_index_and_field() -> None:
    message = (
        r"DataLoader: dataset item 4 field 0 has shape \(2, 4\), but item 3 field 0 has shape "
        r"\(2, 3\); the items of a batch must have equal shapes"
    )
    with pytest.raises(ValueError, match=message):
        list(DataLoader(_Ragged(), 3))


def test_an_item_with_a_missing_field_is_named() -> None:
    class Short(_Ragged):
        def __getitem__(self, i: int):
            return (np.zeros(3),) if i == 2 else (np.zeros(3), i)

    with pytest.raises(ValueError, match="dataset item 2 is not a tuple of 2 fields like item 0"):
        list(DataLoader(Short(), 3))
