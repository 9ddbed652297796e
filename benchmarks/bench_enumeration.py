"""Do the sign-in and recovery pages answer as fast for an unknown account as for a known one?
(R-ACC-4, SECURITY A3: same status, body, redirect and timing.)

Run from the repository root:
    .venv/bin/python benchmarks/bench_enumeration.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/segurnum_bench \
        .venv/bin/python benchmarks/bench_enumeration.py

Each form is posted REPEATS times for a known and for an unknown account, alternately, through
Django's test client, with the production password hasher and Celery as in production (the
look-up runs in the worker, not in the request: CELERY_TASK_ALWAYS_EAGER is off and the broker is
a closed local port, so the request only records the demand). Prints the median of each and the
difference.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
workdir = tempfile.mkdtemp(prefix="segurnum-bench-")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurnum.settings")
os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"  # nothing listens: demands stay recorded
os.environ["SEGURNUM_RECOVERY_RATE_LIMIT"] = "1000000"
os.environ["SEGURNUM_LOGIN_FAILURE_LIMIT"] = "1000000"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from accounts import services  # noqa: E402
from accounts.models import User  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "50"))


def timed(client: Client, url: str, data: dict) -> tuple[float, int]:
    start = time.perf_counter()
    response = client.post(url, data)
    return (time.perf_counter() - start) * 1000, response.status_code


def compare(label: str, url: str, known: dict, unknown: dict) -> None:
    client = Client()
    times: dict[str, list[float]] = {"connu": [], "inconnu": []}
    statuses: dict[str, set[int]] = {"connu": set(), "inconnu": set()}
    for _ in range(REPEATS):
        for name, data in (("connu", known), ("inconnu", unknown)):
            elapsed, status = timed(client, url, data)
            times[name].append(elapsed)
            statuses[name].add(status)
    known_ms, unknown_ms = statistics.median(times["connu"]), statistics.median(times["inconnu"])
    print(
        f"{label:<34} connu {known_ms:7.1f} ms  inconnu {unknown_ms:7.1f} ms  "
        f"écart {known_ms - unknown_ms:+6.1f} ms  statuts {sorted(statuses['connu'])} / {sorted(statuses['inconnu'])}"
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("marie.curie", "marie@editeur.example.fr", "Mot2passe!Solide")
    services.set_secret_question(user=user, question="École ?", answer="Jules Ferry")
    print(f"Médiane de {REPEATS} requêtes, base {os.environ['DATABASE_URL'].split(':')[0]}")
    compare(
        "connexion (mauvais mot de passe)",
        "/connexion/",
        {"username": "marie.curie", "password": "Mauvais1!"},
        {"username": "personne.inconnue", "password": "Mauvais1!"},
    )
    compare(
        "identifiant oublié",
        "/connexion/identifiant-oublie/",
        {"email": "marie@editeur.example.fr"},
        {"email": "personne@example.fr"},
    )
    compare(
        "mot de passe oublié",
        "/connexion/mot-de-passe-oublie/",
        {"identifiant": "marie.curie"},
        {"identifiant": "personne.inconnue"},
    )


if __name__ == "__main__":
    main()
