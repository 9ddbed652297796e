"""Response time and query count of the agents' request list with 100 000 requests (R-BO-1).

Run from the repository root:
    .venv/bin/python benchmarks/bench_admin_changelist.py            # throw-away SQLite file
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/segurnum_bench \
        .venv/bin/python benchmarks/bench_admin_changelist.py       # an empty PostgreSQL database

The database is filled with BENCH_ROWS requests (default 100 000), then each page is fetched
REPEATS times through Django's test client as an agent of the « Agent ASP » group; the script
prints the median and worst time and the number of SQL queries per page.
"""

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
workdir = tempfile.mkdtemp(prefix="segurnum-bench-")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurnum.settings")
os.environ.pop("CELERY_BROKER_URL", None)

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.groups import AGENT  # noqa: E402
from accounts.models import User  # noqa: E402
from enrolment.models import EnrolmentRequest, ReferencedSoftware  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
REPEATS = 7
STATUSES = ["submitted", "submitted", "in_review", "validated", "rejected"]
RATES = ["ttc_20", "ttc_8_5", "ttc_0", "ht_0"]


def fill() -> None:
    call_command("migrate", verbosity=0)
    software = [
        ReferencedSoftware.objects.create(
            referencing_number=f"tndSAS{n:05d}",
            software_name=f"Logiciel {n}",
            version="1",
            dsr_label=f"Couloir {n % 7} / DUI / Vague {n % 3}",
            editor_siret="47992882200069",
        )
        for n in range(50)
    ]
    batch = []
    for n in range(1, ROWS + 1):
        status = STATUSES[n % len(STATUSES)]
        batch.append(
            EnrolmentRequest(
                number=f"ENR{n:04d}M0",
                sequence=n,
                submission_key=uuid.uuid4(),
                status=status,
                software=software[n % len(software)],
                referencing_number=f"REF{n:07d}",
                software_name="Logiciel",
                software_version="1",
                dsr_label=software[n % len(software)].dsr_label,
                siret=f"{n:014d}",
                denomination=f"SOCIETE {n}",
                trade_name=f"Société {n}",
                street_type="RUE",
                street_name="DE LA PAIX",
                postal_code="75002",
                city="PARIS",
                is_distributor=n % 4 == 0,
                is_legal_representative=n % 3 != 0,
                representative_last_name="Martin",
                representative_first_name="Claire",
                representative_email=f"contact{n}@example.fr",
                representative_phone="0102030405",
                iban="FR7630056009271234567890182",
                bic="CCFRFRPP",
                account_holder="SOCIETE",
                bank_domiciliation="HSBC FRANCE",
                vat_rate=RATES[n % len(RATES)],
            )
        )
        if len(batch) == 5000:
            EnrolmentRequest.objects.bulk_create(batch)
            batch = []
    EnrolmentRequest.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def measure(client: Client, label: str, url: str) -> None:
    timings = []
    for _ in range(REPEATS):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    print(
        f"{label:<42} median {statistics.median(timings):7.1f} ms   max {max(timings):7.1f} ms   "
        f"{len(queries):2d} requêtes SQL"
    )


def main() -> None:
    started = time.perf_counter()
    fill()
    elapsed = time.perf_counter() - started
    print(f"{connection.vendor}: {EnrolmentRequest.objects.count()} demandes créées en {elapsed:.1f} s")
    user = User.objects.create_user("agent.bench", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name=AGENT))
    client = Client()
    client.force_login(user)
    base = "/admin/enrolment/enrolmentrequest/"
    measure(client, "liste (page 1)", base)
    measure(client, "liste (page 1000)", base + "?p=1000")
    measure(client, "filtre statut = soumise", base + "?status__exact=submitted")
    measure(client, "filtre TVA + tiers déclarant", base + "?vat_rate__exact=ht_0&tiers_declarant=oui")
    measure(client, "recherche ENR exact", base + f"?q=ENR{ROWS // 2:04d}M0")
    measure(client, "recherche SIRET exact", base + f"?q={ROWS // 3:014d}")
    measure(client, "recherche dénomination (contient)", base + "?q=SOCIETE%2099999")
    measure(client, "recherche courriel (contient)", base + "?q=contact77777@example.fr")
    measure(client, "fiche d'une demande", base + f"{ROWS // 2}/change/")
    measure(client, "support : recherche ENR", f"/admin/recherche-demande/?q=ENR{ROWS // 2:04d}M0")


if __name__ == "__main__":
    main()
