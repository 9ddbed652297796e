import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests import keys
from tests.antivirus import ClamdServer, antivirus_required, clamd_binary


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """The production algorithm (same stored prefix) with few iterations: tests stay fast."""

    iterations = 1000


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.conftest.QuickPBKDF2PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    """Each test writes documents, drafts and mail under its own temporary folder."""
    root = tmp_path / "private"
    settings.PRIVATE_STORAGE_ROOT = root
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from segurnum.celery import app

    app.conf.task_always_eager = True
    yield root


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Unit tests never reach the internet: only loopback connections are allowed."""
    import socket

    real_connect = socket.socket.connect

    def guarded_connect(self, address, *args, **kwargs):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in {"127.0.0.1", "::1", "localhost"} and not host.startswith("/"):
            raise OSError(f"Accès réseau interdit pendant les tests : {address!r}")
        return real_connect(self, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(autouse=True)
def _test_keys_and_no_antivirus(settings):
    """The session's own encryption keys (never the developer's var/keys); no antivirus unless the
    test asks for the ``clamd`` fixture (a developer's SEGURNUM_CLAMD_ADDRESS is ignored)."""
    settings.ENCRYPTION_KEYS = [keys.ENCRYPTION_KEY]
    settings.SEARCH_HASH_KEY = keys.SEARCH_HASH_KEY
    settings.CLAMD_ADDRESS = ""


def require_clamd() -> None:
    """Skipped without Debian's clamd (a newcomer's machine); failed where the antivirus tests
    must run (.ci/run sets SEGURNUM_REQUIRE_ANTIVIRUS=1)."""
    if clamd_binary() is None:
        message = "clamd absent (apt-get install clamav-daemon)"
        if antivirus_required():
            pytest.fail(message + " alors que SEGURNUM_REQUIRE_ANTIVIRUS=1")
        pytest.skip(message)


@pytest.fixture(scope="session")
def clamd_server():
    """One clamd for the session, with the EICAR body signature only (tests/antivirus.py)."""
    require_clamd()
    server = ClamdServer().start()
    yield server
    server.remove()


@pytest.fixture
def clamd(settings, clamd_server):
    """Uploads scanned by the session's clamd."""
    if not clamd_server.answers():  # a test stopped it: back for the next one
        clamd_server.start()
    settings.CLAMD_ADDRESS = clamd_server.address
    return clamd_server


@pytest.fixture
def private_clamd(settings):
    """A clamd of this test's own, which the test may stop (SECURITY G6)."""
    require_clamd()
    server = ClamdServer().start()
    settings.CLAMD_ADDRESS = server.address
    yield server
    server.remove()


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    """Rate limits start from zero in every test (the memory cache outlives a test), and the
    periodic housekeeping only runs where a test asks for it."""
    from django.core.cache import cache

    cache.clear()
    settings.HOUSEKEEPING_IN_WEB = False
