"""How busy the machine is with other work, from /proc (Linux), for benchmarks/train_step.py.

On a 2-core shared machine one other busy process can double a step time, and a 2-thread BLAS
that spin-waits for a core another process holds can be 50x slower. So the harness waits for a
quiet machine before each configuration and records how many CPUs other processes (and the
hypervisor's steal) used while it ran.

Example:
    >>> meter = OtherLoad([])
    >>> meter.cpus() >= 0.0
    True
"""

from __future__ import annotations

import os
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def busy_ticks() -> int:
    """Clock ticks all CPUs spent busy (user, nice, system, irq, softirq, steal) since boot."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return 0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq + steal


def process_ticks(pid: int) -> int:
    """Clock ticks process ``pid`` spent on a CPU (user + system), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


class OtherLoad:
    """CPUs used by everything but ``pids`` (and this process) between creation and ``cpus()``."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = [os.getpid(), *pids]
        self.start_time = time.monotonic()
        self.start_busy = busy_ticks()
        self.start_own = sum(process_ticks(p) for p in self.pids)

    def cpus(self) -> float:
        """Average number of CPUs other work kept busy so far (0 when /proc is unavailable)."""
        elapsed = max(time.monotonic() - self.start_time, 1e-9)
        own = sum(process_ticks(p) for p in self.pids) - self.start_own
        other = busy_ticks() - self.start_busy - own
        return max(other, 0) / CLOCK_TICKS / elapsed


def wait_until_quiet(max_wait: float, threshold: float = 0.25, window: float = 1.0) -> float:
    """Wait until other work uses under ``threshold`` CPUs over ``window`` seconds, at most
    ``max_wait`` seconds; returns the CPUs other work used in the last window."""
    deadline = time.monotonic() + max_wait
    while True:
        meter = OtherLoad([])
        time.sleep(window)
        load = meter.cpus()
        if load < threshold or time.monotonic() >= deadline:
            return load
