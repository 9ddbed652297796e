"""submit_enrolment: one transaction, database-enforced uniqueness, ENR numbering (R-BIZ-1..4, R-WIZ-8)."""

import errno
import hashlib
import os
import re
import uuid

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from enrolment import drafts
from enrolment.field_groups import Applicant, Bank, Company
from enrolment.models import EnrolmentDocument, EnrolmentRequest
from enrolment.services import (
    ALREADY_ENROLLED_NUMBER,
    ALREADY_ENROLLED_SIRET,
    EnrolmentRefused,
    EnrolmentSubmission,
    format_enr,
    submit_enrolment,
)
from notifications.models import OutboundEmail
from segurnum.encryption import UnreadableDocument
from segurnum.storage import draft_storage
from tests import files
from tests.enrolment.wizard import GUIDE_IBAN, GUIDE_NUMBER, GUIDE_SIRET, Wizard, load_registries

pytestmark = pytest.mark.django_db

ENR_RE = re.compile(r"^ENR\d{4,}M0$")


@pytest.fixture(autouse=True)
def registries():
    load_registries()


def submission(number: str = GUIDE_NUMBER, siret: str = GUIDE_SIRET, key: uuid.UUID | None = None):
    key = key or uuid.uuid4()
    certificate = drafts.save_draft_file(str(key), files.pdf("certificat.pdf"))
    return EnrolmentSubmission(
        submission_key=key,
        referencing_number=number,
        company=Company(
            siret=siret,
            registry_denomination="ASSOCIATION SERVICES MEDIATION",
            denomination="ASSOCIATION SERVICES MEDIATION",
            trade_name="ASM",
            street_type="RUE",
            street_name="DE FIGUERAS",
            postal_code="13700",
            city="ST VICTORET",
        ),
        applicant=Applicant(
            is_legal_representative=True,
            representative_last_name="Oda",
            representative_first_name="Eishiro",
            representative_email="oda@example.fr",
            representative_phone="0668561565",
        ),
        bank=Bank(iban=GUIDE_IBAN, bic="CCFRFRPP", account_holder="ODA", bank_domiciliation="HSBC FRANCE"),
        vat_rate="ttc_20",
        documents={"referencing_certificate": certificate},
    )


def stored_documents(root):
    return sorted(p for p in (root / "documents").rglob("*") if p.is_file())


def test_enr_format():
    assert format_enr(11) == "ENR0011M0"
    assert format_enr(12345) == "ENR12345M0"


def test_numbers_follow_each_other(_isolated_storage):
    first = submit_enrolment(submission=submission(GUIDE_NUMBER, GUIDE_SIRET))
    second = submit_enrolment(submission=submission("tndSAS0033", "46293699800014"))
    assert (first.number, second.number) == ("ENR0001M0", "ENR0002M0")
    assert all(ENR_RE.match(n) for n in (first.number, second.number))
    assert len(stored_documents(_isolated_storage)) == 2


def test_same_submission_key_returns_the_first_request():
    key = uuid.uuid4()
    first = submit_enrolment(submission=submission(key=key))
    again = submit_enrolment(submission=submission(key=key))
    assert again.pk == first.pk
    assert EnrolmentRequest.objects.count() == 1
    assert OutboundEmail.objects.count() == 1


def test_submission_takes_ten_statements_whatever_the_number_of_documents(
    _isolated_storage, django_assert_max_num_queries
):
    """R-PERF-3: the software, the counter (one UPDATE … RETURNING), the request, its documents in
    one INSERT, its first status, its version M0 (the documents just stored, not read back), its
    acknowledgement and its flags' refresh (one INSERT each), plus the savepoint of the
    transaction opened here (the wizard's « Terminer » opens its own), whatever the documents."""
    data = submission()
    key = str(data.submission_key)
    for kind in ("rib", "representative_id", "vat_exemption_proof"):
        data.documents[kind] = drafts.save_draft_file(key, files.pdf(f"{kind}.pdf"))
    with django_assert_max_num_queries(10):
        enrolment = submit_enrolment(submission=data)
    assert enrolment.number == "ENR0001M0"
    assert enrolment.documents.count() == 4
    assert len(stored_documents(_isolated_storage)) == 4
    assert OutboundEmail.objects.get(enrolment=enrolment).kind == "enrolment_acknowledgement"


