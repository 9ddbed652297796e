"""State changes after submission: « A compléter » rounds (R-AFT-1) and modifications ENR…Mn
(R-AFT-2). Views, admin buttons, the beat task and tests call these; each runs in one transaction
and writes its mails to the notifications outbox in it.

The data model is described on ``enrolment.models.EnrolmentVersion``: the request holds the
values in force, each version and each correction round keeps the values it replaced.
"""

import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.services import issue_credentials
from enrolment import drafts
from enrolment.amendments import BLOCKS_BY_SLUG, CORRECTABLE, Amendment, item_label
from enrolment.models import CorrectionRound, EnrolmentDocument, EnrolmentRequest, EnrolmentVersion
from enrolment.selectors import pending_modification
from enrolment.services import DecisionRefused, _change_status, _remove_files
from enrolment.signals import request_stored
from notifications.services import queue_email

logger = logging.getLogger(__name__)

Status = EnrolmentRequest.Status
LINK_SALT = "enrolment.correction-link"

NOTHING_TO_CORRECT = "Cochez au moins un champ ou une pièce à compléter."
MESSAGE_REQUIRED = "Le message au demandeur est obligatoire : il lui explique ce qu'il doit corriger."
LINK_INVALID = "Ce lien n'est pas valide. Vérifiez que vous avez copié l'adresse complète du courriel reçu."
LINK_EXPIRED = (
    "Ce lien a expiré le {date}. Votre demande ne peut plus être complétée en ligne : contactez l'assistance en "
    "rappelant le numéro {number}."
)
LINK_USED = "Les compléments de la demande {number} ont déjà été envoyés : ce lien ne peut servir qu'une fois."
LINK_CLOSED = "La demande {number} n'attend plus de compléments : ce lien n'est plus utilisable."
MODIFICATION_PENDING = (
    "Une demande de modification ({number}) est déjà en cours d'instruction pour cet enrôlement : vous pourrez en "
    "déposer une autre une fois celle-ci traitée."
)
NOT_MODIFIABLE = "Seul un enrôlement validé peut faire l'objet d'une demande de modification."
NO_BLOCK = "Choisissez au moins un bloc à modifier."
INVALID = "Les informations saisies ne sont pas valides : corrigez les champs signalés."


class LinkRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Documents -----------------------------------------------------------------------------------


def _document_meta(document: EnrolmentDocument) -> dict[str, Any]:
    return {
        "file": document.file.name,
        "name": document.original_name,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
    }


def _store_files(enrolment: EnrolmentRequest, uploads: dict[str, dict], written: list[str]) -> dict[str, dict]:
    """Keep the judged draft files as documents of the private storage (``drafts.store_as_document``);
    returns their metadata by kind."""
    stored = {}
    for kind, meta in uploads.items():
        holder = EnrolmentDocument(enrolment=enrolment, kind=kind, content_type=meta["content_type"])
        field = EnrolmentDocument._meta.get_field("file")
        name = field.generate_filename(holder, "document")
        name = drafts.store_as_document(meta, kind, field.storage, name, max_length=field.max_length)
        written.append(name)
        stored[kind] = {**{key: meta[key] for key in ("name", "content_type", "size", "sha256")}, "file": name}
    return stored


def _apply_documents(enrolment: EnrolmentRequest, documents: dict[str, dict]) -> dict[str, dict]:
    """Put the new documents in force; returns those they replace (their files stay, as history)."""
    replaced = {}
    for kind, meta in documents.items():
        document = enrolment.documents.filter(kind=kind).first()
        if document is None:
            document = EnrolmentDocument(enrolment=enrolment, kind=kind)
        else:
            replaced[kind] = _document_meta(document)
        document.file.name = meta["file"]
        document.original_name = meta["name"]
        document.content_type = meta["content_type"]
        document.size = meta["size"]
        document.sha256 = meta["sha256"]
        document.uploaded_at = timezone.now()
        document.save()
    return replaced


