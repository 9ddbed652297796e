"""Each rule below has a test that fails when the rule is broken: apply one mutant at a time,
run the rule's test (and the other tests of the same files), restore the file.

    .venv/bin/python scripts/mutation_check.py

Prints, for each mutant, whether the rule's test kills it and whether the tests around it (the
same files without that test) would have. Restores every file, also when interrupted.
"""

import shlex
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
PYTEST = str(BASE_DIR / ".venv" / "bin" / "pytest")

# (rule, file, original text, mutant, test files, the rule's tests: a pytest -k expression)
MUTANTS = [
    (
        "R-WIZ-5 BIC of the IBAN's bank, location code included (CCFRFRPA)",
        "enrolment/registries/banks.py",
        "if known and short_bic[:8] not in known:",
        "if known and short_bic[:4] not in [k[:4] for k in known]:",
        "tests/enrolment/test_registries_banks.py",
        "location",
    ),
    (
        "R-ACC-3 secret answer « œ » = « oe »",
        "segurnum/text.py",
        'unicodedata.normalize("NFKD", (value or "").translate(_LIGATURES))',
        'unicodedata.normalize("NFKD", (value or ""))',
        "tests/accounts/test_recovery.py",
        "ligature",
    ),
    (
        "R-PRIV-3 the funding page's enrolment is the vendor's own",
        "funding/selectors.py",
        "EnrolmentRequest.objects.owned_by(user)",
        "EnrolmentRequest.objects.all()",
        "tests/funding/test_filing.py",
        "own_enrolment or cannot_file_under",
    ),
    (
        "F13 drafts purged after 24 h (not 25)",
        "enrolment/drafts.py",
        "limit = timezone.now() - timedelta(hours=hours)",
        "limit = timezone.now() - timedelta(hours=hours + 1)",
        "tests/enrolment/test_wizard.py",
        "24_hours",
    ),
    (
        "F13 drafts purged after 24 h (not 23)",
        "enrolment/drafts.py",
        "limit = timezone.now() - timedelta(hours=hours)",
        "limit = timezone.now() - timedelta(hours=hours - 1)",
        "tests/enrolment/test_wizard.py",
        "24_hours",
    ),
    (
        "F2/F6 an image's signature alone is not enough",
        "enrolment/uploads.py",
        "        content = _reencode_image(data, kind)",
        "        content = data",
        "tests/enrolment/test_uploads.py",
        "signature_alone",
    ),
    (
        "F2/F7 a PDF's signature alone is not enough",
        "enrolment/uploads.py",
        "        _check_pdf(data)\n",
        "        pass\n",
        "tests/enrolment/test_uploads.py",
        "signature_alone",
    ),
    (
        "P3 support never decides",
        "accounts/groups.py",
        '    SUPPORT: [\n        "enrolment.lookup_enrolmentrequest",',
        '    SUPPORT: [\n        "enrolment.lookup_enrolmentrequest",\n        "enrolment.validate_enrolmentrequest",',
        "tests/accounts/test_vendor_accounts.py",
        "policy",
    ),
]


def killed(tests: str, expression: str) -> bool:
    command = [PYTEST, *shlex.split(tests), "-q", "-x", "-p", "no:cacheprovider", "-k", expression]
    return subprocess.run(command, cwd=BASE_DIR, capture_output=True, check=False).returncode != 0  # noqa: S603


def main() -> int:
    survivors = 0
    for rule, name, original, mutant, tests, expression in MUTANTS:
        path = BASE_DIR / name
        source = path.read_text(encoding="utf-8")
        if source.count(original) != 1:
            print(f"{rule}: the original text is no longer in {name}; update this script")
            survivors += 1
            continue
        path.write_text(source.replace(original, mutant), encoding="utf-8")
        try:
            by_rule = killed(tests, expression)
            by_others = killed(tests, f"not ({expression})")
        finally:
            path.write_text(source, encoding="utf-8")
        survivors += not by_rule
        print(
            f"{rule}: {'killed' if by_rule else 'SURVIVED'} by its test; "
            f"{'killed' if by_others else 'survived'} by the other tests of {tests}"
        )
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
