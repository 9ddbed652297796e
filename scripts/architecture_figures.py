"""Maintainability figures of the code base, printed the same way before and after a change.

    .venv/bin/python scripts/architecture_figures.py

Reads the source as text (ast), imports nothing of the project. Prints: the enrolment wizard
view's size (lines, methods, longest method), raw ``draft[...]`` accesses, step-slug literals,
the places each field of a request is spelled, import cycles between the apps, function-level
imports, and the repeated-code pairs outside migrations and tests (``duplicates``, when it is
installed).
"""

import ast
import io
import re
import shutil
import subprocess
import sys
import tokenize
from collections import defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
APPS = ("segurnum", "enrolment", "accounts", "notifications", "portal", "public", "support", "funding")
# The fields of a request's Company / Applicant / Bank parts, as the wizard collects them.
FIELDS = (
    "denomination",
    "trade_name",
    "street_type",
    "postal_code",
    "representative_last_name",
    "representative_email",
    "depositor_email",
    "third_party_quality",
    "iban",
    "bic",
    "account_holder",
    "bank_domiciliation",
)
RAW_DRAFT = re.compile(r"draft\[|draft\.get\(")
SLUGS = ("referencing", "applicant", "bank", "vat", "confirmation")


def source_files(app: str | None = None) -> list[Path]:
    roots = [BASE_DIR / app] if app else [BASE_DIR / name for name in APPS]
    return sorted(
        path
        for root in roots
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and ".venv" not in path.parts
    )


def module_name(path: Path) -> str:
    parts = path.relative_to(BASE_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def wizard_figures() -> dict[str, object]:
    for path in source_files("enrolment"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == "EnrolmentWizard":
                methods = [item for item in node.body if isinstance(item, ast.FunctionDef)]
                longest = max(methods, key=lambda m: m.end_lineno - m.lineno + 1)
                return {
                    "file": str(path.relative_to(BASE_DIR)),
                    "lines": node.end_lineno - node.lineno + 1,
                    "methods": len(methods),
                    "longest method": f"{longest.name} ({longest.end_lineno - longest.lineno + 1} lines)",
                    "methods over 30 lines": sum(1 for m in methods if m.end_lineno - m.lineno + 1 > 30),
                }
    return {}


def count_in(paths: list[Path], pattern: re.Pattern) -> int:
    return sum(len(pattern.findall(path.read_text(encoding="utf-8"))) for path in paths)


def string_literals(path: Path) -> list[str]:
    values = []
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    for token in tokens:
        if token.type == tokenize.STRING:
            try:
                values.append(ast.literal_eval(token.string))
            except (ValueError, SyntaxError):
                continue
    return values


def slug_literals(paths: list[Path]) -> dict[str, int]:
    counts = dict.fromkeys(SLUGS, 0)
    for path in paths:
        for value in string_literals(path):
            if value in counts:
                counts[value] += 1
    return counts


def scopes(tree: ast.Module):
    """Top-level statements, with the body of each class split into its own statements."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                yield f"{node.name}.{getattr(item, 'name', item.lineno)}", item
        else:
            yield getattr(node, "name", f"line {node.lineno}"), node


def spells(node: ast.AST, name: str) -> bool:
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and child.value == name:
            return True
        if isinstance(child, ast.keyword) and child.arg == name:
            return True
        if isinstance(child, (ast.Assign, ast.AnnAssign)):
            targets = child.targets if isinstance(child, ast.Assign) else [child.target]
            if any(isinstance(target, ast.Name) and target.id == name for target in targets):
                return True
    return False


def field_places() -> dict[str, list[str]]:
    places: dict[str, list[str]] = defaultdict(list)
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for scope, node in scopes(tree):
            for name in FIELDS:
                if spells(node, name):
                    places[name].append(f"{module_name(path)}:{scope}")
    return places


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import of a project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "typing":
            continue
        found.extend((name, id(node) in top_level) for name in names if name.split(".")[0] in APPS)
    return found


# The project's composition root wires every app together; it is nobody's dependency.
COMPOSITION_ROOT = {"segurnum.urls", "segurnum.settings", "segurnum.celery", "segurnum.wsgi", "segurnum.asgi"}


def app_graph(module_level_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in source_files():
        if module_name(path) in COMPOSITION_ROOT:
            continue
        app = path.relative_to(BASE_DIR).parts[0]
        for name, top in imports_of(path):
            target = name.split(".")[0]
            if target != app and (top or not module_level_only):
                graph[app].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of apps that import each other, directly or not (strongly connected, 2 or more)."""

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), list(graph.get(start, ()))
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, ()))
        return False

    groups: list[list[str]] = []
    for app in sorted(graph):
        if any(app in group for group in groups):
            continue
        group = [other for other in sorted(graph) if other == app or (reaches(app, other) and reaches(other, app))]
        if len(group) > 1:
            groups.append(group)
    return groups


def edges(graph: dict[str, set[str]]) -> str:
    return ", ".join(f"{app}→{target}" for app in sorted(graph) for target in sorted(graph[app]))


def function_level_imports() -> int:
    return sum(1 for path in source_files() for _, top in imports_of(path) if not top)


def duplicate_pairs() -> str:
    command = shutil.which("duplicates")
    if not command:
        return "duplicates not installed"
    output = subprocess.run(  # noqa: S603 (a fixed command line, no outside input)
        [command, "--most", "200", "--seconds", "120", "--repo", str(BASE_DIR)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    rows = [line for line in output if re.match(r"^D\d+ ", line)]
    python = [row for row in rows if not re.search(r"(migrations/|tests/)", row)]
    code = [row for row in python if re.search(r"\.py:", row)]
    wanted = ("enrolment/services.py", "accounts/views.py", "segurnum_forms.py", "includes/field.html")
    named = [row for row in python if any(row.count(name) == 2 for name in wanted)]
    return (
        f"{len(python)} pairs outside migrations and tests ({len(code)} with Python); "
        f"the issue's four: {len(named)}" + "".join(f"\n      {row}" for row in named)
    )


def main() -> None:
    print("Enrolment wizard view")
    for key, value in wizard_figures().items():
        print(f"  {key}: {value}")
    enrolment = source_files("enrolment")
    raw = count_in(enrolment, RAW_DRAFT)
    print(f"Raw draft[...] / draft.get(...) accesses (enrolment): {raw}")
    views = [path for path in enrolment if path.name == "views.py" or "wizard" in path.parts]
    print(f"Step-slug literals in the wizard's modules: {slug_literals(views)}")
    print(f"Step-slug literals in enrolment/: {slug_literals(enrolment)}")
    places = field_places()
    print("Places each field is spelled (module:top-level definition, migrations and tests left out)")
    for name in FIELDS:
        print(f"  {name}: {len(places[name])}")
    print(f"    e.g. trade_name: {', '.join(places['trade_name'])}")
    every = app_graph(module_level_only=False)
    print(f"Imports between apps: {edges(every)}")
    print(f"Import cycles between apps (any import): {cycles(every) or 'none'}")
    print(f"Import cycles between apps (module level): {cycles(app_graph(module_level_only=True)) or 'none'}")
    print(f"Function-level imports of project modules: {function_level_imports()}")
    print(f"Repeated code: {duplicate_pairs()}")


if __name__ == "__main__":
    sys.exit(main())