def _apply_values(enrolment: EnrolmentRequest, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(enrolment, name, value)
    update = list(values)
    if "iban" in update:
        update.append("iban_hash")
    if update:
        enrolment.save(update_fields=update)


# --- « A compléter » (R-AFT-1) -------------------------------------------------------------------


def correction_token(round_: CorrectionRound) -> str:
    # Not timestamped: the reminder carries the same link; its validity is the round's expires_at.
    return signing.Signer(salt=LINK_SALT).sign_object({"r": round_.pk, "n": round_.nonce}, compress=True)


def correction_url(round_: CorrectionRound) -> str:
    # Built from the configured address, never from a request's Host header (SECURITY A6).
    return settings.SITE_URL + reverse("enrolment:complete", args=[correction_token(round_)])


def request_corrections(*, enrolment: EnrolmentRequest, by, items: list[str], message: str) -> CorrectionRound:
    """The agent's « Demander des compléments »: the request goes « A compléter » and the vendor
    gets a mail with a signed link, valid CORRECTION_LINK_DAYS, to a page with only ``items``."""
    items = [name for name in CORRECTABLE if name in set(items)]
    message = (message or "").strip()
    if not items:
        raise DecisionRefused(NOTHING_TO_CORRECT)
    if not message:
        raise DecisionRefused(MESSAGE_REQUIRED)
    with transaction.atomic():
        enrolment = _change_status(enrolment.pk, to=Status.TO_COMPLETE, by=by, comment=message)
        enrolment.save(update_fields=["status"])
        now = timezone.now()
        round_ = CorrectionRound.objects.create(
            enrolment=enrolment,
            number=enrolment.correction_rounds.count() + 1,
            items=items,
            message=message,
            requested_at=now,
            requested_by=by,
            expires_at=now + timedelta(days=settings.CORRECTION_LINK_DAYS),
            nonce=secrets.token_urlsafe(24),
        )
        _queue_correction_mail(round_, reminder=False)
    logger.info("Demande %s à compléter (tour %s) par %s", enrolment.number, round_.number, by)
    return round_


def _queue_correction_mail(round_: CorrectionRound, *, reminder: bool) -> None:
    enrolment = round_.enrolment
    name = "reminder" if reminder else "request"
    queue_email(
        key=f"enrolment:{enrolment.pk}:correction:{round_.number}:{name}",
        kind=f"enrolment_correction_{name}",
        to=enrolment.contact_emails,
        template=f"enrolment_correction_{name}",
        context={
            "enrolment": enrolment,
            "round": round_,
            "items": [item_label(item) for item in round_.items],
            "url": correction_url(round_),
            "expires_at": timezone.localtime(round_.expires_at),
        },
        enrolment=enrolment,
    )


def round_for_token(token: str, *, now=None) -> CorrectionRound:
    """The open round a link designates; LinkRefused says why not (forged, expired, used, closed)."""
    try:
        payload = signing.Signer(salt=LINK_SALT).unsign_object(token)
        round_ = CorrectionRound.objects.select_related("enrolment", "enrolment__software").get(pk=payload["r"])
    except (signing.BadSignature, CorrectionRound.DoesNotExist, KeyError, TypeError) as error:
        raise LinkRefused(LINK_INVALID) from error
    if not secrets.compare_digest(str(payload.get("n", "")), round_.nonce):
        raise LinkRefused(LINK_INVALID)
    number = round_.enrolment.number
    if round_.answered_at is not None:
        raise LinkRefused(LINK_USED.format(number=number))
    if round_.enrolment.status != Status.TO_COMPLETE:
        raise LinkRefused(LINK_CLOSED.format(number=number))
    if round_.is_expired(now):
        date = timezone.localtime(round_.expires_at).strftime("%d/%m/%Y à %H:%M")
        raise LinkRefused(LINK_EXPIRED.format(date=date, number=number))
    return round_


def correction_amendment(round_: CorrectionRound, **kwargs: Any) -> Amendment:
    """The wizard's forms with only the items the agent asked for, each document a new file."""
    documents = tuple(name for name in round_.items if name in _document_items())
    return Amendment(round_.enrolment, round_.items, renew=documents, **kwargs)


def _document_items() -> set[str]:
    from enrolment.amendments import is_document

    return {name for name in CORRECTABLE if is_document(name)}


def resubmit_corrections(*, token: str, amendment: Amendment) -> EnrolmentRequest:
    """« Renvoyer ma demande »: the corrections are stored, the number unchanged, the values and
    documents replaced kept on the round; the request goes back to the agents (« En cours
    d'instruction »). The link is spent. ``amendment`` must be valid."""
    if not amendment.is_valid():
        raise DecisionRefused(INVALID)
    written: list[str] = []
    try:
        with transaction.atomic():
            round_ = round_for_token(token)
            round_ = CorrectionRound.objects.select_for_update().get(pk=round_.pk)
            if round_.answered_at is not None:  # the same link sent twice at once
                raise LinkRefused(LINK_USED.format(number=round_.enrolment.number))
            enrolment = _change_status(
                round_.enrolment_id, to=Status.IN_REVIEW, by=None, comment=_round_comment(round_)
            )
            previous, values = amendment.changes()
            documents = _store_files(enrolment, amendment.new_documents(), written)
            enrolment.save(update_fields=["status"])
            _apply_values(enrolment, values)
            round_.previous_documents = _apply_documents(enrolment, documents)
            round_.values, round_.previous_values, round_.documents = values, previous, documents
            round_.answered_at = timezone.now()
            round_.save()
            request_stored.send(sender=EnrolmentRequest, enrolment=enrolment)  # R-OPS-3
            queue_email(
                key=f"enrolment:{enrolment.pk}:correction:{round_.number}:received",
                kind="enrolment_correction_received",
                to=enrolment.contact_emails,
                template="enrolment_correction_received",
                context={
                    "enrolment": enrolment,
                    "round": round_,
                    "answered_at": timezone.localtime(round_.answered_at),
                },
                enrolment=enrolment,
            )
    except BaseException:
        _remove_files(written)
        raise
    logger.info("Compléments reçus pour la demande %s (tour %s)", enrolment.number, round_.number)
    return enrolment


def _round_comment(round_: CorrectionRound) -> str:
    return f"Compléments envoyés par le demandeur (demande de compléments n° {round_.number})."


def send_correction_reminders(*, now=None) -> int:
    """R-AFT-1: one reminder per round still unanswered CORRECTION_REMINDER_DAYS after the request
    and not yet expired (the beat task, and the web process's housekeeping without beat)."""
    now = now or timezone.now()
    due = CorrectionRound.objects.filter(
        answered_at__isnull=True,
        reminded_at__isnull=True,
        enrolment__status=Status.TO_COMPLETE,
        requested_at__lte=now - timedelta(days=settings.CORRECTION_REMINDER_DAYS),
        expires_at__gt=now,
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            round_ = CorrectionRound.objects.select_for_update().select_related("enrolment").get(pk=pk)
            if round_.reminded_at is not None or round_.answered_at is not None:
                continue
            _queue_correction_mail(round_, reminder=True)
            round_.reminded_at = now
            round_.save(update_fields=["reminded_at"])
            sent += 1
    return sent


# --- Modifications ENR…Mn (R-AFT-2) --------------------------------------------------------------


def modification_amendment(enrolment: EnrolmentRequest, slugs: list[str], **kwargs: Any) -> Amendment:
    blocks = tuple(BLOCKS_BY_SLUG[slug] for slug in BLOCKS_BY_SLUG if slug in set(slugs))
    items = tuple(name for block in blocks for name in block.items)
    return Amendment(enrolment, items, blocks=blocks, **kwargs)


def request_modification(*, enrolment: EnrolmentRequest, by, amendment: Amendment) -> EnrolmentVersion:
    """« Terminer » of a modification: a pending version ENR…Mn with the values and documents it
    would put in force; the values in force stay until an agent validates it."""
    if not amendment.blocks:
        raise DecisionRefused(NO_BLOCK)
    if not amendment.is_valid():
        raise DecisionRefused(INVALID)
    written: list[str] = []
    try:
        with transaction.atomic():
            enrolment = EnrolmentRequest.objects.select_for_update().get(pk=enrolment.pk)
            if enrolment.status != Status.VALIDATED:
                raise DecisionRefused(NOT_MODIFIABLE)
            pending = pending_modification(enrolment)
            if pending is not None:
                raise DecisionRefused(MODIFICATION_PENDING.format(number=pending.number))
            previous, values = amendment.changes()
            index = (enrolment.versions.order_by("-index").values_list("index", flat=True).first() or 0) + 1
            version = EnrolmentVersion.objects.create(
                enrolment=enrolment,
                index=index,
                blocks=[block.slug for block in amendment.blocks],
                values=values,
                previous_values=previous,
                documents=_store_files(enrolment, amendment.new_documents(), written),
                submitted_by=by,
            )
            queue_email(
                key=f"enrolment:{enrolment.pk}:version:{index}:acknowledgement",
                kind="modification_acknowledgement",
                to=enrolment.contact_emails,
                template="modification_acknowledgement",
                context={
                    "enrolment": enrolment,
                    "version": version,
                    "submitted_at": timezone.localtime(version.submitted_at),
                },
                enrolment=enrolment,
            )
    except IntegrityError as error:
        # The partial unique index: another modification was stored at the same moment.
        _remove_files(written)
        raise DecisionRefused(MODIFICATION_PENDING.format(number="en cours")) from error
    except BaseException:
        _remove_files(written)
        raise
    logger.info("Demande de modification %s déposée", version.number)
    return version


def validate_modification(*, version: EnrolmentVersion, by, comment: str = "") -> EnrolmentVersion:
    """The agent validates ENR…Mn: its values and documents come in force. A bank change is
    mailed to the representative's old and new addresses; a new representative gets an account
    (the three-mail series) and the old account is closed."""
    with transaction.atomic():
        version = _lock_pending(version)
        enrolment = EnrolmentRequest.objects.select_for_update().get(pk=version.enrolment_id)
        old_emails = enrolment.contact_emails
        old_account = enrolment.account
        new_representative = "representative_email" in version.values and (
            version.values["representative_email"].lower() != enrolment.representative_email.lower()
        )
        _apply_values(enrolment, version.values)
        version.previous_documents = _apply_documents(enrolment, version.documents)
        version.status = EnrolmentVersion.Status.VALIDATED
        version.decided_by, version.decided_at, version.comment = by, timezone.now(), comment.strip()
        version.save()
        context = {"enrolment": enrolment, "version": version, "decided_at": timezone.localtime(version.decided_at)}
        decision = queue_email(
            key=f"enrolment:{enrolment.pk}:version:{version.index}:validation",
            kind="modification_validation",
            to=[*old_emails, *enrolment.contact_emails],
            template="modification_validation",
            context=context,
            enrolment=enrolment,
        )
        if any(name in version.values for name in ("iban", "bic", "account_holder", "bank_domiciliation")):
            queue_email(
                key=f"enrolment:{enrolment.pk}:version:{version.index}:bank",
                kind="modification_bank_change",
                to=[
                    version.previous_values.get("representative_email") or enrolment.representative_email,
                    enrolment.representative_email,
                ],
                template="modification_bank_change",
                context={**context, "masked_iban": enrolment.masked_iban},
                enrolment=enrolment,
            )
        if new_representative:
            enrolment.account = issue_credentials(
                first_name=enrolment.representative_first_name,
                last_name=enrolment.representative_last_name,
                email=enrolment.representative_email,
                number=enrolment.number,
                enrolment_id=enrolment.pk,
                after=decision,
                key=f"enrolment:{enrolment.pk}:version:{version.index}",
            )
            enrolment.save(update_fields=["account"])
            if old_account is not None:
                old_account.is_active = False
                old_account.save(update_fields=["is_active"])
                # The vendor's funding requests follow its enrolment to the new account.
                enrolment.funding_requests.update(account=enrolment.account)
        request_stored.send(sender=EnrolmentRequest, enrolment=enrolment)  # R-OPS-3
    logger.info("Modification %s validée par %s", version.number, by)
    return version


def reject_modification(*, version: EnrolmentVersion, by, reason: str) -> EnrolmentVersion:
    """The agent rejects ENR…Mn with a reason mailed to the vendor; the values in force stay."""
    reason = (reason or "").strip()
    if not reason:
        raise DecisionRefused("Le motif du rejet est obligatoire : il est communiqué au demandeur.")
    with transaction.atomic():
        version = _lock_pending(version)
        version.status = EnrolmentVersion.Status.REJECTED
        version.decided_by, version.decided_at, version.comment = by, timezone.now(), reason
        version.save()
        enrolment = version.enrolment
        queue_email(
            key=f"enrolment:{enrolment.pk}:version:{version.index}:rejection",
            kind="modification_rejection",
            to=enrolment.contact_emails,
            template="modification_rejection",
            context={"enrolment": enrolment, "version": version, "reason": reason},
            enrolment=enrolment,
        )
    return version


def _lock_pending(version: EnrolmentVersion) -> EnrolmentVersion:
    version = EnrolmentVersion.objects.select_for_update().select_related("enrolment").get(pk=version.pk)
    if version.status != EnrolmentVersion.Status.PENDING:
        raise DecisionRefused(
            f"La demande de modification {version.number} est déjà « {version.get_status_display().lower()} »."
        )
    return version
