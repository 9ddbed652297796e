"""State changes of funding requests (R-FIN-3..8). Views, the admin's buttons, the Celery task,
the demonstration command and the tests call these."""

import hashlib
import json
import logging
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit import services as audit
from enrolment.models import EnrolmentCounter
from enrolment.uploads import CheckedUpload, safe_display_name
from funding import selectors
from funding.anomalies import Anomaly, Severity
from funding.engine import CheckResult, check_files
from funding.models import (
    FundingCheck,
    FundingDocument,
    FundingLine,
    FundingRequest,
    FundingStatusChange,
    FundingVersion,
    format_fin,
)
from funding.signals import funding_request_stored
from notifications.services import queue_email
from segurnum.storage import private_storage, storage_errors

logger = logging.getLogger(__name__)

Status = FundingRequest.Status
Purpose = FundingCheck.Purpose
FIN_COUNTER = "fin"

ALREADY_OPEN = (
    "Vous avez déjà une demande de financement : un fournisseur SAS ne peut faire qu'une seule demande de financement."
)
NOT_ENROLLED = "Votre demande d'enrôlement doit être validée par l'ASP avant toute demande de financement."
STORAGE_FAILED = "Vos fichiers n'ont pas pu être enregistrés. Veuillez réessayer dans quelques instants."
CHECK_FAILED = "Le contrôle de vos fichiers n'a pas pu aboutir. Veuillez les envoyer à nouveau."
CHECK_NOT_USABLE = "Ce contrôle ne permet pas de déposer : envoyez à nouveau vos fichiers."
JSON_REQUIRED = "Joignez le fichier json de votre demande."
ZIP_REQUIRED = "Joignez le fichier zip des pièces."
NOTHING_SENT = "Joignez un fichier json corrigé, un fichier zip, ou les deux."


class FundingRefused(Exception):
    """The action cannot be done; ``field`` names the form field the French message belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _next_fin_sequence() -> int:
    """The next number of the locked counter row (as ENR): gapless, never reused."""
    counter = EnrolmentCounter.objects.filter(name=FIN_COUNTER)
    if not counter.update(value=F("value") + 1):
        EnrolmentCounter.objects.get_or_create(name=FIN_COUNTER, defaults={"value": 0})
        counter.update(value=F("value") + 1)
    return counter.values_list("value", flat=True).get()


# --- checks (the engine run by a Celery task) ------------------------------------------------------


def window_closed_message(moment=None) -> str:
    """Empty while a window is open; otherwise says when the next one opens (R-FIN-7)."""
    if selectors.open_window(moment):
        return ""
    upcoming = selectors.next_window(moment)
    if upcoming:
        opens = timezone.localtime(upcoming.opens_at)
        return (
            "Le guichet de dépôt des demandes de financement est fermé. Le prochain ouvre le "
            f"{opens:%d/%m/%Y} à {opens:%H:%M} (heure de Paris)."
        )
    return "Le guichet de dépôt des demandes de financement est fermé. Aucune ouverture n'est programmée."


def start_check(
    *,
    purpose: str,
    json_upload=None,
    zip_upload=None,
    account=None,
    request: FundingRequest | None = None,
    reuse: FundingCheck | None = None,
) -> FundingCheck:
    """Keep the files in the private storage (streamed, under server names) and queue the check.

    ``reuse``: an earlier filing check of this vendor whose JSON was refused but whose zip was
    accepted; without a new zip, its pieces move to this check. Raises FundingRefused when a
    required file is missing or the storage fails (nothing kept).
    """
    if purpose in (Purpose.PUBLIC_SIMULATION, Purpose.PRIVATE_SIMULATION, Purpose.FILING) and json_upload is None:
        raise FundingRefused(JSON_REQUIRED, field="fichier_json")
    if purpose == Purpose.ZIP_COMPLETION and zip_upload is None:
        raise FundingRefused(ZIP_REQUIRED, field="fichier_zip")
    if purpose == Purpose.NEW_VERSION and json_upload is None and zip_upload is None:
        raise FundingRefused(NOTHING_SENT, field="fichier_json")
    check = FundingCheck(purpose=purpose, account=account, request=request)
    storage = private_storage()
    try:
        if json_upload is not None:
            check.json_name = _display_name(json_upload.name)
            check.json_size, check.json_sha256 = _size_and_digest(json_upload)
            check.json_file = storage.save(f"{check.folder}/demande.json", File(json_upload))
        if zip_upload is not None:
            check.zip_name = _display_name(zip_upload.name)
            check.zip_file = storage.save(f"{check.folder}/pieces.zip", File(zip_upload))
    except storage_errors(storage) as error:
        logger.error("Fichiers de financement non enregistrés : %s", error)
        _delete_files([check.json_file, check.zip_file])
        raise FundingRefused(STORAGE_FAILED) from error
    with transaction.atomic():
        if reuse is not None and zip_upload is None:
            previous = FundingCheck.objects.select_for_update().get(pk=reuse.pk)
            if (
                previous.account_id == getattr(account, "pk", None)
                and previous.purpose == purpose
                and not previous.used
            ):
                check.pieces, check.zip_name = previous.pieces, previous.zip_name
                previous.pieces = {}
                previous.save(update_fields=["pieces"])
        check.save()
        transaction.on_commit(lambda: enqueue_check(check.pk))
    return check


def _display_name(name: str | None) -> str:
    return safe_display_name(name)


def _size_and_digest(upload) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return size, digest.hexdigest()


def enqueue_check(check_id) -> None:
    """Hand the check to a worker; a broker that is down leaves it pending for the re-queue."""
    from funding.tasks import run_funding_check  # tasks imports this module

    try:
        run_funding_check.apply_async(args=[str(check_id)], retry=False)
    except Exception:
        logger.warning("Contrôle %s laissé en attente : file de messages indisponible", check_id, exc_info=True)


class _ProgressWriter:
    """Writes the progress on the check's row, at most twice a second."""

    def __init__(self, check_id) -> None:
        self.check_id = check_id
        self.last = 0.0
        self.percent = -1

    def __call__(self, fraction: float, label: str) -> None:
        percent = int(fraction * 100)
        now = time.monotonic()
        if percent != self.percent and (now - self.last > 0.5 or percent in (0, 100)):
            FundingCheck.objects.filter(pk=self.check_id).update(progress=percent, progress_label=label[:100])
            self.percent, self.last = percent, now


