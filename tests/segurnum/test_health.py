"""The load balancer's health endpoint, /sante/: database, broker and storage, 200 or 503."""

import time

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connections
from django.http import HttpRequest
from django.urls import reverse

from tests.segurnum.conftest import free_port

pytestmark = pytest.mark.django_db

URL = "/sante/"
EXCEPTION_TRACES = ("Traceback", "Error", "refused", "Errno", "directory", "fichier")


@pytest.fixture
def no_broker(settings):
    settings.CELERY_BROKER_URL = ""


def assert_no_exception_text(response):
    body = response.content.decode()
    for fragment in EXCEPTION_TRACES:
        assert fragment not in body


def test_everything_ok_gives_200_and_cleans_its_probe(client, no_broker, _isolated_storage):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "eager", "storage": "ok", "antivirus": "disabled"},
    }
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    # The probe file was written in the private storage, then deleted.
    assert (_isolated_storage / "documents").is_dir()
    assert not [path for path in _isolated_storage.rglob("*") if path.is_file()]


def test_address_and_place_in_middleware():
    assert reverse("health") == URL
    middleware = django_settings.MIDDLEWARE
    health = middleware.index("segurnum.health.HealthCheckMiddleware")
    # Only the security headers wrap it: they add headers and read neither the host nor the scheme.
    assert middleware[:health] == ["segurnum.middleware.SecurityHeadersMiddleware"]
    assert middleware.index("django.middleware.security.SecurityMiddleware") > health


def test_head_and_other_methods(client, no_broker):
    head = client.head(URL)
    assert head.status_code == 200
    assert head.content == b""
    post = client.post(URL)
    assert post.status_code == 405
    assert post["Allow"] == "GET, HEAD"


def test_broker_on_a_closed_port_gives_503_within_seconds(client, settings, caplog):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    response = client.get(URL)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "error", "storage": "ok", "antivirus": "disabled"},
    }
    assert response["Cache-Control"] == "no-store"
    assert elapsed < 5
    assert_no_exception_text(response)
    assert "courtier Celery injoignable" in caplog.text  # the details go to the log


@pytest.mark.services
def test_reachable_broker_is_ok(client, settings, local_redis):
    settings.CELERY_BROKER_URL = f"{local_redis}/14"
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


def test_unwritable_storage_gives_503(client, settings, no_broker, tmp_path, caplog):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("pas un dossier")
    settings.PRIVATE_STORAGE_ROOT = blocker / "private"  # mkdir fails: NotADirectoryError
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "eager", "storage": "error", "antivirus": "disabled"},
    }
    assert_no_exception_text(response)
    assert "stockage privé inutilisable" in caplog.text


def test_database_error_gives_503(client, no_broker, monkeypatch, caplog):
    def broken_cursor(self, *args, **kwargs):
        raise OperationalError("could not connect to server: mot-de-passe-interne")

    monkeypatch.setattr(type(connections["default"]), "cursor", broken_cursor)
    response = client.get(URL)
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "error", "broker": "eager", "storage": "ok", "antivirus": "disabled"},
    }
    assert "mot-de-passe-interne" not in response.content.decode()
    assert "mot-de-passe-interne" in caplog.text


def test_answers_an_unknown_host_over_http_in_production(client, settings, no_broker, monkeypatch):
    """A load balancer probes by IP over plain HTTP: no redirect to HTTPS, no 400 DisallowedHost."""
    settings.ALLOWED_HOSTS = ["segurnum.example.fr"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # These settings are in force for every other address…
    assert client.get("/", HTTP_HOST="10.0.0.12:8000").status_code == 400
    redirect = client.get("/", HTTP_HOST="segurnum.example.fr")
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://segurnum.example.fr/"

    # …while /sante/ never even reads the Host header.
    def no_host(self):
        raise AssertionError("request.get_host() appelé par /sante/")

    monkeypatch.setattr(HttpRequest, "get_host", no_host)
    response = client.get(URL, HTTP_HOST="10.0.0.12:8000")
    assert response.status_code == 200
    assert "Location" not in response
    assert response.json()["status"] == "ok"


# --- the antivirus: reported, never a reason to leave the load balancer ------------------------


def test_antivirus_answering_is_ok(client, no_broker, clamd):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "eager", "storage": "ok", "antivirus": "ok"},
    }


def test_antivirus_down_is_degraded_but_the_server_still_serves(client, no_broker, private_clamd, caplog):
    """clamd is shared: taking every web server out because of it would stop the whole portal,
    when only uploads need it (and they are refused meanwhile). 200, « degraded », logged."""
    private_clamd.stop()
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "eager", "storage": "ok", "antivirus": "error"},
    }
    assert_no_exception_text(response)
    assert "antivirus (clamd) injoignable" in caplog.text


def test_a_hung_antivirus_answers_within_seconds(client, settings, no_broker, silent_server):
    settings.CLAMD_ADDRESS = f"tcp://127.0.0.1:{silent_server}"
    settings.CLAMD_TIMEOUT = 60  # uploads may wait that long; the probe never does
    started = time.monotonic()
    response = client.get(URL)
    assert time.monotonic() - started < 4
    assert response.status_code == 200
    assert response.json()["checks"]["antivirus"] == "error"
