"""Harness of the integration suite: the portal as production runs it, on this machine.

- PostgreSQL: pytest-django's test database (``test_<name of DATABASE_URL>``), handed to every
  process as its DATABASE_URL; the tests are transactional, so the processes see what they write;
- Redis: the machine's (the host of CELERY_BROKER_URL), databases 10 (the stack) and 11 (the
  worker-kill test) only, emptied before and after; or a private ``redis-server`` that a test stops;
- gunicorn serving the portal (the command of scripts/start-web.sh) and a real ``celery worker``
  process, both with the production settings (tests/segurnum/conftest.py's ``production_env``) and
  the same environment;
- an aiosmtpd server in a thread of this process as the mail relay (tests/integration/relay.py).

Every process is stopped at the end; under a failing test, the logs written during it are shown.
Without PostgreSQL and Redis the suite is skipped, unless SEGURNUM_REQUIRE_SERVICES=1 (CI's second
pass): then a missing service fails it.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings

from notifications.models import OutboundEmail
from tests.antivirus import ClamdServer
from tests.enrolment.wizard import load_registries
from tests.integration.portal_http import PortalClient
from tests.integration.relay import Relay
from tests.segurnum.conftest import BASE_DIR, VENV_BIN, free_port, production_env, run_here

STACK_REDIS_DB, SPARE_REDIS_DB = 10, 11
STARTED: list["Service"] = []  # every process of the session, for the logs of a failing test


def wait_until(condition, timeout: float, message: str = "", interval: float = 0.1):
    """Poll ``condition`` until it returns something true; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"délai de {timeout} s dépassé : {message}")
        time.sleep(interval)


# --- the services of the machine -------------------------------------------------------------


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="package")
def machine_redis() -> str:
    """``redis://host:port`` of the machine's Redis (from CELERY_BROKER_URL). Checks, first of all,
    that PostgreSQL and Redis are there: skipped without them, failed if they are required."""
    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("PostgreSQL (DATABASE_URL)")
    broker = urlsplit(os.environ.get("CELERY_BROKER_URL", ""))
    if broker.scheme != "redis":
        problems.append("Redis (CELERY_BROKER_URL)")
    elif not _reachable(broker.hostname or "127.0.0.1", broker.port or 6379):
        problems.append(f"Redis injoignable sur {broker.netloc}")
    if not shutil.which("redis-server"):
        problems.append("redis-server (apt-get install redis-server)")
    if problems:
        message = "suite d'intégration : il manque " + ", ".join(problems)
        if os.environ.get("SEGURNUM_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return urlunsplit(("redis", broker.netloc, "", "", ""))


@pytest.fixture(autouse=True)
def _services_first(machine_redis):
    """Every test of the package needs the services: the check comes before anything else."""


def redis_database(base_url: str, number: int) -> str:
    import redis

    url = f"{base_url}/{number}"
    redis.Redis.from_url(url).flushdb()  # this suite's own database number
    return url


@pytest.fixture(scope="package")
def stack_broker(machine_redis):
    url = redis_database(machine_redis, STACK_REDIS_DB)
    yield url
    redis_database(machine_redis, STACK_REDIS_DB)


@pytest.fixture
def spare_broker(machine_redis):
    url = redis_database(machine_redis, SPARE_REDIS_DB)
    yield url
    redis_database(machine_redis, SPARE_REDIS_DB)


@pytest.fixture(scope="package")
def test_database_url(django_db_setup, machine_redis) -> str:
    """pytest-django's test database, as a DATABASE_URL for the processes."""
    db = settings.DATABASES["default"]
    assert db["NAME"].startswith("test_"), db["NAME"]
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# --- processes -------------------------------------------------------------------------------


class Service:
    """A process of the stack, its output in a log file; stopped (TERM, then KILL) at the end."""

    def __init__(self, name: str, args: list, env: dict[str, str], log_dir: Path):
        self.name, self.args, self.env = name, [str(arg) for arg in args], env
        self.log = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.mark = 0  # where the current test's part of the log starts

    def start(self) -> "Service":
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                self.args, cwd=BASE_DIR, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        if self not in STARTED:
            STARTED.append(self)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self, since: int = 0) -> str:
        if not self.log.exists():
            return ""
        with self.log.open("rb") as log:
            log.seek(since)
            return log.read().decode(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 60) -> None:
        def found():
            assert self.alive(), f"{self.name} s'est arrêté :\n{self.output()[-4000:]}"
            return text in self.output()

        wait_until(found, timeout, f"« {text} » attendu dans le journal de {self.name}")

    def kill(self) -> None:
        """kill -9: no shutdown of any kind, as a lost machine or the OOM killer would."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class Processes:
    """The processes a fixture starts, all stopped at its end."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.services: list[Service] = []

    def start(self, name: str, args: list, env: dict[str, str]) -> Service:
        service = Service(name, args, env, self.log_dir).start()
        self.services.append(service)
        return service

    def web(self, env: dict[str, str], name: str = "gunicorn") -> "Web":
        """scripts/start-web.sh's gunicorn (two workers), ready once /sante/ answers 200."""
        port = free_port()
        command = [VENV_BIN / "gunicorn", "segurnum.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", "2", "--timeout", "60", "--access-logfile", "-"]
        web = Web(self.start(name, command, env), port)
        wait_until(web.healthy, 60, f"{name} : /sante/ doit répondre 200", 0.3)
        return web

    def worker(self, env: dict[str, str], name: str = "worker") -> Service:
        """A Celery worker, one task at a time in its main process (``--pool=solo``)."""
        command = [VENV_BIN / "celery", "-A", "segurnum", "worker", "--loglevel=INFO", "--pool=solo"]
        command += ["--concurrency=1", "-n", f"{name}@%h", "--without-mingle", "--without-gossip"]
        worker = self.start(name, command, env)
        worker.wait_for_output(" ready.")
        return worker

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