def run_check(*, check_id) -> FundingCheck | None:
    """The task's body: run the engine on a check's files and keep its report.

    Simulations keep nothing but the report; a filing keeps its JSON and its accepted pieces until
    « Terminer » (or the purge). The zip itself is never kept: its pieces are.
    """
    with transaction.atomic():
        check = FundingCheck.objects.select_for_update().filter(pk=check_id).first()
        if check is None or check.state != FundingCheck.State.PENDING:
            return check
        check.state = FundingCheck.State.RUNNING
        check.save(update_fields=["state"])
    storage = private_storage()
    kept: list[str] = []
    # Pieces accepted by an earlier check of the same filing whose JSON was refused: the vendor
    # sent only a corrected JSON; the pieces are checked against it by name.
    carried = dict(check.pieces) if check.purpose == Purpose.FILING and not check.zip_file else {}
    try:
        result = _run_engine(check, storage, kept)
    except Exception:
        logger.exception("Contrôle %s en échec", check.pk)
        _delete_files([check.json_file, check.zip_file, *kept, *_piece_files(carried)])
        FundingCheck.objects.filter(pk=check.pk).update(
            state=FundingCheck.State.FAILED,
            error=CHECK_FAILED,
            finished_at=timezone.now(),
            json_file="",
            zip_file="",
            pieces={},
        )
        return None
    if carried:
        result.zip_given = True
    accepted = (result.pieces or carried) if result.zip_accepted else {}
    if not accepted:
        _delete_files([*kept, *_piece_files(carried)])
    simulation = check.purpose in (Purpose.PUBLIC_SIMULATION, Purpose.PRIVATE_SIMULATION)
    usable = check.purpose != Purpose.ZIP_COMPLETION or result.zip_accepted
    if simulation or not usable or (not result.json_accepted and check.purpose != Purpose.FILING):
        _delete_files([check.json_file, *_piece_files(accepted)])
        check.json_file, pieces = "", {}
    elif not result.json_accepted:
        # A filing whose JSON is refused keeps its accepted pieces: nothing already sent is lost,
        # the vendor sends only the corrected JSON (start_check(reuse=…)).
        _delete_files([check.json_file])
        check.json_file, pieces = "", accepted
    else:
        pieces = accepted
    _delete_files([check.zip_file])
    check.zip_file = ""
    check.report = report_as_json(result)
    check.pieces = pieces
    check.state = FundingCheck.State.DONE
    check.progress, check.progress_label = 100, "Contrôle terminé"
    check.finished_at = timezone.now()
    fields = ["json_file", "zip_file", "report", "pieces", "state", "progress", "progress_label", "finished_at"]
    check.save(update_fields=fields)
    return check


