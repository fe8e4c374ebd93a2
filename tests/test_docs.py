"""The documentation cannot drift from the code.

- The site builds with Sphinx, strictly (``docs/build.py``: warnings are errors) and offline, in
  English and in Korean: a broken link or anchor, an unresolved cross-reference, a docstring
  Sphinx cannot parse, a renamed object shown by ``literalinclude``, a formula that cannot be
  typeset, a page missing from the table of contents, an untranslated or fuzzy message on a
  translated page, all fail. The API reference lists every public name, and every public name and
  method has a docstring. The built pages hold their math as MathML and no raw TeX, load nothing
  from the network, and the Korean pages show exactly the English pages' code and outputs.
- Every code block of every page runs, page by page in one namespace, in a scratch folder (the
  current directory, where files the snippets write land, and which holds a copy of
  ``benchmarks/results/``, the recorded runs that pages quote). A ```` ```python ```` block must
  print exactly what the ```` ```text title="Output" ```` block right after it shows, and nothing
  when no such block follows. A ```` ```console ```` block holds ``$ python -m minigrad ...``
  commands followed by what they print. In shown output ``...`` stands for any text (doctest's
  ELLIPSIS): timings, digits that depend on the machine. A block runs unless the line before
  it is ``<!-- docs-test: skip (reason) -->``; those are counted and kept to a small budget.
  The Korean pages are built from the same Markdown (only the prose is translated, through
  gettext catalogues), so their code is the code that ran here: it is not run twice.
- Every docstring example (``>>>``) in the package passes, with ``np`` and ``mg`` available.

BLAS runs on one thread while pages run: the small matrices of the snippets are faster that way,
and training output does not change with the machine's thread count.
"""

from __future__ import annotations

import contextlib
import difflib
import doctest
import importlib
import importlib.util
import inspect
import io
import pkgutil
import re
import shlex
import shutil
import subprocess
import sys
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from support import subprocess_env
from threadpoolctl import threadpool_limits

import minigrad

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOT_PAGES = ("_build", "locales")  # build output, and the translations' own notes

# Pages written by benchmark scripts from their own measurements (their code blocks are the
# commands that regenerate them, minutes long): included in the site, not run here.
GENERATED_PAGES = {
    "benchmarks.md": "benchmarks/train_step.py",
    "numdiff-table.md": "python -m minigrad bench numdiff",
}
PAGES = sorted(
    path
    for path in (p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    if path not in GENERATED_PAGES and path.split("/")[0] not in NOT_PAGES
)
# Skipped blocks must stay rare: each needs its reason on the page, and this is the budget.
MAX_SKIPPED_BLOCKS = 3
RUN_LANGUAGES = ("python", "console")
DISPLAY_LANGUAGES = ("text",)  # output and diagrams
DIRECTIVE = re.compile(r"^\{[\w:-]+\}$")  # MyST: {literalinclude}, {eval-rst}, {toctree}...

FENCE_OPEN = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^`]*)$")
SKIP_MARKER = re.compile(r"^<!-- docs-test: skip \((?P<reason>[^)]+)\) -->$")
OUTPUT_INFO = re.compile(r'^text\s+title="Output"$')
SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ---------------------------------------------------------------------------------------------
# reading the pages
# ---------------------------------------------------------------------------------------------
@dataclass
class Block:
    """One fenced code block of a page."""

    page: str
    line: int  # of the opening fence, 1-based
    info: str  # the fence's info string: language and attributes
    body: str
    skip_reason: str | None = None
    output: Block | None = None  # the Output block following a runnable block

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info else ""

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def read_blocks(page: str) -> list[Block]:
    """The fenced blocks of a page, in order, each Output block attached to the block before."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    between: list[str] = []  # the non-blank lines since the previous block
    i = 0
    while i < len(lines):
        opening = FENCE_OPEN.match(lines[i])
        if not opening:
            if lines[i].strip():
                between.append(lines[i].strip())
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        closing = re.compile(rf"^ {{0,{indent + 3}}}{fence}`*\s*$")
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        assert end < len(lines), f"docs/{page}:{i + 1}: unclosed code fence"
        skip = SKIP_MARKER.match(between[-1]) if between else None
        block = Block(
            page,
            i + 1,
            opening["info"].strip(),
            "\n".join(line[indent:] for line in lines[i + 1 : end]),
            skip["reason"] if skip else None,
        )
        if OUTPUT_INFO.match(block.info):
            previous = blocks[-1] if blocks else None
            assert previous and previous.language == "python" and not between, (
                f"{block.where}: an Output block must directly follow a python block"
            )
            previous.output = block
        blocks.append(block)
        between = []
        i = end + 1
    return blocks


def runnable_blocks(page: str) -> list[Block]:
    """The python and console blocks of a page; any other kind of code block is an error."""
    blocks = read_blocks(page)
    for block in blocks:
        assert block.language in RUN_LANGUAGES + DISPLAY_LANGUAGES or DIRECTIVE.match(
            block.language
        ), (
            f"{block.where}: code fence language {block.language!r}: use python (it runs, and a "
            "following text block titled Output shows what it prints), console (commands that "
            "run, with their output), text (output, diagrams) or a {directive} of Sphinx; "
            "formulas are $...$ and $$...$$"
        )
        assert block.skip_reason is None or block.language in RUN_LANGUAGES, (
            f"{block.where}: a skip marker before a block that would not run anyway"
        )
    return [b for b in blocks if b.language in RUN_LANGUAGES]


# ---------------------------------------------------------------------------------------------
# running them
# ---------------------------------------------------------------------------------------------
def _normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def check_output(where: str, want: str | None, got: str) -> None:
    """``got`` must match the shown output ``want`` (``None``: nothing was shown)."""
    if want is None:
        assert not got.strip(), (
            f"{where}: the block printed this, but no Output block follows:\n{got}"
        )
        return
    want, got = _normalized(want), _normalized(got)
    if doctest.OutputChecker().check_output(want, got, doctest.ELLIPSIS):
        return
    diff = difflib.unified_diff(
        want.splitlines(keepends=True), got.splitlines(keepends=True), "shown", "printed"
    )
    pytest.fail(f"{where}: the output differs from the page:\n{''.join(diff)}")


def run_python(block: Block, namespace: dict) -> None:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block.body, block.where, "exec"), namespace)
    check_output(block.where, block.output.body if block.output else None, printed.getvalue())


