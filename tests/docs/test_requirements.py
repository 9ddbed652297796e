"""Every requirement id the code cites is defined in the repository's own docs (docs/requirements.md
for R-…, docs/security.md for SECURITY rows), so a maintainer finds each rule without the
original specification."""

import importlib
import re
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
REQUIREMENT = re.compile(r"\bR-[A-Z]+-\d+\b")
SECURITY_ROW = re.compile(r"\bSECURITY ([A-Z]\d+b?)\b")
DEFINED = re.compile(r"^- \*\*([A-Z][A-Za-z0-9-]*)\*\*", re.MULTILINE)
PLACE = re.compile(r"^  Code: `([\w.]+)`\.$", re.MULTILINE)


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


def entries(doc: str) -> dict[str, str]:
    """Each defined id with the text of its entry (up to the next entry, heading or blank line)."""
    text = (BASE_DIR / "docs" / doc).read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for match in DEFINED.finditer(text):
        end = re.compile(r"^(- \*\*|#|$)", re.MULTILINE).search(text, match.end() + 1)
        found[match.group(1)] = text[match.start() : end.start() if end else len(text)]
    return found


def resolve(dotted: str) -> object:
    """The object a `module.name` (or `module.Class.method`) place names; raises when there is none."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise ModuleNotFoundError(dotted)


@pytest.mark.django_db
def test_every_requirement_names_its_one_place_in_the_code():
    places = {rid: PLACE.findall(entry) for rid, entry in entries("requirements.md").items()}
    assert {rid: found for rid, found in places.items() if len(found) != 1} == {}
    for rid, (dotted,) in places.items():
        assert callable(resolve(dotted)) or dotted.endswith(".GROUPS"), rid


def test_the_place_check_sees_a_name_that_does_not_exist():
    assert resolve("enrolment.services.submit_enrolment").__name__ == "submit_enrolment"
    assert resolve("enrolment.wizard.views.EnrolmentWizard.keep_values").__name__ == "keep_values"
    with pytest.raises(AttributeError):
        resolve("enrolment.services.submit_enrolement")
    with pytest.raises(ModuleNotFoundError):
        resolve("enrolement.services.submit_enrolment")
    assert len(entries("requirements.md")) >= 40
