"""Writing an export (R-OPS-1): the CSV streamed row by row in the web request; the XLSX written
by a Celery task (``build_xlsx``), row by row by openpyxl's write-only mode, into the private
storage (encrypted), then downloaded from the « Exports » page. Both read the rows in chunks, so
memory stays bounded whatever the number of rows. Each export is recorded (``ExportRecord`` and
the audit trail) before its first byte leaves: the CSV when it starts, the XLSX at each download.

An XLSX export is a row first (``XlsxExport``), queued once its transaction commits, re-queued by
beat when the broker was down (``requeue_pending_xlsx``); its file is deleted
EXPORT_FILE_RETENTION_HOURS after it was asked for (``purge_xlsx_exports``, R-OPS-5).
"""

from __future__ import annotations

import csv
import logging
import secrets
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.files import File
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.utils import timezone
from openpyxl import Workbook

from audit import services as audit
from exports import columns
from exports.columns import Dataset
from exports.models import ExportRecord, XlsxExport
from segurnum import after_response
from segurnum.storage import private_storage, storage_errors

logger = logging.getLogger(__name__)

CHUNK = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A task that started longer ago and has not finished is taken as lost (its worker died).
RUN_TIMEOUT = timedelta(minutes=30)
# A cell a spreadsheet would run as a formula (CSV/formula injection) is kept as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return str(value).replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return neutralised(str(value))


def xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, date | Decimal | int | float):
        return value
    return neutralised(str(value))


