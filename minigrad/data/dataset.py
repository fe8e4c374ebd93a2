"""Datasets and the mini-batch loader.

A :class:`Dataset` maps an index to an item; a :class:`TensorDataset` holds equally long arrays and
is sliced a whole batch at a time; a :class:`DataLoader` walks a dataset in (optionally shuffled)
mini-batches and yields them as Tensors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from minigrad.dtypes import is_int
from minigrad.random import default_generator

_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__(i)`` returning one item.

    An item is usually an ``(x, y)`` tuple of arrays or numbers; :class:`DataLoader` stacks the
    items of a batch field by field.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self): return 4
        ...     def __getitem__(self, i): return np.float32(i), i * i
        >>> len(Squares()), Squares()[3]
        (4, (np.float32(3.0), 9))
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Arrays (or Tensors) of equal length, indexed together along their first axis.

    ``dataset[i]`` is the tuple of the i-th rows. Arrays are kept as given (no copy); Tensors
    contribute their ``.data``.

    Example:
        >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
        >>> len(ds), ds[4][1]
        (5, np.int64(4))
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays: tuple[np.ndarray, ...] = tuple(_as_array(a) for a in arrays)
        shapes = [a.shape for a in self.arrays]
        if any(len(shape) == 0 for shape in shapes) or len({s[0] for s in shapes}) != 1:
            raise ValueError(
                "TensorDataset: arrays must have the same first dimension, got shapes "
                + ", ".join(map(str, shapes))
            )

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Iterate over a dataset in mini-batches of Tensors ``(x, y)`` (no grad).

    Each ``iter()`` starts a new epoch. With ``shuffle=True`` every epoch visits the items in a
    new random order drawn from the loader's own generator: ``seed=int`` seeds it; ``seed=None``
    seeds it, at construction, from minigrad's global generator (so ``minigrad.manual_seed`` makes
    the order reproducible). The last batch is smaller when ``batch_size`` does not divide the
    dataset, unless ``drop_last=True`` drops it. ``len(loader)`` is the number of batches.

    Batches are fresh contiguous arrays, wrapped with ``Tensor``: float data follows minigrad's
    dtype rule (float32 stays float32), integer data becomes int64. A :class:`TensorDataset` is
    sliced one batch at a time; other datasets are read item by item and stacked.

    A ``sampler`` chooses the items of each epoch instead (``shuffle`` must then be False): any
    object with ``len(sampler)`` items per epoch and ``sampler.indices(epoch)`` returning their
    dataset indices for epoch 0, 1, ..., such as
    :class:`minigrad.distributed.DistributedSampler`.

    ``num_workers``, ``pin_memory`` and ``persistent_workers`` are accepted so PyTorch code runs
    unchanged, and ignored: batches are sliced in the main process (a :class:`TensorDataset`
    batch is one NumPy ``take`` per array) and there is no GPU memory to pin.

    ``state_dict()`` / ``load_state_dict()`` save and restore the epoch counter and the shuffling
    generator, so a fresh loader given a saved state produces exactly the order the original
    would have produced in its next epoch (save between epochs to resume training bit for bit).

    Example:
        >>> loader = DataLoader(TensorDataset(np.ones((10, 2), np.float32), np.arange(10)), 4)
        >>> [tuple(y.shape) for x, y in loader]
        [(4,), (4,), (2,)]
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        *,
        sampler: Any = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
    ) -> None:
        if not is_int(num_workers):
            raise TypeError(f"DataLoader: num_workers must be an int, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers}")
        if not is_int(batch_size):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"DataLoader: seed must be a non-negative int or None, got {seed!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: give shuffle=True or a sampler, not both")
        self.dataset = dataset
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.epoch = 0  # epochs started so far
        if seed is None and self.shuffle:
            seed = int(default_generator().integers(2**63))
        self._generator = None if seed is None else np.random.default_rng(int(seed))

    def __len__(self) -> int:
        n = len(self.dataset if self.sampler is None else self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        # The order is drawn here, not lazily, so each iter() call is one epoch in call order.
        n = len(self.dataset)
        if self.sampler is not None:
            order = np.asarray(self.sampler.indices(self.epoch))
        else:
            order = self._generator.permutation(n) if self.shuffle else np.arange(n)
        self.epoch += 1
        return self._batches(order[: len(self) * self.batch_size] if self.drop_last else order)

    def _batches(self, order: np.ndarray) -> Iterator[tuple[Any, ...]]:
        from minigrad.dtypes import as_array
        from minigrad.tensor import Tensor

        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            if isinstance(self.dataset, TensorDataset):
                fields = [np.take(a, index, axis=0) for a in self.dataset.arrays]
            else:
                fields = _collate([self.dataset[int(i)] for i in index], index)
            # fresh arrays: wrapped, not copied again (floats become the default dtype)
            yield tuple(Tensor._wrap(as_array(_int64(f)), None) for f in fields)

    def state_dict(self) -> dict[str, Any]:
        """The epoch counter and the shuffling generator's state (JSON-friendly).

        Example:
            >>> loader = DataLoader(TensorDataset(np.arange(6)), 2, shuffle=True, seed=0)
            >>> sorted(loader.state_dict())
            ['epoch', 'generator']
        """
        state = None if self._generator is None else self._generator.bit_generator.state
        return {"epoch": self.epoch, "generator": state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`; the next epoch continues from it.

        Example:
            >>> a = DataLoader(TensorDataset(np.arange(6)), 6, shuffle=True, seed=0); _ = list(a)
            >>> b = DataLoader(TensorDataset(np.arange(6)), 6, shuffle=True, seed=1)
            >>> b.load_state_dict(a.state_dict()); b.epoch
            1
        """
        if set(state) != {"epoch", "generator"}:
            raise ValueError(
                f"DataLoader.load_state_dict: expected keys 'epoch' and 'generator', got "
                f"{sorted(state)}"
            )
        generator_state = state["generator"]
        generator = None
        if generator_state is not None:
            name = (
                generator_state.get("bit_generator") if isinstance(generator_state, dict) else None
            )
            if name not in _BIT_GENERATORS:
                raise ValueError(
                    f"DataLoader.load_state_dict: unknown generator state {generator_state!r}"
                )
            bit_generator = getattr(np.random, name)()
            bit_generator.state = generator_state
            generator = np.random.Generator(bit_generator)
        elif self.shuffle:
            raise ValueError(
                "DataLoader.load_state_dict: a shuffling loader needs a generator state"
            )
        self._generator = generator
        self.epoch = int(state["epoch"])


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order (``torch.utils.data.Subset``).

    Example:
        >>> ds = Subset(TensorDataset(np.arange(10)), [7, 2]); len(ds), ds[0]
        (2, (np.int64(7),))
    """

    def __init__(self, dataset: Dataset, indices: Any) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]
        n = len(dataset)
        bad = [i for i in self.indices if not -n <= i < n]
        if bad:
            raise IndexError(f"Subset: index {bad[0]} is out of range for {n} items")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]


def random_split(dataset: Dataset, lengths: Any, seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping :class:`Subset` s of the given lengths
    (or fractions summing to 1, rounded as PyTorch does: leftover items go one each to the
    first subsets). ``seed=None`` draws from minigrad's global generator.

    Example:
        >>> a, b = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], seed=0)
        >>> len(a), len(b), sorted(a.indices + b.indices) == list(range(10))
        (8, 2, True)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1):
        counts = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n or any(x < 0 for x in lengths):
        raise ValueError(
            f"random_split: lengths {lengths} must be non-negative and sum to the dataset's "
            f"{n} items (or be fractions summing to 1)"
        )
    rng = default_generator() if seed is None else np.random.default_rng(seed)
    order = rng.permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start : start + length]))
        start += length
    return subsets


def _as_array(a: Any) -> np.ndarray:
    if isinstance(a, np.ndarray):
        return a
    from minigrad.tensor import Tensor

    return a.data if isinstance(a, Tensor) else np.asarray(a)


def _collate(items: list[Any], index: np.ndarray) -> list[np.ndarray]:
    """Stack a list of items field by field (an item is a tuple of fields, or a single field);
    ``index`` holds the items' dataset indices, for the error when they do not fit."""
    if not isinstance(items[0], (tuple, list)):
        return [_stack([_as_array(item) for item in items], index, "")]
    count = len(items[0])
    for item, i in zip(items, index, strict=True):
        if not isinstance(item, (tuple, list)) or len(item) != count:
            raise ValueError(
                f"DataLoader: dataset item {i} is not a tuple of {count} fields like item "
                f"{index[0]}: got {type(item).__name__}"
                + (f" of {len(item)}" if isinstance(item, (tuple, list)) else "")
            )
    return [
        _stack([_as_array(item[k]) for item in items], index, f" field {k}") for k in range(count)
    ]


def _stack(arrays: list[np.ndarray], index: np.ndarray, field: str) -> np.ndarray:
    first = arrays[0].shape
    for a, i in zip(arrays, index, strict=True):
        if a.shape != first:
            raise ValueError(
                f"DataLoader: dataset item {i}{field} has shape {a.shape}, but item {index[0]}"
                f"{field} has shape {first}; the items of a batch must have equal shapes"
            )
    return np.stack(arrays)


def _int64(array: np.ndarray) -> np.ndarray:
    if np.issubdtype(array.dtype, np.integer) and array.dtype != np.int64:
        return array.astype(np.int64)
    return array
