"""What other logs write is mirrored into the chain (R-OPS-4), without changing those logs.

- the consultation log (enrolment.AccessRecord, SECURITY P3): requests viewed, documents opened,
  support look-ups; it is purged after ACCESS_LOG_RETENTION_DAYS, its mirror is not;
- Django's admin change log (LogEntry): every addition, change or deletion an agent makes in the
  back office (referenced software, filing windows, users and groups…).
"""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from audit import chain
from audit.models import AuditEntry
from enrolment.models import AccessRecord

DOCUMENT_ACTIONS = {AccessRecord.Action.OPEN_DOCUMENT, AccessRecord.Action.OPEN_FUNDING_PIECE}
LOG_ENTRY_VERBS = {ADDITION: "ajout", CHANGE: "modification", DELETION: "suppression"}


@receiver(post_save, sender=AccessRecord, dispatch_uid="audit_access_record")
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


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_log_entry")
def mirror_admin_change(sender, instance: LogEntry, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    content_type = instance.content_type
    chain.append(
        action=AuditEntry.Action.DATA_CHANGE,
        actor=instance.user,
        object_type=f"{content_type.app_label}.{content_type.model}" if content_type else "",
        object_id=instance.object_id or "",
        object_label=instance.object_repr,
        details={
            "operation": LOG_ENTRY_VERBS.get(instance.action_flag, str(instance.action_flag)),
            "changes": instance.get_change_message(),
        },
    )
