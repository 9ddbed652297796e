"""How long personal data is kept, and the purge of what has outlived it (R-OPS-5).

- identity documents (CNI, passeport ou titre de séjour of the representative and of the
  depositor) and RIBs: IDENTITY_DOCUMENT_RETENTION_DAYS / RIB_RETENTION_DAYS after the request's
  decision, purged every day (``operations.tasks.purge_decided_documents``);
- abandoned wizards: their draft files after DRAFT_MAX_AGE_HOURS (``enrolment.drafts``) and their
  sessions once expired (``accounts.services.purge_expired_sessions``), every hour;
- the consultation log after ACCESS_LOG_RETENTION_DAYS (``enrolment.tasks``);
- the company registry's answers (``flags.RegistryAnswer``, which may name a sole trader):
  REGISTRY_ANSWER_RETENTION_DAYS after the decision on every request that used them, or
  REGISTRY_ANSWER_UNUSED_DAYS after the look-up when no request used them, every day
  (``purge_registry_answers``);
- the XLSX export files after EXPORT_FILE_RETENTION_HOURS (``exports.services``), every hour.

All run from CELERY_BEAT_SCHEDULE, and in the embedded default from the web process
(``segurnum.housekeeping``). ``durations()`` gives the « Données personnelles » page its text,
read from the same settings so that the page cannot drift from what the purges do.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from audit import services as audit
from enrolment.models import CorrectionRound, EnrolmentDocument, EnrolmentRequest, EnrolmentVersion
from flags.models import RegistryAnswer
from segurnum.storage import storage_errors

logger = logging.getLogger(__name__)

Kind = EnrolmentDocument.Kind
IDENTITY_KINDS = (Kind.REPRESENTATIVE_ID, Kind.DEPOSITOR_ID)
RIB_KINDS = (Kind.RIB,)


@dataclass(frozen=True)
class Duration:
    what: str
    how_long: str


def _days(count: int) -> str:
    return f"{count} jour" if count == 1 else f"{count} jours"


def _hours(count: int) -> str:
    return f"{count} heure" if count == 1 else f"{count} heures"


def durations() -> list[Duration]:
    """Each kind of data the purges remove, and after how long, in the settings' current values."""
    return [
        Duration(
            "Pièces d'identité (CNI, passeport ou titre de séjour) du représentant et du demandeur",
            f"{_days(settings.IDENTITY_DOCUMENT_RETENTION_DAYS)} après la décision sur la demande d'enrôlement",
        ),
        Duration("RIB", f"{_days(settings.RIB_RETENTION_DAYS)} après la décision sur la demande d'enrôlement"),
        Duration(
            "Pièces déposées dans une demande d'enrôlement non terminée",
            f"{_hours(settings.DRAFT_MAX_AGE_HOURS)} après le dernier dépôt",
        ),
        Duration(
            "Données saisies dans une demande d'enrôlement non terminée, et session de connexion",
            f"{_hours(settings.SESSION_COOKIE_AGE // 3600)} au plus (effacées à l'expiration de la session)",
        ),
        Duration(
            "Journal des consultations du back-office",
            _days(settings.ACCESS_LOG_RETENTION_DAYS),
        ),
        Duration(
            "Réponses du répertoire des entreprises (SIRET, dénomination, adresse) consultées lors de l'enrôlement",
            f"{_days(settings.REGISTRY_ANSWER_RETENTION_DAYS)} après la décision sur la demande d'enrôlement ; "
            f"{_days(settings.REGISTRY_ANSWER_UNUSED_DAYS)} après la consultation si aucune demande n'a été soumise",
        ),
        Duration(
            "Exports XLSX du back-office",
            f"{_hours(settings.EXPORT_FILE_RETENTION_HOURS)} après la demande d'export",
        ),
    ]


def purge_decided_documents(now=None) -> int:
    """Delete the identity documents and RIBs of requests decided longer ago than their retention.

    Per request, the rows go and the purge is appended to the audit trail in one transaction; the
    encrypted files are deleted once it commits. Returns the number of documents deleted.
    """
    now = now or timezone.now()
    rules = [
        (IDENTITY_KINDS, settings.IDENTITY_DOCUMENT_RETENTION_DAYS),
        (RIB_KINDS, settings.RIB_RETENTION_DAYS),
    ]
    due: dict[int, list[int]] = {}
    for kinds, days in rules:
        documents = EnrolmentDocument.objects.filter(
            kind__in=kinds,
            enrolment__decided_at__isnull=False,
            enrolment__decided_at__lt=now - timedelta(days=days),
        ).values_list("enrolment_id", "pk")
        for enrolment_id, pk in documents.iterator():
            due.setdefault(enrolment_id, []).append(pk)
    removed = 0
    for enrolment_id, pks in due.items():
        removed += _purge(enrolment_id, pks)
    for kinds, days in rules:
        removed += _purge_history(kinds, now - timedelta(days=days))
    if removed:
        logger.info("%s pièce(s) d'identité ou RIB supprimée(s) (durée de conservation échue)", removed)
    return removed


