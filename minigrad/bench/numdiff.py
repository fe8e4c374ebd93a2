"""Backpropagation against numerical differentiation: ``python -m minigrad bench numdiff``.

For MLPs ``784-h-10`` (float64, cross-entropy, a seeded batch of N(0, 1) inputs and random
labels) it times one forward pass, one full gradient by backprop (forward and backward), and
the full gradient by :func:`minigrad.gradcheck.numerical_grad`: central differences, two
forward passes per parameter. Where differentiating all P parameters would take longer than
``budget`` seconds, a random subset of k parameters is differentiated and the time is
extrapolated linearly (``x P / k``); the output says so. The backprop gradient is compared
with the numerical one on exactly the parameters that were differentiated. A forward pass
inside numerical differentiation should take as long as the median forward pass; when it
does not (another process took the CPU), the output warns that the timings are unsteady.

Writes a markdown table, a JSON file (with the machine) and a log-log plot of time against P
(when matplotlib is installed)::

    python -m minigrad bench numdiff                     # default sweep, about a minute
    python -m minigrad bench numdiff --quick             # a few seconds
    python -m minigrad bench numdiff --hidden 8-5-10 16 --budget 5 --out results/

Example:
    >>> parse_net("16"), parse_net("8-5-10")
    ((784, 16, 10), (8, 5, 10))
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from minigrad import nn
from minigrad import random as mg_random
from minigrad.autograd import no_grad
from minigrad.bench.machine import machine_info
from minigrad.bench.report import markdown, unsteady, write_plot
from minigrad.gradcheck import _central_differences, numerical_grad
from minigrad.tensor import Tensor

DEFAULT_NETS = ("8-5-10", "1", "4", "16", "64", "128")
QUICK_NETS = ("8-5-10", "2", "16")
DEFAULT_BATCH, QUICK_BATCH = 128, 32
DEFAULT_BUDGET, QUICK_BUDGET = 30.0, 0.25  # seconds of numerical differentiation per network
DEFAULT_REPEATS, QUICK_REPEATS = 21, 5
WARMUP = 2  # untimed runs before the timed forward and backprop repeats
# Central differences in float64: the loss's rounding error (a few 1e-16) divided by eps
# against the truncation error ~eps**2; 1e-5 measured about 10x closer to backprop than 1e-6.
EPS = 1e-5
MIN_SUBSET = 10  # parameters differentiated at least, whatever the budget
SUBSET_CHUNKS = 20  # a subset is differentiated in chunks of about budget / SUBSET_CHUNKS
TABLE_NAME, JSON_NAME, PLOT_NAME = "numdiff-table.md", "numdiff.json", "numdiff.png"


@dataclasses.dataclass
class NumdiffRow:
    """The measurements for one network; times are medians except ``numerical_s``."""

    network: str  # layer sizes, "784-16-10"
    params: int  # P
    forward_ms: float  # one loss evaluation without graph recording
    backprop_ms: float  # forward with graph + backward: the full gradient
    numerical_s: float  # all P parameters by central differences (extrapolated if k < P)
    differentiated: int  # k, parameters actually differentiated numerically
    measured_s: float  # time measured for those k parameters
    extrapolated: bool
    # time per forward inside numerical differentiation / median forward: ~1 on a steady machine
    steadiness: float
    ratio: float  # numerical_s / backprop time
    max_abs_diff: float  # over the k differentiated parameters
    max_rel_diff: float  # |a - b| / max(|a|, |b|, 1e-8)
    median_rel_diff: float


def parse_net(spec: str) -> tuple[int, ...]:
    """Layer sizes from ``"8-5-10"``, or ``(784, h, 10)`` from a hidden width ``"h"``.

    Example:
        >>> parse_net("64"), parse_net("784-32-16-10")
        ((784, 64, 10), (784, 32, 16, 10))
    """
    try:
        sizes = tuple(int(s) for s in str(spec).split("-"))
    except ValueError:
        sizes = ()
    if len(sizes) == 1:
        sizes = (784, sizes[0], 10)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(
            f"numdiff: a network is a hidden width (16, for 784-16-10) or positive layer sizes "
            f"joined by '-' (8-5-10), got {spec!r}"
        )
    return sizes


def mlp(sizes: Sequence[int]) -> nn.Sequential:
    """``Linear`` layers of the given sizes with ``ReLU`` between them.

    Example:
        >>> sum(p.size for p in mlp((8, 5, 10)).parameters())
        105
    """
    layers: list[nn.Layer] = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _subset_grad(
    loss: Callable[..., Tensor], params: list[nn.Parameter], indices: np.ndarray, eps: float
) -> np.ndarray:
    """Central differences at the sorted flat ``indices`` of the concatenated parameters."""
    parts, offset = [], 0
    for p in params:
        local = indices[(indices >= offset) & (indices < offset + p.size)] - offset
        if local.size:
            parts.append(_central_differences(loss, [], p, eps, local).reshape(-1)[local])
        offset += p.size
    return np.concatenate(parts)


def _numerical(
    loss: Callable[..., Tensor],
    params: list[nn.Parameter],
    budget: float,
    forward_s: float,
    eps: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray | None, float]:
    """The numerical gradient and the seconds it took: all of it by ``numerical_grad`` when
    that is expected to fit in ``budget``, else at random parameters, chunk after chunk until
    ``budget`` has passed. Returns the derivatives, their flat indices (None for all) and the
    time."""
    n_params = sum(p.size for p in params)
    if 2 * n_params * forward_s <= budget:
        start = time.perf_counter()
        grads = numerical_grad(loss, params, eps)
        return np.concatenate([g.reshape(-1) for g in grads]), None, time.perf_counter() - start
    order = rng.permutation(n_params)
    start = time.perf_counter()
    chunk = max(MIN_SUBSET, int(budget / (2 * forward_s)) // SUBSET_CHUNKS)
    indices, values = [], []
    done = 0
    while done < n_params and (done == 0 or time.perf_counter() - start < budget):
        indices.append(np.sort(order[done : done + chunk]))
        values.append(_subset_grad(loss, params, indices[-1], eps))
        done += indices[-1].size
    elapsed = time.perf_counter() - start
    return np.concatenate(values), np.concatenate(indices), elapsed


def measure(
    sizes: Sequence[int],
    batch: int = DEFAULT_BATCH,
    budget: float = DEFAULT_BUDGET,
    seed: int = 0,
    repeats: int = DEFAULT_REPEATS,
    eps: float = EPS,
    log: Callable[[str], None] | None = None,
) -> NumdiffRow:
    """Time forward, backprop and numerical differentiation of one MLP and compare gradients.

    The weights and data depend only on ``seed`` and ``sizes``; minigrad's global generator
    is left as it was.

    Example:
        >>> measure((4, 3, 2), batch=8, repeats=3).differentiated
        23
    """
    rng = np.random.default_rng([seed, *sizes])
    user_rng_state = mg_random.get_rng_state()
    try:
        mg_random.manual_seed(seed)
        model = mlp(sizes).to("float64")
    finally:
        mg_random.set_rng_state(user_rng_state)
    loss_fn = nn.CrossEntropyLoss()
    x = Tensor(rng.standard_normal((batch, sizes[0])), dtype="float64")
    y = rng.integers(0, sizes[-1], batch)

    def loss(*_: Any) -> Tensor:
        return loss_fn(model(x), y)

    def forward() -> None:
        with no_grad():
            loss()

    def backprop() -> None:
        model.zero_grad()
        loss().backward()

    forward_ms = _median_ms(forward, repeats)
    backprop_ms = _median_ms(backprop, repeats)
    params = list(model.parameters())
    analytic = np.concatenate([p.grad.reshape(-1) for p in params])
    n_params = analytic.size
    name = "-".join(map(str, sizes))
    if log:
        expected = 2e-3 * forward_ms * n_params
        plan = f"all (~{expected:.2g} s)" if expected <= budget else f"a subset for ~{budget:g} s"
        log(
            f"{name}: P={n_params:,}, forward {forward_ms:.3g} ms, backprop {backprop_ms:.3g} ms; "
            f"central differences on {plan}"
        )
    numerical, indices, measured_s = _numerical(loss, params, budget, 1e-3 * forward_ms, eps, rng)
    k = numerical.size
    a = analytic if indices is None else analytic[indices]
    diff = np.abs(a - numerical)
    rel = diff / np.maximum(np.maximum(np.abs(a), np.abs(numerical)), 1e-8)
    numerical_s = measured_s * n_params / k
    return NumdiffRow(
        network=name,
        params=n_params,
        forward_ms=forward_ms,
        backprop_ms=backprop_ms,
        numerical_s=numerical_s,
        differentiated=k,
        measured_s=measured_s,
        extrapolated=k < n_params,
        steadiness=measured_s / (2 * k) / (1e-3 * forward_ms),
        ratio=numerical_s / (1e-3 * backprop_ms),
        max_abs_diff=float(diff.max()),
        max_rel_diff=float(rel.max()),
        median_rel_diff=float(np.median(rel)),
    )


def run(
    nets: Sequence[str | Sequence[int]] = DEFAULT_NETS,
    batch: int = DEFAULT_BATCH,
    budget: float = DEFAULT_BUDGET,
    seed: int = 0,
    repeats: int = DEFAULT_REPEATS,
    eps: float = EPS,
    log: Callable[[str], None] | None = None,
) -> list[NumdiffRow]:
    """Measure every network of ``nets`` (hidden widths, ``"8-5-10"`` specs or size tuples).

    Example:
        >>> [r.params for r in run(["3-2-2", "3-4-2"], batch=4, repeats=1)]
        [14, 26]
    """
    rows = []
    for net in nets:
        sizes = parse_net(net) if isinstance(net, str | int) else tuple(net)
        rows.append(measure(sizes, batch, budget, seed, repeats, eps, log))
    return rows


# --------------------------------------------------------------------------------- reporting
# ------------------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``numdiff`` options to ``parser`` (for ``python -m minigrad bench numdiff``).

    Example:
        >>> parser = argparse.ArgumentParser(); add_arguments(parser)
        >>> parser.parse_args(["--hidden", "8-5-10", "16", "--quick"]).hidden
        [(8, 5, 10), (784, 16, 10)]
    """
    parser.add_argument(
        "--hidden",
        nargs="+",
        type=_net_arg,
        metavar="H",
        help="hidden widths h of 784-h-10 nets, or full sizes like 8-5-10 "
        f"(default: {' '.join(DEFAULT_NETS)}; --quick: {' '.join(QUICK_NETS)})",
    )
    parser.add_argument(
        "--batch",
        type=_positive_int,
        help=f"batch size (default {DEFAULT_BATCH}; --quick: {QUICK_BATCH})",
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="seconds of numerical differentiation per network; beyond it a "
        "random subset of parameters is timed and extrapolated "
        f"(default {DEFAULT_BUDGET:g}; --quick: {QUICK_BUDGET:g})",
    )
    parser.add_argument("--seed", type=int, default=0, help="weights, data and subset (default 0)")
    parser.add_argument(
        "--repeats",
        type=_positive_int,
        help="timed forward and backprop runs, median "
        f"reported (default {DEFAULT_REPEATS}; --quick: {QUICK_REPEATS})",
    )
    parser.add_argument(
        "--eps", type=float, default=EPS, help=f"central-difference step (default {EPS:g})"
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        help="cap BLAS threads for the run (needs threadpoolctl; default: leave BLAS as it is)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("numdiff-results"),
        help="folder for the JSON, table and plot (default ./numdiff-results)",
    )
    parser.add_argument("--json", type=Path, help=f"JSON path (default OUT/{JSON_NAME})")
    parser.add_argument("--table", type=Path, help=f"markdown path (default OUT/{TABLE_NAME})")
    parser.add_argument("--plot", type=Path, help=f"PNG path (default OUT/{PLOT_NAME})")
    parser.add_argument(
        "--quick", action="store_true", help="a tiny sweep that takes a few seconds (tests, CI)"
    )


