"""Where the NumPy floor's step time goes, by layer kind (and by source line).

Times every line of the floor's ``forward_backward`` and ``sgd_step`` with ``sys.settrace``
(a line that calls a helper such as ``pool_forward`` includes the helper's time) and files each
line under a kind by what it calls. Tracing adds about a microsecond per line, ~1% of a step.

Run from the repository root::

    python -m benchmarks.profile_floor W2 --threads 1 --lines

Example:
    >>> from benchmarks import reference_numpy
    >>> from benchmarks.workloads import make_workload
    >>> out = breakdown(reference_numpy.build("W1", make_workload("W1")), steps=2)
    >>> "linear GEMM" in out["kinds_ms"]
    True
"""

from __future__ import annotations

import argparse
import linecache
import re
import sys
import time
from collections import defaultdict
from types import FrameType
from typing import Any

from benchmarks.workloads import WORKLOADS

# (kind, pattern on the source line); the first match wins.
KINDS = [
    ("max-pool + ReLU", r"pool_(forward|backward)"),
    ("batchnorm", r"bn_(forward|backward)"),
    ("softmax cross-entropy", r"softmax_xent"),
    ("SGD update", r"flat_velocity|flat_p|first_step"),
    ("conv GEMM", r"matmul\(.*(c1|c2|col1|col2)"),
    ("conv im2col/col2im", r"col1|col2|xp1|x_chwn|x_hwn|target|source"),
    ("linear GEMM", r"matmul|b0"),
    ("dropout", r"drop\d"),
    ("ReLU", r"maximum|greater|mask|relu"),
]
TRACED = ("forward_backward", "forward", "backward", "sgd_step")


def kind_of(source: str) -> str:
    """The layer kind a line of the floor belongs to.

    Example:
        >>> kind_of("pool_forward(self.y1, self.pooled1, self.pool1)")
        'max-pool + ReLU'
    """
    for kind, pattern in KINDS:
        if re.search(pattern, source):
            return kind
    return "other"


def line_times(runner: Any, steps: int) -> dict[tuple[str, int], float]:
    """Seconds per (file, line) over ``steps`` calls of ``runner.step()``."""
    acc: dict[tuple[str, int], float] = defaultdict(float)
    current: list[Any] = [None, 0.0]

    def local(frame: FrameType, event: str, arg: object) -> Any:
        now = time.perf_counter()
        if current[0] is not None:
            acc[current[0]] += now - current[1]
        current[0] = (frame.f_code.co_filename, frame.f_lineno) if event == "line" else None
        current[1] = time.perf_counter()
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_name in TRACED else None

    sys.settrace(tracer)
    try:
        for _ in range(steps):
            runner.step()
    finally:
        sys.settrace(None)
    return dict(acc)


def breakdown(runner: Any, steps: int = 50) -> dict[str, Any]:
    """Milliseconds per step by kind and by line, traced over ``steps`` steps of ``runner``."""
    times = line_times(runner, steps)
    kinds: dict[str, float] = defaultdict(float)
    lines = []
    for (filename, lineno), seconds in sorted(times.items()):
        source = linecache.getline(filename, lineno).strip()
        ms = 1e3 * seconds / steps
        kinds[kind_of(source)] += ms
        lines.append({"line": lineno, "source": source, "ms": ms})
    total = sum(kinds.values())
    ordered = dict(sorted(kinds.items(), key=lambda kv: -kv[1]))
    return {"steps": steps, "total_ms": total, "kinds_ms": ordered, "lines": lines}


def main(argv: list[str] | None = None) -> int:
    """Print the floor's breakdown for the given workloads."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lines", action="store_true", help="also print every line")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from benchmarks import reference_numpy
    from benchmarks.workloads import make_workload

    with threadpool_limits(args.threads):
        for name in args.workloads:
            runner = reference_numpy.build(name, make_workload(name))
            for _ in range(20):
                runner.step()
            out = breakdown(runner, args.steps)
            print(f"{name}: {out['total_ms']:.3f} ms/step traced")
            for kind, ms in out["kinds_ms"].items():
                print(f"  {kind:<24} {ms:7.3f} ms {100 * ms / out['total_ms']:5.1f}%")
            if args.lines:
                for line in out["lines"]:
                    print(f"    {1e3 * line['ms']:8.1f} us  {line['line']:4d} {line['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
