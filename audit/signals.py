"""What other logs write is mirrored into the chain (R-OPS-4), without changing those logs.

- the consultation log is mirrored by its own app (``enrolment.audit_mirror``), since the audit
  trail imports no app above it;
- Django's admin change log (LogEntry): every addition, change or deletion an agent makes in the
  back office (referenced software, filing windows, users and groups…). The deletions of the
  admin's « Supprimer les … sélectionnés » action are logged in one batch (bulk_create, no
  post_save): the action is wrapped in ``audit.admin`` and mirrors them with ``mirror_log_entry``.
"""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from audit import chain
from audit.models import AuditEntry

LOG_ENTRY_VERBS = {ADDITION: "ajout", CHANGE: "modification", DELETION: "suppression"}


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_log_entry")
def mirror_admin_change(sender, instance: LogEntry, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    mirror_log_entry(instance)


def mirror_log_entry(instance: LogEntry) -> None:
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