def _run_engine(check: FundingCheck, storage, kept: list[str]) -> CheckResult:
    vendor, window_closed, known_pieces, json_name = None, "", None, check.json_file
    if check.purpose in (Purpose.PRIVATE_SIMULATION, Purpose.FILING, Purpose.NEW_VERSION):
        enrolment = selectors.validated_enrolment(check.account)
        if enrolment is None:
            raise FundingRefused(NOT_ENROLLED)
        vendor = selectors.vendor_context(enrolment)
    if check.purpose in (Purpose.PRIVATE_SIMULATION, Purpose.FILING):
        window_closed = window_closed_message()
    current = check.request.current_version if check.request_id else None
    if current is not None and not check.json_file:
        json_name = current.json_file.name  # a new version or the zip of an incomplete request
    if check.purpose == Purpose.NEW_VERSION and not check.zip_file and current is not None:
        known_pieces = list(current.documents.values_list("name", flat=True))
    if check.purpose == Purpose.FILING and not check.zip_file and check.pieces:
        known_pieces = list(check.pieces)

    def keep(name: str, checked: CheckedUpload) -> dict:
        stored = storage.save(f"{check.folder}/{uuid.uuid4().hex}.{checked.extension}", ContentFile(checked.content))
        kept.append(stored)
        return {"file": stored, "content_type": checked.content_type, "size": checked.size, "sha256": checked.sha256}

    filing = check.purpose in (Purpose.FILING, Purpose.NEW_VERSION, Purpose.ZIP_COMPLETION)
    with storage.open(json_name, "rb") as json_file, _local_copy(storage, check.zip_file) as zip_file:
        result = check_files(
            json_file=json_file,
            zip_file=zip_file,
            vendor=vendor,
            period=selectors.scheme_period(),
            window_closed=window_closed,
            known_pieces=known_pieces,
            keep=keep if filing else None,
            progress=_ProgressWriter(check.pk),
        )
    if check.purpose == Purpose.PRIVATE_SIMULATION and window_closed:
        # The simulators stay open (R-FIN-7): the closed window is said, it does not block.
        result.anomalies = [
            Anomaly(**{**a.__dict__, "severity": Severity.WARNING}) if a.code == "guichet_ferme" else a
            for a in result.anomalies
        ]
    return result


class _local_copy:  # noqa: N801 - used as a context manager
    """The zip copied chunk by chunk from the storage to a local temporary file: zipfile needs to
    seek, which an object store (or an encrypting backend) does not offer."""

    def __init__(self, storage, name: str) -> None:
        self.storage, self.name, self.temporary = storage, name, None

    def __enter__(self):
        if not self.name:
            return None
        self.temporary = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        with self.storage.open(self.name, "rb") as source:
            for chunk in source.chunks():
                self.temporary.write(chunk)
        self.temporary.seek(0)
        return self.temporary

    def __exit__(self, *exc_info) -> None:
        if self.temporary is not None:
            self.temporary.close()


def report_as_json(result: CheckResult) -> dict[str, Any]:
    return {
        "anomalies": [anomaly.as_dict() for anomaly in result.anomalies],
        "anomaly_count": result.anomaly_count,
        "beneficiary_count": result.beneficiary_count,
        "total_ht": None if result.total_ht is None else str(result.total_ht),
        "total_ttc": None if result.total_ttc is None else str(result.total_ttc),
        "zip_given": result.zip_given,
        "conforming": result.conforming,
        "json_accepted": result.json_accepted,
        "zip_accepted": result.zip_accepted,
    }


