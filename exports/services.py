"""Writing an export (R-OPS-1): CSV streamed row by row, XLSX written row by row by openpyxl's
write-only mode into a temporary file then streamed; both read the rows in chunks, so memory stays
bounded whatever the number of rows. Each export is recorded before its first byte leaves."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.formats import number_format
from openpyxl import Workbook

from audit import services as audit
from exports.columns import Dataset
from exports.models import ExportRecord

CHUNK = 2000
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


def write_xlsx(dataset: Dataset, queryset: QuerySet, target) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(dataset.label[:31])
    sheet.append([column.header for column in dataset.columns])
    for row in rows(dataset, queryset):
        sheet.append([xlsx_value(value) for value in row])
    workbook.save(target)


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


class ExportRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def too_many_for_xlsx(count: int) -> str:
    rows = number_format(count, 0, force_grouping=True)
    limit = number_format(settings.EXPORT_XLSX_MAX_ROWS, 0, force_grouping=True)
    return (
        f"Cette liste compte {rows} lignes : au-delà de {limit} lignes, l'export XLSX n'est pas possible. "
        "Exportez-la en CSV, ou filtrez-la."
    )


def response(*, user, dataset: Dataset, queryset: QuerySet, file_format: str, filters: dict, full_iban: bool):
    count = dataset.rows(queryset).count()
    if file_format == "xlsx" and count > settings.EXPORT_XLSX_MAX_ROWS:
        raise ExportRefused(too_many_for_xlsx(count))
    record(user=user, dataset=dataset, file_format=file_format, filters=filters, rows_count=count, full_iban=full_iban)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"{dataset.slug}-{stamp}.{file_format}"
    if file_format == "csv":
        stream = StreamingHttpResponse(csv_chunks(dataset, queryset), content_type="text/csv; charset=utf-8")
        stream["Content-Disposition"] = f'attachment; filename="{filename}"'
        return stream
    target = tempfile.TemporaryFile()  # noqa: SIM115 - closed (and deleted) by the response
    write_xlsx(dataset, queryset, target)
    target.seek(0)
    return FileResponse(
        target,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
