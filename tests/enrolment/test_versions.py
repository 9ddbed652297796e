"""Versions of a request and modifications ENR…Mn (R-AFT-2): M0 kept at submission, one pending
modification under a database constraint, the values in force unchanged until an agent validates,
the wizard's rules, the mails of a bank change and of a new representative, the migration of the
rows stored before versions existed."""

import hashlib
import os

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import QueryDict
from django.test import override_settings

from enrolment import drafts, selectors, versions
from enrolment.models import EnrolmentDocument, EnrolmentRequest, EnrolmentVersion
from enrolment.search import exact_condition
from enrolment.services import DecisionRefused, submit_enrolment
from funding.selectors import validated_enrolment, vendor_context
from tests import files
from tests.enrolment.test_services import submission
from tests.enrolment.wizard import load_registries
from tests.factories import EnrolmentDocumentFactory, agent
from tests.funding.factories import validated_vendor

pytestmark = pytest.mark.django_db

NEW_IBAN = "FR76 3000 4000 0312 3456 7890 143"


@pytest.fixture(autouse=True)
def registries():
    load_registries()


@pytest.fixture
def vendor():
    enrolment = validated_vendor()
    EnrolmentDocumentFactory(enrolment=enrolment, kind=EnrolmentDocument.Kind.RIB, original_name="ancien RIB.pdf")
    return enrolment


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


def posted(values: dict) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in values.items():
        data[key] = value
    return data


def rib_upload(enrolment, name="nouveau RIB.pdf") -> dict:
    return drafts.save_draft_file(str(enrolment.submission_key), files.pdf(name))


def bank_amendment(enrolment, *, iban=NEW_IBAN, bic="BNPAFRPP", uploads=None):
    data = posted(
        {"bank-iban": iban, "bank-bic": bic, "bank-account_holder": "ODA NOUVEAU", "bank-bank_domiciliation": ""}
    )
    uploads = {"rib": rib_upload(enrolment)} if uploads is None else uploads
    return versions.modification_amendment(enrolment, ["banque"], data=data, uploads=uploads)


def representative_amendment(enrolment):
    data = posted(
        {
            "applicant-representative_last_name": "Martin",
            "applicant-representative_first_name": "Claire",
            "applicant-representative_email": "claire.martin@asm.example",
            "applicant-representative_email_confirmation": "claire.martin@asm.example",
            "applicant-representative_phone": "01 45 67 89 10",
        }
    )
    uploads = {"representative_id": drafts.save_draft_file(str(enrolment.submission_key), files.pdf("cni.pdf"))}
    return versions.modification_amendment(enrolment, ["representant"], data=data, uploads=uploads)


def test_a_submission_keeps_its_original_as_version_m0():
    enrolment = submit_enrolment(submission=submission())
    original = enrolment.versions.get()
    assert original.index == 0 and original.number == enrolment.number and original.number.endswith("M0")
    assert original.values["iban"] == enrolment.iban and original.values["siret"] == enrolment.siret
    assert original.documents["referencing_certificate"]["name"] == "certificat.pdf"
    # Encrypted at rest like the IBAN itself (SECURITY P5).
    raw = (
        EnrolmentVersion.objects.annotate(token=Cast("values", TextField()))
        .values_list("token", flat=True)
        .get(pk=original.pk)
    )
    assert enrolment.iban not in raw and "siret" not in raw


def test_a_bank_modification_is_pending_and_changes_nothing_in_force(vendor, commit, mailoutbox):
    amendment = bank_amendment(vendor)
    assert amendment.is_valid(), (amendment.errors, [f.errors for f in amendment.forms.values()])
    version = commit(versions.request_modification, enrolment=vendor, by=vendor.account, amendment=amendment)

    assert version.number == "ENR0001M1" and version.status == EnrolmentVersion.Status.PENDING
    assert version.values["iban"] == NEW_IBAN.replace(" ", "")
    assert version.previous_values["iban"] == vendor.iban
    vendor.refresh_from_db()
    assert vendor.iban == "FR7630056009271234567890182" and vendor.number == "ENR0001M0"
    assert vendor.documents.get(kind="rib").original_name == "ancien RIB.pdf"
    assert mailoutbox[-1].subject == "Demande de modification ENR0001M1 enregistrée"
    # The support and agents find it by its number.
    assert EnrolmentRequest.objects.filter(exact_condition("ENR0001M1")).get() == vendor

    with pytest.raises(DecisionRefused, match="ENR0001M1.*déjà en cours"):
        versions.request_modification(enrolment=vendor, by=vendor.account, amendment=bank_amendment(vendor))