def _piece_files(pieces: dict[str, dict]) -> list[str]:
    return [meta["file"] for meta in pieces.values() if meta.get("file")]


def _delete_files(names) -> None:
    storage = private_storage()
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except storage_errors(storage):
            logger.warning("Fichier %s non supprimé", name, exc_info=True)


def purge_checks(now=None) -> int:
    """Forget simulation reports after an hour and unfinished filings after a day, with their
    files; a check whose files were used by a request keeps them (they are the request's)."""
    from datetime import timedelta

    now = now or timezone.now()
    simulations = FundingCheck.objects.filter(
        purpose__in=(Purpose.PUBLIC_SIMULATION, Purpose.PRIVATE_SIMULATION),
        created_at__lt=now - timedelta(minutes=settings.FUNDING_SIMULATION_REPORT_MINUTES),
    )
    others = FundingCheck.objects.exclude(purpose__in=(Purpose.PUBLIC_SIMULATION, Purpose.PRIVATE_SIMULATION)).filter(
        created_at__lt=now - timedelta(hours=settings.FUNDING_CHECK_MAX_AGE_HOURS)
    )
    removed = 0
    for check in [*simulations, *others]:
        if not check.used:
            _delete_files([check.json_file, check.zip_file, *_piece_files(check.pieces)])
        check.delete()
        removed += 1
    return removed


def requeue_checks(older_than_seconds: int = 120) -> int:
    from datetime import timedelta

    limit = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        FundingCheck.objects.filter(state=FundingCheck.State.PENDING, created_at__lte=limit).values_list(
            "pk", flat=True
        )[:100]
    )
    for check_id in ids:
        enqueue_check(check_id)
    return len(ids)


# --- filing (R-FIN-5) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedLine:
    position: int
    identifier_type: str
    identifier: str
    name: str
    postal_code: str
    order_number: str
    order_date: date
    connection_date: date
    amount_ht: Decimal
    pieces: list[str]


def _parse_document(name: str, expected_sha256: str = "") -> tuple[dict, list[ParsedLine]]:
    """The accepted JSON again, from the storage (never trusted if its digest changed)."""
    with private_storage().open(name, "rb") as source:
        data = source.read(int(settings.FUNDING_JSON_MAX_BYTES) + 1)
    if expected_sha256 and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ValueError("Fichier json modifié depuis son contrôle")
    document = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    lines = []
    for position, line in enumerate(document["beneficiaires"]):
        person = " ".join(part for part in (line.get("nom", ""), line.get("prenom", "")) if part)
        lines.append(
            ParsedLine(
                position=position,
                identifier_type=line["type_identifiant"],
                identifier=line["identifiant"].strip().upper(),
                name=(line.get("raison_sociale") or person)[:250],
                postal_code=line["code_postal"],
                order_number=line["numero_bon_de_commande"],
                order_date=date.fromisoformat(line["date_bon_de_commande"]),
                connection_date=date.fromisoformat(line["date_raccordement"]),
                amount_ht=Decimal(line["montant_ht"]),
                pieces=list(line["pieces"]),
            )
        )
    return document, lines


def parsed_lines(check: FundingCheck) -> list[ParsedLine]:
    """The lines of a checked file, for the recap before « Terminer »."""
    if check.json_file:
        return _parse_document(check.json_file, check.json_sha256)[1]
    version = check.request.current_version
    return _parse_document(version.json_file.name, version.json_sha256)[1]


def _usable_check(check: FundingCheck, *, account, purpose: str) -> FundingCheck:
    check = FundingCheck.objects.select_for_update().get(pk=check.pk)
    if (
        check.account_id != account.pk
        or check.purpose != purpose
        or check.state != FundingCheck.State.DONE
        or not check.report.get("json_accepted")
        or check.used
    ):
        raise FundingRefused(CHECK_NOT_USABLE)
    return check


