"""The consultation log (``AccessRecord``, SECURITY P3: requests viewed, documents opened, support
look-ups) mirrored into the audit trail (R-OPS-4). The log is purged after
ACCESS_LOG_RETENTION_DAYS; its mirror is not. Connected in EnrolmentConfig.ready()."""

from audit import chain
from audit.models import AuditEntry
from enrolment.models import AccessRecord

DOCUMENT_ACTIONS = {AccessRecord.Action.OPEN_DOCUMENT, AccessRecord.Action.OPEN_FUNDING_PIECE}


def mirror_access_record(sender, instance: AccessRecord, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        mirror(instance)


def mirror_access_records(records: list[AccessRecord]) -> None:
    """For records written by bulk_create (the support's look-ups), which sends no signal."""
    for record in records:
        mirror(record)


def mirror(instance: AccessRecord) -> None:
    action = (
        AuditEntry.Action.DOCUMENT_OPENING if instance.action in DOCUMENT_ACTIONS else AuditEntry.Action.CONSULTATION
    )
    if instance.document_id:
        object_type, object_id = "enrolment.enrolmentdocument", instance.document_id
    elif instance.funding_document_id:
        object_type, object_id = "funding.fundingdocument", instance.funding_document_id
    elif instance.funding_request_id:
        object_type, object_id = "funding.fundingrequest", instance.funding_request_id
    elif instance.enrolment_id:
        object_type, object_id = "enrolment.enrolmentrequest", instance.enrolment_id
    else:
        object_type, object_id = "", ""
    chain.append(
        action=action,
        actor=instance.user,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_label=instance.target,
        details={"consultation": instance.get_action_display(), "access_record": instance.pk},
    )
