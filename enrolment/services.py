"""State changes of enrolment requests. Views, admin actions, commands and tests call these."""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.services import issue_credentials
from audit import services as audit
from enrolment import drafts
from enrolment.field_groups import Applicant, Bank, Company
from enrolment.models import (
    ALREADY_ENROLLED_NUMBER,
    ALREADY_ENROLLED_SIRET,
    EnrolmentCounter,
    EnrolmentDocument,
    EnrolmentRequest,
    EnrolmentVersion,
    ReferencedSoftware,
    StatusChange,
    format_enr,
    is_distributor,
)
from enrolment.signals import request_stored
from notifications.services import queue_email
from segurnum import after_response, encryption
from segurnum.storage import private_storage, storage_errors

logger = logging.getLogger(__name__)

ENR_COUNTER = "enr"


class EnrolmentRefused(Exception):
    """The request cannot be stored; ``field`` names the wizard field the message belongs to."""

    def __init__(self, message: str, *, step: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.field = field


UNKNOWN_SOFTWARE = "Ce numéro de référencement n'est pas (ou plus) référencé par l'ANS."


@dataclass
class EnrolmentSubmission:
    """Everything the wizard collected, as plain values; documents are draft-file metadata."""

    submission_key: uuid.UUID
    referencing_number: str
    company: Company
    applicant: Applicant
    bank: Bank
    vat_rate: str
    documents: dict[str, dict] = field(default_factory=dict)


def next_enr_sequence() -> int:
    """Take the next number of the locked counter (see EnrolmentCounter). Call inside a transaction.

    One statement (UPDATE … RETURNING, PostgreSQL and SQLite ≥ 3.35), taken as late as possible in
    the submission: the counter row stays locked until the commit (R-PERF-3)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enrolment_enrolmentcounter SET value = value + 1 WHERE name = %s RETURNING value", [ENR_COUNTER]
        )
        row = cursor.fetchone()
    if row is None:
        EnrolmentCounter.objects.get_or_create(name=ENR_COUNTER, defaults={"value": 0})
        return next_enr_sequence()
    return row[0]


def active_request_exists(*, referencing_number: str = "", siret: str = "") -> bool:
    requests = EnrolmentRequest.objects.active()
    if referencing_number:
        return requests.filter(referencing_number__iexact=referencing_number).exists()
    return requests.filter(siret=siret).exists()


@contextmanager
def submission_transaction() -> Iterator[None]:
    """The one transaction of the wizard's final POST (SECURITY R5), from the captcha's check to
    the stored request: a POST sent twice at once is handled one after the other, the second one
    seeing the request stored by the first, with no lock statement of its own (R-PERF-3).

    What serialises them is already in the transaction. The same summary sent twice carries the
    same captcha: the first POST's DELETE of that code holds its row until the commit, and the
    second one's DELETE waits for it, then finds the code used up, stores nothing and finds the
    stored request by its key. Two different codes (two tabs) both reach the INSERT, where the
    unique submission key makes the second one wait for the first and return its request. SQLite
    (the embedded default) begins its transactions IMMEDIATE, which serialises every writer.
    """
    with transaction.atomic():
        yield


def submit_enrolment(*, submission: EnrolmentSubmission) -> EnrolmentRequest:
    """Store the request, its documents and its first status in one transaction (R-WIZ-8).

    Returns the request with its ENR number. A second call with the same submission key (a
    double click, a replayed POST) returns the request stored by the first one. Raises
    EnrolmentRefused when the referencing number or the SIRET already has an active request
    (R-BIZ-1, R-BIZ-2: the database constraints decide, also under concurrency) or when the
    software is no longer referenced (R-BIZ-3).
    """
    # No look-up of the key first (R-PERF-3): a request already stored under it makes the INSERT
    # fail on its unique key, and that request is returned below.
    written: list[str] = []
    try:
        with transaction.atomic():
            software = _referenced_software(submission)
            # The files first, before the number is taken: the counter row stays locked from its
            # UPDATE to the commit, not during the copies (R-PERF-3).
            documents = []
            for kind, meta in submission.documents.items():
                document = _keep_document(EnrolmentRequest(submission_key=submission.submission_key), kind, meta)
                written.append(document.file.name)
                documents.append(document)
            enrolment = _create_request(submission, software)
            for document in documents:
                document.enrolment = enrolment
            EnrolmentDocument.objects.bulk_create(documents)
            StatusChange.objects.create(enrolment=enrolment, from_status="", to_status=enrolment.status)
            record_original(enrolment, documents)
            _queue_acknowledgement(enrolment)
            request_stored.send(sender=EnrolmentRequest, enrolment=enrolment)  # R-OPS-3
    except IntegrityError as error:
        _remove_files(written)
        existing = EnrolmentRequest.objects.filter(submission_key=submission.submission_key).first()
        if existing:
            return existing
        raise _refusal_for(error, submission) from error
    except Exception:
        _remove_files(written)
        # An earlier call stored a request under this key (its draft files are gone since, or its
        # software has left the registry): that request stands.
        existing = _stored_quietly(submission.submission_key)
        if existing:
            return existing
        raise
    except BaseException:
        _remove_files(written)
        raise
    draft_key = str(submission.submission_key)
    after_response.after_commit(drafts.delete_draft, draft_key)
    return enrolment


def _stored_quietly(submission_key) -> EnrolmentRequest | None:
    try:
        return EnrolmentRequest.objects.filter(submission_key=submission_key).first()
    except DatabaseError:
        return None  # the database is the problem: the caller's error says so


def _referenced_software(submission: EnrolmentSubmission) -> ReferencedSoftware:
    software = ReferencedSoftware.objects.filter(
        referencing_number__iexact=submission.referencing_number, active=True
    ).first()
    if software is None:
        raise EnrolmentRefused(UNKNOWN_SOFTWARE, step="referencing", field="referencing_number")
    return software


def _create_request(submission: EnrolmentSubmission, software: ReferencedSoftware) -> EnrolmentRequest:
    company = submission.company
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
        **company.as_dict(),
        is_distributor=is_distributor(siret=company.siret, editor_siret=software.editor_siret),
        **submission.applicant.as_dict(),
        **submission.bank.as_dict(),
        vat_rate=submission.vat_rate,
    )


def record_original(enrolment: EnrolmentRequest, documents: list[EnrolmentDocument] | None = None) -> EnrolmentVersion:
    """The version M0 (R-AFT-2): a snapshot of the request as submitted, with its documents (those
    just stored can be given: no SELECT to read them back, R-PERF-3)."""
    names = (*Company.names(), *Applicant.names(), *Bank.names(), "vat_rate")
    return EnrolmentVersion.objects.create(
        enrolment=enrolment,
        index=0,
        status=EnrolmentVersion.Status.VALIDATED,
        values={name: getattr(enrolment, name) for name in names},
        documents={
            document.kind: {
                "file": document.file.name,
                "name": document.original_name,
                "content_type": document.content_type,
                "size": document.size,
                "sha256": document.sha256,
            }
            for document in (enrolment.documents.all() if documents is None else documents)
        },
        submitted_at=enrolment.submitted_at,
    )


def _keep_document(enrolment: EnrolmentRequest, kind: str, meta: dict) -> EnrolmentDocument:
    """The document's file only: its row is inserted with the others once the request exists. The
    caller removes the files written when anything later fails (disk full, database gone), so
    that no file outlives its transaction."""
    document = EnrolmentDocument(
        enrolment=enrolment,
        kind=kind,
        original_name=meta["name"],
        content_type=meta["content_type"],
        size=meta["size"],
        sha256=meta["sha256"],
    )
    field = document.file.field
    name = field.generate_filename(document, "document")
    document.file.name = drafts.store_as_document(meta, kind, field.storage, name, max_length=field.max_length)
    return document


def _remove_files(names: list[str]) -> None:
    storage = private_storage()
    for name in names:
        try:
            storage.delete(name)
        except storage_errors(storage):
            logger.warning("Pièce %s non supprimée après échec de l'enregistrement", name, exc_info=True)


def _refusal_for(error: IntegrityError, submission: EnrolmentSubmission) -> EnrolmentRefused:
    text = str(error)
    if "referencing_number" in text or active_request_exists(referencing_number=submission.referencing_number):
        return EnrolmentRefused(ALREADY_ENROLLED_NUMBER, step="referencing", field="referencing_number")
    if "siret" in text or active_request_exists(siret=submission.company.siret):
        return EnrolmentRefused(ALREADY_ENROLLED_SIRET, step="applicant", field="siret")
    raise error


def _queue_acknowledgement(enrolment: EnrolmentRequest) -> None:
    """R-MAIL-1: to the representative and, for a tiers déclarant, to the depositor."""
    queue_email(
        new_event=True,
        key=f"enrolment:{enrolment.pk}:acknowledgement",
        kind="enrolment_acknowledgement",
        to=enrolment.contact_emails,
        template="enrolment_acknowledgement",
        context={
            "enrolment": enrolment,
            "submitted_at": timezone.localtime(enrolment.submitted_at),
        },
        enrolment=enrolment,
    )


# --- Decisions (R-BO-1, R-BO-2, R-MAIL-2..4) ---------------------------------------------------

Status = EnrolmentRequest.Status

# Where each decision may start from: a decided request is never decided again.
NEXT_STATUSES: dict[str, set[str]] = {
    Status.SUBMITTED: {Status.IN_REVIEW, Status.VALIDATED, Status.REJECTED, Status.TO_COMPLETE},
    Status.IN_REVIEW: {Status.VALIDATED, Status.REJECTED, Status.TO_COMPLETE},
    # R-AFT-1: the vendor's corrections send it back to the agents; rejected once the link expired.
    Status.TO_COMPLETE: {Status.IN_REVIEW, Status.REJECTED},
    Status.VALIDATED: set(),
    Status.REJECTED: set(),
}
REASON_REQUIRED = "Le motif du rejet est obligatoire : il est communiqué au demandeur."


class DecisionRefused(Exception):
    """The change of status is not possible from the request's current status."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _change_status(enrolment_id: int, *, to: str, by, comment: str = "") -> EnrolmentRequest:
    """Lock the request, check the transition, record it. Call inside a transaction."""
    enrolment = EnrolmentRequest.objects.select_for_update().get(pk=enrolment_id)
    if to not in NEXT_STATUSES[enrolment.status]:
        raise DecisionRefused(
            f"La demande {enrolment.number} est « {enrolment.get_status_display().lower()} » : "
            f"elle ne peut pas passer au statut « {Status(to).label.lower()} »."
        )
    StatusChange.objects.create(enrolment=enrolment, from_status=enrolment.status, to_status=to, by=by, comment=comment)
    audit.record_decision(obj=enrolment, by=by, from_status=enrolment.status, to_status=to, comment=comment)
    enrolment.status = to
    if to in (Status.VALIDATED, Status.REJECTED):
        enrolment.decided_at = timezone.now()
    return enrolment


REJECT_BEFORE_EXPIRY = (
    "La demande {number} attend les compléments du demandeur : le lien qui lui a été envoyé est valable "
    "jusqu'au {date}. Elle ne pourra être rejetée qu'après cette date."
)


def check_rejection_allowed(enrolment: EnrolmentRequest, *, now=None) -> None:
    """R-AFT-1: a request « A compléter » may be rejected once its link has expired, not before.
    ``enrolment`` is the locked row, its status not yet changed."""
    if enrolment.status != Status.TO_COMPLETE:
        return
    round_ = enrolment.correction_rounds.filter(answered_at__isnull=True).first()
    if round_ is not None and not round_.is_expired(now):
        date = timezone.localtime(round_.expires_at).strftime("%d/%m/%Y à %H:%M")
        raise DecisionRefused(REJECT_BEFORE_EXPIRY.format(number=enrolment.number, date=date))


def start_review(*, enrolment: EnrolmentRequest, by) -> EnrolmentRequest:
    """« Prendre en charge »: the request is being instructed by an agent."""
    with transaction.atomic():
        enrolment = _change_status(enrolment.pk, to=Status.IN_REVIEW, by=by)
        enrolment.save(update_fields=["status"])
    return enrolment


def validate_enrolment(*, enrolment: EnrolmentRequest, by, comment: str = "") -> EnrolmentRequest:
    """Validate the request, create the vendor's account and queue three separate mails, in this
    order: the validation (R-MAIL-2), the identifiant, the temporary password (R-MAIL-3)."""
    with transaction.atomic():
        enrolment = _change_status(enrolment.pk, to=Status.VALIDATED, by=by, comment=comment.strip())
        validation_mail = queue_email(
            key=f"enrolment:{enrolment.pk}:validation",
            kind="enrolment_validation",
            to=enrolment.contact_emails,
            template="enrolment_validation",
            context={"enrolment": enrolment, "decided_at": timezone.localtime(enrolment.decided_at)},
            enrolment=enrolment,
        )
        enrolment.account = issue_credentials(
            first_name=enrolment.representative_first_name,
            last_name=enrolment.representative_last_name,
            email=enrolment.representative_email,
            number=enrolment.number,
            enrolment_id=enrolment.pk,
            after=validation_mail,
        )
        enrolment.save(update_fields=["status", "decided_at", "account"])
    logger.info("Demande %s validée par %s", enrolment.number, by)
    return enrolment


def reject_enrolment(*, enrolment: EnrolmentRequest, by, reason: str) -> EnrolmentRequest:
    """Reject the request with the agent's reason, which is mailed to the applicant (R-MAIL-4).
    The referencing number and the SIRET are free again for a new request (R-BIZ-1, R-BIZ-2)."""
    reason = (reason or "").strip()
    if not reason:
        raise DecisionRefused(REASON_REQUIRED)
    with transaction.atomic():
        check_rejection_allowed(EnrolmentRequest.objects.select_for_update().get(pk=enrolment.pk))
        enrolment = _change_status(enrolment.pk, to=Status.REJECTED, by=by, comment=reason)
        enrolment.save(update_fields=["status", "decided_at"])
        queue_email(
            key=f"enrolment:{enrolment.pk}:rejection",
            kind="enrolment_rejection",
            to=enrolment.contact_emails,
            template="enrolment_rejection",
            context={"enrolment": enrolment, "reason": reason, "decided_at": timezone.localtime(enrolment.decided_at)},
            enrolment=enrolment,
        )
    logger.info("Demande %s rejetée par %s", enrolment.number, by)
    return enrolment


# --- Encryption at rest (SECURITY P5) ----------------------------------------------------------

ROTATION_BATCH = 500


def rotate_iban_encryption() -> dict[str, int]:
    """Bring every stored IBAN under the newest key and its hash under the current search key
    (manage.py rotate_keys). Returns {"rotated": n, "current": n, "failed": n}. Rows are read as stored (the
    token, through a Cast that skips decryption) and rewritten only when needed, in batches. A
    row that no configured key opens is counted as "failed" and logged, never rewritten."""
    stored = EnrolmentRequest.objects.annotate(token=Cast("iban", output_field=TextField()))
    rows = stored.order_by("pk").values_list("pk", "token", "iban_hash")
    counts = {"rotated": 0, "current": 0, "failed": 0}
    batch: list[tuple[int, str]] = []
    for pk, token, stored_hash in rows.iterator(chunk_size=ROTATION_BATCH):
        try:
            iban = encryption.decrypt_text(token) if token else ""
        except encryption.UndecryptableValue:
            logger.error("IBAN de la demande %s illisible avec les clés configurées", pk)
            counts["failed"] += 1
            continue
        if (not token or encryption.is_token_current(token)) and stored_hash == (
            encryption.search_hash(iban) if iban else ""
        ):
            counts["current"] += 1
            continue
        batch.append((pk, iban))
        if len(batch) >= ROTATION_BATCH:
            counts["rotated"] += _rewrite_ibans(batch)
            batch = []
    counts["rotated"] += _rewrite_ibans(batch)
    return counts


def _rewrite_ibans(batch: list[tuple[int, str]]) -> int:
    with transaction.atomic():
        for pk, iban in batch:
            # update() goes through the field's get_db_prep_save: encrypted under the newest key.
            EnrolmentRequest.objects.filter(pk=pk).update(
                iban=iban, iban_hash=encryption.search_hash(iban) if iban else ""
            )
    return len(batch)