def _create_version(request: FundingRequest, check: FundingCheck, number: int) -> FundingVersion:
    current = request.current_version
    json_name = check.json_file or current.json_file.name
    sha256 = check.json_sha256 if check.json_file else current.json_sha256
    document, lines = _parse_document(json_name, sha256)
    if check.zip_name or not current:
        zip_state = FundingVersion.ZipState.ACCEPTED if check.pieces else FundingVersion.ZipState.REFUSED
        if not check.zip_name:
            zip_state = FundingVersion.ZipState.MISSING
    else:
        zip_state = FundingVersion.ZipState.CARRIED if current.documents.exists() else FundingVersion.ZipState.MISSING
    version = FundingVersion.objects.create(
        request=request,
        number=number,
        json_file=json_name,
        json_name=check.json_name or current.json_name,
        json_size=check.json_size or current.json_size,
        json_sha256=sha256,
        zip_name=check.zip_name or (current.zip_name if current else ""),
        zip_state=zip_state,
        report=check.report.get("anomalies", []),
        beneficiary_count=len(lines),
        amount_ht=Decimal(document["demande"]["montant_ht"]),
        amount_ttc=Decimal(document["demande"]["montant_ttc"]),
        vat_rate=document["demande"]["taux_tva"],
    )
    FundingLine.objects.bulk_create(
        [FundingLine(version=version, request=request, **line.__dict__) for line in lines], batch_size=1000
    )
    if zip_state == FundingVersion.ZipState.CARRIED:
        _attach_documents(
            version, [(d.name, d.file.name, d.content_type, d.size, d.sha256) for d in current.documents.all()]
        )
    elif check.pieces:
        _attach_documents(
            version,
            [(name, m["file"], m["content_type"], m["size"], m["sha256"]) for name, m in check.pieces.items()],
        )
    request.current_version = version
    request.beneficiary_count = version.beneficiary_count
    request.amount_ht, request.amount_ttc = version.amount_ht, version.amount_ttc
    check.used = True
    check.save(update_fields=["used"])
    return version


def _attach_documents(version: FundingVersion, rows: list[tuple]) -> None:
    FundingDocument.objects.bulk_create(
        [
            FundingDocument(
                version=version, request=version.request, name=name, file=file, content_type=kind, size=size, sha256=sha
            )
            for name, file, kind, size, sha in rows
        ],
        batch_size=1000,
    )


def _record(request: FundingRequest, *, to: str, by=None, comment: str = "", version=None) -> FundingStatusChange:
    change = FundingStatusChange.objects.create(
        request=request, from_status=request.status or "", to_status=to, by=by, comment=comment, version=version
    )
    request.status = to
    return change


def _mail(request: FundingRequest, change: FundingStatusChange, template: str, **context: Any) -> None:
    """Every transition is mailed to the representative (and the depositor) through the outbox."""
    enrolment = request.enrolment
    queue_email(
        key=f"funding:{request.pk}:change:{change.pk}",
        kind=template,
        to=enrolment.contact_emails,
        template=template,
        context={
            "funding": request,
            "change": change,
            "user": request.account,
            "at": timezone.localtime(change.at),
            "portal_url": settings.SITE_URL + "/espace/demande-de-financement/",
            **context,
        },
        enrolment=enrolment,
    )


def file_funding_request(*, check: FundingCheck, account) -> FundingRequest:
    """« Terminer »: the request, its first version, its lines and pieces, its history and the
    acknowledgement mail, in one transaction (R-FIN-5).

    The check's id is the submission key: « Terminer » sent twice gives one request. The database
    allows one open request per vendor: two filings at once give one request, the other gets
    FundingRefused(ALREADY_OPEN).
    """
    existing = FundingRequest.objects.filter(submission_key=check.pk).first()
    if existing:
        return existing
    enrolment = selectors.validated_enrolment(account)
    if enrolment is None:
        raise FundingRefused(NOT_ENROLLED)
    window = selectors.open_window()
    if window is None:
        raise FundingRefused(window_closed_message())
    try:
        with transaction.atomic():
            check = _usable_check(check, account=account, purpose=Purpose.FILING)
            sequence = _next_fin_sequence()
            request = FundingRequest.objects.create(
                number=format_fin(sequence),
                sequence=sequence,
                submission_key=check.pk,
                enrolment=enrolment,
                account=account,
                siret=enrolment.siret,
                window=window,
                status="",
                amount_ht=0,
                amount_ttc=0,
            )
            version = _create_version(request, check, 1)
            status = Status.SUBMITTED if version.zip_state == FundingVersion.ZipState.ACCEPTED else Status.INCOMPLETE
            change = _record(request, to=status, version=version)
            request.save()
            _mail(request, change, "funding_acknowledgement", version=version)
            funding_request_stored.send(sender=FundingRequest, funding_request=request)  # R-OPS-3
    except (IntegrityError, FundingRefused) as error:
        # The same « Terminer » handled by another request first (a double click): its request.
        existing = FundingRequest.objects.filter(submission_key=check.pk).first()
        if existing:
            return existing
        if isinstance(error, FundingRefused):
            raise
        if FundingRequest.objects.filter(siret=enrolment.siret).exclude(status=Status.REJECTED).exists():
            raise FundingRefused(ALREADY_OPEN) from error
        raise
    logger.info("Demande de financement %s déposée (%s)", request.number, request.get_status_display())
    return request