def command_argv(command: str, where: str) -> list[str]:
    argv = shlex.split(command)
    if argv[:3] == ["python", "-m", "minigrad"]:
        return [sys.executable, *argv[1:]]
    pytest.fail(f"{where}: only `python -m minigrad ...` commands run in the tests: {command!r}")


def run_console(block: Block, env: dict[str, str]) -> None:
    """Run the block's ``$ `` commands; its other lines are what they print (stdout)."""
    lines = block.body.splitlines()
    commands = [line[2:] for line in lines if line.startswith("$ ")]
    assert lines and lines[0].startswith("$ "), f"{block.where}: start with a `$ ` command line"
    printed = []
    for command in commands:
        result = subprocess.run(
            command_argv(command, block.where),
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"{block.where}: `{command}` failed:\n{result.stderr}"
        printed.append(result.stdout)
    shown = "\n".join(line for line in lines if not line.startswith("$ "))
    check_output(block.where, shown, "".join(printed))


def runs_commands(page: str) -> bool:
    try:
        return any(b.language == "console" and not b.skip_reason for b in read_blocks(page))
    except AssertionError:  # a malformed page: its test reports it
        return False


def page_params() -> list:
    """One test per page; pages that run commands (a process each) are marked slow."""
    return [
        pytest.param(page, marks=[pytest.mark.slow] if runs_commands(page) else [])
        for page in PAGES
    ]


@pytest.mark.parametrize("page", page_params())
def test_page_code_runs_and_prints_what_the_page_shows(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = runnable_blocks(page)
    if not blocks:
        return
    # the recorded benchmark runs, which pages read to show where their numbers come from
    shutil.copytree(ROOT / "benchmarks" / "results", tmp_path / "benchmarks" / "results")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINIGRAD_HOME", str(tmp_path / "cache"))  # never the user's cache
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))
    env = subprocess_env(**SINGLE_THREAD_ENV, COLUMNS="100")
    env |= {"NO_COLOR": "1"}  # help text and outputs in plain text, 100 columns wide
    namespace: dict = {"__name__": "__docs__"}
    # np.printoptions() restores whatever print options a page sets.
    with threadpool_limits(limits=1), np.printoptions():
        for block in blocks:
            if block.skip_reason:
                continue
            if block.language == "python":
                run_python(block, namespace)
            else:
                run_console(block, env)


