"""Do the sign-in and recovery pages answer as fast for an unknown account as for a known one?
(R-ACC-4, SECURITY A3, A13: same status, body, redirect and timing, in every configuration.)

Run from the repository root:
    .venv/bin/python benchmarks/bench_enumeration.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/segurnum_bench \
        .venv/bin/python benchmarks/bench_enumeration.py

Two configurations, each form posted REPEATS times for a known and for an unknown account,
alternately; prints the median of each and the difference:

1. « avec un worker »: Celery as in production (a broker, here a closed local port, so the demand
   stays recorded for the worker), through Django's test client, with the production password
   hasher.
2. « configuration embarquée (make run) »: eager Celery, no broker, the e-mails written to files,
   served by `manage.py runserver --nostatic` as `make run` does, over real HTTP, one connection per
   request: the time is the one a client sees, up to the last byte of the answer. The recovery
   look-up of the eager mode runs once the response has left (segurnum.after_response): a pause of
   PAUSE_MS between two requests lets it finish, so that each figure is one request's own time.
"""

import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
workdir = Path(tempfile.mkdtemp(prefix="segurnum-bench-"))
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurnum.settings")
os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"  # nothing listens: demands stay recorded
os.environ["SEGURNUM_RECOVERY_RATE_LIMIT"] = "1000000"
os.environ["SEGURNUM_LOGIN_FAILURE_LIMIT"] = "1000000"
os.environ["SEGURNUM_VAR_DIR"] = str(workdir / "var")
os.environ["DJANGO_LOG_LEVEL"] = "ERROR"  # the refused publications are expected here

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from accounts import services  # noqa: E402
from accounts.models import User  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "50"))
# BENCH_FORMS=recuperation: the two recovery forms only (the sign-in hashes a password: slow).
PAUSE_MS = int(os.environ.get("BENCH_PAUSE_MS", "150"))
FORMS = [
    (
        "connexion (mauvais mot de passe)",
        "/connexion/",
        {"username": "marie.curie", "password": "Mauvais1!"},
        {"username": "personne.inconnue", "password": "Mauvais1!"},
    ),
    (
        "identifiant oublié",
        "/connexion/identifiant-oublie/",
        {"email": "marie@editeur.example.fr"},
        {"email": "personne@example.fr"},
    ),
    (
        "mot de passe oublié",
        "/connexion/mot-de-passe-oublie/",
        {"identifiant": "marie.curie"},
        {"identifiant": "personne.inconnue"},
    ),
]
if os.environ.get("BENCH_FORMS") == "recuperation":
    FORMS = FORMS[1:]
CREATE_VENDOR = (
    "from accounts import services; from accounts.models import User; "
    "user = User.objects.create_user('marie.curie', 'marie@editeur.example.fr', 'Mot2passe!Solide'); "
    "services.set_secret_question(user=user, question='École ?', answer='Jules Ferry')"
)


def report(label: str, times: dict[str, list[float]], statuses: dict[str, set[int]]) -> None:
    """Medians, their difference, and the noise: the interquartile range of the unknown account's
    times (a gap well inside it cannot be told from chance)."""
    known_ms, unknown_ms = statistics.median(times["connu"]), statistics.median(times["inconnu"])
    quartiles = statistics.quantiles(times["inconnu"], n=4)
    print(
        f"{label:<34} connu {known_ms:7.1f} ms  inconnu {unknown_ms:7.1f} ms  "
        f"écart {known_ms - unknown_ms:+6.1f} ms  bruit (écart interquartile) {quartiles[2] - quartiles[0]:5.1f} ms  "
        f"statuts {sorted(statuses['connu'])} / {sorted(statuses['inconnu'])}"
    )


def compare(label: str, post) -> None:
    times: dict[str, list[float]] = {"connu": [], "inconnu": []}
    statuses: dict[str, set[int]] = {"connu": set(), "inconnu": set()}
    for _ in range(REPEATS):
        for name in ("connu", "inconnu"):
            elapsed, status = post(name)
            times[name].append(elapsed)
            statuses[name].add(status)
    report(label, times, statuses)


# --- 1. With a worker: Django's test client ------------------------------------------------------


def with_a_worker() -> None:
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("marie.curie", "marie@editeur.example.fr", "Mot2passe!Solide")
    services.set_secret_question(user=user, question="École ?", answer="Jules Ferry")
    print(f"1. Avec un worker (courtier), client de test de Django, base {os.environ['DATABASE_URL'].split(':')[0]}")
    client = Client()
    for label, url, known, unknown in FORMS:

        def post(name, url=url, data={"connu": known, "inconnu": unknown}):  # noqa: B006
            start = time.perf_counter()
            status = client.post(url, data[name]).status_code
            return (time.perf_counter() - start) * 1000, status

        compare(label, post)


# --- 2. The embedded default: runserver over HTTP ------------------------------------------------


class Browser:
    """Cookies and the CSRF token of one visitor, a new connection for each request."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body: str = "") -> tuple[float, int]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        start = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = (time.perf_counter() - start) * 1000
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return elapsed, response.status


def embedded_default() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'embarque.sqlite3'}",
        SEGURNUM_VAR_DIR=str(workdir / "embarque"),
        DJANGO_SETTINGS_MODULE="segurnum.settings",
    )
    python = sys.executable
    # The project's own manage.py, with fixed arguments.
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    subprocess.run([python, "manage.py", "shell", "-c", CREATE_VENDOR], cwd=ROOT, env=env, check=True)  # noqa: S603
    port = free_port()
    with (workdir / "runserver.log").open("w") as log:
        server = subprocess.Popen(  # noqa: S603
            [python, "manage.py", "runserver", "--nostatic", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        browser = Browser(port)
        for _ in range(100):
            try:
                browser.request("GET", "/connexion/")
                break
            except OSError:
                time.sleep(0.2)
        print(f"2. Configuration embarquée (make run) : Celery « eager », runserver, HTTP, pause {PAUSE_MS} ms")
        for label, url, known, unknown in FORMS:
            browser.request("GET", url)
            bodies = {"connu": urlencode(known), "inconnu": urlencode(unknown)}

            def post(name, url=url, bodies=bodies):
                time.sleep(PAUSE_MS / 1000)
                return browser.request("POST", url, bodies[name])

            compare(label, post)
        mails = list((workdir / "embarque" / "mail").glob("*.log"))
        sent = sum(1 for path in mails for _ in re.finditer("^Subject:", path.read_text(), re.M))
        print(f"   courriels écrits après les réponses : {sent}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    print(f"Médiane de {REPEATS} requêtes par compte")
    with_a_worker()
    embedded_default()


if __name__ == "__main__":
    main()
