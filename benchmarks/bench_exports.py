"""Exports of the back office (R-OPS-1): time and peak memory of the CSV and the XLSX of the
enrolment list at 10 000 and 100 000 rows, to show the memory does not grow with the rows.

Run from the repository root:
    .venv/bin/python benchmarks/bench_exports.py                     # throw-away SQLite file
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/segurnum_bench \
        .venv/bin/python benchmarks/bench_exports.py                 # an empty PostgreSQL database

The database is filled as in bench_ops.py (BENCH_ROWS enrolment requests, default 100 000). Each
export runs through the same code as the admin's buttons (exports.services): the CSV generator is
consumed to the end, the XLSX written to a temporary file. Then the background XLSX export's
task itself (``exports.services.build_xlsx``: the admin's list rebuilt, written, encrypted into the
private storage) on the whole list. "Python peak" is tracemalloc's peak (a second run, tracing
slows it down); "RSS peak" the growth of the process's peak resident memory.
"""

import tempfile
import time
import tracemalloc
from datetime import timedelta

from bench_ops import ROWS, analyze, fill, workdir
from bench_uploads import _reset_rss_peak, _rss_kib
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from enrolment.models import EnrolmentRequest
from exports import columns, services
from exports.models import XlsxExport
from funding.models import FundingLine
from segurnum.storage import private_storage

MIB = 1024 * 1024


def run(file_format: str, dataset, queryset) -> int:
    if file_format == "csv":
        return sum(len(chunk.encode()) for chunk in services.csv_chunks(dataset, queryset))
    with tempfile.TemporaryFile() as target:
        services.write_xlsx(dataset, queryset, target)
        return target.tell()


def measure(label: str, file_format: str, dataset, queryset) -> None:
    rows = dataset.rows(queryset).count()
    start = time.perf_counter()
    size = run(file_format, dataset, queryset)
    elapsed = time.perf_counter() - start
    _reset_rss_peak()
    before = _rss_kib("VmHWM") or 0
    tracemalloc.start()
    run(file_format, dataset, queryset)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = ((_rss_kib("VmHWM") or 0) - before) / 1024
    print(
        f"{label:<34} {rows:7d} lignes  {elapsed:6.1f} s  {size / MIB:6.1f} Mio  "
        f"pic Python {peak / MIB:6.1f} Mio  pic RSS +{rss:6.1f} Mio"
    )


@override_settings(PRIVATE_STORAGE_ROOT=f"{workdir}/private")
def measure_task() -> None:
    """The background XLSX export of the whole enrolment list, as « Exporter (XLSX) » queues it."""
    user, _ = get_user_model().objects.get_or_create(
        username="bench.exports", defaults={"is_staff": True, "is_superuser": True}
    )

    def one_run() -> XlsxExport:
        # Outside a web request, with eager Celery (no broker here), the task runs at the commit.
        export = services.request_xlsx(
            user=user, slug="demandes-enrolement", source="enrolment.enrolmentrequest", filters={}, full_iban=False
        )
        return XlsxExport.objects.get(pk=export.pk)

    start = time.perf_counter()
    export = one_run()
    elapsed = time.perf_counter() - start
    assert export.status == XlsxExport.Status.READY, export.error
    size = private_storage().size(export.file)
    _reset_rss_peak()
    before = _rss_kib("VmHWM") or 0
    tracemalloc.start()
    one_run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = ((_rss_kib("VmHWM") or 0) - before) / 1024
    print(
        f"{'tâche export XLSX (stockage privé)':<34} {export.rows:7d} lignes  {elapsed:6.1f} s  {size / MIB:6.1f} Mio  "
        f"pic Python {peak / MIB:6.1f} Mio  pic RSS +{rss:6.1f} Mio"
    )
    services.purge_xlsx_exports(now=timezone.now() + timedelta(days=365))


def main() -> None:
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with transaction.atomic():
        fill()
    analyze()
    print(f"{connection.vendor}: {EnrolmentRequest.objects.count()} demandes en {time.perf_counter() - started:.1f} s")
    enrolments = columns.dataset("demandes-enrolement", full_iban=False)
    lines = columns.dataset("beneficiaires", full_iban=False)
    all_requests = EnrolmentRequest.objects.order_by("-submitted_at", "-id")
    few = all_requests.filter(sequence__lte=ROWS // 10)
    from funding.models import FundingRequest

    for file_format in ("csv", "xlsx"):
        measure(f"demandes d'enrôlement ({file_format})", file_format, enrolments, few)
        measure(f"demandes d'enrôlement ({file_format})", file_format, enrolments, all_requests)
    measure("bénéficiaires (xlsx)", "xlsx", lines, FundingRequest.objects.all())
    print(f"  ({FundingLine.objects.count()} bénéficiaires en base)")
    measure_task()


if __name__ == "__main__":
    main()
