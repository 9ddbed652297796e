"""The audit trail (R-OPS-4): decisions, consultations, document openings and data changes are
appended to one hash-chained log; verify_audit_log proves it intact or names the first broken
entry; agents export it as CSV, and the export is itself recorded."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse

from audit import chain
from audit.models import AuditEntry
from enrolment import services
from enrolment.models import ReferencedSoftware
from funding import services as funding_services
from tests.factories import (
    EnrolmentDocumentFactory,
    EnrolmentRequestFactory,
    ReferencedSoftwareFactory,
    agent,
    support_user,
)

pytestmark = pytest.mark.django_db


def verify_output() -> str:
    out = io.StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def test_decisions_are_chained_and_the_command_proves_the_chain():
    by = agent(username="camille.roux")
    first, second = EnrolmentRequestFactory(), EnrolmentRequestFactory()
    services.start_review(enrolment=first, by=by)
    services.reject_enrolment(enrolment=first, by=by, reason="Pièce d'identité illisible")
    services.validate_enrolment(enrolment=second, by=by, comment="Conforme")

    entries = list(AuditEntry.objects.order_by("position"))
    assert [(e.action, e.object_label, e.details["to"]) for e in entries] == [
        ("decision", first.number, "in_review"),
        ("decision", first.number, "rejected"),
        ("decision", second.number, "validated"),
    ]
    assert entries[1].details == {"from": "in_review", "to": "rejected", "comment": "Pièce d'identité illisible"}
    assert {e.actor_label for e in entries} == {"camille.roux"}
    assert entries[0].prev_hash == chain.GENESIS_HASH
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert f"Journal d'audit intègre : 3 entrée(s), dernière empreinte {entries[-1].hash}." in verify_output()


def test_a_row_edited_in_sql_is_named_by_the_command():
    by = agent()
    for _ in range(3):
        services.start_review(enrolment=EnrolmentRequestFactory(), by=by)
    tampered = AuditEntry.objects.get(position=2)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET details = %s WHERE id = %s",
            ['{"from": "submitted", "to": "validated"}', tampered.pk],
        )

    with pytest.raises(CommandError) as error:
        verify_output()
    assert str(error.value).startswith(
        f"Journal d'audit rompu à l'entrée n° 2 (id {tampered.pk}) : son contenu ne correspond plus à son empreinte"
    )
    assert "1 entrée(s) intègre(s) avant elle" in str(error.value)


def test_a_row_deleted_or_rehashed_in_sql_is_caught():
    by = agent()
    for _ in range(4):
        services.start_review(enrolment=EnrolmentRequestFactory(), by=by)
    # Deleting entry 2 leaves a hole.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE position = 2")
    assert "entrée n° 3" in str(chain.verify().broken) and "entrée manquante" in chain.verify().broken.reason


def test_a_row_rewritten_with_a_recomputed_hash_is_caught_at_its_successor():
    by = agent()
    for _ in range(3):
        services.start_review(enrolment=EnrolmentRequestFactory(), by=by)
    forged = AuditEntry.objects.get(position=2)
    forged.details = {"from": "submitted", "to": "validated", "comment": ""}
    new_hash = chain.digest_of(forged)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET details = %s, hash = %s WHERE id = %s",
            ['{"from": "submitted", "to": "validated", "comment": ""}', new_hash, forged.pk],
        )
    broken = chain.verify().broken
    successor = AuditEntry.objects.get(position=3)
    assert (broken.position, broken.entry_id) == (3, successor.pk)
    assert broken.reason == "son empreinte précédente ne correspond pas à l'entrée qui la précède"


def test_entries_are_never_updated_nor_deleted_through_the_orm():
    services.start_review(enrolment=EnrolmentRequestFactory(), by=agent())
    entry = AuditEntry.objects.get()
    entry.object_label = "autre chose"
    with pytest.raises(ValueError, match="ne se modifie pas"):
        entry.save()
    with pytest.raises(ValueError, match="ne se supprime pas"):
        entry.delete()


def test_a_decision_that_rolls_back_leaves_no_entry():
    enrolment = EnrolmentRequestFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.start_review(enrolment=enrolment, by=agent())
        raise RuntimeError("panne")
    assert not AuditEntry.objects.exists()


def test_funding_decisions_are_chained(funding_request):
    by = agent(username="agent.financement")
    funding_services.start_review(request=funding_request, by=by)
    funding_services.ask_modification(request=funding_request, by=by, reason="Bon de commande manquant")
    entries = AuditEntry.objects.filter(action="decision").order_by("position")
    assert [(e.object_type, e.object_label, e.details["to"]) for e in entries] == [
        ("funding.fundingrequest", funding_request.number, "in_review"),
        ("funding.fundingrequest", funding_request.number, "to_modify"),
    ]
    assert chain.verify().intact


def test_consultations_document_openings_and_admin_changes_are_mirrored(client):
    by = agent(username="camille.roux")
    client.force_login(by)
    document = EnrolmentDocumentFactory()
    enrolment = document.enrolment
    assert client.get(reverse("admin:enrolment_enrolmentrequest_change", args=[enrolment.pk])).status_code == 200
    response = client.get(reverse("admin:enrolment_document", args=[enrolment.pk, document.pk]))
    assert response.status_code == 200
    software = ReferencedSoftwareFactory(referencing_number="tndSAS0099")
    response = client.post(
        reverse("admin:enrolment_referencedsoftware_change", args=[software.pk]),
        {
            "referencing_number": "tndSAS0099",
            "software_name": "ARCAD SAAD",
            "version": "18",
            "dsr_label": software.dsr_label,
            "editor_siret": software.editor_siret,
            "editor_name": "ARCAD",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ReferencedSoftware.objects.get(pk=software.pk).version == "18"

    rows = list(AuditEntry.objects.order_by("position").values_list("action", "actor_label", "object_label"))
    assert rows == [
        ("consultation", "camille.roux", enrolment.number),
        ("document_opening", "camille.roux", f"{enrolment.number} — RIB (RIB société.pdf)"),
        ("data_change", "camille.roux", str(ReferencedSoftware.objects.get(pk=software.pk))),
    ]
    change = AuditEntry.objects.get(action="data_change")
    assert change.details["operation"] == "modification" and "Version" in change.details["changes"]
    assert chain.verify().intact


def test_an_agent_exports_the_filtered_log_and_the_export_is_recorded(client):
    by = agent(username="camille.roux")
    first, second = EnrolmentRequestFactory(), EnrolmentRequestFactory()
    services.start_review(enrolment=first, by=by)
    services.reject_enrolment(enrolment=second, by=by, reason="Doublon")
    client.force_login(by)
    changelist = client.get(reverse("admin:audit_auditentry_changelist"))
    assert "Exporter le journal (CSV)" in changelist.content.decode()

    response = client.get(reverse("admin:audit_auditentry_export"), {"action__exact": "decision", "q": second.number})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="journal-audit-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["N°", "Date et heure", "Auteur", "Action"]
    assert len(rows) == 2
    assert rows[1][2:4] == ["camille.roux", "Décision"] and rows[1][6] == second.number
    assert '"comment": "Doublon"' in rows[1][7]

    export = AuditEntry.objects.order_by("-position").first()
    assert export.action == "export" and export.actor_label == "camille.roux"
    assert export.details == {
        "filters": {"action__exact": ["decision"], "q": [second.number]},
        "rows": 1,
        "format": "csv",
    }
    assert chain.verify().intact


def test_support_staff_can_neither_see_nor_export_the_log(client):
    client.force_login(support_user())
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 403
    assert client.get(reverse("admin:audit_auditentry_export")).status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_support_lookups_are_mirrored_too(client):
    enrolment = EnrolmentRequestFactory()
    client.force_login(support_user(username="support.un"))
    assert client.get(reverse("support_lookup"), {"q": enrolment.number}).status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_label, entry.object_type, entry.object_label) == (
        "consultation",
        "support.un",
        "enrolment.enrolmentrequest",
        f"{enrolment.number} (recherche « {enrolment.number} »)",
    )
    assert entry.details["consultation"] == "Recherche par le support"


def test_the_admin_bulk_deletion_of_two_rows_is_mirrored_into_the_chain(client):
    client.force_login(agent(username="camille.roux", is_superuser=True))
    first = ReferencedSoftwareFactory(referencing_number="tndSAS0101", software_name="ARCAD SAAD")
    second = ReferencedSoftwareFactory(referencing_number="tndSAS0102", software_name="MEDIBOARD")
    kept = ReferencedSoftwareFactory(referencing_number="tndSAS0103")
    labels = {str(first), str(second)}
    url = reverse("admin:enrolment_referencedsoftware_changelist")
    selection = {"action": "delete_selected", "_selected_action": [first.pk, second.pk]}
    confirmation = client.post(url, selection)
    assert "<title>Supprimer plusieurs objets" in confirmation.content.decode()
    assert not AuditEntry.objects.filter(action="data_change").exists()

    response = client.post(url, {**selection, "post": "yes"})
    assert response.status_code == 302
    assert list(ReferencedSoftware.objects.values_list("pk", flat=True)) == [kept.pk]
    entries = AuditEntry.objects.filter(action="data_change").order_by("position")
    assert [(entry.actor_label, entry.object_type, entry.details["operation"]) for entry in entries] == [
        ("camille.roux", "enrolment.referencedsoftware", "suppression"),
        ("camille.roux", "enrolment.referencedsoftware", "suppression"),
    ]
    assert {entry.object_label for entry in entries} == labels
    assert {entry.object_id for entry in entries} == {str(first.pk), str(second.pk)}
    assert verify_output().startswith("Journal d'audit intègre : 2 entrée(s)")