def _purge(enrolment_id: int, pks: list[int]) -> int:
    with transaction.atomic():
        enrolment = EnrolmentRequest.objects.get(pk=enrolment_id)
        documents = list(EnrolmentDocument.objects.select_for_update().filter(pk__in=pks).order_by("kind"))
        if not documents:
            return 0
        files = [document.file.name for document in documents]
        audit.record_purge(
            obj=enrolment,
            what=[document.get_kind_display() for document in documents],
            reason=f"décision du {timezone.localtime(enrolment.decided_at):%d/%m/%Y}, durée de conservation échue",
        )
        EnrolmentDocument.objects.filter(pk__in=[document.pk for document in documents]).delete()
        storage = documents[0].file.storage
        transaction.on_commit(lambda: _delete_files(storage, files))
    return len(documents)


# Where the history of a request keeps documents (R-AFT-1, R-AFT-2): each version's own documents
# and those it replaced, and the same for each « A compléter » round.
HISTORY_FIELDS = ("documents", "previous_documents")


def _purge_history(kinds, cutoff) -> int:
    """The identity documents and RIBs kept in the history of the requests decided before
    ``cutoff``: their files are deleted and their entries keep only the name, size and SHA-256
    (what a receipt shows), marked « purged ». Returns the number of files deleted."""
    holding = Q()
    for field in HISTORY_FIELDS:
        for kind in kinds:
            holding |= Q(**{f"{field}__{kind}__has_key": "file"})
    removed = 0
    for model in (EnrolmentVersion, CorrectionRound):
        pks = model.objects.filter(
            holding, enrolment__decided_at__isnull=False, enrolment__decided_at__lt=cutoff
        ).values_list("pk", flat=True)
        for pk in list(pks):
            removed += _purge_history_row(model, pk, kinds)
    return removed


def _purge_history_row(model, pk: int, kinds) -> int:
    with transaction.atomic():
        row = model.objects.select_for_update(of=("self",)).select_related("enrolment").get(pk=pk)
        files, purged = [], []
        for field in HISTORY_FIELDS:
            entries = dict(getattr(row, field))
            for kind in kinds:
                meta = entries.get(kind)
                if not meta or "file" not in meta:
                    continue
                files.append(meta["file"])
                purged.append(EnrolmentDocument.Kind(kind).label)
                entries[kind] = {
                    **{key: meta[key] for key in ("name", "size", "sha256") if key in meta},
                    "purged_at": timezone.now().isoformat(),
                }
            setattr(row, field, entries)
        if not files:
            return 0
        row.save(update_fields=list(HISTORY_FIELDS))
        audit.record_purge(
            obj=row.enrolment,
            what=sorted(set(purged)),
            reason=f"historique ({row}) : durée de conservation échue",
        )
        storage = EnrolmentDocument._meta.get_field("file").storage
        # The version M0 names the same files as the documents it submitted: a file still in
        # force is left to the pass above (and its own retention), never deleted from here.
        in_force = set(EnrolmentDocument.objects.filter(file__in=files).values_list("file", flat=True))
        names = sorted(set(files) - in_force)
        transaction.on_commit(lambda: _delete_files(storage, names))
    return len(names)


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except storage_errors(storage):
            logger.warning("Fichier %s non supprimé : la purge suivante ne le retrouvera pas", name, exc_info=True)


def purge_registry_answers(now=None) -> int:
    """Delete the registry's answers no request needs any more (R-OPS-5).

    An answer is used by the requests of its SIRET submitted after the look-up (the flags compare
    with the last answer before the submission, ``flags.rules.address_changed``). It goes when all
    of them were decided more than REGISTRY_ANSWER_RETENTION_DAYS ago, or, when none was
    submitted, REGISTRY_ANSWER_UNUSED_DAYS after the look-up. Returns the number deleted.
    """
    now = now or timezone.now()
    used_by = EnrolmentRequest.objects.filter(siret=OuterRef("siret"), submitted_at__gte=OuterRef("looked_up_at"))
    still_needed = used_by.filter(
        Q(decided_at__isnull=True) | Q(decided_at__gte=now - timedelta(days=settings.REGISTRY_ANSWER_RETENTION_DAYS))
    )
    unused_since = now - timedelta(days=settings.REGISTRY_ANSWER_UNUSED_DAYS)
    removed, _ = RegistryAnswer.objects.filter(
        (Q(Exists(used_by)) & ~Q(Exists(still_needed))) | (~Q(Exists(used_by)) & Q(looked_up_at__lt=unused_since))
    ).delete()
    if removed:
        logger.info("%s réponse(s) du répertoire des entreprises supprimée(s) (durée de conservation échue)", removed)
    return removed
