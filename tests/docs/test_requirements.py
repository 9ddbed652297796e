"""Every requirement id the code cites is defined in the repository's own docs (docs/requirements.md
for R-…, docs/security.md for SECURITY rows), so a maintainer finds each rule without the
original specification."""

import re
import subprocess
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
REQUIREMENT = re.compile(r"\bR-[A-Z]+-\d+\b")
SECURITY_ROW = re.compile(r"\bSECURITY ([A-Z]\d+b?)\b")
DEFINED = re.compile(r"^- \*\*([A-Z][A-Za-z0-9-]*)\*\*", re.MULTILINE)


def cited(pattern: re.Pattern) -> dict[str, str]:
    """Each id cited in a tracked source file or template, with one place that cites it."""
    files = subprocess.run(
        ["git", "ls-files", "*.py", "*.html", "*.txt", "*.sh", "*.conf", "Makefile", ".ci/run"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found: dict[str, str] = {}
    for name in files:
        path = BASE_DIR / name
        if not path.is_file() or path == Path(__file__):
            continue
        for match in pattern.finditer(path.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(match.group(match.lastindex or 0), name)
    return found


def defined(doc: str) -> set[str]:
    return set(DEFINED.findall((BASE_DIR / "docs" / doc).read_text(encoding="utf-8")))


def test_every_cited_requirement_is_defined_in_docs_requirements():
    missing = {rid: where for rid, where in cited(REQUIREMENT).items() if rid not in defined("requirements.md")}
    assert missing == {}


def test_every_cited_security_row_is_defined_in_docs_security():
    missing = {row: where for row, where in cited(SECURITY_ROW).items() if row not in defined("security.md")}
    assert missing == {}


def test_the_check_sees_an_undefined_id():
    assert "R-WIZ-99" not in defined("requirements.md")
    assert {"R-WIZ-9", "R-BIZ-1"} <= defined("requirements.md")
    assert {"F12b", "A11", "W1"} <= defined("security.md")