def test_same_submission_key_after_its_draft_is_gone_returns_the_first_request(
    _isolated_storage, django_capture_on_commit_callbacks
):
    data = submission()
    with django_capture_on_commit_callbacks(execute=True):
        first = submit_enrolment(submission=data)
    assert not draft_storage().exists(data.documents["referencing_certificate"]["path"])
    assert submit_enrolment(submission=data) == first
    assert EnrolmentRequest.objects.count() == 1
    assert len(stored_documents(_isolated_storage)) == 1


def test_database_refuses_a_second_request_for_the_same_number(_isolated_storage):
    submit_enrolment(submission=submission(GUIDE_NUMBER, GUIDE_SIRET))
    with pytest.raises(EnrolmentRefused) as refused:
        submit_enrolment(submission=submission(GUIDE_NUMBER, "39431067600017"))
    assert refused.value.message == ALREADY_ENROLLED_NUMBER
    assert (refused.value.step, refused.value.field) == ("referencing", "referencing_number")
    assert EnrolmentRequest.objects.count() == 1
    # Nothing of the refused request is left behind: no row, no file.
    assert EnrolmentDocument.objects.count() == 1
    assert len(stored_documents(_isolated_storage)) == 1


def test_database_refuses_a_second_request_for_the_same_siret():
    submit_enrolment(submission=submission(GUIDE_NUMBER, GUIDE_SIRET))
    with pytest.raises(EnrolmentRefused) as refused:
        submit_enrolment(submission=submission("tndSAS0040", GUIDE_SIRET))
    assert refused.value.message == ALREADY_ENROLLED_SIRET


def test_a_rejected_request_does_not_block():
    first = submit_enrolment(submission=submission())
    EnrolmentRequest.objects.filter(pk=first.pk).update(status=EnrolmentRequest.Status.REJECTED)
    second = submit_enrolment(submission=submission())
    assert second.number == "ENR0002M0"


def test_inactive_software_is_refused():
    with pytest.raises(EnrolmentRefused, match="n'est pas \\(ou plus\\) référencé"):
        submit_enrolment(submission=submission("tndSAS0039", "60380676105375"))


def test_rollback_gives_the_number_back(_isolated_storage):
    with pytest.raises(RuntimeError), transaction.atomic():
        submit_enrolment(submission=submission(GUIDE_NUMBER, GUIDE_SIRET))
        raise RuntimeError("panne pendant l'enregistrement")
    assert EnrolmentRequest.objects.count() == 0
    assert submit_enrolment(submission=submission(GUIDE_NUMBER, GUIDE_SIRET)).number == "ENR0001M0"