def _net_arg(spec: str) -> tuple[int, ...]:
    try:
        return parse_net(spec)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The resolved options: ``--quick`` changes the defaults of the ones not given."""
    quick = args.quick
    return {
        "nets": [
            list(s) for s in args.hidden or map(parse_net, QUICK_NETS if quick else DEFAULT_NETS)
        ],
        "batch": args.batch or (QUICK_BATCH if quick else DEFAULT_BATCH),
        "budget_s": args.budget
        if args.budget is not None
        else (QUICK_BUDGET if quick else DEFAULT_BUDGET),
        "seed": args.seed,
        "repeats": args.repeats or (QUICK_REPEATS if quick else DEFAULT_REPEATS),
        "eps": args.eps,
        "threads": args.threads,
        "warmup": WARMUP,
    }


def _command(args: argparse.Namespace) -> str:
    """``python -m minigrad bench numdiff`` with the options that change the results."""
    parts = ["python -m minigrad bench numdiff"]
    if args.quick:
        parts.append("--quick")
    if args.hidden:
        parts.append("--hidden " + " ".join("-".join(map(str, s)) for s in args.hidden))
    for name in ("batch", "budget", "repeats", "threads"):
        if getattr(args, name) is not None:
            parts.append(f"--{name} {getattr(args, name):g}")
    if args.seed:
        parts.append(f"--seed {args.seed}")
    if args.eps != EPS:
        parts.append(f"--eps {args.eps:g}")
    return " ".join(parts)


@contextlib.contextmanager
def blas_threads(threads: int | None) -> Iterator[None]:
    """Cap the BLAS thread pool inside the block (no-op for None); needs threadpoolctl.

    Example:
        >>> with blas_threads(None):
        ...     pass
    """
    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise RuntimeError(
            "numdiff: --threads needs threadpoolctl: pip install threadpoolctl"
        ) from None
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def main(args: argparse.Namespace, command: str | None = None) -> int:
    """Run the sweep of ``args`` (from :func:`add_arguments`), print the table and write the
    JSON, markdown and PNG files; returns the exit status (0). ``command`` is the invocation
    named in the note (by default ``python -m minigrad bench numdiff`` with the options given).
    """
    settings = _settings(args)
    settings["command"] = command or _command(args)
    paths = {
        "json": args.json or args.out / JSON_NAME,
        "table": args.table or args.out / TABLE_NAME,
        "plot": args.plot or args.out / PLOT_NAME,
    }
    print(
        f"numdiff: {len(settings['nets'])} networks, batch {settings['batch']}, up to about "
        f"{settings['budget_s']:g} s of central differences each",
        file=sys.stderr,
    )
    start = time.perf_counter()
    with blas_threads(settings["threads"]):
        info = machine_info()
        rows = run(
            settings["nets"],
            settings["batch"],
            settings["budget_s"],
            settings["seed"],
            settings["repeats"],
            settings["eps"],
            log=lambda s: print(s, file=sys.stderr),
        )
    elapsed = time.perf_counter() - start
    info["load_average_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    table = markdown(rows, info, settings)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "numdiff",
        "settings": settings,
        "machine": info,
        "elapsed_s": round(elapsed, 2),
        "rows": [dataclasses.asdict(r) for r in rows],
    }
    paths["json"].write_text(json.dumps(result, indent=2) + "\n")
    paths["table"].write_text(table)
    subtitle = f"MLPs, float64, batch {settings['batch']}, {info['cpu']}"
    skipped = write_plot(rows, paths["plot"], subtitle)
    print(table)
    warning = unsteady(rows)
    if warning:
        print(warning, file=sys.stderr)
    print(
        f"sweep took {elapsed:.1f} s; wrote {paths['json']}, {paths['table']}"
        + (f"; {skipped}" if skipped else f", {paths['plot']}")
    )
    return 0


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(
        prog="python -m minigrad.bench.numdiff", description=__doc__.split("\n")[0]
    )
    add_arguments(_parser)
    sys.exit(main(_parser.parse_args()))
