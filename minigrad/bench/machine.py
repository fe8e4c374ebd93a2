"""What a benchmark ran on: CPU, cores, memory, OS, library versions, BLAS, load and date.

Shared by the numerical-differentiation lesson that ships with the package
(``python -m minigrad bench numdiff``) and the repository's ``benchmarks/``, so every recorded
result describes its machine the same way.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import numpy as np

import minigrad

__all__ = ["blas_summary", "machine_info", "package_version"]


def _cpu_fields() -> dict[str, str]:
    """The first processor's fields from /proc/cpuinfo (model name, family, flags...)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def _mem_total_gib() -> float:
    """Total memory from /proc/meminfo, in GiB (0 when unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _blas() -> list[dict[str, Any]] | str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl is not installed)"
    keys = ("internal_api", "version", "num_threads", "architecture", "prefix", "filepath")
    return [{k: lib.get(k) for k in keys} for lib in threadpool_info()]


def machine_info() -> dict[str, Any]:
    """This machine and software, as a JSON-friendly dict.

    Example:
        >>> info = machine_info()
        >>> info["logical_cpus"] >= 1 and info["numpy"] == np.__version__
        True
    """
    cpu = _cpu_fields()
    flags = set(cpu.get("flags", "").split())
    return {
        "cpu": cpu.get("model name", platform.processor() or "unknown"),
        "vendor": cpu.get("vendor_id", ""),
        "family_model": f"family {cpu.get('cpu family', '?')}, model {cpu.get('model', '?')}",
        "simd": [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "avx_vnni") if f in flags],
        "virtualized": "hypervisor" in flags,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "mem_gib": round(_mem_total_gib(), 1),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "minigrad": minigrad.__version__,
        "torch": package_version("torch"),
        "threadpoolctl": package_version("threadpoolctl"),
        "blas": _blas(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def blas_summary(blas: list[dict[str, Any]] | str, numpy_only: bool = False) -> str:
    """One phrase per BLAS library threadpoolctl found: library, version, kernel, threads
    (``numpy_only``: just the one NumPy's matmul uses).

    Example:
        >>> blas_summary([{"internal_api": "openblas", "version": "0.3", "num_threads": 1,
        ...                "architecture": "Haswell", "filepath": "numpy.libs/x.so"}])
        'openblas 0.3, kernel Haswell, 1 thread(s)'
    """
    if isinstance(blas, str):
        return f"BLAS {blas}"
    libs = [lib for lib in blas if "numpy" in str(lib.get("filepath"))] if numpy_only else blas
    parts = []
    for lib in libs or blas:
        version = f" {lib['version']}" if lib.get("version") else ""
        kernel = f", kernel {lib['architecture']}" if lib.get("architecture") else ""
        parts.append(f"{lib['internal_api']}{version}{kernel}, {lib['num_threads']} thread(s)")
    return "; ".join(parts) or "no BLAS found by threadpoolctl"
