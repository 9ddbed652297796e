import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher


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
def _fresh_limits(settings):
    """Rate limits start from zero in every test (the memory cache outlives a test), and the
    periodic housekeeping only runs where a test asks for it."""
    from django.core.cache import cache

    cache.clear()
    settings.HOUSEKEEPING_IN_WEB = False
