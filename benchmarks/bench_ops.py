"""« Tableau de bord » (R-OPS-2) and consistency flags (R-OPS-3) at 100 000 enrolment requests.

Run from the repository root:
    .venv/bin/python benchmarks/bench_ops.py                         # throw-away SQLite file
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/segurnum_bench \
        .venv/bin/python benchmarks/bench_ops.py                     # an empty PostgreSQL database

The database gets BENCH_ROWS enrolment requests (default 100 000) spread over a year, each with
its own IBAN, email and phone and two document rows, and BENCH_ROWS / 10 funding requests of five
beneficiaries each (a few shared). The script prints the dashboard's time and query count (through
Django's test client, as an agent), then the time and queries of the flags of one request, enrolment
and funding, over a sample; and the audit chain's append and verification times.
"""

import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
workdir = tempfile.mkdtemp(prefix="segurnum-bench-")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurnum.settings")
os.environ.pop("CELERY_BROKER_URL", None)
# The periodic tasks are not part of what is measured (the embedded default runs them after a response).
os.environ["SEGURNUM_HOUSEKEEPING_IN_WEB"] = "0"

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.groups import AGENT  # noqa: E402
from accounts.models import User  # noqa: E402
from audit import chain  # noqa: E402
from enrolment.models import EnrolmentDocument, EnrolmentRequest, ReferencedSoftware  # noqa: E402
from flags import services as flag_services  # noqa: E402
from funding.models import FundingLine, FundingRequest, FundingVersion  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
REPEATS = 7
SAMPLE = 30
STATUSES = ["submitted", "in_review", "validated", "validated", "rejected"]
FUNDING_STATUSES = ["submitted", "in_review", "validated", "paid", "rejected", "to_modify"]
BATCH = 5000
APPENDS = 200
VERIFIED = 20000


def fill() -> None:
    software = ReferencedSoftware.objects.create(
        referencing_number="tndSAS00001", software_name="Logiciel", version="1", dsr_label="Couloir 1", editor_siret="1"
    )
    now = timezone.now()
    batch: list[EnrolmentRequest] = []
    for n in range(1, ROWS + 1):
        batch.append(
            EnrolmentRequest(
                number=f"ENR{n:04d}M0",
                sequence=n,
                submission_key=uuid.uuid4(),
                status=STATUSES[n % len(STATUSES)],
                software=software,
                referencing_number=f"REF{n:07d}",
                software_name="Logiciel",
                software_version="1",
                dsr_label="Couloir 1",
                siret=f"{n:09d}00012",
                denomination=f"SOCIETE {n}",
                trade_name=f"Société {n}",
                street_type="RUE",
                street_name="DE LA PAIX",
                postal_code="75002",
                city="PARIS",
                is_legal_representative=True,
                representative_last_name="Martin",
                representative_first_name="Claire",
                representative_email=f"contact{n}@example.fr",
                representative_phone=f"01{n:08d}",
                # Every 1 000th request shares its IBAN with the previous one: a few flags.
                iban=f"FR76{(n - (n % 1000 == 0)):023d}",
                bic="CCFRFRPP",
                account_holder=f"SOCIETE {n}",
                bank_domiciliation="HSBC FRANCE",
                vat_rate="ttc_20",
            )
        )
        if len(batch) == BATCH:
            _store(batch, now)
            batch = []
    _store(batch, now)
    _fill_funding(now)


def analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _store(batch: list[EnrolmentRequest], now) -> None:
    if not batch:
        return
    created = EnrolmentRequest.objects.bulk_create(batch)
    documents = []
    for request in created:
        for kind in ("referencing_certificate", "rib"):
            documents.append(
                EnrolmentDocument(
                    enrolment_id=request.pk,
                    kind=kind,
                    file=f"bench/{request.pk}-{kind}.pdf",
                    original_name=f"{kind}.pdf",
                    content_type="application/pdf",
                    size=1000,
                    sha256=f"{request.pk:032d}{kind[:4]:0>32}"[:64],
                )
            )
    EnrolmentDocument.objects.bulk_create(documents)
    # Spread over a year, one day per 1/365th of the requests; decided 1 to 30 days later.
    first, last = created[0].sequence, created[-1].sequence
    per_day = max(ROWS // 365, 1)
    for start in range(first, last + 1, per_day):
        age = (start // per_day) % 365
        submitted = now - timedelta(days=age, hours=start % 24)
        rows = EnrolmentRequest.objects.filter(sequence__gte=start, sequence__lt=start + per_day)
        rows.update(submitted_at=submitted)
        rows.filter(status__in=["validated", "rejected"]).update(decided_at=submitted + timedelta(days=1 + start % 30))


def _fill_funding(now) -> None:
    account = User.objects.create_user("vendeur.bench", password=None)
    enrolments = list(EnrolmentRequest.objects.order_by("pk").values_list("pk", "siret")[: ROWS // 10])
    for offset in range(0, len(enrolments), BATCH):
        chunk = enrolments[offset : offset + BATCH]
        requests = FundingRequest.objects.bulk_create(
            FundingRequest(
                number=f"FIN{pk:06d}",
                sequence=pk,
                submission_key=uuid.uuid4(),
                enrolment_id=pk,
                account=account,
                siret=siret,
                status=FUNDING_STATUSES[pk % len(FUNDING_STATUSES)],
                amount_ht=Decimal("1000.00"),
                amount_ttc=Decimal("1200.00"),
                paid_amount=Decimal("1200.00") if FUNDING_STATUSES[pk % len(FUNDING_STATUSES)] == "paid" else None,
            )
            for pk, siret in chunk
        )
        versions = FundingVersion.objects.bulk_create(
            FundingVersion(
                request=request,
                number=1,
                json_file="bench.json",
                json_name="demande.json",
                json_size=1,
                json_sha256="0" * 64,
                zip_state="accepted",
                beneficiary_count=5,
                amount_ht=Decimal("1000.00"),
                amount_ttc=Decimal("1200.00"),
                vat_rate="ttc_20",
            )
            for request in requests
        )
        for request, version in zip(requests, versions, strict=True):
            request.current_version = version
        FundingRequest.objects.bulk_update(requests, ["current_version"])
        FundingLine.objects.bulk_create(
            FundingLine(
                version=version,
                request=request,
                position=position,
                identifier_type="RPPS",
                # Every 100th request shares its first beneficiary with the previous one.
                identifier=f"1{(request.pk - (request.pk % 100 == 0 and position == 1)) * 10 + position:010d}",
                name="Dr Martin",
                postal_code="75001",
                order_number=f"BC{position}",
                order_date=now.date(),
                connection_date=now.date(),
                amount_ht=Decimal("200.00"),
            )
            for request, version in zip(requests, versions, strict=True)
            for position in range(1, 6)
        )


def timed(label: str, work, repeats: int = REPEATS) -> None:
    timings, counts = [], []
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            work()
            timings.append((time.perf_counter() - start) * 1000)
        counts.append(len(queries))
    print(
        f"{label:<46} median {statistics.median(timings):8.1f} ms   max {max(timings):8.1f} ms   "
        f"{max(counts):3d} requêtes SQL"
    )


def main() -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    with transaction.atomic():  # one commit: a slow disk's fsync per statement would dominate
        fill()
    analyze()
    print(
        f"{connection.vendor}: {EnrolmentRequest.objects.count()} demandes d'enrôlement, "
        f"{FundingRequest.objects.count()} demandes de financement, {FundingLine.objects.count()} bénéficiaires "
        f"créés en {time.perf_counter() - started:.1f} s"
    )
    user = User.objects.create_user("agent.bench", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name=AGENT))
    client = Client()
    client.force_login(user)

    def dashboard() -> None:
        response = client.get("/admin/tableau-de-bord/")
        assert response.status_code == 200, response.status_code

    timed("tableau de bord (page entière)", dashboard)

    step = max(ROWS // SAMPLE, 1)
    sample = list(EnrolmentRequest.objects.filter(sequence__in=range(1, ROWS + 1, step)).values_list("pk", flat=True))
    flagged = [pk for pk in EnrolmentRequest.objects.filter(sequence__in=[1000, 2000]).values_list("pk", flat=True)]
    iterator = iter(sample * REPEATS)
    timed(
        "signalements d'une demande d'enrôlement",
        lambda: flag_services.refresh_enrolment_flags(enrolment_id=next(iterator), cascade=False),
        repeats=len(sample),
    )
    timed(
        "signalements (IBAN partagé, avec l'autre demande)",
        lambda: flag_services.refresh_enrolment_flags(enrolment_id=flagged[0]),
        repeats=3,
    )
    funding_sample = list(
        FundingRequest.objects.order_by("pk").values_list("pk", flat=True)[:: max(ROWS // 10 // SAMPLE, 1)]
    )
    funding_iterator = iter(funding_sample * REPEATS)
    timed(
        "signalements d'une demande de financement",
        lambda: flag_services.refresh_funding_flags(funding_request_id=next(funding_iterator), cascade=False),
        repeats=len(funding_sample),
    )
    print(
        f"  signalements trouvés : {flag_services.ConsistencyFlag.objects.count()} "
        f"({', '.join(sorted(set(flag_services.ConsistencyFlag.objects.values_list('rule', flat=True))))})"
    )

    started = time.perf_counter()
    for index in range(APPENDS):
        chain.append(action="export", object_type="bench", object_label=f"entrée {index}", details={"n": index})
    elapsed = (time.perf_counter() - started) * 1000
    print(f"journal d'audit : {APPENDS} ajouts (une transaction chacun) en {elapsed:.0f} ms")
    with transaction.atomic():
        for index in range(VERIFIED - APPENDS):
            chain.append(action="export", object_type="bench", object_label=f"entrée {index}", details={"n": index})
    started = time.perf_counter()
    result = chain.verify()
    elapsed = (time.perf_counter() - started) * 1000
    state = "intègre" if result.intact else result.broken
    print(f"journal d'audit : vérification de {result.checked} entrées en {elapsed:.0f} ms ({state})")


if __name__ == "__main__":
    main()
