"""Data-parallel training over MPI: one process per core (or machine), one model replica each.

Every process (an MPI *rank*) runs the same script on its own shard of each epoch; the
replicas start from rank 0's parameters and stay identical because every update uses the same
gradients, averaged across ranks after each backward pass::

    mpiexec -n 2 python train.py
    mpiexec -n 2 python -m minigrad train --distributed

- :func:`init` joins the MPI world and returns this process's ``rank`` and the world's ``size``.
- :class:`DistributedDataParallel` wraps a model: it broadcasts rank 0's parameters and buffers
  at construction, and :meth:`~DistributedDataParallel.synchronize` averages the gradients (and
  the floating-point buffers, such as BatchNorm's running statistics) across ranks in a few
  large flat buckets. ``minigrad.train.fit`` calls it after every backward pass.
- :class:`DistributedSampler` gives each rank a disjoint, equally long shard of every epoch.

mpi4py (``pip install "minigrad[mpi]"``) is imported when one of these is first used, never by
``import minigrad``. In a world of more than one process, an uncaught exception on any rank
aborts every rank (see :func:`init`), so a failure never leaves the others waiting forever.

Example:
    >>> from minigrad.distributed import DistributedSampler
    >>> [DistributedSampler(10, shuffle=False, rank=r, world_size=3).indices(0) for r in (0, 1)]
    [array([0, 3, 6]), array([1, 4, 7])]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, NoReturn

import numpy as np

from minigrad.dtypes import is_int
from minigrad.nn.layer import IncompatibleKeys, Layer, Parameter
from minigrad.tensor import Tensor

__all__ = ["DistributedDataParallel", "DistributedSampler", "World", "abort", "init"]

INSTALL_HINT = 'pip install "minigrad[mpi]" (mpi4py and the MPICH library)'
ABORT_GRACE = 0.5  # seconds between the last message and MPI Abort (see abort)


class World(NamedTuple):
    """This process's place among the processes of one ``mpiexec`` launch.

    Example:
        >>> World(rank=1, size=4)
        World(rank=1, size=4)
    """

    rank: int
    size: int


def _mpi() -> Any:
    """The ``mpi4py.MPI`` module (importing it initializes MPI), or a clear ImportError."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(f"minigrad.distributed needs MPI: {INSTALL_HINT}") from error
    return MPI


def init() -> World:
    """Join the MPI world (initializing MPI once) and return this process's rank and its size.

    Run under ``mpiexec -n N``, the N processes get ranks 0 to N-1; run plainly, the process is
    a world of one. In a world of more than one process, ``init`` also replaces
    ``sys.excepthook`` (once) with one that prints the traceback as usual and then aborts every
    rank: MPI cannot tell a rank that died of an exception from one that is slow, so without it
    the others would wait in their next collective call forever. Everything else in this
    module calls ``init`` itself.

    Example:
        >>> init()
        World(rank=0, size=1)
    """
    comm = _mpi().COMM_WORLD
    world = World(comm.Get_rank(), comm.Get_size())
    if world.size > 1 and not getattr(sys.excepthook, "_minigrad_aborts", False):
        sys.excepthook = _aborting_hook(sys.excepthook)
    return world


def _aborting_hook(previous: Any) -> Any:
    def hook(kind: type[BaseException], value: BaseException, traceback: Any) -> None:
        previous(kind, value, traceback)
        abort(f"uncaught {kind.__name__}: {value}")

    hook._minigrad_aborts = True  # type: ignore[attr-defined]
    return hook


def abort(message: str, status: int = 1) -> NoReturn:
    """Print ``message`` (prefixed with this rank) to stderr and end every rank of the world.

    For failures that are not uncaught exceptions, such as an error a command line reports and
    turns into an exit status: a rank that merely exits leaves the others waiting.

    Example:
        >>> callable(abort)  # abort("disk full") would end this process
        True
    """
    world = init()
    print(
        f"minigrad.distributed: rank {world.rank} of {world.size}: {message}; "
        f"stopping all {world.size} processes",
        file=sys.stderr,
        flush=True,
    )
    sys.stdout.flush()
    # mpiexec drops output still in flight when Abort kills the job: give its forwarding a
    # moment, so that the traceback and this message reach the user (a failure path; the
    # pause costs nothing in a run that goes well)
    time.sleep(ABORT_GRACE)
    _mpi().COMM_WORLD.Abort(status)
    raise SystemExit(status)  # Abort does not return; this keeps the type checker honest


