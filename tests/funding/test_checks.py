"""The check as a Celery task (R-FIN-8): the page shows the progress and refreshes itself without
JavaScript; a broker that is down leaves the check waiting, never lost; a storage failure gives a
French message, never a 500; what is left behind is purged."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from funding import format as funding_format
from funding import services
from funding.models import FundingCheck
from tests.funding.factories import filed_request
from tests.portal.pages import page_text

pytestmark = pytest.mark.django_db

REFRESH = '<meta http-equiv="refresh" content="2">'


def example_uploads():
    return {
        "json_upload": SimpleUploadedFile("demande.json", funding_format.example_bytes()),
        "zip_upload": SimpleUploadedFile("pieces.zip", funding_format.example_zip_bytes()),
    }


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


def test_the_page_shows_the_progress_and_refreshes_itself_until_done(vendor, vendor_client, window):
    check = services.start_check(purpose="filing", account=vendor, **example_uploads())  # not run yet
    url = reverse("funding:check", args=[check.pk])
    page = vendor_client.get(url)
    html, text = page.content.decode(), page_text(page)
    assert REFRESH in html
    assert "Votre contrôle attend son tour." in text and "Avancement : 0 %" in text
    assert "Cette page se met à jour toute seule toutes les 2 secondes." in text

    FundingCheck.objects.filter(pk=check.pk).update(state="running", progress=40, progress_label="Pièce 2 sur 4")
    text = page_text(vendor_client.get(url))
    assert "Pièce 2 sur 4. " in text and "Avancement : 40 %" in text

    FundingCheck.objects.filter(pk=check.pk).update(state="pending")  # as the worker finds it
    services.run_check(check_id=check.pk)
    page = vendor_client.get(url)
    assert REFRESH not in page.content.decode()
    assert "Fichier conforme : 3 bénéficiaires" in page_text(page)
    check.refresh_from_db()
    assert (check.state, check.progress, check.progress_label) == ("done", 100, "Contrôle terminé")


def test_a_broker_that_is_down_leaves_the_check_waiting_then_requeued(vendor, window, monkeypatch, settings):
    from funding import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("courtier arrêté")

    monkeypatch.setattr(tasks.run_funding_check, "apply_async", broker_down)
    services.enqueue_check("00000000-0000-0000-0000-000000000000")  # logged, not raised
    check = services.start_check(purpose="filing", account=vendor, **example_uploads())
    FundingCheck.objects.filter(pk=check.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    monkeypatch.undo()
    assert services.requeue_checks() == 1  # eager: runs at once
    check.refresh_from_db()
    assert check.state == "done" and check.report["conforming"]


def test_a_failing_check_says_so_in_french_and_keeps_no_file(
    vendor, vendor_client, window, monkeypatch, _isolated_storage
):
    check = services.start_check(purpose="filing", account=vendor, **example_uploads())

    def storage_down(*args, **kwargs):
        raise OSError("disque illisible")

    monkeypatch.setattr(services, "check_files", storage_down)
    services.run_check(check_id=check.pk)
    text = page_text(vendor_client.get(reverse("funding:check", args=[check.pk])))
    assert "Le contrôle n'a pas abouti" in text
    assert "Le contrôle de vos fichiers n'a pas pu aboutir. Veuillez les envoyer à nouveau." in text
    assert stored_files(_isolated_storage) == []


def test_a_full_disk_at_upload_gives_a_french_message_next_to_the_form(vendor_client, window, monkeypatch):
    from segurnum.storage import PrivateFileSystemStorage

    def disk_full(self, name, content, max_length=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(PrivateFileSystemStorage, "save", disk_full)
    response = vendor_client.post(
        reverse("funding:file"),
        {"fichier_json": SimpleUploadedFile("demande.json", funding_format.example_bytes())},
    )
    assert response.status_code == 200
    assert "Vos fichiers n'ont pas pu être enregistrés. Veuillez réessayer dans quelques instants." in page_text(
        response
    )
    assert not FundingCheck.objects.exists()


def test_the_purge_forgets_old_reports_and_unfinished_filings_but_not_a_request(vendor, enrolment, _isolated_storage):
    from tests.funding.factories import open_window

    open_window(opens_at=timezone.now() - timedelta(days=3))
    with freeze_time(timezone.now() - timedelta(hours=30)):
        request = filed_request(enrolment)
        unfinished = services.start_check(purpose="filing", account=vendor, **example_uploads())
        services.run_check(check_id=unfinished.pk)
        simulation = services.start_check(purpose="public", json_upload=example_uploads()["json_upload"])
        services.run_check(check_id=simulation.pk)
    recent = services.start_check(purpose="public", json_upload=example_uploads()["json_upload"])
    before = len(stored_files(_isolated_storage))
    assert services.purge_checks() == 3  # the simulation, the unfinished filing, the used check
    assert list(FundingCheck.objects.values_list("pk", flat=True)) == [recent.pk]
    # The unfinished filing's JSON and 4 pieces are gone; the request's own files stay.
    assert len(stored_files(_isolated_storage)) == before - 5
    for document in request.documents.all():
        assert document.file.storage.exists(document.file.name)
    assert request.current_version.json_file.storage.exists(request.current_version.json_file.name)
