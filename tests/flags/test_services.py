"""Flags are computed after a request is stored (a task, never at page render), on both sides of
a shared fact, and an agent marks one « vérifié » with a comment, recorded in the audit trail
(R-OPS-3, R-OPS-4)."""

import pytest
from django.db import transaction

from audit import chain
from audit.models import AuditEntry
from enrolment.services import submit_enrolment
from flags import services
from flags.models import ConsistencyFlag, PendingRefresh, RegistryAnswer
from tests.enrolment.test_services import submission
from tests.enrolment.wizard import GUIDE_SIRET, Wizard, load_registries
from tests.factories import ReferencedSoftwareFactory, agent
from tests.flags.helpers import enrolment, funding_request, iban

pytestmark = pytest.mark.django_db

Rule = ConsistencyFlag.Rule


def rules_of(request) -> set[str]:
    return set(request.flags.values_list("rule", flat=True))


def test_a_stored_request_gets_its_flags_after_commit_and_the_other_request_too(django_capture_on_commit_callbacks):
    from tests.enrolment.wizard import GUIDE_IBAN

    first = enrolment(iban=GUIDE_IBAN, account_holder="ODA", denomination="ODA")
    software = ReferencedSoftwareFactory(referencing_number="tndSAS0077", editor_siret="39431067600017")
    with django_capture_on_commit_callbacks(execute=True):
        second = submit_enrolment(submission=submission("tndSAS0077", "39431067600017"))

    assert not PendingRefresh.objects.exists()
    assert software.enrolments.get() == second
    assert Rule.SAME_IBAN in rules_of(second)
    assert rules_of(first) == {Rule.SAME_IBAN}
    assert first.flags.get().message == f"Le même IBAN est donné par {second.number} (SIREN 394310676)."


def test_a_flag_no_longer_triggered_goes_and_a_verified_one_reopens_on_new_evidence():
    first = enrolment(iban=iban(700))
    second = enrolment(iban=iban(700))
    (flag,) = services.refresh_enrolment_flags(enrolment_id=second.pk)
    services.verify_flag(flag=flag, by=agent(), comment="Même groupe, IBAN du siège confirmé")
    # The same evidence again: still verified.
    (flag,) = services.refresh_enrolment_flags(enrolment_id=second.pk)
    assert flag.is_verified
    # A third vendor with that IBAN: new evidence, to verify again.
    enrolment(iban=iban(700))
    (flag,) = services.refresh_enrolment_flags(enrolment_id=second.pk)
    assert not flag.is_verified and flag.verified_comment == ""
    # The other request changes its IBAN: the flag of the first one goes.
    type(first).objects.filter(pk=first.pk).update(iban=iban(701))
    first.refresh_from_db()
    assert services.refresh_enrolment_flags(enrolment_id=first.pk) == []


def test_verified_needs_a_comment_and_is_recorded_in_the_audit_trail():
    enrolment(iban=iban(710))
    second = enrolment(iban=iban(710))
    (flag,) = services.refresh_enrolment_flags(enrolment_id=second.pk)
    by = agent(username="camille.roux")
    with pytest.raises(services.FlagRefused, match="Le commentaire est obligatoire"):
        services.verify_flag(flag=flag, by=by, comment="   ")
    assert not AuditEntry.objects.filter(action="flag_review").exists()

    flag = services.verify_flag(flag=flag, by=by, comment="Appel au représentant : cabinet comptable commun")
    assert flag.is_verified and flag.verified_by == by
    entry = AuditEntry.objects.get(action="flag_review")
    assert entry.actor_label == "camille.roux"
    assert entry.object_label == f"{second.number} — IBAN d'un autre SIREN"
    assert entry.details == {
        "rule": "same_iban",
        "comment": "Appel au représentant : cabinet comptable commun",
        "request": second.number,
    }
    with pytest.raises(services.FlagRefused, match="déjà marqué « vérifié »"):
        services.verify_flag(flag=flag, by=by, comment="encore")
    assert chain.verify().intact


def test_a_computation_left_pending_by_the_broker_is_requeued():
    first, second = enrolment(iban=iban(720)), enrolment(iban=iban(720))
    with transaction.atomic():
        services.schedule_refresh(enrolment=second)  # its on_commit never runs here: broker down
    assert not ConsistencyFlag.objects.exists()
    assert services.requeue_pending(older_than_seconds=0) == 1
    assert rules_of(second) == rules_of(first) == {Rule.SAME_IBAN}
    assert not PendingRefresh.objects.exists()


def test_funding_flags_are_computed_for_both_requests():
    first = funding_request([("RPPS", "10003456789", "Dr Martin")])
    second = funding_request([("RPPS", "10003456789", "Dr Martin")])
    services.refresh_funding_flags(funding_request_id=second.pk)
    assert rules_of(second) == rules_of(first) == {Rule.BENEFICIARY_TWICE}


def test_the_wizard_keeps_the_registrys_answer_and_a_moved_address_without_kbis_is_flagged(
    client, django_capture_on_commit_callbacks
):
    load_registries()
    wizard = Wizard(client)
    wizard.referencing()
    wizard.search_siret()
    answer = RegistryAnswer.objects.get(siret=GUIDE_SIRET)
    assert answer.answer["street_name"] == "DE FIGUERAS" and answer.answer["postal_code"] == "13700"

    wizard.post("applicant", wizard.applicant_data(street_number="3", street_type="AVENUE", street_name="DES LILAS"))
    wizard.bank()
    wizard.vat("ht_0")
    with django_capture_on_commit_callbacks(execute=True):
        wizard.confirm()

    stored = answer.__class__.objects.get(pk=answer.pk)  # kept as answered
    assert stored.answer == answer.answer
    flag = ConsistencyFlag.objects.get(rule=Rule.ADDRESS_CHANGED)
    assert "demande « 3 AVENUE DES LILAS 13700 ST VICTORET »" in flag.message


def test_rejecting_a_funding_request_clears_the_beneficiary_flag_of_the_other(django_capture_on_commit_callbacks):
    from funding import services as funding_services

    first = funding_request([("RPPS", "10003456789", "Dr Martin")])
    second = funding_request([("RPPS", "10003456789", "Dr Martin")])
    services.refresh_funding_flags(funding_request_id=second.pk)
    assert rules_of(first) == {Rule.BENEFICIARY_TWICE}
    with django_capture_on_commit_callbacks(execute=True):
        funding_services.reject_request(request=second, by=agent(), reason="Doublon du dossier précédent")
    assert rules_of(first) == set()
