"""How long ``import minigrad`` takes beyond NumPy's own import, measured with ``-X importtime``.

Each repeat starts a fresh interpreter that imports minigrad with ``python -X importtime``; the
cumulative times Python reports for ``minigrad`` and for ``numpy`` (which minigrad imports
first) give the part that is minigrad's own. The median and minimum over the repeats are
written to ``benchmarks/results/import_time.json`` with the machine.

    python -m benchmarks.import_time            # 15 repeats
    python -m benchmarks.import_time --quick    # 3 repeats, writes nothing

Example:
    >>> cumulative_ms("import time:       300 |       1200 | numpy")["numpy"]
    1.2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from minigrad.bench.machine import machine_info

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "import_time.json"


def cumulative_ms(report: str) -> dict[str, float]:
    """Module name -> cumulative import time in ms, from ``-X importtime``'s report."""
    times = {}
    for line in report.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            times[parts[2].strip()] = int(parts[1]) / 1000
    return times


def measure() -> dict[str, float]:
    """One fresh interpreter: ms for numpy, for minigrad in all, and minigrad beyond numpy."""
    report = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import minigrad"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stderr
    times = cumulative_ms(report)
    return {
        "numpy_ms": times["numpy"],
        "minigrad_ms": times["minigrad"],
        "beyond_numpy_ms": times["minigrad"] - times["numpy"],
        "scipy_imported": any(name.startswith("scipy") for name in times),
    }


def main(argv: list[str] | None = None) -> int:
    """Measure, print, and record unless ``--quick``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="3 repeats, writes nothing")
    args = parser.parse_args(argv)
    runs = [measure() for _ in range(3 if args.quick else args.repeats)]
    beyond = [r["beyond_numpy_ms"] for r in runs]
    summary = {
        "median_beyond_numpy_ms": statistics.median(beyond),
        "min_beyond_numpy_ms": min(beyond),
        "median_numpy_ms": statistics.median(r["numpy_ms"] for r in runs),
        "scipy_imported": any(r["scipy_imported"] for r in runs),
    }
    print(
        f"import minigrad beyond numpy: median {summary['median_beyond_numpy_ms']:.0f} ms, "
        f"min {summary['min_beyond_numpy_ms']:.0f} ms over {len(runs)} fresh interpreters "
        f"(numpy itself: median {summary['median_numpy_ms']:.0f} ms); "
        f"scipy imported: {summary['scipy_imported']}"
    )
    if not args.quick:
        OUT.write_text(
            json.dumps({"machine": machine_info(), "summary": summary, "runs": runs}, indent=1)
            + "\n"
        )
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
