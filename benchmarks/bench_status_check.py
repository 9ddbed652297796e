"""Does « Suivre ma demande » answer as fast for a pair that matches nothing as for a real one?
(R-AFT-3: an unknown pair gets the same shape of answer, and comparable timing.)

Run from the repository root:
    .venv/bin/python benchmarks/bench_status_check.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/segurnum_bench \
        .venv/bin/python benchmarks/bench_status_check.py

A table of BENCH_REQUESTS enrolment requests (1 000 by default), then REPEATS look-ups of each
kind, in turn: a known pair (number + SIRET of one request), an unknown number, and a known number
with another request's SIRET. Each look-up is a real form post through Django's test client with
a valid captcha (made before the timer starts, as the page's GET would); prints the median of
each kind, the difference with the known pair, the noise (interquartile range) and the statuses
and sizes of the pages.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
workdir = Path(tempfile.mkdtemp(prefix="segurnum-bench-"))
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurnum.settings")
os.environ["SEGURNUM_TRACKING_RATE_LIMIT"] = "1000000"
os.environ["SEGURNUM_VAR_DIR"] = str(workdir / "var")
os.environ["DJANGO_LOG_LEVEL"] = "ERROR"

import django  # noqa: E402

django.setup()

from captcha.models import CaptchaStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from stdnum import luhn  # noqa: E402

from enrolment.models import EnrolmentRequest  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "50"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))
URL = "/suivre-ma-demande/"


def make_requests() -> list[EnrolmentRequest]:
    from tests.factories import EnrolmentRequestFactory

    return [
        EnrolmentRequestFactory(sequence=n, number=f"ENR{n:04d}M0", siret=valid_siret(n)) for n in range(1, REQUESTS)
    ]


def valid_siret(n: int) -> str:
    """A SIRET that passes the form's checks: a SIREN with its Luhn key, then an establishment
    number keyed so that the 14 digits pass Luhn too."""
    siren = f"{10000000 + n:08d}"
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


def captcha() -> dict[str, str]:
    key = CaptchaStore.generate_key()
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


def main() -> None:
    call_command("migrate", verbosity=0)
    EnrolmentRequest.objects.all().delete()
    requests = make_requests()
    known, other = requests[len(requests) // 2], requests[len(requests) // 3]
    pairs = {
        "connu": (known.number, known.siret),
        "numéro inconnu": (f"ENR{REQUESTS + 500:04d}M0", known.siret),
        "SIRET d'une autre": (known.number, other.siret),
    }
    client = Client()
    client.get(URL)
    times: dict[str, list[float]] = {name: [] for name in pairs}
    shapes: dict[str, set[tuple[int, int]]] = {name: set() for name in pairs}
    for _ in range(REPEATS):
        for name, (number, siret) in pairs.items():
            data = {"number": number, "siret": siret, **captcha()}
            start = time.perf_counter()
            response = client.post(URL, data)
            times[name].append((time.perf_counter() - start) * 1000)
            shapes[name].add((response.status_code, len(response.content) // 100 * 100))
    assert "Soumise" in client.post(URL, {"number": known.number, "siret": known.siret, **captcha()}).content.decode()
    base = statistics.median(times["connu"])
    engine = os.environ["DATABASE_URL"].split(":")[0]
    print(f"« Suivre ma demande » : {REQUESTS - 1} demandes en base ({engine}), {REPEATS} envois de chaque sorte")
    for name, values in times.items():
        median = statistics.median(values)
        quartiles = statistics.quantiles(values, n=4)
        statuses = sorted({status for status, _ in shapes[name]})
        sizes = sorted({size for _, size in shapes[name]})
        print(
            f"{name:<20} médiane {median:6.1f} ms  écart {median - base:+5.1f} ms  "
            f"bruit (écart interquartile) {quartiles[2] - quartiles[0]:5.1f} ms  statuts {statuses}  "
            f"taille ≈ {sizes} octets"
        )


if __name__ == "__main__":
    main()
