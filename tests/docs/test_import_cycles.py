"""No two apps import each other, directly or through others (at module level or inside a
function): the apps form layers, so a newcomer reads one without the ones above it."""

import ast
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
# Every app of the project: a folder beside manage.py with an apps.py (a new app is checked too).
APPS = tuple(sorted(path.parent.name for path in BASE_DIR.glob("*/apps.py")))
# The project's composition root wires every app together; it is nobody's dependency.
COMPOSITION_ROOT = {"segurnum/urls.py", "segurnum/settings.py", "segurnum/celery.py", "segurnum/wsgi.py"}


def is_admin_module(path: Path) -> bool:
    """The back office is composed like the URLs: an app's ``admin.py`` (and ``admin_*.py``) may
    show what the apps above it add to its pages (flags' badges, export buttons). Nothing else
    may import an admin module (``test_only_admin_modules_import_admin_modules``)."""
    return path.name == "admin.py" or path.name.startswith("admin_")


def imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(APPS)


def app_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {app: set() for app in APPS}
    for app in APPS:
        for path in (BASE_DIR / app).rglob("*.py"):
            if (
                "migrations" in path.parts
                or str(path.relative_to(BASE_DIR)) in COMPOSITION_ROOT
                or is_admin_module(path)
            ):
                continue
            graph[app] |= imported_apps(path) - {app}
    return graph


def cycle_in(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as [a, b, …, a], or [] when there is none."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        for target in sorted(graph.get(node, ())):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return []

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return []


def test_no_import_cycle_between_apps():
    assert cycle_in(app_graph()) == []


def test_the_check_sees_a_cycle():
    graph = app_graph()
    assert "enrolment" in graph["funding"]  # the graph is read, not empty
    graph["enrolment"] = graph["enrolment"] | {"funding"}
    assert cycle_in(graph)[0] == cycle_in(graph)[-1]
    assert {"enrolment", "funding"} <= set(cycle_in(graph))


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_only_admin_modules_import_admin_modules():
    """The exemption above stays honest: domain code never reaches the back office's pages."""
    offenders = {}
    for app in APPS:
        for path in (BASE_DIR / app).rglob("*.py"):
            # The exports reproduce the admin's detail pages column for column (R-OPS-1).
            if "migrations" in path.parts or is_admin_module(path) or path.parts[-2] == "exports":
                continue
            admin_imports = {name for name in imported_modules(path) if name.split(".")[0] in APPS and ".admin" in name}
            if admin_imports:
                offenders[str(path.relative_to(BASE_DIR))] = sorted(admin_imports)
    assert offenders == {}
