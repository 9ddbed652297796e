import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests import keys

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# The variables of the embedded default or of CI's second pass that must not leak into a
# process started with a configuration of its own.
INHERITED_CONFIGURATION = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "DJANGO_DEBUG",
    "DJANGO_SECURE_SSL_REDIRECT",
    # Set by the browser tests' conftest for the live server; never in production.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SEGURNUM_CLAMD_ADDRESS",
    "SEGURNUM_ENCRYPTION_KEYS",
    "SEGURNUM_SEARCH_HASH_KEY",
)


def random_secret_key(length: int = 60) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a production process whose data all live under tmp_path. Its antivirus
    is production's default address (Debian's socket) unless SEGURNUM_CLAMD_ADDRESS is given."""
    env = {key: value for key, value in os.environ.items() if key not in INHERITED_CONFIGURATION}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=random_secret_key(),
        DJANGO_ALLOWED_HOSTS="segurnum.example.fr",
        DATABASE_URL=f"sqlite:///{tmp_path / 'segurnum.sqlite3'}",
        SEGURNUM_VAR_DIR=str(tmp_path / "var"),
        SEGURNUM_PRIVATE_STORAGE_ROOT=str(tmp_path / "private"),
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        # The test session's keys: the test process reads what these processes write.
        SEGURNUM_ENCRYPTION_KEYS=keys.ENCRYPTION_KEY,
        SEGURNUM_SEARCH_HASH_KEY=keys.SEARCH_HASH_KEY,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return env


def run_here(args, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a command from the project's root, its output captured as text."""
    return subprocess.run(
        [str(arg) for arg in args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


def stop_process_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM to a process started with ``start_new_session`` and its children, SIGKILL after
    ``grace`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def local_redis():
    """The machine's Redis (CI starts it); skipped when absent, unless services are required."""
    if not redis_reachable():
        if os.environ.get("SEGURNUM_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis est exigé sur {REDIS_HOST}:{REDIS_PORT} pour cette passe de tests.")
        pytest.skip(f"pas de Redis sur {REDIS_HOST}:{REDIS_PORT}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}"


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and reads, but never answers (a hung daemon)."""
    server = socket.create_server(("127.0.0.1", 0))
    yield from _silent(server, server.getsockname()[1])


@pytest.fixture
def silent_unix_server():
    """The same on a unix socket (a hung local clamd); gives the socket's path, in a short folder
    (a socket's path is limited to 108 bytes)."""
    folder = tempfile.mkdtemp(prefix="silent-")
    path = os.path.join(folder, "clamd.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()
    yield from _silent(server, path)
    shutil.rmtree(folder, ignore_errors=True)


def _silent(server: socket.socket, name):
    stop = threading.Event()
    accepted = []

    def serve():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(connection)
            connection.settimeout(0.1)
            threading.Thread(target=drain, args=(connection,), daemon=True).start()

    def drain(connection):
        while not stop.is_set():
            try:
                if not connection.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield name
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    server.close()


class Server:
    """A web server started here (runserver, gunicorn) with its output in a log file; ``stop()``
    ends it and returns that log."""

    def __init__(self, args, env, log):
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [str(arg) for arg in args],
                cwd=BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait(self, port: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/sante/", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        pytest.fail("serveur pas prêt :\n" + self.log.read_text())

    def wait_for_log(self, *texts: str, timeout: float = 30) -> None:
        """A server writes its access line once the client has the response: wait for it."""
        deadline = time.monotonic() + timeout
        while not all(text in self.log.read_text() for text in texts):
            assert time.monotonic() < deadline, f"{texts} attendus dans :\n{self.log.read_text()}"
            time.sleep(0.2)

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        return self.log.read_text()