def send_new_version(*, check: FundingCheck, account) -> FundingRequest:
    """The corrected JSON and/or zip after « A modifier »: a new version, every one kept; the
    request is « Déposée » again (or « Incomplète » without accepted pieces)."""
    with transaction.atomic():
        check = _usable_check(check, account=account, purpose=Purpose.NEW_VERSION)
        request = FundingRequest.objects.select_for_update().get(pk=check.request_id, account=account)
        if request.status != Status.TO_MODIFY:
            raise FundingRefused(f"La demande {request.number} n'attend pas de nouvelle version.")
        number = request.versions.count() + 1
        version = _create_version(request, check, number)
        accepted = (FundingVersion.ZipState.ACCEPTED, FundingVersion.ZipState.CARRIED)
        status = Status.SUBMITTED if version.zip_state in accepted else Status.INCOMPLETE
        change = _record(request, to=status, comment=f"Version {number} envoyée par le fournisseur.", version=version)
        request.save()
        _mail(request, change, "funding_status", version=version)
        funding_request_stored.send(sender=FundingRequest, funding_request=request)  # R-OPS-3
    return request


def complete_zip(*, check: FundingCheck, account) -> FundingRequest:
    """« Suivi demandes incomplètes »: the zip sent again for an « Incomplète » request; once its
    pieces are accepted, they join the current version and the request is « Déposée »."""
    with transaction.atomic():
        check = FundingCheck.objects.select_for_update().get(pk=check.pk)
        if (
            check.account_id != account.pk
            or check.purpose != Purpose.ZIP_COMPLETION
            or check.used
            or not check.report.get("zip_accepted")
        ):
            raise FundingRefused(CHECK_NOT_USABLE)
        request = FundingRequest.objects.select_for_update().get(pk=check.request_id, account=account)
        if request.status != Status.INCOMPLETE:
            raise FundingRefused(f"La demande {request.number} n'est pas incomplète.")
        version = request.current_version
        _attach_documents(
            version,
            [(name, m["file"], m["content_type"], m["size"], m["sha256"]) for name, m in check.pieces.items()],
        )
        version.zip_name, version.zip_state = check.zip_name, FundingVersion.ZipState.ACCEPTED
        version.save(update_fields=["zip_name", "zip_state"])
        check.used = True
        check.save(update_fields=["used"])
        change = _record(request, to=Status.SUBMITTED, comment="Pièces (zip) complétées par le fournisseur.")
        request.save(update_fields=["status"])
        _mail(request, change, "funding_status")
    return request


# --- decisions (R-FIN-6, R-FIN-7) -------------------------------------------------------------------

OPEN_STATUSES = (Status.INCOMPLETE, Status.SUBMITTED, Status.IN_REVIEW, Status.TO_MODIFY, Status.VALIDATED)
NEXT_STATUSES: dict[str, set[str]] = {
    Status.INCOMPLETE: {Status.SUBMITTED, Status.REJECTED},
    Status.SUBMITTED: {Status.IN_REVIEW, Status.TO_MODIFY, Status.VALIDATED, Status.REJECTED},
    Status.IN_REVIEW: {Status.TO_MODIFY, Status.VALIDATED, Status.REJECTED},
    Status.TO_MODIFY: {Status.SUBMITTED, Status.INCOMPLETE, Status.REJECTED},
    Status.VALIDATED: {Status.PAID, Status.REJECTED},
    Status.PAID: set(),
    Status.REJECTED: set(),
}
REASON_REQUIRED = "Le motif est obligatoire : il est communiqué au fournisseur."


