"""State changes of enrolment requests. Views, admin actions, commands and tests call these."""

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from enrolment import drafts
from enrolment.models import (
    EnrolmentCounter,
    EnrolmentDocument,
    EnrolmentRequest,
    ReferencedSoftware,
    StatusChange,
)
from notifications.services import queue_email

logger = logging.getLogger(__name__)

ENR_COUNTER = "enr"


class EnrolmentRefused(Exception):
    """The request cannot be stored; ``field`` names the wizard field the message belongs to."""

    def __init__(self, message: str, *, step: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.field = field


ALREADY_ENROLLED_NUMBER = "Ce numéro de référencement fait déjà l'objet d'une demande d'enrôlement."
ALREADY_ENROLLED_SIRET = "Ce fournisseur (SIRET) a déjà effectué une demande d'enrôlement."
UNKNOWN_SOFTWARE = "Ce numéro de référencement n'est pas (ou plus) référencé par l'ANS."


@dataclass
class EnrolmentSubmission:
    """Everything the wizard collected, as plain values; documents are draft-file metadata."""

    submission_key: uuid.UUID
    referencing_number: str
    company: dict[str, Any]
    applicant: dict[str, Any]
    bank: dict[str, Any]
    vat_rate: str
    documents: dict[str, dict] = field(default_factory=dict)


def format_enr(sequence: int, modification: int = 0) -> str:
    return f"ENR{sequence:04d}M{modification}"


def next_enr_sequence() -> int:
    """Take the next number of the locked counter (see EnrolmentCounter). Call inside a transaction."""
    counter = EnrolmentCounter.objects.filter(name=ENR_COUNTER)
    if not counter.update(value=F("value") + 1):
        EnrolmentCounter.objects.get_or_create(name=ENR_COUNTER, defaults={"value": 0})
        counter.update(value=F("value") + 1)
    return counter.values_list("value", flat=True).get()


def active_request_exists(*, referencing_number: str = "", siret: str = "") -> bool:
    requests = EnrolmentRequest.objects.exclude(status=EnrolmentRequest.Status.REJECTED)
    if referencing_number:
        return requests.filter(referencing_number__iexact=referencing_number).exists()
    return requests.filter(siret=siret).exists()


def submit_enrolment(*, submission: EnrolmentSubmission) -> EnrolmentRequest:
    """Store the request, its documents and its first status in one transaction (R-WIZ-8).

    Returns the request with its ENR number. A second call with the same submission key (a
    double click, a replayed POST) returns the request stored by the first one. Raises
    EnrolmentRefused when the referencing number or the SIRET already has an active request
    (R-BIZ-1, R-BIZ-2: the database constraints decide, also under concurrency) or when the
    software is no longer referenced (R-BIZ-3).
    """
    existing = EnrolmentRequest.objects.filter(submission_key=submission.submission_key).first()
    if existing:
        return existing
    written: list[str] = []
    try:
        with transaction.atomic():
            enrolment = _create_request(submission)
            for kind, meta in submission.documents.items():
                document = _copy_document(enrolment, kind, meta)
                written.append(document.file.name)
            StatusChange.objects.create(enrolment=enrolment, from_status="", to_status=enrolment.status)
            _queue_acknowledgement(enrolment)
    except IntegrityError as error:
        _remove_files(written)
        existing = EnrolmentRequest.objects.filter(submission_key=submission.submission_key).first()
        if existing:
            return existing
        raise _refusal_for(error, submission) from error
    except BaseException:
        _remove_files(written)
        raise
    draft_key = str(submission.submission_key)
    transaction.on_commit(lambda: drafts.delete_draft(draft_key))
    return enrolment


def _create_request(submission: EnrolmentSubmission) -> EnrolmentRequest:
    software = ReferencedSoftware.objects.filter(
        referencing_number__iexact=submission.referencing_number, active=True
    ).first()
    if software is None:
        raise EnrolmentRefused(UNKNOWN_SOFTWARE, step="referencing", field="referencing_number")
    company, applicant, bank = submission.company, submission.applicant, submission.bank
    sequence = next_enr_sequence()
    return EnrolmentRequest.objects.create(
        number=format_enr(sequence),
        sequence=sequence,
        submission_key=submission.submission_key,
        software=software,
        referencing_number=software.referencing_number,
        software_name=software.software_name,
        software_version=software.version,
        dsr_label=software.dsr_label,
        siret=company["siret"],
        registry_denomination=company.get("registry_denomination", ""),
        denomination=company["denomination"],
        trade_name=company["trade_name"],
        recipient=company.get("recipient", ""),
        building=company.get("building", ""),
        street_number=company.get("street_number", ""),
        street_extension=company.get("street_extension", ""),
        street_type=company["street_type"],
        street_name=company["street_name"],
        address_complement=company.get("address_complement", ""),
        postal_code=company["postal_code"],
        city=company["city"],
        is_distributor=software.editor_siret != company["siret"],
        is_legal_representative=applicant["is_legal_representative"],
        representative_last_name=applicant["representative_last_name"],
        representative_first_name=applicant["representative_first_name"],
        representative_email=applicant["representative_email"],
        representative_phone=applicant["representative_phone"],
        depositor_last_name=applicant.get("depositor_last_name", ""),
        depositor_first_name=applicant.get("depositor_first_name", ""),
        depositor_email=applicant.get("depositor_email", ""),
        depositor_phone=applicant.get("depositor_phone", ""),
        third_party_quality=applicant.get("third_party_quality", ""),
        iban=bank["iban"],
        bic=bank["bic"],
        account_holder=bank["account_holder"],
        bank_domiciliation=bank["bank_domiciliation"],
        vat_rate=submission.vat_rate,
    )


def _copy_document(enrolment: EnrolmentRequest, kind: str, meta: dict) -> EnrolmentDocument:
    with drafts.open_draft_file(meta) as source:
        content = source.read()
    digest = hashlib.sha256(content).hexdigest()
    if digest != meta["sha256"]:
        raise ValueError(f"Pièce {kind} altérée depuis son dépôt")
    document = EnrolmentDocument(
        enrolment=enrolment,
        kind=kind,
        original_name=meta["name"],
        content_type=meta["content_type"],
        size=len(content),
        sha256=digest,
    )
    document.file.save("document", ContentFile(content), save=False)
    document.save()
    return document


def _remove_files(names: list[str]) -> None:
    from segurnum.storage import private_storage

    storage = private_storage()
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("Pièce %s non supprimée après échec de l'enregistrement", name, exc_info=True)


def _refusal_for(error: IntegrityError, submission: EnrolmentSubmission) -> EnrolmentRefused:
    text = str(error)
    if "referencing_number" in text or active_request_exists(referencing_number=submission.referencing_number):
        return EnrolmentRefused(ALREADY_ENROLLED_NUMBER, step="referencing", field="referencing_number")
    if "siret" in text or active_request_exists(siret=submission.company["siret"]):
        return EnrolmentRefused(ALREADY_ENROLLED_SIRET, step="applicant", field="siret")
    raise error


def _queue_acknowledgement(enrolment: EnrolmentRequest) -> None:
    """R-MAIL-1: to the representative and, for a tiers déclarant, to the depositor."""
    recipients = [enrolment.representative_email]
    if enrolment.depositor_email:
        recipients.append(enrolment.depositor_email)
    queue_email(
        key=f"enrolment:{enrolment.pk}:acknowledgement",
        kind="enrolment_acknowledgement",
        to=recipients,
        template="enrolment_acknowledgement",
        context={
            "enrolment": enrolment,
            "submitted_at": timezone.localtime(enrolment.submitted_at),
        },
        enrolment=enrolment,
    )
