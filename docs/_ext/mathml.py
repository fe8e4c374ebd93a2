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
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

# What latex2mathml emits for TeX it did not understand: a token element holding a backslash
# command, or an alignment "&" outside an environment that aligns.
UNCONVERTED = re.compile(r"<(mi|mo|mtext)>(\\[^<]*|&amp;|&)</\1>")


# A minus after "(", "[", ",", "=", "<" or ">" is a sign, not a subtraction: MathML spaces it as
# a subtraction unless it is marked as a prefix operator ("(-0.25)", not "( - 0.25)").
UNARY_MINUS = re.compile(
    r"(<mo[^>]*>(?:&#x00028;|&#x0005B;|&#x0002C;|&#x0003D;|&#x0003C;|&#x0003E;)</mo>"
    r"(?:<mspace[^>]*/>)?)<mo>&#x02212;</mo>"
)
ALIGNED = re.compile(r"\\(begin|end)\{aligned\}")


def mathml(self: HTML5Translator, node: nodes.Element, display: str) -> str:
    """The MathML of one formula; unconverted TeX is reported as a warning (-W: an error)."""
    tex = node.astext()
    # Pages write "aligned" (which GitHub's renderer accepts inside $$); latex2mathml knows the
    # same layout as "align*".
    markup = convert(ALIGNED.sub(r"\\\1{align*}", tex), display=display)
    markup = UNARY_MINUS.sub(r'\1<mo form="prefix">&#x02212;</mo>', markup)
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


OPENING = re.compile(r"[(\[]+$")  # punctuation that must stay with the formula after it
CLOSING = re.compile(r"^[.,;:!?)\]]+")  # and before it


class KeepPunctuationWithMath(SphinxPostTransform):
    """Wrap inline math with the punctuation that touches it (``$x$.``, ``($x$)``) in a span
    that does not break: a browser may otherwise start a line with the full stop."""

    default_priority = 900
    formats = ("html",)

    def run(self, **kwargs) -> None:
        for math in list(self.document.findall(nodes.math)):
            parent = math.parent
            index = parent.index(math)
            before = parent[index - 1] if index > 0 else None
            after = parent[index + 1] if index + 1 < len(parent) else None
            opening = OPENING.search(before.astext()) if isinstance(before, nodes.Text) else None
            closing = CLOSING.match(after.astext()) if isinstance(after, nodes.Text) else None
            if not (opening or closing):
                continue
            group = nodes.inline(classes=["nowrap"])
            if closing:
                parent.replace(after, nodes.Text(after.astext()[closing.end() :]))
            if opening:
                parent.replace(before, nodes.Text(before.astext()[: opening.start()]))
                group += nodes.Text(opening[0])
            parent.replace(math, group)
            group += math
            if closing:
                group += nodes.Text(closing[0])


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_math_block, None))
    app.add_post_transform(KeepPunctuationWithMath)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
