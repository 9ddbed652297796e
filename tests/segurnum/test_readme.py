"""README « Production » documents every environment variable the portal reads, the health
endpoint and the deployment check."""

import re

from tests.segurnum.conftest import BASE_DIR

SETTINGS_VARIABLE = re.compile(r"""\benv(?:_bool|_list)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
SHELL_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")


def production_section() -> str:
    readme = (BASE_DIR / "README.md").read_text()
    titles = [match.group(1) for match in re.finditer(r"^## (.+)$", readme, flags=re.MULTILINE)]
    assert "Production" in titles
    production = titles.index("Production")
    assert titles.index("Back-office (agents de l'ASP et support)") < production
    assert production < titles.index("Captures d'écran")
    return readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]


def test_every_variable_is_documented():
    variables = set(SETTINGS_VARIABLE.findall((BASE_DIR / "segurnum" / "settings.py").read_text()))
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"} <= variables
    for path in ("docker-compose.yml", "scripts/start-web.sh"):
        variables |= set(SHELL_VARIABLE.findall((BASE_DIR / path).read_text()))
    section = production_section()
    missing = sorted(name for name in variables if f"`{name}`" not in section)
    assert not missing, f"Variables absentes de la section « Production » du README : {missing}"


def test_health_endpoint_scaling_and_deploy_check_are_documented():
    section = production_section()
    assert "/sante/" in section
    assert "manage.py check --deploy --fail-level WARNING" in section
    assert "GUNICORN_WORKERS" in section
    assert "--scale worker=" in section
    assert "Un seul `beat`" in section
