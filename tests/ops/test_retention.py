"""Retention (R-OPS-5): identity documents and RIBs are purged a configurable time after the
decision; abandoned drafts and sessions are purged; all run on the schedule, in the embedded
default too; « Données personnelles » states each duration from the settings. Frozen time."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse
from freezegun import freeze_time

from audit import chain
from audit.models import AuditEntry
from enrolment.models import EnrolmentDocument, EnrolmentRequest
from flags.models import RegistryAnswer
from operations import retention
from segurnum import housekeeping
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory, agent
from tests.segurnum.test_housekeeping import abandoned_wizard

pytestmark = pytest.mark.django_db

# After the machine's clock: the files written now (drafts) are older than any frozen instant.
DECIDED = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
Kind = EnrolmentDocument.Kind


def decided_request_with_documents(decided_at=DECIDED, status=EnrolmentRequest.Status.VALIDATED):
    enrolment = EnrolmentRequestFactory(status=status, decided_at=decided_at)
    for kind, name in [
        (Kind.REFERENCING_CERTIFICATE, "certificat.pdf"),
        (Kind.KBIS, "kbis.pdf"),
        (Kind.REPRESENTATIVE_ID, "cni.pdf"),
        (Kind.DEPOSITOR_ID, "passeport.pdf"),
        (Kind.RIB, "rib.pdf"),
    ]:
        EnrolmentDocumentFactory(enrolment=enrolment, kind=kind, original_name=name)
    return enrolment


def kinds_of(enrolment) -> set[str]:
    return set(enrolment.documents.values_list("kind", flat=True))


def stored_files(root) -> set[str]:
    folder = root / "documents"
    return {path.name for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


def test_identity_documents_and_ribs_go_after_the_retention_and_not_before(
    settings, _isolated_storage, django_capture_on_commit_callbacks
):
    settings.IDENTITY_DOCUMENT_RETENTION_DAYS = 180
    settings.RIB_RETENTION_DAYS = 180
    enrolment = decided_request_with_documents()
    files_before = stored_files(_isolated_storage)
    assert len(files_before) == 5

    with freeze_time(DECIDED + timedelta(days=179, hours=23)):
        assert retention.purge_decided_documents() == 0
    assert len(kinds_of(enrolment)) == 5

    with freeze_time(DECIDED + timedelta(days=180, minutes=1)), django_capture_on_commit_callbacks(execute=True):
        assert retention.purge_decided_documents() == 3
    assert kinds_of(enrolment) == {Kind.REFERENCING_CERTIFICATE, Kind.KBIS}
    assert len(stored_files(_isolated_storage)) == 2

    (entry,) = AuditEntry.objects.filter(action="purge")
    assert entry.object_label == enrolment.number and entry.actor_label == "système"
    assert entry.details == {
        "removed": [
            "CNI, passeport ou titre de séjour du demandeur",
            "CNI, passeport ou titre de séjour du représentant",
            "RIB",
        ],
        "reason": "décision du 02/03/2027, durée de conservation échue",
    }
    assert chain.verify().intact


def test_each_duration_is_its_own_setting(settings):
    settings.IDENTITY_DOCUMENT_RETENTION_DAYS = 365
    settings.RIB_RETENTION_DAYS = 30
    enrolment = decided_request_with_documents(status=EnrolmentRequest.Status.REJECTED)
    with freeze_time(DECIDED + timedelta(days=31)):
        assert retention.purge_decided_documents() == 1
    assert Kind.RIB not in kinds_of(enrolment) and Kind.REPRESENTATIVE_ID in kinds_of(enrolment)
    with freeze_time(DECIDED + timedelta(days=366)):
        assert retention.purge_decided_documents() == 2
    assert kinds_of(enrolment) == {Kind.REFERENCING_CERTIFICATE, Kind.KBIS}


def test_a_request_not_yet_decided_keeps_its_documents():
    enrolment = decided_request_with_documents(decided_at=None, status=EnrolmentRequest.Status.IN_REVIEW)
    with freeze_time(DECIDED + timedelta(days=3650)):
        assert retention.purge_decided_documents() == 0
    assert len(kinds_of(enrolment)) == 5


def test_the_schedule_runs_every_purge_in_the_embedded_default(
    client, settings, _isolated_storage, django_capture_on_commit_callbacks
):
    """`make run` has no beat: the web process runs the schedule, here with time moved on."""
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["operations.tasks.purge_decided_documents"] <= 86400
    assert tasks["operations.tasks.purge_registry_answers"] <= 86400
    cache.clear()
    with freeze_time(DECIDED):
        enrolment = decided_request_with_documents()
        abandoned_wizard(client)
    assert Session.objects.count() == 1
    assert any((_isolated_storage / "drafts").iterdir())
    settings.HOUSEKEEPING_IN_WEB = True

    with freeze_time(DECIDED + timedelta(days=181)), django_capture_on_commit_callbacks(execute=True):
        ran = housekeeping.run_if_due()

    assert {"purge-decided-documents", "purge-stale-drafts", "clear-expired-sessions", "purge-registry-answers"} <= set(
        ran
    )
    assert kinds_of(enrolment) == {Kind.REFERENCING_CERTIFICATE, Kind.KBIS}
    assert len(stored_files(_isolated_storage)) == 2
    assert not Session.objects.exists()
    assert not any((_isolated_storage / "drafts").iterdir())


def test_the_personal_data_page_states_each_duration_from_the_settings(client, settings):
    settings.IDENTITY_DOCUMENT_RETENTION_DAYS = 90
    settings.RIB_RETENTION_DAYS = 45
    settings.DRAFT_MAX_AGE_HOURS = 24
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    html = client.get(reverse("public:legal")).content.decode()
    assert "<caption>Durées de conservation</caption>" in html
    assert (
        '<th scope="row">Pièces d&#x27;identité (CNI, passeport ou titre de séjour) du représentant et du '
        "demandeur</th><td>90 jours après la décision sur la demande d&#x27;enrôlement</td>"
    ) in html
    assert '<th scope="row">RIB</th><td>45 jours après la décision' in html
    assert "<td>24 heures après le dernier dépôt</td>" in html
    assert "<td>12 heures au plus (effacées à l&#x27;expiration de la session)</td>" in html
    assert '<th scope="row">Journal des consultations du back-office</th><td>365 jours</td>' in html
    settings.REGISTRY_ANSWER_RETENTION_DAYS = 120
    settings.REGISTRY_ANSWER_UNUSED_DAYS = 20
    settings.EXPORT_FILE_RETENTION_HOURS = 48
    html = client.get(reverse("public:legal")).content.decode()
    assert (
        '<th scope="row">Réponses du répertoire des entreprises (SIRET, dénomination, adresse) consultées lors de '
        "l&#x27;enrôlement</th><td>120 jours après la décision sur la demande d&#x27;enrôlement ; 20 jours après la "
        "consultation si aucune demande n&#x27;a été soumise</td>"
    ) in html
    assert '<th scope="row">Exports XLSX du back-office</th><td>48 heures après la demande d&#x27;export</td>' in html

    settings.RIB_RETENTION_DAYS = 1
    assert (
        '<th scope="row">RIB</th><td>1 jour après la décision' in client.get(reverse("public:legal")).content.decode()
    )


def test_replaced_identity_documents_and_ribs_in_the_history_go_too(
    settings, _isolated_storage, django_capture_on_commit_callbacks
):
    """A RIB replaced by a modification (R-AFT-2) or an « A compléter » round (R-AFT-1) is kept
    with the request's history: it goes with the same retention, the kbis it replaced stays, and
    the history keeps the name, size and SHA-256 that its receipt shows."""
    from django.core.files.base import ContentFile

    from enrolment.models import CorrectionRound, EnrolmentVersion

    settings.IDENTITY_DOCUMENT_RETENTION_DAYS = 180
    settings.RIB_RETENTION_DAYS = 180
    enrolment = decided_request_with_documents()
    storage = EnrolmentDocument._meta.get_field("file").storage
    old_rib = storage.save("documents/ancien-rib.pdf", ContentFile(b"%PDF-1.4 ancien RIB"))
    old_kbis = storage.save("documents/ancien-kbis.pdf", ContentFile(b"%PDF-1.4 ancien kbis"))
    old_id = storage.save("documents/ancienne-cni.pdf", ContentFile(b"%PDF-1.4 ancienne CNI"))
    meta = {"name": "rib.pdf", "size": 19, "sha256": "a" * 64, "content_type": "application/pdf"}
    version = EnrolmentVersion.objects.create(
        enrolment=enrolment,
        index=1,
        status=EnrolmentVersion.Status.VALIDATED,
        previous_documents={Kind.RIB: {**meta, "file": old_rib}, Kind.KBIS: {**meta, "file": old_kbis}},
    )
    round_ = CorrectionRound.objects.create(
        enrolment=enrolment,
        number=1,
        items=["representative_id"],
        message="Pièce illisible",
        requested_by=agent(),
        expires_at=DECIDED,
        answered_at=DECIDED,
        previous_documents={Kind.REPRESENTATIVE_ID: {**meta, "file": old_id}},
    )

    with freeze_time(DECIDED + timedelta(days=179)), django_capture_on_commit_callbacks(execute=True):
        retention.purge_decided_documents()
    assert storage.exists(old_rib) and storage.exists(old_id)

    with freeze_time(DECIDED + timedelta(days=181)), django_capture_on_commit_callbacks(execute=True):
        retention.purge_decided_documents()

    assert not storage.exists(old_rib) and not storage.exists(old_id)
    assert storage.exists(old_kbis)
    version.refresh_from_db()
    round_.refresh_from_db()
    assert "file" not in version.previous_documents[Kind.RIB]
    assert version.previous_documents[Kind.RIB]["sha256"] == "a" * 64
    assert version.previous_documents[Kind.KBIS]["file"] == old_kbis
    assert "file" not in round_.previous_documents[Kind.REPRESENTATIVE_ID]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PURGE).count() >= 2
    assert chain.verify().intact


SOLE_TRADER = {"siret": "73282932000074", "denomination": "MARTIN JEAN", "city": "LYON"}


def registry_answer(siret: str, at: datetime) -> RegistryAnswer:
    with freeze_time(at):
        return RegistryAnswer.objects.create(siret=siret, answer={**SOLE_TRADER, "siret": siret})


def test_registry_answers_go_after_the_decision_of_the_requests_that_used_them(settings):
    """A sole trader's registry answer names a person: kept while a request needs it, then deleted."""
    settings.REGISTRY_ANSWER_RETENTION_DAYS = 180
    settings.REGISTRY_ANSWER_UNUSED_DAYS = 30
    looked_up = DECIDED - timedelta(days=10)
    used = registry_answer("73282932000074", looked_up)
    with freeze_time(looked_up + timedelta(hours=1)):
        enrolment = EnrolmentRequestFactory(siret="73282932000074", status=EnrolmentRequest.Status.SUBMITTED)
    other_used = registry_answer("44306184100047", looked_up)
    with freeze_time(looked_up + timedelta(hours=1)):
        undecided = EnrolmentRequestFactory(siret="44306184100047", status=EnrolmentRequest.Status.IN_REVIEW)
    registry_answer("55208131766522", looked_up)  # no request followed

    with freeze_time(looked_up + timedelta(days=29, hours=23)):
        assert retention.purge_registry_answers() == 0
    with freeze_time(looked_up + timedelta(days=30, minutes=1)):
        assert retention.purge_registry_answers() == 1  # no request was submitted after that look-up
    assert set(RegistryAnswer.objects.values_list("pk", flat=True)) == {used.pk, other_used.pk}

    EnrolmentRequest.objects.filter(pk=enrolment.pk).update(
        status=EnrolmentRequest.Status.VALIDATED, decided_at=DECIDED
    )
    with freeze_time(DECIDED + timedelta(days=179, hours=23)):
        assert retention.purge_registry_answers() == 0
    with freeze_time(DECIDED + timedelta(days=180, minutes=1)):
        assert retention.purge_registry_answers() == 1
    assert list(RegistryAnswer.objects.values_list("pk", flat=True)) == [other_used.pk]

    with freeze_time(DECIDED + timedelta(days=3650)):  # its request is still being examined
        assert retention.purge_registry_answers() == 0
    assert undecided.decided_at is None
