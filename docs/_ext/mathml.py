"""Sphinx extension: math typeset as MathML when the site is built.

Every ``$...$`` and ``$$...$$`` formula is converted with ``latex2mathml`` into a ``<math>``
element, which browsers render natively: no script, no font and no stylesheet is fetched when a
page is viewed, and no third-party file is copied into the site. A command the converter does
not know would come out as raw TeX (``<mi>\\foo</mi>``); it fails the build instead, naming the
formula and where it is.
"""

from __future__ import annotations

import re

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

# What latex2mathml emits for TeX it did not understand: a token element holding a backslash
# command, or an alignment "&" outside an environment that aligns.
UNCONVERTED = re.compile(r"<(mi|mo|mtext)>(\\[^<]*|&amp;|&)</\1>")


ALIGNED = re.compile(r"\\(begin|end)\{aligned\}")


def mathml(self: HTML5Translator, node: nodes.Element, display: str) -> str:
    """The MathML of one formula; unconverted TeX is reported as a warning (-W: an error)."""
    tex = node.astext()
    # Pages write "aligned" (which GitHub's renderer accepts inside $$); latex2mathml knows the
    # same layout as "align*".
    markup = convert(ALIGNED.sub(r"\\\1{align*}", tex), display=display)
    unconverted = UNCONVERTED.search(markup)
    if unconverted:
        logger.warning(
            "math: cannot convert %r in $%s$ to MathML", unconverted[2], tex, location=node
        )
    return markup


def visit_math(self: HTML5Translator, node: nodes.math) -> None:
    self.body.append(f'<span class="math">{mathml(self, node, "inline")}</span>')
    raise nodes.SkipNode


def visit_math_block(self: HTML5Translator, node: nodes.math_block) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math"))
    self.body.append(mathml(self, node, "block"))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_math_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