def test_draft_files_are_removed_once_stored(_isolated_storage, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submit_enrolment(submission=submission())
    assert not list((_isolated_storage / "drafts").rglob("*.pdf"))
    assert len(stored_documents(_isolated_storage)) == 1


# A draft kept by this version carries its seal: it becomes the document as a hard link. One kept
# before seals existed (a session of the day of the deployment) is copied, its plaintext checked.
KEPT_AS = pytest.mark.parametrize("kept_as", ["sealed", "unsealed"])


def kept(data: EnrolmentSubmission, kept_as: str) -> EnrolmentSubmission:
    if kept_as == "unsealed":
        for meta in data.documents.values():
            del meta["seal"]
    return data


def draft_path(root, data: EnrolmentSubmission):
    return root / "drafts" / data.documents["referencing_certificate"]["path"]


def test_the_document_is_the_draft_file_itself_not_a_copy(_isolated_storage):
    """R-PERF-1: « Terminer » writes no byte of the documents again, whatever their size."""
    data = submission()
    draft = draft_path(_isolated_storage, data)

    enrolment = submit_enrolment(submission=data)

    (stored,) = stored_documents(_isolated_storage)
    assert os.path.samefile(stored, draft)
    draft.unlink()  # the draft's removal, after the response, leaves the document whole
    document = enrolment.documents.get()
    with document.file.open() as opened:
        assert (
            hashlib.sha256(opened.read()).hexdigest()
            == document.sha256
            == data.documents["referencing_certificate"]["sha256"]
        )


@pytest.mark.parametrize("why", ["no seal", "no link"])
def test_a_draft_that_cannot_be_linked_is_copied_whole(_isolated_storage, monkeypatch, caplog, why):
    """A draft kept before seals existed, or documents on another filesystem than the drafts."""
    data = submission()
    if why == "no seal":
        kept(data, "unsealed")
    else:
        monkeypatch.setattr(
            os, "link", lambda *args, **kwargs: _raise(OSError(errno.EXDEV, "Invalid cross-device link"))
        )

    enrolment = submit_enrolment(submission=data)

    (stored,) = stored_documents(_isolated_storage)
    assert not os.path.samefile(stored, draft_path(_isolated_storage, data))
    with enrolment.documents.get().file.open() as opened:
        assert hashlib.sha256(opened.read()).hexdigest() == data.documents["referencing_certificate"]["sha256"]
    assert ("pas de lien possible" in caplog.text) == (why == "no link")


def _raise(error):
    raise error


@KEPT_AS
def test_a_tampered_draft_file_is_refused(_isolated_storage, kept_as):
    """A file put in place of a draft on the disk cannot even be decrypted (SECURITY P5)."""
    data = kept(submission(), kept_as)
    draft_path(_isolated_storage, data).write_bytes(files.pdf_bytes("autre contenu"))
    with pytest.raises(UnreadableDocument, match="altérée"):
        submit_enrolment(submission=data)
    assert EnrolmentRequest.objects.count() == 0
    assert stored_documents(_isolated_storage) == []


@KEPT_AS
def test_a_draft_replaced_through_the_storage_is_refused(_isolated_storage, kept_as):
    """Encrypted with the right key but not the file received: its seal (its own data key) or its
    digest gives it away."""
    data = kept(submission(), kept_as)
    name = data.documents["referencing_certificate"]["path"]
    draft_storage().delete(name)
    assert draft_storage().save(name, ContentFile(files.pdf_bytes("autre contenu"))) == name
    with pytest.raises(ValueError, match="altérée"):
        submit_enrolment(submission=data)
    assert EnrolmentRequest.objects.count() == 0
    assert stored_documents(_isolated_storage) == []


@KEPT_AS
def test_a_truncated_draft_is_refused(_isolated_storage, kept_as):
    """Its header intact, its last segment cut: the size in its seal, or the tag of its last
    segment, gives it away."""
    data = kept(submission(), kept_as)
    path = draft_path(_isolated_storage, data)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises((ValueError, UnreadableDocument), match="altérée|tronquée"):
        submit_enrolment(submission=data)
    assert EnrolmentRequest.objects.count() == 0
    assert stored_documents(_isolated_storage) == []


def test_request_taken_meanwhile_sends_the_vendor_back_with_a_french_message(client):
    """Between the look-up and « Terminer », another vendor enrolled the same software."""
    wizard = Wizard(client)
    wizard.referencing()
    wizard.applicant()
    wizard.bank()
    wizard.vat()
    submit_enrolment(submission=submission(GUIDE_NUMBER, "39431067600017"))
    response = wizard.confirm()
    assert response.redirect_chain[-1][0].endswith("/referencing/")
    assert "Ce numéro de référencement fait déjà l&#x27;objet d&#x27;une demande" in response.content.decode()
    assert EnrolmentRequest.objects.count() == 1