def rows(dataset: Dataset, queryset: QuerySet) -> Iterator[list[Any]]:
    for obj in dataset.rows(queryset).iterator(chunk_size=CHUNK):
        yield [column.value(obj) for column in dataset.columns]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(dataset: Dataset, queryset: QuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow([column.header for column in dataset.columns])
    for row in rows(dataset, queryset):
        yield writer.writerow([csv_text(value) for value in row])


def write_xlsx(dataset: Dataset, queryset: QuerySet, target) -> int:
    """Write the workbook into ``target``; returns the number of rows (the header excluded)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(dataset.label[:31])
    sheet.append([column.header for column in dataset.columns])
    count = 0
    for row in rows(dataset, queryset):
        sheet.append([xlsx_value(value) for value in row])
        count += 1
    workbook.save(target)
    return count


def record(
    *, user, dataset: Dataset, file_format: str, filters: dict, rows_count: int, full_iban: bool
) -> ExportRecord:
    with transaction.atomic():
        export = ExportRecord.objects.create(
            user=user,
            dataset=dataset.label,
            file_format=file_format,
            filters=filters,
            rows=rows_count,
            full_iban=full_iban,
        )
        audit.record_export(
            by=user,
            what=dataset.label,
            filters={**filters, "iban_en_clair": full_iban} if full_iban else filters,
            rows=rows_count,
            file_format=file_format,
        )
    return export


def csv_response(*, user, dataset: Dataset, queryset: QuerySet, filters: dict, full_iban: bool):
    count = dataset.rows(queryset).count()
    record(user=user, dataset=dataset, file_format="csv", filters=filters, rows_count=count, full_iban=full_iban)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    stream = StreamingHttpResponse(csv_chunks(dataset, queryset), content_type="text/csv; charset=utf-8")
    stream["Content-Disposition"] = f'attachment; filename="{dataset.slug}-{stamp}.csv"'
    return stream


# --- XLSX, in the background -------------------------------------------------------------------


def request_xlsx(*, user, slug: str, source: str, filters: dict, full_iban: bool) -> XlsxExport:
    """Record the agent's XLSX export of the list ``source`` (« app_label.model_name ») as filtered
    on screen; its task is queued once the row is committed. In the embedded default (eager
    Celery) it runs after the response has left (``segurnum.after_response``)."""
    columns.dataset(slug, full_iban=full_iban)  # an unknown list fails here, not in the task
    with transaction.atomic():
        export = XlsxExport.objects.create(user=user, dataset=slug, source=source, filters=filters, full_iban=full_iban)
        after_response.after_commit(enqueue_xlsx, export.pk)
    return export


def enqueue_xlsx(export_id: int) -> None:
    """Hand the export to a worker; a broker that is down leaves it pending for the re-queue."""
    from exports.tasks import build_xlsx_export  # tasks imports this module

    try:
        build_xlsx_export.apply_async(args=[export_id], retry=False)
    except Exception:
        logger.warning("Export XLSX %s laissé en attente : file de messages indisponible", export_id, exc_info=True)


def list_queryset(export: XlsxExport) -> QuerySet:
    """The list as the agent saw it: the back office's own filters, search and sort, rebuilt
    from the query string for that agent."""
    model_admin = admin.site.get_model_admin(apps.get_model(export.source))
    request = RequestFactory().get("/", export.filters)
    request.user = export.user
    return model_admin.get_changelist_instance(request).get_queryset(request)


def _claim(export_id: int) -> XlsxExport | None:
    now = timezone.now()
    with transaction.atomic():
        export = (
            XlsxExport.objects.select_for_update()
            .select_related("user")
            .filter(pk=export_id, status=XlsxExport.Status.PENDING)
            .first()
        )
        if export is None or (export.started_at and export.started_at > now - RUN_TIMEOUT):
            return None  # done, purged, or being written by another worker
        export.started_at = now
        export.save(update_fields=["started_at"])
    return export


def build_xlsx(export_id: int) -> bool:
    """Write the export's XLSX into the private storage and mark it « prêt » with its row count
    (or « échec »). The workbook goes through a temporary file: memory stays bounded."""
    export = _claim(export_id)
    if export is None:
        return False
    dataset = columns.dataset(export.dataset, full_iban=export.full_iban)
    storage = private_storage()
    try:
        with tempfile.TemporaryFile() as target:
            count = write_xlsx(dataset, list_queryset(export), target)
            target.seek(0)
            stamp = timezone.localtime(export.requested_at).strftime("%Y%m%d-%H%M")
            name = storage.save(
                f"exports/{export.user_id}/{dataset.slug}-{stamp}-{secrets.token_hex(8)}.xlsx", File(target)
            )
    except Exception as exc:
        logger.exception("Export XLSX %s en échec", export_id)
        XlsxExport.objects.filter(pk=export_id).update(
            status=XlsxExport.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return False
    done = XlsxExport.objects.filter(pk=export_id, status=XlsxExport.Status.PENDING).update(
        status=XlsxExport.Status.READY, file=name, rows=count, finished_at=timezone.now()
    )
    if not done:  # purged meanwhile
        _delete_files([name])
    return bool(done)


def requeue_pending_xlsx(older_than_seconds: int = 120) -> int:
    """Exports still waiting for a worker after a while (the broker was down), or whose worker died."""
    now = timezone.now()
    ids = list(
        XlsxExport.objects.filter(
            status=XlsxExport.Status.PENDING, requested_at__lte=now - timedelta(seconds=older_than_seconds)
        )
        .filter(Q(started_at__isnull=True) | Q(started_at__lte=now - RUN_TIMEOUT))
        .order_by("requested_at", "id")
        .values_list("pk", flat=True)[:100]
    )
    for export_id in ids:
        enqueue_xlsx(export_id)
    return len(ids)


def purge_xlsx_exports(now=None) -> int:
    """Delete the exports asked for longer ago than EXPORT_FILE_RETENTION_HOURS, files included
    (once the deletion commits). Returns the number of exports deleted."""
    now = now or timezone.now()
    old = XlsxExport.objects.filter(
        requested_at__lt=now - timedelta(hours=settings.EXPORT_FILE_RETENTION_HOURS)
    ).order_by("pk")
    removed = 0
    while batch := list(old.values_list("pk", "file")[:500]):
        with transaction.atomic():
            removed += XlsxExport.objects.filter(pk__in=[pk for pk, _ in batch]).delete()[0]
            files = [name for _, name in batch if name]
            transaction.on_commit(lambda files=files: _delete_files(files))
    if removed:
        logger.info("%s export(s) XLSX supprimé(s) (durée de conservation échue)", removed)
    return removed


def _delete_files(names: list[str]) -> None:
    storage = private_storage()
    for name in names:
        try:
            storage.delete(name)
        except storage_errors(storage):
            logger.warning("Fichier d'export %s non supprimé", name, exc_info=True)


def xlsx_download(*, export: XlsxExport, user) -> FileResponse:
    """The ready file, decrypted and streamed; the download is recorded as any export is."""
    dataset = columns.dataset(export.dataset, full_iban=export.full_iban)
    stream = private_storage().open(export.file)
    record(
        user=user,
        dataset=dataset,
        file_format="xlsx",
        filters=export.filters,
        rows_count=export.rows or 0,
        full_iban=export.full_iban,
    )
    stamp = timezone.localtime(export.requested_at).strftime("%Y%m%d-%H%M")
    response = FileResponse(stream, as_attachment=True, filename=f"{dataset.slug}-{stamp}.xlsx", content_type=XLSX_TYPE)
    # As the documents (SECURITY F11): never sniffed, never run; never cached, as every answer to
    # a signed-in agent (SecurityHeadersMiddleware, SECURITY D3).
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
