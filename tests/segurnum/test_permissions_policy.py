"""Permissions-Policy on every response Django sends (SECURITY D5): pages, error pages, the health
probe, redirects, and the static files it serves in development."""

import os
import urllib.request

import pytest
from django.db import OperationalError
from django.test import Client

from public import urls as public_urls
from tests.segurnum.conftest import BASE_DIR, INHERITED_CONFIGURATION, VENV_BIN, Server, free_port

DENIED = ("camera", "microphone", "geolocation", "payment", "usb", "display-capture", "serial", "hid")


def assert_denies_devices(response) -> None:
    policy = response["Permissions-Policy"]
    features = dict(item.strip().split("=", 1) for item in policy.split(","))
    for feature in DENIED:
        assert features.get(feature) == "()", (feature, policy)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/enrolement/demande/referencing/", "/connexion/", "/sante/", "/page-inconnue/", "/enrolement/"],
)
def test_pages_redirects_and_the_404(client, path):
    response = client.get(path)
    assert response.status_code in (200, 302, 404)
    assert_denies_devices(response)


@pytest.mark.django_db
def test_500_and_503_pages(monkeypatch):
    def boom(request):
        raise RuntimeError("panne")

    def database_down(request):
        raise OperationalError("connection refused")

    patterns = {pattern.name: pattern for pattern in public_urls.urlpatterns}
    monkeypatch.setattr(patterns["home"], "callback", boom)
    monkeypatch.setattr(patterns["faq"], "callback", database_down)
    client = Client(raise_request_exception=False)

    error = client.get("/")
    unavailable = client.get("/aide/questions-frequentes/")

    assert (error.status_code, unavailable.status_code) == (500, 503)
    assert_denies_devices(error)
    assert_denies_devices(unavailable)


def test_static_files_served_in_development_carry_it(client, settings):
    settings.DEBUG = True
    response = client.get("/static/css/segurnum.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert_denies_devices(response)
    assert response["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_not_served_by_django_in_production(client, settings):
    settings.DEBUG = False
    assert client.get("/static/css/segurnum.css").status_code == 404


def test_make_run_serves_static_files_with_it(tmp_path):
    """`make run`'s own command line: runserver --nostatic, so static files go through Django."""
    (command,) = [line.strip() for line in (BASE_DIR / "Makefile").read_text().splitlines() if "runserver" in line]
    args = command.split("manage.py", 1)[1].split()
    assert args[:2] == ["runserver", "--nostatic"]
    env = {key: value for key, value in os.environ.items() if key not in INHERITED_CONFIGURATION}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", SEGURNUM_VAR_DIR=str(tmp_path / "var"))
    port = free_port()
    server = Server(
        [VENV_BIN / "python", "manage.py", *args[:2], "--noreload", f"127.0.0.1:{port}"], env, tmp_path / "log"
    )
    try:
        server.wait(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/segurnum.css", timeout=10) as response:
            assert response.status == 200
            assert_denies_devices(response.headers)
            assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    finally:
        server.stop()


@pytest.mark.django_db
def test_the_503_of_a_session_store_that_is_down_carries_it_and_is_never_cached(monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    def unreachable(self):
        raise OperationalError("connection refused")

    monkeypatch.setattr(SessionStore, "_get_session_from_db", unreachable)
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32

    response = client.get("/")

    assert response.status_code == 503
    assert_denies_devices(response)
    assert response["Cache-Control"] == "no-store"
