"""The token of a recovery link never reaches an access log (SECURITY P4): runserver (`make run`)
and gunicorn (production) are started for real, a mailed link is opened, and their logs are read."""

import os
import sys
import urllib.error
import urllib.request

import pytest
from django.urls import reverse

from segurnum.logmask import mask_secrets
from tests.segurnum.conftest import (
    INHERITED_CONFIGURATION,
    VENV_BIN,
    Server,
    free_port,
    production_env,
    random_secret_key,
    run_here,
)

MAKE_LINK = """
import django
django.setup()
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from accounts import services
from accounts.models import User
user = User.objects.create_user("marie.curie", "marie@editeur.example.fr", "Mot2passe!Solide")
services.set_secret_question(user=user, question="École ?", answer="Jules Ferry")
uid = urlsafe_base64_encode(force_bytes(user.pk))
print(reverse("accounts:reset_link", args=[uid, default_token_generator.make_token(user)]))
"""


def test_only_the_token_is_masked():
    link = reverse("accounts:reset_link", args=["MQ", "cz3c1x-0123456789abcdef0123456789abcdef"])
    line = f'"GET {link} HTTP/1.1" 302 0 "https://webmail.example.fr{link}"'
    masked = mask_secrets(line)
    assert "cz3c1x-0123456789abcdef" not in masked
    assert masked.count("/connexion/reinitialisation/MQ/********/") == 2
    for page in ("accounts:reset_question", "accounts:reset_password"):
        address = reverse(page, args=["MQ"])
        assert mask_secrets(f"GET {address}") == f"GET {address}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def open_link(port: int, path: str, **headers) -> int:
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code


SECRET_KEY = random_secret_key()  # the link is signed with it: both servers share it


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A migrated SQLite database with one vendor, and the recovery link mailed to them."""
    tmp_path = tmp_path_factory.mktemp("journaux")
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="segurnum.settings", DJANGO_SECRET_KEY=SECRET_KEY)
    migrated = run_here([sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    made = run_here([sys.executable, "-c", MAKE_LINK], env)
    assert made.returncode == 0, made.stderr
    return tmp_path, made.stdout.strip().splitlines()[-1]


def assert_logged_without_token(log: str, link: str) -> None:
    token = link.rstrip("/").rsplit("/", 1)[1]
    masked = link.replace(token, "********")
    assert masked in log, log
    assert token not in log, log
    assert token.split("-", 1)[1] not in log


def test_runserver_of_the_embedded_default_masks_the_token(database, tmp_path):
    data_dir, link = database
    env = {key: value for key, value in os.environ.items() if key not in INHERITED_CONFIGURATION}
    env.update(
        DJANGO_SETTINGS_MODULE="segurnum.settings",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DATABASE_URL=f"sqlite:///{data_dir / 'segurnum.sqlite3'}",
        SEGURNUM_VAR_DIR=str(tmp_path / "var"),
        SEGURNUM_PRIVATE_STORAGE_ROOT=str(tmp_path / "private"),
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    server = Server(
        [VENV_BIN / "python", "manage.py", "runserver", "--nostatic", "--noreload", f"127.0.0.1:{port}"],
        env,
        tmp_path / "runserver.log",
    )
    try:
        server.wait(port)
        assert open_link(port, link) == 302  # the token moves to the session
        assert open_link(port, link.replace("-", "-0", 1)) == 400  # a wrong one is masked too
        server.wait_for_log('/ HTTP/1.1" 302 ', '/ HTTP/1.1" 400 ')
    finally:
        log = server.stop()
    assert_logged_without_token(log, link)


def test_gunicorn_masks_the_token(database, tmp_path):
    data_dir, link = database
    port = free_port()
    env = production_env(
        tmp_path,
        DATABASE_URL=f"sqlite:///{data_dir / 'segurnum.sqlite3'}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECRET_KEY=SECRET_KEY,
    )
    # From the project root, as scripts/start-web.sh starts it: gunicorn.conf.py is read.
    command = [VENV_BIN / "gunicorn", "segurnum.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    server = Server([*command, "--access-logfile", "-"], env, tmp_path / "gunicorn.log")
    try:
        server.wait(port)
        referrer = f"https://webmail.example.fr/lire?lien=http://127.0.0.1{link}"
        assert open_link(port, link, **{"X-Forwarded-Proto": "https", "Referer": referrer}) == 302
        server.wait_for_log('/ HTTP/1.1" 302 ')
    finally:
        log = server.stop()
    assert_logged_without_token(log, link)
