"""Production settings (SECURITY D1, D2, S4): Django's deployment check passes with no warning,
and HSTS is on every response, error pages included."""

import json
import sys

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from tests.segurnum.conftest import production_env, run_here

ONE_YEAR = 31536000


def run_manage(env, *args):
    return run_here([sys.executable, "manage.py", *args], env, timeout=120)


def test_check_deploy_passes_at_warning_level(tmp_path):
    env = production_env(tmp_path)
    assert len(env["DJANGO_SECRET_KEY"]) == 60
    result = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_catches_a_weak_configuration(tmp_path):
    """The same check fails when a production setting is weakened (here: no HTTPS redirect)."""
    env = production_env(tmp_path, DJANGO_SECURE_SSL_REDIRECT="false")
    result = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


DUMP_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "DEBUG", "SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH",
    "CSRF_COOKIE_DOMAIN", "CSRF_COOKIE_PATH", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER", "MIDDLEWARE", "ALLOWED_HOSTS",
)}))
"""


def test_production_values(tmp_path):
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="segurnum.settings")
    result = run_here([sys.executable, "-c", DUMP_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["segurnum.example.fr"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= ONE_YEAR
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    # __Host- cookies: the browser keeps them only if Secure, with Path=/ and no Domain.
    assert values["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert values["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    for prefix in ("SESSION", "CSRF"):
        assert values[f"{prefix}_COOKIE_SECURE"] is True
        assert values[f"{prefix}_COOKIE_DOMAIN"] is None
        assert values[f"{prefix}_COOKIE_PATH"] == "/"
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["MIDDLEWARE"][:2] == [
        "segurnum.middleware.SecurityHeadersMiddleware",
        "segurnum.health.HealthCheckMiddleware",
    ]


# HSTS on error responses (SECURITY D2), with the production values set in-process.


def boom(request):
    raise RuntimeError("panne simulée")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [path("panne/", boom), path("ok/", fine)]
handler404 = "public.views.page_not_found"
handler500 = "public.views.server_error"


@pytest.fixture
def production_security(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["segurnum.example.fr"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = ONE_YEAR
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return f"max-age={ONE_YEAR}; includeSubDomains; preload"


@pytest.mark.django_db
def test_hsts_on_a_404(client, production_security):
    response = client.get("/page-qui-n-existe-pas/", secure=True, HTTP_HOST="segurnum.example.fr")
    assert response.status_code == 404
    assert response["Strict-Transport-Security"] == production_security


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_hsts_on_a_500(production_security):
    client = Client(raise_request_exception=False)
    response = client.get("/panne/", secure=True, HTTP_HOST="segurnum.example.fr")
    assert response.status_code == 500
    assert response["Strict-Transport-Security"] == production_security
    assert client.get("/ok/", secure=True, HTTP_HOST="segurnum.example.fr")["Strict-Transport-Security"]


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(client, production_security):
    response = client.get("/", HTTP_HOST="segurnum.example.fr")
    assert response.status_code == 301
    assert response["Location"] == "https://segurnum.example.fr/"
    # Behind the load balancer, which terminates TLS and says so.
    behind = client.get("/", HTTP_HOST="segurnum.example.fr", HTTP_X_FORWARDED_PROTO="https")
    assert behind.status_code == 200
    assert behind["Strict-Transport-Security"] == production_security