class DistributedSampler:
    """Which examples this rank trains on in each epoch: a disjoint shard of equal length.

    Each epoch orders the ``n`` examples (a fresh permutation drawn from ``seed`` and the epoch
    number when ``shuffle``; ``0..n-1`` otherwise), drops the last ``n % world_size`` of that
    order so that every rank runs the same number of steps, and deals the rest out like cards:
    rank ``r`` takes positions ``r, r + world_size, ...``. So ``world_size`` ranks with batch
    size ``B`` see, at step ``t``, exactly the ``t``-th block of ``world_size * B`` examples of the
    epoch's order: the batch one process would see with batch size ``world_size * B``.

    The order is a function of ``(seed, epoch)`` alone: every rank must pass the same ``seed``,
    and nothing needs saving to resume. Give it to a loader as
    ``DataLoader(dataset, batch_size, sampler=sampler)``: the loader passes its epoch counter,
    which its ``state_dict`` already saves, to :meth:`indices`.

    Args:
        dataset: a dataset (anything with ``len``) or its number of examples.
        rank, world_size: default to this process's place in the MPI world (:func:`init`).

    Example:
        >>> shards = [DistributedSampler(8, seed=0, rank=r, world_size=2) for r in (0, 1)]
        >>> a, b = (s.indices(epoch=0) for s in shards)
        >>> len(a), sorted([*a, *b]) == list(range(8)), (a == shards[0].indices(1)).all()
        (4, True, np.False_)
    """

    def __init__(
        self,
        dataset: Any,
        shuffle: bool = True,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        n = dataset if isinstance(dataset, (int, np.integer)) else len(dataset)
        if not is_int(seed) or seed < 0:
            raise ValueError(f"DistributedSampler: seed must be a non-negative int, got {seed!r}")
        if rank is None or world_size is None:
            world = init()
            rank = world.rank if rank is None else rank
            world_size = world.size if world_size is None else world_size
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(
                f"DistributedSampler: rank must be in [0, world_size), got rank {rank} of "
                f"world_size {world_size}"
            )
        if n < world_size:
            raise ValueError(
                f"DistributedSampler: {n} examples cannot be shared among {world_size} processes"
            )
        self.num_examples, self.shuffle, self.seed = int(n), bool(shuffle), int(seed)
        self.rank, self.world_size = int(rank), int(world_size)

    def __len__(self) -> int:
        return self.num_examples // self.world_size

    def indices(self, epoch: int) -> np.ndarray:
        """This rank's example indices for ``epoch`` (0 for the first), in training order.

        Example:
            >>> DistributedSampler(5, shuffle=False, rank=1, world_size=2).indices(3)
            array([1, 3])
        """
        if self.shuffle:
            order = np.random.default_rng([self.seed, int(epoch)]).permutation(self.num_examples)
        else:
            order = np.arange(self.num_examples)
        return order[self.rank : len(self) * self.world_size : self.world_size]

    def __repr__(self) -> str:
        return (
            f"DistributedSampler({self.num_examples} examples, rank {self.rank} of "
            f"{self.world_size}, shuffle={self.shuffle}, seed={self.seed})"
        )


class _Buckets:
    """Tensors laid out back to back in a few flat arrays, one dtype per array, each array at
    most ``cap_bytes`` long (a tensor larger than that gets an array of its own)."""

    def __init__(self, tensors: list[Tensor], cap_bytes: int) -> None:
        self.arrays: list[np.ndarray] = []
        self.places: list[list[tuple[Tensor, int, int]]] = []
        by_dtype: dict[np.dtype, list[Tensor]] = {}
        for t in tensors:
            by_dtype.setdefault(t.data.dtype, []).append(t)
        for dtype, group in by_dtype.items():
            places: list[tuple[Tensor, int, int]] = []
            used = 0
            for t in group:
                if places and (used + t.data.size) * dtype.itemsize > cap_bytes:
                    self._close(dtype, places, used)
                    places, used = [], 0
                places.append((t, used, used + t.data.size))
                used += t.data.size
            self._close(dtype, places, used)

    def _close(self, dtype: np.dtype, places: list[tuple[Tensor, int, int]], used: int) -> None:
        self.arrays.append(np.empty(used, dtype))
        self.places.append(places)

    def __iter__(self) -> Iterator[tuple[np.ndarray, list[tuple[Tensor, int, int]]]]:
        return zip(self.arrays, self.places, strict=True)


class DistributedDataParallel(Layer):
    """Train one model on every rank as one: identical start, averaged gradients.

    Construct it on every rank, after building the model the same way everywhere and converting
    its dtype (``to``), before the first step. Construction is a collective call: it
    checks that every rank built the same parameters and buffers (names, shapes, dtypes; the
    error names the first difference) and copies rank 0's values to all ranks.

    Calling it runs the wrapped ``module``. After each ``backward``, :meth:`synchronize` (which
    ``fit`` calls for you) replaces every gradient by its mean over the ranks, so every replica
    takes the same optimizer step. With each rank's loss a mean over its shard of ``B``
    examples, the averaged gradient is the gradient of the mean loss over all ``world_size * B``
    examples: the step one process takes on the global batch. BatchNorm layers normalize with the
    statistics of each rank's own shard; their running statistics (every floating-point buffer)
    are averaged in the same call, so all ranks keep the same buffers (see
    ``docs/distributed.md``).

    Parameters and buffers appear under the wrapped model's own names (no ``module.`` prefix),
    so checkpoints load into an unwrapped model and back.

    Args:
        module: the model (a :class:`~minigrad.nn.Layer`).
        bucket_cap_mb: gradients travel in flat arrays of at most this size (MiB), one collective
            call each: few calls for small models, bounded extra memory for large ones.

    Example:
        >>> import minigrad.nn as nn
        >>> model = DistributedDataParallel(nn.Linear(3, 2))  # a world of one process here
        >>> model.world_size, model.is_main_process, [n for n, _ in model.named_parameters()]
        (1, True, ['weight', 'bias'])
    """

    def __init__(self, module: Layer, bucket_cap_mb: float = 25.0) -> None:
        super().__init__()
        if not isinstance(module, Layer):
            raise TypeError(
                f"DistributedDataParallel wraps a minigrad Layer, got {type(module).__name__}"
            )
        if not bucket_cap_mb > 0:
            raise ValueError(
                f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}"
            )
        world = init()
        self.module = module
        self.rank, self.world_size = world.rank, world.size
        self.bucket_cap_mb = float(bucket_cap_mb)
        self._comm = _mpi().COMM_WORLD
        self._check_same_model()
        for flat, places in _Buckets([*self.parameters(), *self.buffers()], self._cap_bytes):
            if self.rank == 0:
                for t, start, stop in places:
                    flat[start:stop] = t.data.reshape(-1)
            self._comm.Bcast(flat, root=0)
            for t, start, stop in places:
                np.copyto(t.data, flat[start:stop].reshape(t.data.shape))
        self._lay_out()

    @property
    def is_main_process(self) -> bool:
        """True on rank 0, the one process that prints progress and writes files in ``fit``.

        Example:
            >>> import minigrad.nn as nn
            >>> DistributedDataParallel(nn.Linear(1, 1)).is_main_process
            True
        """
        return self.rank == 0

    @property
    def _cap_bytes(self) -> int:
        return max(1, int(self.bucket_cap_mb * 2**20))

    def _lay_out(self) -> None:
        """Plan the buckets of :meth:`synchronize`: gradients of the trainable parameters, then
        floating-point buffers; and remember the buffers' values, identical on every rank now."""
        self._trainable = [p for p in self.parameters() if p.requires_grad]
        float_buffers = [b for b in self.buffers() if b.data.dtype.kind == "f"]
        self._buckets = _Buckets([*self._trainable, *float_buffers], self._cap_bytes)
        self._base = {id(b): b.data.copy() for b in float_buffers}

    def _check_same_model(self) -> None:
        """Raise on every rank, naming the first difference, unless all ranks built the same
        parameters and buffers."""
        lines = [
            f"{kind} {name}: shape {t.shape}, {t.dtype}"
            + (", frozen" if kind == "parameter" and not t.requires_grad else "")
            for kind, named in (
                ("parameter", self.named_parameters()),
                ("buffer", self.named_buffers()),
            )
            for name, t in named
        ]
        theirs = _allgather_bytes(self._comm, "\n".join(lines).encode())
        different = [r for r in range(self.world_size) if theirs[r] != theirs[0]]
        if not different:
            return
        ours, other = (
            [*theirs[r].decode().splitlines(), "nothing more"] for r in (0, different[0])
        )
        at = next(i for i, (a, b) in enumerate(zip(ours, other, strict=False)) if a != b)
        raise ValueError(
            "DistributedDataParallel: every rank must build the same model, but rank "
            f"{different[0]} has {other[at]} where rank 0 has {ours[at]}"
        )

    # ------------------------------------------------------------------ the replica's model
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Run the wrapped model."""
        return self.module(*inputs, **kwargs)

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """The wrapped model's parameters under its own names (no ``module.`` prefix)."""
        return self.module.named_parameters()

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        """The wrapped model's buffers under its own names (no ``module.`` prefix)."""
        return self.module.named_buffers()

    def load_state_dict(self, state: Any, strict: bool = True) -> IncompatibleKeys:
        """Load into the wrapped model (on every rank, from the same state)."""
        result = super().load_state_dict(state, strict)
        self._lay_out()
        return result

    def to(self, dtype: Any) -> DistributedDataParallel:
        """Convert the wrapped model (on every rank alike) and re-plan the buckets."""
        super().to(dtype)
        self._lay_out()
        return self

    # ------------------------------------------------------------------ the collective step
    def synchronize(self, *totals: float) -> tuple[float, ...]:
        """Average gradients and floating-point buffers across ranks; sum ``totals`` across ranks.

        A collective call: every rank calls it once per step, after ``backward`` and before the
        optimizer's step. Afterwards each trainable parameter's ``.grad`` is the mean of the
        ranks' gradients (a rank without a gradient for it counts as zero; ``None`` stays
        ``None`` when no rank has one), and each floating-point buffer is the mean of the ranks'
        buffers. ``totals`` (``fit`` passes the step's loss) come back summed over the ranks; a
        NaN or infinity on any rank makes the sum non-finite, so every rank sees it.

        Example:
            >>> import minigrad.nn as nn
            >>> model = DistributedDataParallel(nn.Linear(2, 1))
            >>> model(np.ones((4, 2))).sum().backward()
            >>> model.synchronize(3.0, 4.0), model.module.bias.grad
            ((3.0, 4.0), array([4.], dtype=float32))
        """
        in_place = _mpi().IN_PLACE
        control = np.array([*totals, *(p.grad is not None for p in self._trainable)], np.float64)
        self._comm.Allreduce(in_place, control)
        counts = control[len(totals) :]
        anyone_has_grad = {id(p): n > 0 for p, n in zip(self._trainable, counts, strict=True)}
        for flat, places in self._buckets:
            for t, start, stop in places:
                if t.data.dtype != flat.dtype or t.data.size != stop - start:
                    raise RuntimeError(
                        "DistributedDataParallel: a parameter or buffer changed size or dtype "
                        "since the model was wrapped; change the model before wrapping it"
                    )
                part = flat[start:stop].reshape(t.data.shape)
                if id(t) in self._base:  # a buffer: only its change since the last call moves
                    np.subtract(t.data, self._base[id(t)], out=part)
                elif t.grad is None:
                    part[...] = 0
                else:
                    part[...] = t.grad
            self._comm.Allreduce(in_place, flat)
            for t, start, stop in places:
                mean = np.divide(flat[start:stop].reshape(t.data.shape), self.world_size)
                if id(t) in self._base:
                    np.add(self._base[id(t)], mean, out=t.data)
                    if np.isfinite(t.data).all():  # else fit restores the last finite values
                        self._base[id(t)][...] = t.data
                else:
                    t.grad = mean if anyone_has_grad[id(t)] else None
        return tuple(float(v) for v in control[: len(totals)])

    def all_sum(self, values: Sequence[float]) -> list[float]:
        """``values`` summed element by element over the ranks (a collective call), in float64;
        ``fit`` combines each epoch's loss and metric sums with it.

        Example:
            >>> import minigrad.nn as nn
            >>> DistributedDataParallel(nn.Linear(2, 1)).all_sum([1.5, 2.0])
            [1.5, 2.0]
        """
        totals = np.array(values, np.float64)
        self._comm.Allreduce(_mpi().IN_PLACE, totals)
        return totals.tolist()

    def extra_repr(self) -> str:
        return f"rank {self.rank} of {self.world_size}"


def _allgather_bytes(comm: Any, data: bytes) -> list[bytes]:
    """Every rank's ``data``, in rank order (without pickle)."""
    sizes = np.empty(comm.Get_size(), np.int64)
    comm.Allgather(np.array([len(data)], np.int64), sizes)
    gathered = np.empty(int(sizes.sum()), np.uint8)
    comm.Allgatherv(np.frombuffer(data, np.uint8), [gathered, sizes])
    return [part.tobytes() for part in np.split(gathered, np.cumsum(sizes)[:-1])]
