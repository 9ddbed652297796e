"""XLSX exports in the background (R-OPS-1, R-OPS-5): « Exporter (XLSX) » records the list as
filtered on screen and queues a task once committed; the task writes the file, encrypted, into the
private storage; the « Exports » page shows « en préparation » (reloading itself), « prêt » or
« échec », and downloads the file for the agent who asked (or a superuser) only. A broker that is
down delays the export, the re-queue loses nothing; the file is deleted after its retention."""

import io
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import TestCase
from django.urls import reverse
from freezegun import freeze_time
from openpyxl import load_workbook

from audit import chain
from audit.models import AuditEntry
from enrolment.models import EnrolmentRequest
from exports import services
from exports.models import ExportRecord, XlsxExport
from segurnum import housekeeping
from segurnum.storage import private_storage
from tests.factories import agent
from tests.flags.helpers import enrolment, iban

pytestmark = pytest.mark.django_db

EXPORT_URL = reverse("admin:enrolment_enrolmentrequest_export", args=["demandes-enrolement", "xlsx"])
EXPORTS_PAGE = reverse("admin:exports_xlsxexport_changelist")
ASKED = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def download_url(export: XlsxExport) -> str:
    return reverse("admin:exports_xlsxexport_download", args=[export.pk])


def stored_rows(export: XlsxExport) -> list[list]:
    """The stored file, decrypted by the private storage and read back with openpyxl."""
    with private_storage().open(export.file) as stored:
        sheet = load_workbook(io.BytesIO(stored.read()), read_only=True).active
        return [list(row) for row in sheet.iter_rows(values_only=True)]


def ask(client, params=None, *, run=True):
    """« Exporter (XLSX) » on the enrolment list; ``run=False``: the broker is down."""
    if run:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return client.get(EXPORT_URL, params or {})
    broker_down = mock.patch("exports.tasks.build_xlsx_export.apply_async", side_effect=ConnectionError("down"))
    with broker_down, TestCase.captureOnCommitCallbacks(execute=True):
        return client.get(EXPORT_URL, params or {})


@pytest.fixture
def camille(client):
    user = agent(username="camille.roux")
    client.force_login(user)
    return user


def test_the_filtered_list_is_written_into_the_private_storage_and_downloaded_from_the_exports_page(
    client, camille, _isolated_storage
):
    validated = [enrolment(status=EnrolmentRequest.Status.VALIDATED, iban=iban(900 + n)) for n in range(3)]
    enrolment(status=EnrolmentRequest.Status.SUBMITTED)

    response = ask(client, {"status__exact": "validated", "o": "1"}, run=False)
    assert response.status_code == 302 and response["Location"] == EXPORTS_PAGE
    export = XlsxExport.objects.get()
    assert (export.user, export.dataset, export.source, export.status) == (
        camille,
        "demandes-enrolement",
        "enrolment.enrolmentrequest",
        XlsxExport.Status.PENDING,
    )
    assert export.filters == {"status__exact": ["validated"], "o": ["1"]}
    page = client.get(EXPORTS_PAGE).content.decode()
    assert "Export XLSX en préparation : il sera téléchargeable sur cette page dès qu&#x27;il sera prêt." in page
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "cette page se recharge toutes les 5 secondes" in page
    assert '<td class="field-status_display">en préparation</td>' in page
    assert client.get(download_url(export)).status_code == 404  # not ready yet

    assert services.build_xlsx(export.pk)
    export.refresh_from_db()
    assert (export.status, export.rows) == (XlsxExport.Status.READY, 3)
    assert export.file.startswith(f"exports/{camille.pk}/demandes-enrolement-")
    # Encrypted at rest: the bytes on disk are not a ZIP (an XLSX starts with "PK").
    assert not (_isolated_storage / "documents" / export.file).read_bytes().startswith(b"PK")
    header, *rows = stored_rows(export)
    assert header[:2] == ["Numéro de demande", "Statut"]
    assert sorted(row[0] for row in rows) == sorted(request.number for request in validated)
    assert {row[header.index("IBAN")] for row in rows} == {
        "FR76 **** **** 0900",
        "FR76 **** **** 0901",
        "FR76 **** **** 0902",
    }

    page = client.get(EXPORTS_PAGE).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert '<td class="field-status_display">prêt</td>' in page
    assert f'<a href="{download_url(export)}">Télécharger' in page
    assert not ExportRecord.objects.exists()

    download = client.get(download_url(export))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="demandes-enrolement-')
    assert (download["Cache-Control"], download["X-Content-Type-Options"]) == ("no-store", "nosniff")
    assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"
    content = b"".join(download.streaming_content)
    assert [
        list(row) for row in load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True)
    ] == [
        header,
        *rows,
    ]
    record = ExportRecord.objects.get()
    assert (record.user, record.file_format, record.rows, record.filters) == (
        camille,
        "xlsx",
        3,
        {"status__exact": ["validated"], "o": ["1"]},
    )
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor_label == "camille.roux" and entry.details["rows"] == 3
    assert chain.verify().intact


