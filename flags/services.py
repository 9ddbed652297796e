"""Computing the consistency flags and marking them « vérifié » (R-OPS-3).

The flags are computed by a Celery task after the transaction that stores or changes a request
(``schedule_refresh``), never when a page is shown. A rule that involves another request (the
same IBAN, the same beneficiary…) computes that request's flags again too, so both carry it.
"""

import logging
from dataclasses import asdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit import services as audit
from enrolment.models import EnrolmentRequest
from flags import rules
from flags.models import ConsistencyFlag, PendingRefresh, RegistryAnswer
from funding.models import FundingRequest
from segurnum import after_response

logger = logging.getLogger(__name__)

COMMENT_REQUIRED = "Le commentaire est obligatoire : indiquez ce que vous avez vérifié."
ALREADY_VERIFIED = "Ce signalement est déjà marqué « vérifié »."


class FlagRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def keep_registry_answer(company) -> RegistryAnswer:
    """The company registry's answer at the wizard's look-up (a ``Company`` dataclass)."""
    return RegistryAnswer.objects.create(siret=company.siret, answer=asdict(company))


def schedule_refresh(*, enrolment: EnrolmentRequest | None = None, funding_request: FundingRequest | None = None):
    """Call inside the transaction that stores or changes the request: the computation is queued
    once it commits, after the response (``after_response.after_commit``), and re-queued later if
    the broker cannot take it."""
    pending = PendingRefresh.objects.create(enrolment=enrolment, funding_request=funding_request)
    after_response.after_commit(enqueue_refresh, pending.pk)
    return pending


def enqueue_refresh(pending_id: int) -> None:
    from flags.tasks import refresh_flags

    try:
        refresh_flags.apply_async(args=[pending_id], retry=False)
    except Exception:
        logger.warning("Signalements %s laissés en attente : file de messages indisponible", pending_id, exc_info=True)


def run_pending_refresh(pending_id: int) -> bool:
    pending = PendingRefresh.objects.filter(pk=pending_id).first()
    if pending is None:
        return False
    if pending.enrolment_id:
        refresh_enrolment_flags(enrolment_id=pending.enrolment_id)
    if pending.funding_request_id:
        refresh_funding_flags(funding_request_id=pending.funding_request_id)
    PendingRefresh.objects.filter(pk=pending_id).delete()
    return True


def refresh_enrolment_flags(*, enrolment_id: int, cascade: bool = True) -> list[ConsistencyFlag]:
    with transaction.atomic():
        enrolment = EnrolmentRequest.objects.select_for_update().get(pk=enrolment_id)
        findings = [finding for rule in rules.ENROLMENT_RULES if (finding := rule(enrolment))]
        flags = _store(findings, enrolment=enrolment)
    if cascade:
        for other in sorted(set().union(*(finding.related_enrolments for finding in findings))):
            refresh_enrolment_flags(enrolment_id=other, cascade=False)
    return flags


def refresh_funding_flags(*, funding_request_id: int, cascade: bool = True) -> list[ConsistencyFlag]:
    with transaction.atomic():
        request = FundingRequest.objects.select_for_update().get(pk=funding_request_id)
        findings = [finding for rule in rules.FUNDING_RULES if (finding := rule(request))]
        flags = _store(findings, funding_request=request)
    if cascade:
        for other in sorted(set().union(*(finding.related_funding for finding in findings))):
            refresh_funding_flags(funding_request_id=other, cascade=False)
    return flags


def _store(findings: list[rules.Finding], **subject) -> list[ConsistencyFlag]:
    existing = {flag.rule: flag for flag in ConsistencyFlag.objects.filter(**subject)}
    kept: list[ConsistencyFlag] = []
    for finding in findings:
        flag = existing.pop(finding.rule, None)
        if flag is None:
            kept.append(
                ConsistencyFlag.objects.create(
                    **subject, rule=finding.rule, message=finding.message, evidence=finding.evidence
                )
            )
            continue
        if flag.evidence != finding.evidence:
            # New evidence: an earlier « vérifié » no longer covers it.
            flag.verified_at, flag.verified_by, flag.verified_comment = None, None, ""
        flag.message, flag.evidence = finding.message, finding.evidence
        flag.save()
        kept.append(flag)
    # A rule that no longer triggers: its flag goes (a review stays in the audit trail).
    ConsistencyFlag.objects.filter(pk__in=[flag.pk for flag in existing.values()]).delete()
    return kept


def verify_flag(*, flag: ConsistencyFlag, by, comment: str) -> ConsistencyFlag:
    """« Vérifié » with the agent's comment, recorded in the audit trail (R-OPS-4)."""
    comment = (comment or "").strip()
    if not comment:
        raise FlagRefused(COMMENT_REQUIRED)
    with transaction.atomic():
        flag = (
            ConsistencyFlag.objects.select_for_update(of=("self",))
            .select_related("enrolment", "funding_request")
            .get(pk=flag.pk)
        )
        if flag.is_verified:
            raise FlagRefused(ALREADY_VERIFIED)
        flag.verified_at, flag.verified_by, flag.verified_comment = timezone.now(), by, comment
        flag.save(update_fields=["verified_at", "verified_by", "verified_comment", "updated_at"])
        audit.record_flag_review(flag=flag, by=by, comment=comment)
    return flag


def requeue_pending(older_than_seconds: int = 60) -> int:
    limit = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        PendingRefresh.objects.filter(created_at__lte=limit).order_by("created_at").values_list("pk", flat=True)[:500]
    )
    for pending_id in ids:
        enqueue_refresh(pending_id)
    return len(ids)
