"""Backprop against numerical differentiation, writing the repository's committed results.

A thin wrapper around :mod:`minigrad.bench.numdiff` (``python -m minigrad bench numdiff``,
same options). Without ``--out`` it writes the repository's copies: benchmarks/results/
numdiff.json, docs/numdiff-table.md and docs/img/numdiff.png. Run from the repository root::

    python benchmarks/numerical_vs_backprop.py                           # about a minute
    python benchmarks/numerical_vs_backprop.py --quick --out /tmp/numdiff  # a few seconds
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from minigrad.bench import numdiff

ROOT = Path(__file__).resolve().parent.parent
REPO_OUTPUTS = {
    "json": ROOT / "benchmarks" / "results" / numdiff.JSON_NAME,
    "table": ROOT / "docs" / numdiff.TABLE_NAME,
    "plot": ROOT / "docs" / "img" / numdiff.PLOT_NAME,
}


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` with the numdiff options and run the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Without --out: "
        + ", ".join(str(p.relative_to(ROOT)) for p in REPO_OUTPUTS.values()),
    )
    numdiff.add_arguments(parser)
    parser.set_defaults(out=None)
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = ROOT
        for name, path in REPO_OUTPUTS.items():
            if getattr(args, name) is None:
                setattr(args, name, path)
    return numdiff.main(args)


if __name__ == "__main__":
    sys.exit(main())
