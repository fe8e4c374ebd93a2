"""Build the documentation: the English site in OUT, the Korean one in OUT/ko.

    python docs/build.py [OUT]        (OUT defaults to docs/_build/html)

then open OUT/index.html in a browser; every page links to the same page in the other language.
Both builds are strict (any warning fails them: a broken link, an unknown name, a formula that
cannot be typeset, an untranslated paragraph on a translated page) and need no network. They run
side by side, one process each. Needs the ``docs`` extra: ``pip install -e ".[docs]"``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
LANGUAGES = {"en": "", "ko": "ko"}  # each language's folder inside OUT


class BuildError(RuntimeError):
    """A build failed or warned; the message holds its log."""


def build(out: Path) -> dict[str, Path]:
    """Build every language into ``out``; return each site's folder, or raise BuildError."""
    sites = {language: Path(out, folder) for language, folder in LANGUAGES.items()}
    runs = {
        language: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sphinx",
                "--fail-on-warning",
                "--keep-going",
                "--fresh-env",  # autodoc reads the code, whose changes Sphinx does not track
                "--quiet",
                "--define",
                f"language={language}",
                "--builder",
                "html",
                str(DOCS),
                str(site),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for language, site in sites.items()
    }
    failed = {}
    for language, run in runs.items():
        log, _ = run.communicate(timeout=600)
        if run.returncode != 0 or log.strip():
            failed[language] = log
    if failed:
        raise BuildError(
            "\n".join(f"--- the {language} build:\n{log}" for language, log in failed.items())
        )
    return sites


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS / "_build" / "html"
    try:
        sites = build(out)
    except BuildError as error:
        sys.exit(str(error))
    for language, site in sites.items():
        print(f"{language}: {(site / 'index.html').resolve().as_uri()}")


if __name__ == "__main__":
    main()