class Web:
    def __init__(self, service: Service, port: int):
        self.service, self.port = service, port

    def healthy(self) -> bool:
        assert self.service.alive(), self.service.output()[-4000:]
        try:
            return PortalClient(self.port, timeout=5).get("/sante/").status_code == 200
        except OSError:
            return False

    def client(self) -> PortalClient:
        return PortalClient(self.port)


class PrivateRedis:
    """A redis-server of a test's own, on a free port, without persistence: stopped and started
    again by the test (a broker outage), stopped at the end."""

    def __init__(self, processes: Processes):
        self.processes, self.port = processes, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.service: Service | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", self.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.service = self.processes.start(f"redis-{self.port}", [*command, "--daemonize", "no"], os.environ.copy())
        wait_until(lambda: _reachable("127.0.0.1", self.port), 10, f"redis-server sur le port {self.port}")

    def stop(self) -> None:
        self.service.stop()
        assert not _reachable("127.0.0.1", self.port)


def stack_env(
    tmp_path: Path, *, database_url: str, broker_url: str, relay: Relay, clamd: ClamdServer, **overrides: str
) -> dict[str, str]:
    """The environment shared by gunicorn and the worker: production settings, this test database,
    this broker, the relay as SMTP server, the tests' clamd as antivirus; short retries (1 s, 2 s,
    4 s, then « Échec »)."""
    return production_env(
        tmp_path,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_DEBUG="false",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(relay.port),
        EMAIL_TIMEOUT="10",
        SEGURNUM_EMAIL_RETRY_BACKOFF="1",
        SEGURNUM_EMAIL_MAX_RETRIES="3",
        SEGURNUM_CLAMD_ADDRESS=clamd.address,
        **overrides,
    )


def celery_call(env: dict[str, str], task: str) -> None:
    """``celery call``: the task is queued on env's broker, as beat queues the periodic ones."""
    result = run_here([VENV_BIN / "celery", "-A", "segurnum", "call", task], env)
    assert result.returncode == 0, result.stdout + result.stderr


def outbox_row(number: int) -> OutboundEmail:
    """A mail of the outbox, as an event's transaction writes it; publish() hands it to a worker."""
    return OutboundEmail.objects.create(
        key=f"integration:{number}",
        kind="support_ack",
        to=[f"vendeur{number}@example.fr"],
        subject=f"Courriel d'essai {number}",
        body_text="Bonjour",
    )


def refreshed(row: OutboundEmail) -> OutboundEmail:
    return OutboundEmail.objects.get(pk=row.pk)


def publish(broker_url: str, task: str, *args) -> None:
    """Queue a task on a broker other than this process's own (the worker's)."""
    from segurnum.celery import app

    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        with app.connection_for_write(broker_url) as connection:
            app.send_task(task, args=list(args), connection=connection)
    finally:
        app.conf.task_always_eager = eager


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def relay(machine_redis):
    relay = Relay()
    relay.start()
    yield relay
    relay.release()
    if relay.running:
        relay.stop()


@pytest.fixture(autouse=True)
def _fresh_relay(relay):
    relay.reset()
    yield
    relay.release()


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.stop()


class Stack:
    def __init__(self, env: dict[str, str], web: Web, worker: Service, storage: Path):
        self.env, self.web, self.worker, self.storage = env, web, worker, storage

    def client(self) -> PortalClient:
        return self.web.client()


@pytest.fixture(scope="package")
def stack(tmp_path_factory, test_database_url, stack_broker, relay, clamd_server):
    """gunicorn and a worker on Redis database 10, for the tests that keep the broker up."""
    tmp_path = tmp_path_factory.mktemp("stack")
    processes = Processes(tmp_path)
    env = stack_env(tmp_path, database_url=test_database_url, broker_url=stack_broker, relay=relay, clamd=clamd_server)
    try:
        yield Stack(env, processes.web(env), processes.worker(env), Path(env["SEGURNUM_PRIVATE_STORAGE_ROOT"]))
    finally:
        processes.stop()


@pytest.fixture
def registries(transactional_db):
    """The referenced software of fixtures/ (the database is emptied after every test)."""
    load_registries()


# --- logs under a failing test ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def _log_marks():
    for service in STARTED:
        service.mark = service.log.stat().st_size if service.log.exists() else 0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for service in STARTED:
            output = service.output(service.mark)
            if output:
                report.sections.append((f"journal de {service.name} ({service.log})", output[-6000:]))
    return report
