"""Make the pictures of docs/seeing-backprop.md: run the page's code, keep what it draws.

The page's snippets write their drawings (``mg.draw_graph``) and plots (``Diagnostics.plot``)
into the current folder, as they do when the documentation tests run them. This script runs
every ``python`` block of the page, in order, in a scratch folder, and copies the files the
page shows (its ``![...](img/NAME)`` images) into ``docs/img/``. Run it from anywhere after
changing the page or the drawing code::

    python examples/seeing_backprop_pictures.py
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "seeing-backprop.md"
IMAGES = ROOT / "docs" / "img"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)
IMAGE = re.compile(r"\]\(img/([^)]+)\)")


def main() -> int:
    """Run the page's code in a scratch folder and copy its pictures into docs/img."""
    text = PAGE.read_text(encoding="utf-8")
    shown = IMAGE.findall(text)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the documentation tests run it
    namespace: dict = {"__name__": "__docs__"}
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            for number, block in enumerate(BLOCK.findall(text), start=1):
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(block, f"{PAGE.name} block {number}", "exec"), namespace)
            for name in shown:
                shutil.copyfile(name, IMAGES / name)
                print(f"wrote {(IMAGES / name).relative_to(ROOT)}")
        finally:
            os.chdir(here)
    return 0


if __name__ == "__main__":
    sys.exit(main())
