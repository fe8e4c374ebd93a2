"""Sphinx extension: what minigrad's pages need beyond MyST.

- Output blocks. A page shows what a ```` ```python ```` block prints in the ```` ```text
  title="Output" ```` block after it (the test suite compares the two). MyST ignores a fence's
  title, so ```` ```text ```` fences go through the ``text`` directive here: a plain literal
  block, captioned when it has a title, with the class ``output`` for output blocks.
- The language switch. Every page links to the same page in the other language (the English
  site at the root, the Korean one under ``ko/``); a Korean page that is not translated says so.
- API anchors for Markdown links. ``[fit](api/train.md#minigrad.train.fit)`` reads on GitHub
  and resolves here: each documented object's (and module's) id is an anchor of its page, so
  a link to a renamed or removed object fails the build.
- Formulas and measurements are not translated. Display formulas read the same in every
  language; text inside a ``notranslate`` container (the tables the benchmarks write, with their
  machine and date) stays as measured: rerunning a benchmark must not leave the Korean pages
  with untranslated numbers.
- Complete translations. In the Korean build, a page listed in ``translated_pages`` whose
  catalogue lacks a message, or holds it only as fuzzy, is a warning naming the message (so an
  error under ``-W``): a changed English paragraph cannot ship with a stale translation.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.directives.code import container_wrapper
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

TITLE = re.compile(r'^title="(?P<title>[^"]*)"$')


class TextBlock(SphinxDirective):
    """```` ```text title="Output" ````: a literal block, with a caption if it has a title."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        text = "\n".join(self.content)
        block = nodes.literal_block(text, text, language="text")
        self.set_source_info(block)
        if not self.arguments:
            return [block]
        title = TITLE.match(self.arguments[0].strip())
        if not title:
            raise self.error(f'a text fence takes only title="...", not {self.arguments[0]!r}')
        if title["title"] == "Output":
            block["classes"].append("output")
        return [container_wrapper(self, block, title["title"])]


# each language: its name, and where its site is, from the English site's root
LANGUAGES = {"en": ("English", ""), "ko": ("한국어", "ko/")}


def language_switch(app: Sphinx, pagename: str, templatename: str, context: dict, doctree):
    """Give the template the other language's name and the relative URL of this page there."""
    here = app.config.language
    other = "ko" if here == "en" else "en"
    # from this page up to the English site's root (the Korean site is its ko/ folder)
    to_root = "../" * (pagename.count("/") + (here != "en"))
    context["language_switch"] = {
        "label": LANGUAGES[other][0],
        "lang": other,
        "url": to_root + LANGUAGES[other][1] + pagename + ".html",
    }
    context["untranslated_page"] = (
        here != "en" and doctree is not None and pagename not in app.config.translated_pages
    )


def catalogue(app: Sphinx, docname: str) -> Path:
    return Path(app.srcdir, app.config.locale_dirs[0], app.config.language, "LC_MESSAGES") / (
        docname + ".po"
    )


def check_catalogues(app: Sphinx) -> None:
    """Before reading: each translated page has a catalogue without fuzzy entries."""
    if app.config.language == "en":
        return
    for docname in app.config.translated_pages:
        path = catalogue(app, docname)
        if not path.is_file():
            logger.warning("translation: %s has no catalogue %s", docname, path)
            continue
        with path.open(encoding="utf-8") as file:
            for message in read_po(file):
                if message.id and message.fuzzy:
                    logger.warning(
                        "translation: fuzzy message in %s:%s: %r",
                        path.name,
                        message.lineno,
                        message.id[:70],
                    )


def check_translated(app: Sphinx, doctree: nodes.document) -> None:
    """After reading a translated page: every message of it was translated."""
    docname = app.env.docname
    if app.config.language == "en" or docname not in app.config.translated_pages:
        return
    for node in doctree.findall(nodes.Element):
        if not node.astext().strip():
            continue  # nothing to translate (a toctree without a caption)
        if isinstance(node, nodes.image) and node.parent.get("translated"):
            continue  # its alt text was translated with the paragraph holding it
        if node.get("translated") is False:
            logger.warning(
                "translation: untranslated message: %r",
                node.astext()[:70],
                location=node,
            )


def label_api_objects(app: Sphinx, doctree: nodes.document) -> None:
    """Make every object the page documents a link target ``page.md#dotted.name``: MyST resolves
    such a link against the page's heading anchors, to which the objects' ids are added."""
    anchors = app.env.metadata[app.env.docname].setdefault("myst_slugs", {})
    for signature in doctree.findall(addnodes.desc_signature):
        for anchor in signature["ids"]:
            anchors[anchor] = (0, anchor, anchor)
    for node in doctree.findall(nodes.Element):  # a module's target merges into its section
        for anchor in node["ids"]:
            if anchor.startswith("module-"):
                name = anchor.removeprefix("module-")
                anchors[name] = (0, anchor, name)


class KeepUntranslated(SphinxTransform):
    """Take display formulas, and the text inside ``notranslate`` containers, out of
    translation (before Locale). Formulas read the same in every language (words belong in the
    prose around them), and MyST versions disagree on how they extract a formula's text."""

    default_priority = 10  # sphinx.transforms.i18n.Locale runs at 20

    def apply(self, **kwargs) -> None:
        for formula in self.document.findall(nodes.math_block):
            formula["translatable"] = False
        for container in self.document.findall(nodes.container):
            if "notranslate" in container["classes"]:
                for node in container.findall(nodes.TextElement):
                    node["translatable"] = False


def setup(app: Sphinx) -> dict:
    app.add_config_value("translated_pages", [], "env", list)
    app.add_directive("text", TextBlock)
    app.add_transform(KeepUntranslated)
    app.connect("builder-inited", check_catalogues)
    app.connect("doctree-read", check_translated)
    app.connect("doctree-read", label_api_objects)
    app.connect("html-page-context", language_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
