"""segurnum/settings.py reads top to bottom: each setting is given its value in one place (no
list or dict completed further down), and production's differences sit in one block."""

import ast
from collections import Counter
from pathlib import Path

from django.conf import settings

from enrolment.uploads import ALLOWED_HINT, format_limit

SETTINGS = Path(settings.BASE_DIR) / "segurnum" / "settings.py"


def top_level() -> list[ast.stmt]:
    return ast.parse(SETTINGS.read_text(encoding="utf-8")).body


def test_each_setting_is_assigned_once_at_the_top_level():
    names = Counter(
        target.id
        for node in top_level()
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    )
    assert [name for name, count in names.items() if count > 1] == []


def test_no_setting_is_completed_further_down():
    completed = [
        ast.unparse(target)
        for node in top_level()
        if isinstance(node, (ast.Assign, ast.AugAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Subscript)
    ]
    assert completed == []


def test_one_production_block():
    blocks = [node for node in top_level() if isinstance(node, ast.If) and ast.unparse(node.test) == "PRODUCTION"]
    assert len(blocks) == 1


def test_the_upload_hint_says_the_limit_the_check_applies():
    assert format_limit(4 * 1024 * 1024) == "4 Mo"
    assert format_limit(512 * 1024) == "512 Ko"
    assert (
        f"Fichier de type .png, .jpg, .jpeg ou .pdf. Taille maximum : {format_limit(settings.UPLOAD_MAX_BYTES)}"
    ) == ALLOWED_HINT
    assert ALLOWED_HINT.endswith("Taille maximum : 4 Mo")  # the guide's words, with the default limit
