"""One rank of test_distributed.py's launches: ``mpiexec -n 2 python worker.py SCENARIO OUT``.

Each rank writes what it ended with to ``OUT`` (``<name>-rank<r>.npz`` and ``.json``), and its
stdout to ``OUT/stdout-rank<r>.txt``; the test compares them with a one-process reference built
from the same functions (:func:`make_data`, :func:`make_model`, :func:`make_loader`).

Scenarios:
    train    fit 2 epochs in float32 and float64, with and without BatchNorm, every rank's
             model initialized from a different seed (the broadcast must make them equal), in
             float64 with one bucket per tensor (several allreduces a step);
             then rank 1's data holds a NaN in step 2: both ranks must stop there, unchanged,
             and train on together from there on clean data
    first    an uninterrupted 2-epoch run, then a fresh 1-epoch run checkpointing to OUT
    resume   a fresh run resuming that checkpoint to epoch 2
    fail     rank 1 raises in its third step while rank 0 waits for its gradients
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import nn, optim
from minigrad import train as mg_train
from minigrad.data import DataLoader, TensorDataset
from minigrad.distributed import DistributedDataParallel, DistributedSampler, init

N = 101  # examples: not a multiple of the world size, so the sampler drops one
BATCH = 8  # per rank: 50 examples each, 6 full batches and one of 2
EPOCHS = 2
LR, MOMENTUM = 0.1, 0.9
SEED = 7  # model initialization on rank 0 (and in the one-process reference)
DATA_SEED = 3
TINY_BUCKETS_MB = 1e-4  # 104 bytes: every tensor gets a bucket of its own
CONFIGS = [(dtype, bn) for dtype in ("float32", "float64") for bn in (False, True)]


def config_name(dtype: str, batchnorm: bool) -> str:
    return f"train-{dtype}-{'bn' if batchnorm else 'plain'}"


def make_data(dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(DATA_SEED)
    return rng.normal(size=(N, 1, 8, 8)).astype(dtype), rng.integers(0, 10, N)


def make_model(batchnorm: bool, seed: int, dropout: bool = False) -> nn.Sequential:
    """A tiny CNN in the default dtype, initialized from ``seed``."""
    mg.manual_seed(seed)
    layers = [nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
    if batchnorm:
        layers.insert(1, nn.BatchNorm2d(4))
    if dropout:
        layers.append(nn.Dropout(0.3))
    return nn.Sequential(*layers, nn.Linear(64, 10))


def make_loader(x: np.ndarray, y: np.ndarray, rank: int, world_size: int) -> DataLoader:
    sampler = DistributedSampler(N, seed=DATA_SEED, rank=rank, world_size=world_size)
    return DataLoader(TensorDataset(x, y), BATCH, sampler=sampler)


def history_json(history: mg_train.History) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history.records]


def run_train(out: Path, rank: int) -> None:
    for dtype, batchnorm in CONFIGS:
        mg.set_default_dtype(dtype)
        x, y = make_data(dtype)
        buckets_mb = TINY_BUCKETS_MB if dtype == "float64" else 25.0
        model = DistributedDataParallel(make_model(batchnorm, SEED + 100 * rank), buckets_mb)
        opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        history = mg_train.fit(
            model,
            nn.CrossEntropyLoss(),
            opt,
            make_loader(x, y, rank, 2),
            EPOCHS,
            val_loader=DataLoader(TensorDataset(x, y), 32),
            checkpoint=out / f"{config_name(dtype, batchnorm)}.npz",
        )
        name = f"{config_name(dtype, batchnorm)}-rank{rank}"
        np.savez(out / f"{name}.npz", **model.state_dict())
        (out / f"{name}.json").write_text(json.dumps(history_json(history)))


def run_nan(out: Path, rank: int) -> None:
    x, y = make_data()
    if rank == 1:
        x[make_loader(x, y, 1, 2).sampler.indices(0)[BATCH + 3], 0, 2, 2] = np.nan  # step 2
    model = DistributedDataParallel(make_model(True, SEED))
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    before_each_step = []

    def batches():
        for batch in make_loader(x, y, rank, 2):
            before_each_step.append(model.state_dict())
            yield batch

    try:
        mg_train.fit(model, nn.CrossEntropyLoss(), opt, batches(), 1, progress=False)
    except mg_train.NonFiniteLossError as error:
        report = {"epoch": error.epoch, "step": error.step, "message": str(error)}
    else:
        report = {"step": None}
    before = before_each_step[-1]
    report["unchanged"] = all(np.array_equal(v, model.state_dict()[k]) for k, v in before.items())
    (out / f"nan-rank{rank}.json").write_text(json.dumps(report))
    clean, _ = make_data()
    history = mg_train.fit(
        model, nn.CrossEntropyLoss(), opt, make_loader(clean, y, rank, 2), 1, progress=False
    )
    np.savez(out / f"after-nan-rank{rank}.npz", **model.state_dict())
    (out / f"after-nan-rank{rank}.json").write_text(json.dumps(history_json(history)))


def resumable_run(out: Path, rank: int, epochs: int, checkpoint: Path, resume: bool) -> None:
    mg.manual_seed(SEED)
    x, y = make_data()
    model = DistributedDataParallel(make_model(True, SEED, dropout=True))
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = mg_train.fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        make_loader(x, y, rank, 2),
        epochs,
        scheduler=sched,
        progress=False,
        checkpoint=checkpoint,
        resume=resume,
    )
    name = checkpoint.stem + ("-resumed" if resume else "") + f"-rank{rank}"
    np.savez(out / f"{name}.npz", **model.state_dict())
    (out / f"{name}.json").write_text(json.dumps(history_json(history)))


def run_fail(out: Path, rank: int) -> None:
    x, y = make_data()
    model = DistributedDataParallel(make_model(False, SEED))
    opt = optim.SGD(model.parameters(), lr=LR)
    steps = 0

    def loss_fn(logits: mg.Tensor, target: mg.Tensor) -> mg.Tensor:
        nonlocal steps
        steps += 1
        if rank == 1 and steps == 3:
            raise ValueError("a bad batch on rank 1")
        return nn.CrossEntropyLoss()(logits, target)

    mg_train.fit(model, loss_fn, opt, make_loader(x, y, rank, 2), EPOCHS, progress=False)
    (out / f"fail-finished-rank{rank}.json").write_text("{}")


def main(scenario: str, out: Path) -> None:
    rank = init().rank
    stdout = open(out / f"stdout-rank{rank}.txt", "w")  # noqa: SIM115 (open for the whole run)
    os.dup2(stdout.fileno(), sys.stdout.fileno())
    saves = []
    real_save = mg_train.save
    mg_train.save = lambda *args: (saves.append(str(args[1])), real_save(*args))
    if scenario == "train":
        run_train(out, rank)
        run_nan(out, rank)
    elif scenario == "first":
        resumable_run(out, rank, EPOCHS, out / "uninterrupted.npz", resume=False)
        resumable_run(out, rank, 1, out / "interrupted.npz", resume=False)
    elif scenario == "resume":
        resumable_run(out, rank, EPOCHS, out / "interrupted.npz", resume=True)
    elif scenario == "fail":
        run_fail(out, rank)
    else:
        raise ValueError(f"unknown scenario {scenario!r}")
    sys.stdout.flush()
    (out / f"{scenario}-saves-rank{rank}.json").write_text(json.dumps(saves))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