def test_a_modification_keeps_its_new_document_as_the_draft_file_itself(vendor, commit, _isolated_storage):
    """R-PERF-1: like « Terminer », a modification writes no byte of its documents again; the
    draft's removal leaves the document whole."""
    upload = rib_upload(vendor)
    draft = _isolated_storage / "drafts" / upload["path"]
    amendment = bank_amendment(vendor, uploads={"rib": upload})
    assert amendment.is_valid(), amendment.errors
    version = commit(versions.request_modification, enrolment=vendor, by=vendor.account, amendment=amendment)

    stored = _isolated_storage / "documents" / version.documents["rib"]["file"]
    assert os.path.samefile(stored, draft)
    draft.unlink()
    commit(versions.validate_modification, version=version, by=agent())
    with vendor.documents.get(kind="rib").file.open() as opened:
        assert hashlib.sha256(opened.read()).hexdigest() == upload["sha256"]


def test_at_most_one_pending_modification_is_a_database_constraint(vendor):
    EnrolmentVersion.objects.create(enrolment=vendor, index=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        EnrolmentVersion.objects.create(enrolment=vendor, index=2)
    EnrolmentVersion.objects.filter(index=1).update(status=EnrolmentVersion.Status.REJECTED)
    assert EnrolmentVersion.objects.create(enrolment=vendor, index=2).number == "ENR0001M2"
    with pytest.raises(IntegrityError), transaction.atomic():
        EnrolmentVersion.objects.create(enrolment=vendor, index=2, status=EnrolmentVersion.Status.REJECTED)


def test_the_wizard_rules_apply_to_a_modification(vendor):
    bad = bank_amendment(vendor, iban="FR76 3000 4000 0312 3456 7890 144")
    assert not bad.is_valid()
    assert "iban" in bad.forms["bank"].errors
    assert 'value="FR76 3000 4000 0312 3456 7890 144"' in str(bad.forms["bank"]["iban"])  # nothing typed is lost

    without_rib = bank_amendment(vendor, uploads={})
    assert not without_rib.is_valid()
    assert without_rib.forms["bank"].errors["rib"] == ["Joignez un nouveau fichier « RIB »."]

    same = bank_amendment(vendor, iban=vendor.iban, bic=vendor.bic, uploads={})
    same.forms["bank"].data = same.forms["bank"].data.copy()
    same.forms["bank"].data["bank-account_holder"] = vendor.account_holder
    assert not same.is_valid()
    assert any("Vous n'avez rien modifié" in error for error in same.errors)


def test_validating_a_bank_change_puts_it_in_force_and_tells_both_addresses(vendor, commit, mailoutbox):
    version = commit(
        versions.request_modification, enrolment=vendor, by=vendor.account, amendment=bank_amendment(vendor)
    )
    assert selectors.pending_modification(vendor) == version
    mailoutbox.clear()

    commit(versions.validate_modification, version=version, by=agent())

    vendor.refresh_from_db()
    assert vendor.iban == NEW_IBAN.replace(" ", "") and vendor.bic == "BNPAFRPP"
    assert vendor.documents.get(kind="rib").original_name == "nouveau RIB.pdf"
    version.refresh_from_db()
    assert version.status == EnrolmentVersion.Status.VALIDATED and version.decided_by is not None
    assert version.previous_documents["rib"]["name"] == "ancien RIB.pdf"
    assert vendor.modification_index == 1
    subjects = [mail.subject for mail in mailoutbox]
    assert "Votre demande de modification ENR0001M1 est validée" in subjects
    bank_mail = next(mail for mail in mailoutbox if mail.subject.startswith("Changement de coordonnées bancaires"))
    assert bank_mail.to == [vendor.representative_email]
    assert "FR76 **** **** 0143" in bank_mail.body
    # The funding request reads the enrolment's values in force.
    assert validated_enrolment(vendor.account).iban == NEW_IBAN.replace(" ", "")
    assert selectors.pending_modification(vendor) is None


def test_a_new_representative_gets_credentials_and_the_old_account_is_closed(vendor, commit, mailoutbox):
    old_account = vendor.account
    amendment = representative_amendment(vendor)
    assert amendment.is_valid(), amendment.errors
    version = commit(versions.request_modification, enrolment=vendor, by=old_account, amendment=amendment)
    mailoutbox.clear()
    commit(versions.validate_modification, version=version, by=agent())

    vendor.refresh_from_db()
    old_account.refresh_from_db()
    assert not old_account.is_active
    new_account = vendor.account
    assert new_account != old_account and new_account.email == "claire.martin@asm.example"
    assert vendor.representative_email == "claire.martin@asm.example"
    subjects = [mail.subject for mail in mailoutbox]
    assert subjects == [
        "Votre demande de modification ENR0001M1 est validée",
        "Votre identifiant de connexion au Portail Ségur Numérique (ENR0001M0)",
        "Votre mot de passe provisoire pour le Portail Ségur Numérique (ENR0001M0)",
    ]
    assert mailoutbox[0].to == sorted(["eishiro.oda@asm.example", "claire.martin@asm.example"])
    assert mailoutbox[1].to == mailoutbox[2].to == ["claire.martin@asm.example"]
    assert f"Votre identifiant : {new_account.username}" in mailoutbox[1].body
    assert validated_enrolment(new_account) == vendor and validated_enrolment(old_account) is None


def test_a_vat_change_reaches_the_funding_checks_only_once_validated(vendor, commit):
    data = posted({"vat-vat_rate": "ttc_8_5"})
    amendment = versions.modification_amendment(vendor, ["tva"], data=data, uploads={})
    assert amendment.is_valid(), amendment.errors
    version = commit(versions.request_modification, enrolment=vendor, by=vendor.account, amendment=amendment)
    assert vendor_context(EnrolmentRequest.objects.get(pk=vendor.pk)).vat_rate == "ttc_20"
    commit(versions.validate_modification, version=version, by=agent())
    assert vendor_context(EnrolmentRequest.objects.get(pk=vendor.pk)).vat_rate == "ttc_8_5"


def test_a_rejected_modification_leaves_the_values_and_frees_the_next_number(vendor, commit, mailoutbox):
    version = commit(
        versions.request_modification, enrolment=vendor, by=vendor.account, amendment=bank_amendment(vendor)
    )
    with pytest.raises(DecisionRefused, match="motif"):
        versions.reject_modification(version=version, by=agent(), reason=" ")
    commit(versions.reject_modification, version=version, by=agent(), reason="RIB illisible")
    vendor.refresh_from_db()
    assert vendor.iban == "FR7630056009271234567890182"
    assert "RIB illisible" in mailoutbox[-1].body
    assert mailoutbox[-1].subject == "Votre demande de modification ENR0001M1 n'a pas été retenue"
    second = commit(
        versions.request_modification, enrolment=vendor, by=vendor.account, amendment=bank_amendment(vendor)
    )
    assert second.number == "ENR0001M2"


def test_only_a_validated_enrolment_is_modified(vendor):
    EnrolmentRequest.objects.filter(pk=vendor.pk).update(status=EnrolmentRequest.Status.IN_REVIEW)
    with pytest.raises(DecisionRefused, match="Seul un enrôlement validé"):
        versions.request_modification(enrolment=vendor, by=vendor.account, amendment=bank_amendment(vendor))


def test_the_one_active_request_constraints_still_hold(vendor, commit):
    version = commit(
        versions.request_modification, enrolment=vendor, by=vendor.account, amendment=bank_amendment(vendor)
    )
    commit(versions.validate_modification, version=version, by=agent())
    with pytest.raises(IntegrityError), transaction.atomic():
        EnrolmentRequest.objects.create(
            **{
                field.name: getattr(vendor, field.name)
                for field in EnrolmentRequest._meta.concrete_fields
                if field.name not in ("id", "number", "sequence", "submission_key", "account")
            },
            number="ENR0999M0",
            sequence=999,
            submission_key="1d3a2b3c-0000-4000-8000-000000000001",
        )


# --- The migration of existing rows ---------------------------------------------------------------

BEFORE = [("enrolment", "0007_versions_and_corrections")]
AFTER = [("enrolment", "0008_versions_original_rows")]


@pytest.mark.django_db(transaction=True)
@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_existing_requests_get_their_version_m0():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    software = old.get_model("enrolment", "ReferencedSoftware").objects.create(
        referencing_number="tndMIG0001", software_name="Ancien", version="1", dsr_label="DSR", editor_siret="1" * 14
    )
    Request = old.get_model("enrolment", "EnrolmentRequest")
    common = {
        "software": software,
        "referencing_number": "tndMIG0001",
        "software_name": "Ancien",
        "software_version": "1",
        "dsr_label": "DSR",
        "denomination": "ANCIENNE",
        "trade_name": "ANC",
        "street_type": "RUE",
        "street_name": "DE LA PAIX",
        "postal_code": "75002",
        "city": "PARIS",
        "is_legal_representative": True,
        "representative_last_name": "Ancien",
        "representative_first_name": "Paul",
        "representative_email": "paul@example.fr",
        "representative_phone": "0102030405",
        "iban": "FR7630056009271234567890182",
        "bic": "CCFRFRPP",
        "account_holder": "ANCIEN",
        "bank_domiciliation": "HSBC FRANCE",
        "vat_rate": "ttc_20",
    }
    first = Request.objects.create(
        number="ENR0101M0",
        sequence=101,
        submission_key="00000000-0000-4000-8000-000000000101",
        siret="1" * 14,
        **common,
    )
    second = Request.objects.create(
        number="ENR0102M0",
        sequence=102,
        submission_key="00000000-0000-4000-8000-000000000102",
        siret="2" * 14,
        status="rejected",
        **{**common, "iban": "FR7630004000031234567890143"},
    )
    old.get_model("enrolment", "EnrolmentDocument").objects.create(
        enrolment=first,
        kind="rib",
        file="a/b.pdf",
        original_name="rib.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Version = new.get_model("enrolment", "EnrolmentVersion")
    rows = {version.enrolment_id: version for version in Version.objects.all()}
    assert set(rows) == {first.pk, second.pk}
    assert all(version.index == 0 and version.status == "validated" for version in rows.values())
    assert rows[first.pk].values["iban"] == "FR7630056009271234567890182"
    assert rows[second.pk].values["iban"] == "FR7630004000031234567890143"
    assert rows[first.pk].values["siret"] == "1" * 14
    assert rows[first.pk].documents == {
        "rib": {"file": "a/b.pdf", "name": "rib.pdf", "content_type": "application/pdf", "size": 10, "sha256": "0" * 64}
    }
    assert rows[second.pk].documents == {}
    # Run twice, nothing more.
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert Version.objects.count() == 0
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    assert Version.objects.count() == 2
    call_command("migrate", verbosity=0)


def test_a_bank_change_with_a_new_representative_is_mailed_to_the_old_and_new_addresses(vendor, commit, mailoutbox):
    data = posted(
        {
            "bank-iban": NEW_IBAN,
            "bank-bic": "BNPAFRPP",
            "bank-account_holder": "ODA",
            "applicant-representative_last_name": "Martin",
            "applicant-representative_first_name": "Claire",
            "applicant-representative_email": "claire.martin@asm.example",
            "applicant-representative_email_confirmation": "claire.martin@asm.example",
            "applicant-representative_phone": "01 45 67 89 10",
        }
    )
    uploads = {
        "rib": rib_upload(vendor),
        "representative_id": drafts.save_draft_file(str(vendor.submission_key), files.pdf("cni.pdf")),
    }
    amendment = versions.modification_amendment(vendor, ["representant", "banque"], data=data, uploads=uploads)
    assert amendment.is_valid(), amendment.errors
    version = commit(versions.request_modification, enrolment=vendor, by=vendor.account, amendment=amendment)
    assert version.blocks == ["banque", "representant"]
    mailoutbox.clear()
    commit(versions.validate_modification, version=version, by=agent())

    bank_mail = next(mail for mail in mailoutbox if mail.subject.startswith("Changement de coordonnées bancaires"))
    assert bank_mail.to == ["claire.martin@asm.example", "eishiro.oda@asm.example"]
    assert "Si vous n'êtes pas à l'origine de ce changement" in bank_mail.body


def test_a_new_phone_needs_no_new_identity_document_a_new_name_does(vendor):
    EnrolmentDocumentFactory(enrolment=vendor, kind=EnrolmentDocument.Kind.REPRESENTATIVE_ID, original_name="cni.pdf")
    data = {
        "applicant-representative_last_name": vendor.representative_last_name,
        "applicant-representative_first_name": vendor.representative_first_name,
        "applicant-representative_email": vendor.representative_email,
        "applicant-representative_email_confirmation": vendor.representative_email,
        "applicant-representative_phone": "01 45 67 89 10",
    }
    phone = versions.modification_amendment(vendor, ["representant"], data=posted(data), uploads={})
    assert phone.is_valid(), (phone.errors, phone.forms["applicant"].errors)
    assert phone.changes()[1] == {"representative_phone": "0145678910"}

    renamed = versions.modification_amendment(
        vendor, ["representant"], data=posted({**data, "applicant-representative_last_name": "Martin"}), uploads={}
    )
    assert not renamed.is_valid()
    assert renamed.forms["applicant"].errors["representative_id"] == [
        "Joignez un nouveau fichier « CNI, passeport ou titre de séjour »."
    ]
