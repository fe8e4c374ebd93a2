"""Sphinx configuration: the English site, and with ``-D language=ko`` the Korean one.

``python docs/build.py`` builds both, strictly (warnings are errors) and offline; the test suite
does the same. The pages are Markdown (MyST); formulas become MathML at build time
(``_ext/mathml.py``), so nothing is fetched when a page is viewed.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS / "_ext"), str(DOCS.parent)]

import minigrad  # noqa: E402  (after the path setup: the checkout's package, not an installed one)

project = "minigrad"
author = "The minigrad developers"
copyright = "the minigrad developers"  # noqa: A001  (Sphinx's name for it)
release = version = minigrad.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "mathml",
    "pages",
]

root_doc = "index"
source_suffix = {".md": "markdown"}
# numdiff-table.md is included into numdiff.md, not a page of its own.
exclude_patterns = ["_build", "_ext", "_templates", "locales", "README.md", "numdiff-table.md"]
templates_path = ["_templates"]
nitpicky = False  # type hints name NumPy types, and nothing here can reach NumPy's inventory

# Markdown: $...$ and $$...$$ are math; headings up to level 3 get GitHub-style anchors, so that
# links written as page.md#a-heading work on GitHub and in the built site alike.
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# The API reference: Google-style docstrings (Args:, Returns:, Example:).
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints_format = "short"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# Korean: gettext catalogues, one per page, under locales/ko/LC_MESSAGES/. These pages must be
# translated completely: an untranslated or fuzzy message is a build warning, so an error.
locale_dirs = ["locales"]
gettext_compact = False
gettext_uuid = False
gettext_location = False
translated_pages = [
    "index",
    "quickstart",
    "primer",
    "backprop-by-hand",
    "from-the-tutorials",
    "numdiff",
    "seeing-backprop",
    "recurrent",
    "glossary",
]

html_theme = "furo"
html_title = "minigrad"
html_static_path = ["_static"]
html_css_files = ["minigrad.css"]
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "announcement": " ",  # replaced by the language switch (_templates/page.html)
    "top_of_page_buttons": [],
}
pygments_style = "default"
html_math_renderer = "mathml"
# ```text fences are the `text` directive of _ext/pages.py (Output blocks get their caption).
myst_fence_as_directive = ["text"]