def test_skipped_blocks_stay_rare() -> None:
    skipped = [
        f"{b.where}: {b.skip_reason}"
        for page in PAGES
        for b in runnable_blocks(page)
        if b.skip_reason
    ]
    assert len(skipped) <= MAX_SKIPPED_BLOCKS, "too many skipped code blocks:\n" + "\n".join(
        skipped
    )


# ---------------------------------------------------------------------------------------------
# the site and its API reference
# ---------------------------------------------------------------------------------------------
def load_builder():
    """``docs/build.py``, the script that builds the sites (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location("docs_build", DOCS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both sites, built once per test session; a failed build's log is the failure message."""
    builder = load_builder()
    try:
        return builder.build(tmp_path_factory.mktemp("site"))
    except builder.BuildError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def site(sites: dict[str, Path]) -> Path:
    """The English site."""
    return sites["en"]


def built_pages(sites: dict[str, Path]) -> list[tuple[str, Path]]:
    """Every HTML page of both sites, with its language (the Korean site is a folder inside
    the English one, so the English pages are those outside it)."""
    korean = sites["ko"]
    return [
        ("ko" if korean in page.parents else "en", page)
        for page in sorted(sites["en"].rglob("*.html"))
    ]


def page_html(site: Path, page: str) -> str:
    """The built HTML of a Markdown page (``"index.md"``)."""
    return (site / page).with_suffix(".html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_site_builds_strict_and_offline(sites: dict[str, Path]) -> None:
    for language, site in sites.items():
        assert (site / "index.html").is_file(), f"no {language} home page"
    for _, page in built_pages(sites):
        remote = re.findall(
            r'<(?:script|link|img|source|iframe)\b[^>]*(?:src|href)="((?:https?:)?//[^"]+)"',
            page.read_text(encoding="utf-8"),
        )
        assert not remote, f"{page} loads {remote}: the site must work offline"
    for sheet in sites["en"].rglob("*.css"):
        remote = re.findall(
            r"(?:url\(|@import)\s*[\"']?((?:https?:)?//[^)\"']+)", sheet.read_text()
        )
        assert not remote, f"{sheet} loads {remote}: the site must work offline"


NOT_PROSE = frozenset({"math", "pre", "code", "script", "style"})


class TextOutsideMath(HTMLParser):
    """The prose of a page (the text outside NOT_PROSE elements) and its count of formulas."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # inside how many NOT_PROSE elements
        self.text: list[str] = []
        self.math = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in NOT_PROSE:
            self.depth += 1
        self.math += tag == "math"

    def handle_endtag(self, tag: str) -> None:
        if tag in NOT_PROSE:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.text.append(data)


def article(html: str) -> str:
    """The page's main content, without the theme's navigation and the search page's script."""
    return html[html.index('<article role="main"') : html.index("</article>")]


FENCED = re.compile(r"^( *)(`{3,}).*?^\1\2`*\s*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
# $$display$$, or $inline$ (which may run over lines of one paragraph, not over a blank line)
FORMULA = re.compile(r"\$\$.+?\$\$|\$[^$\s](?:(?:(?!\n\n)[^$])*?[^$\s])?\$(?!\d)", re.DOTALL)


def formulas(page: Path) -> int:
    """How many $...$ and $$...$$ formulas a Markdown page holds outside code."""
    text = INLINE_CODE.sub("", FENCED.sub("", page.read_text(encoding="utf-8")))
    return len(FORMULA.findall(text))


RAW_TEX = re.compile(
    r"\$[^$\s][^$]*\$|\\(?:frac|partial|sum|sigma|cdot|odot|top|mathbf|hat|sqrt)\b"
)


@pytest.mark.slow
def test_math_is_typeset_and_no_raw_tex_is_left(sites: dict[str, Path]) -> None:
    typeset = 0
    for language, page in built_pages(sites):
        if page.name in {"search.html", "genindex.html"}:
            continue
        parsed = TextOutsideMath()
        parsed.feed(article(page.read_text(encoding="utf-8")))
        left = RAW_TEX.findall("".join(parsed.text))
        assert not left, f"{page}: formulas left as TeX: {left[:5]}"
        typeset += parsed.math
        source = (DOCS / page.relative_to(sites[language])).with_suffix(".md")
        if language == "en" and source.is_file():  # a translation may word its formulas anew
            assert parsed.math == formulas(source), (
                f"{page}: {formulas(source)} formulas in {source.name}, "
                f"{parsed.math} <math> elements built"
            )
    assert typeset, "no <math> element in the whole site"


def translated_pages() -> list[str]:
    """The pages the Korean site must translate completely (``translated_pages`` in conf.py)."""
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    listed = re.search(r"^translated_pages = \[(.*?)\]", conf, re.MULTILINE | re.DOTALL)
    return re.findall(r'"([^"]+)"', listed[1])


def code_blocks(html: str) -> list[str]:
    """The text of every code block of a built page, markup stripped."""
    return [
        re.sub(r"<[^>]+>", "", block)
        for block in re.findall(r"<pre>(.*?)</pre>", article(html), re.DOTALL)
    ]


@pytest.mark.slow
def test_korean_pages_show_the_code_and_outputs_that_ran(sites: dict[str, Path]) -> None:
    """The Korean pages are translations of the prose only: their code blocks and outputs are
    the English pages' (which ran above), so they need not run again."""
    assert len(translated_pages()) >= 7
    for page in translated_pages():
        english = code_blocks(page_html(sites["en"], f"{page}.md"))
        korean = page_html(sites["ko"], f"{page}.md")
        assert code_blocks(korean) == english, f"ko/{page}.html: code differs from the English"
        assert re.search(r"[가-힣]", article(korean)), f"ko/{page}.html is not in Korean"


@pytest.mark.slow
def test_every_page_links_to_itself_in_the_other_language(sites: dict[str, Path]) -> None:
    for language, page in built_pages(sites):
        switch = re.search(r'<a class="language-switch" href="([^"]+)"', page.read_text())
        assert switch, f"{page}: no language switch"
        target = (page.parent / switch[1]).resolve()
        other = sites["ko" if language == "en" else "en"]
        mirrored = other / page.relative_to(sites[language])
        assert target == mirrored.resolve() and target.is_file(), (
            f"{page}: the switch leads to {target}, not to {mirrored}"
        )


PROBE_PAGE = """# Probe

A paragraph that stays the same.

A paragraph that the translator saw.
"""
PROBE_CATALOGUE = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Probe"
msgstr "탐침"

msgid "A paragraph that stays the same."
msgstr "그대로인 문단."

msgid "A paragraph that the translator saw."
msgstr "번역자가 본 문단."
"""


@pytest.mark.slow
def test_a_changed_or_fuzzy_paragraph_is_reported_by_the_korean_build(tmp_path: Path) -> None:
    """One Korean build of two translated pages with docs/_ext/pages.py: ``edited`` changed a
    paragraph after it was translated, ``fuzzy`` has a translation marked fuzzy."""
    (tmp_path / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['myst_parser', 'pages']\nlocale_dirs = ['locales']\n"
        "gettext_compact = False\ntranslated_pages = ['index', 'edited', 'fuzzy']\n"
    )
    (tmp_path / "index.md").write_text("# Home\n\n```{toctree}\nedited\nfuzzy\n```\n")
    (tmp_path / "edited.md").write_text(PROBE_PAGE.replace("stays the same", "was edited"))
    (tmp_path / "fuzzy.md").write_text(PROBE_PAGE)
    catalogues = tmp_path / "locales" / "ko" / "LC_MESSAGES"
    catalogues.mkdir(parents=True)
    (catalogues / "index.po").write_text('msgid "Home"\nmsgstr "홈"\n')
    (catalogues / "edited.po").write_text(PROBE_CATALOGUE)
    (catalogues / "fuzzy.po").write_text(
        PROBE_CATALOGUE.replace(
            'msgid "A paragraph that the', '#, fuzzy\nmsgid "A paragraph that the'
        )
    )
    command = [sys.executable, "-m", "sphinx", "-q", "-D", "language=ko", "-b", "html"]
    result = subprocess.run(
        [*command, str(tmp_path), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = result.stdout + result.stderr
    assert "edited.md:3: WARNING: translation: untranslated message: 'A paragraph that was" in log
    assert "fuzzy message in fuzzy.po" in log, log
    assert "fuzzy.md:5: WARNING: translation: untranslated message: 'A paragraph that the" in log
    assert log.count("WARNING") == 3, log  # and nothing about the translated paragraphs


# Every public name of these modules must appear in the API reference (docs/api/).
REFERENCE_MODULES = (
    "minigrad",
    "minigrad.functional",
    "minigrad.nn",
    "minigrad.nn.init",
    "minigrad.optim",
    "minigrad.optim.lr_scheduler",
    "minigrad.data",
    "minigrad.gradcheck",
    "minigrad.train",
    "minigrad.models",
    "minigrad.serialization",
    "minigrad.autograd",
    "minigrad.kernels",
    "minigrad.distributed",
    "minigrad.tracing",
    "minigrad.drawing",
    "minigrad.anomaly",
    "minigrad.diagnostics",
)


def public_names(module_name: str) -> list[str]:
    """A module's ``__all__`` (or the public names it defines), without modules and dunders."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module_name
    ]
    return [
        name
        for name in names
        if not name.startswith("__") and not inspect.ismodule(getattr(module, name))
    ]


def documented_names(site: Path) -> set[str]:
    """The object names in the site's ``objects.inv`` (Sphinx's inventory format)."""
    compressed = (site / "objects.inv").read_bytes().split(b"\n", 4)[4]
    return {line.split(" ", 1)[0] for line in zlib.decompress(compressed).decode().splitlines()}


@pytest.mark.slow
def test_api_reference_lists_every_public_name(site: Path) -> None:
    documented = documented_names(site)
    missing = [
        f"{module}.{name}"
        for module in REFERENCE_MODULES
        for name in public_names(module)
        if f"{module}.{name}" not in documented
    ]
    assert not missing, "missing from the API reference (docs/api/): " + ", ".join(missing)


# Known gaps, reported to be fixed in the code. The test fails once one is documented, so that
# the entry is removed here and the list only shrinks.
KNOWN_MISSING_DOCSTRINGS: set[str] = set()


def undocumented(module_name: str) -> list[str]:
    """Public names of a module, and public methods and properties of its public classes, that
    have no docstring. A class needs its own; a method overriding a documented one inherits its
    docstring. (Constants cannot carry one at run time: they are listed in the reference.)"""
    module = importlib.import_module(module_name)
    missing = [] if inspect.getdoc(module) else [module_name]
    for name in public_names(module_name):
        value = getattr(module, name)
        qualified = getattr(value, "__module__", module_name) + "." + name
        if not (value.__doc__ if inspect.isclass(value) else inspect.getdoc(value)):
            missing.append(qualified)
        if not inspect.isclass(value):
            continue
        for member, attribute in vars(value).items():
            routine = isinstance(attribute, (staticmethod, classmethod, property))
            if member.startswith("_") or not (routine or inspect.isfunction(attribute)):
                continue
            if not inspect.getdoc(getattr(value, member)) and not inspect.getdoc(attribute):
                missing.append(f"{qualified}.{member}")
    return missing


def test_every_public_name_has_a_docstring() -> None:
    missing = {name for module in REFERENCE_MODULES for name in undocumented(module)}
    fixed = KNOWN_MISSING_DOCSTRINGS - missing
    assert not fixed, "documented now, remove from KNOWN_MISSING_DOCSTRINGS: " + ", ".join(fixed)
    new = sorted(missing - KNOWN_MISSING_DOCSTRINGS)
    assert not new, "public names without a docstring: " + ", ".join(new)


# ---------------------------------------------------------------------------------------------
# docstring examples
# ---------------------------------------------------------------------------------------------
MODULES = ["minigrad", *(m.name for m in pkgutil.walk_packages(minigrad.__path__, "minigrad."))]

# Examples that fail today, reported to be fixed in the code; strict xfail, so a fixed one
# fails until it is removed from here.
KNOWN_FAILING_EXAMPLES: dict[str, str] = {}


def docstring_examples() -> list[doctest.DocTest]:
    """Every docstring with ``>>>`` examples in the package, with ``np`` and ``mg`` in scope."""
    finder = doctest.DocTestFinder()
    extra = {"np": np, "mg": minigrad}
    return [
        test
        for name in sorted(MODULES)
        for test in finder.find(importlib.import_module(name), name, extraglobs=extra)
        if test.examples
    ]


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(
            test,
            id=test.name,
            marks=[pytest.mark.xfail(reason=KNOWN_FAILING_EXAMPLES[test.name])]
            if test.name in KNOWN_FAILING_EXAMPLES
            else [],
        )
        for test in docstring_examples()
    ],
)
def test_docstring_example(example: doctest.DocTest) -> None:
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with np.printoptions():
        runner.run(example, out=report.write)
    assert runner.failures == 0, report.getvalue()