def _decide(request: FundingRequest, *, to: str, by, comment: str = "") -> tuple[FundingRequest, FundingStatusChange]:
    request = FundingRequest.objects.select_for_update().get(pk=request.pk)
    if to not in NEXT_STATUSES[request.status]:
        raise FundingRefused(
            f"La demande {request.number} est « {request.get_status_display()} » : elle ne peut pas passer au "
            f"statut « {Status(to).label} »."
        )
    audit.record_decision(obj=request, by=by, from_status=request.status, to_status=to, comment=comment)
    change = _record(request, to=to, by=by, comment=comment, version=request.current_version)
    if to in (Status.VALIDATED, Status.PAID, Status.REJECTED):
        request.decided_at = timezone.now()
    return request, change


def start_review(*, request: FundingRequest, by) -> FundingRequest:
    """« Prendre en charge » : « En cours d'instruction »."""
    with transaction.atomic():
        request, change = _decide(request, to=Status.IN_REVIEW, by=by)
        request.save(update_fields=["status"])
        _mail(request, change, "funding_status")
    return request


def ask_modification(*, request: FundingRequest, by, reason: str) -> FundingRequest:
    """« A modifier » with the agent's reason: the vendor sends a new version."""
    reason = (reason or "").strip()
    if not reason:
        raise FundingRefused(REASON_REQUIRED, field="reason")
    with transaction.atomic():
        request, change = _decide(request, to=Status.TO_MODIFY, by=by, comment=reason)
        request.save(update_fields=["status"])
        _mail(request, change, "funding_status", reason=reason)
    return request


def validate_request(*, request: FundingRequest, by, comment: str = "") -> FundingRequest:
    with transaction.atomic():
        request, change = _decide(request, to=Status.VALIDATED, by=by, comment=(comment or "").strip())
        request.save(update_fields=["status", "decided_at"])
        _mail(request, change, "funding_status")
    return request


def mark_paid(*, request: FundingRequest, by, amount: str, paid_on: str | date, reference: str) -> FundingRequest:
    """« Décidée et payée » : the amount paid, the payment date and the payment reference."""
    try:
        paid_amount = Decimal(str(amount).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as error:
        raise FundingRefused("Le montant payé doit être un montant en euros, ex. 2580.00.", field="amount") from error
    if paid_amount <= 0 or paid_amount != paid_amount.quantize(Decimal("0.01")):
        raise FundingRefused("Le montant payé doit être supérieur à 0 €, au centime près.", field="amount")
    try:
        day = paid_on if isinstance(paid_on, date) else date.fromisoformat(str(paid_on).strip())
    except ValueError as error:
        raise FundingRefused("La date de paiement doit être une date AAAA-MM-JJ.", field="paid_on") from error
    if day > timezone.localdate():
        raise FundingRefused("La date de paiement ne peut pas être dans le futur.", field="paid_on")
    reference = (reference or "").strip()
    if not reference:
        raise FundingRefused("La référence du paiement est obligatoire.", field="reference")
    with transaction.atomic():
        request, change = _decide(
            request, to=Status.PAID, by=by, comment=f"{paid_amount} € payés le {day:%d/%m/%Y}, référence {reference}."
        )
        request.paid_amount, request.paid_on, request.payment_reference = paid_amount, day, reference[:100]
        request.save(update_fields=["status", "decided_at", "paid_amount", "paid_on", "payment_reference"])
        _mail(request, change, "funding_status")
    return request


def reject_request(*, request: FundingRequest, by, reason: str) -> FundingRequest:
    """« Rejetée » with the reason, from any open status; the vendor may then file again."""
    reason = (reason or "").strip()
    if not reason:
        raise FundingRefused(REASON_REQUIRED, field="reason")
    with transaction.atomic():
        request, change = _decide(request, to=Status.REJECTED, by=by, comment=reason)
        request.save(update_fields=["status", "decided_at"])
        _mail(request, change, "funding_status", reason=reason)
        # Its beneficiaries no longer count against the other requests (R-OPS-3).
        funding_request_stored.send(sender=FundingRequest, funding_request=request)
    return request