def test_the_full_iban_permission_is_the_one_held_when_the_export_was_asked_for(client, _isolated_storage):
    user = agent(username="agent.paiement")
    user.user_permissions.add(Permission.objects.get(codename="export_full_iban"))
    client.force_login(user)
    enrolment(iban=iban(77))
    ask(client, run=False)
    user.user_permissions.clear()
    export = XlsxExport.objects.get()
    assert export.full_iban
    services.build_xlsx(export.pk)
    header, row = stored_rows(XlsxExport.objects.get())
    assert row[header.index("IBAN")] == iban(77)


def test_another_agent_gets_a_404_and_a_superuser_downloads_it(client, camille, _isolated_storage):
    enrolment()
    ask(client)
    export = XlsxExport.objects.get()
    assert export.status == XlsxExport.Status.READY

    client.force_login(agent(username="dominique.petit"))
    assert client.get(download_url(export)).status_code == 404
    page = client.get(EXPORTS_PAGE).content.decode()
    assert download_url(export) not in page
    assert "0 exports XLSX" in page

    client.force_login(agent(username="admin.asp", is_superuser=True))
    assert "camille.roux" in client.get(EXPORTS_PAGE).content.decode()
    assert client.get(download_url(export)).status_code == 200
    assert ExportRecord.objects.get().user.username == "admin.asp"

    client.logout()
    assert client.get(download_url(export)).status_code == 302  # to the sign-in page


def test_an_export_that_fails_shows_echec(client, camille, _isolated_storage):
    enrolment()
    with mock.patch("exports.services.write_xlsx", side_effect=OSError("disque plein")):
        ask(client)
    export = XlsxExport.objects.get()
    assert export.status == XlsxExport.Status.FAILED and "disque plein" in export.error
    page = client.get(EXPORTS_PAGE).content.decode()
    assert '<td class="field-status_display">échec</td>' in page
    assert 'http-equiv="refresh"' not in page
    assert client.get(download_url(export)).status_code == 404


def test_an_export_the_broker_could_not_take_is_requeued(client, camille, _isolated_storage):
    enrolment()
    with freeze_time(ASKED):
        client.force_login(camille)  # the session is opened at the frozen instant
        ask(client, run=False)
    export = XlsxExport.objects.get()
    assert export.status == XlsxExport.Status.PENDING and export.started_at is None

    with freeze_time(ASKED + timedelta(seconds=60)):
        assert services.requeue_pending_xlsx() == 0  # too recent: its own task may still come
    with freeze_time(ASKED + timedelta(minutes=3)):
        assert services.requeue_pending_xlsx() == 1
    export.refresh_from_db()
    assert (export.status, export.rows) == (XlsxExport.Status.READY, 1)
    assert services.requeue_pending_xlsx() == 0
    assert not services.build_xlsx(export.pk)  # a second delivery does nothing


def test_the_files_are_purged_after_their_retention(client, camille, settings, _isolated_storage):
    settings.EXPORT_FILE_RETENTION_HOURS = 48
    enrolment()
    with freeze_time(ASKED):
        client.force_login(camille)
        ask(client)
    export = XlsxExport.objects.get()
    path = _isolated_storage / "documents" / export.file
    assert path.exists()

    with freeze_time(ASKED + timedelta(hours=47, minutes=59)):
        assert services.purge_xlsx_exports() == 0
    with freeze_time(ASKED + timedelta(hours=48, minutes=1)), TestCase.captureOnCommitCallbacks(execute=True):
        assert services.purge_xlsx_exports() == 1
    assert not XlsxExport.objects.exists()
    assert not path.exists()
    assert client.get(download_url(export)).status_code == 404


def test_the_schedule_requeues_and_purges_in_the_embedded_default(client, camille, settings, _isolated_storage):
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["exports.tasks.requeue_xlsx_exports"] <= 300
    assert tasks["exports.tasks.purge_xlsx_exports"] <= 3600
    enrolment()
    with freeze_time(ASKED):
        client.force_login(camille)  # the session is opened at the frozen instant
        ask(client, run=False)
    settings.HOUSEKEEPING_IN_WEB = True
    cache.clear()
    with freeze_time(ASKED + timedelta(minutes=5)), TestCase.captureOnCommitCallbacks(execute=True):
        ran = housekeeping.run_if_due()
    assert {"requeue-xlsx-exports", "purge-xlsx-exports"} <= set(ran)
    assert XlsxExport.objects.get().status == XlsxExport.Status.READY
    cache.clear()
    with freeze_time(ASKED + timedelta(days=3)), TestCase.captureOnCommitCallbacks(execute=True):
        housekeeping.run_if_due()
    assert not XlsxExport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_in_the_embedded_default_the_file_is_written_after_the_response(client, _isolated_storage):
    """`make run`: eager Celery; the task runs once the redirect has left (segurnum.after_response)."""
    client.force_login(agent(username="camille.roux"))
    enrolment()
    seen_during_the_request = []
    original = services.build_xlsx

    def build(export_id):
        seen_during_the_request.append(services.after_response._state.jobs)
        return original(export_id)

    with mock.patch("exports.services.build_xlsx", side_effect=build):
        response = client.get(EXPORT_URL)
    assert response.status_code == 302
    assert seen_during_the_request == [None]  # run by request_finished, after the response
    assert XlsxExport.objects.get().status == XlsxExport.Status.READY
