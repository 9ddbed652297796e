"""The audit entries the portal's services write (R-OPS-4). Each call joins the caller's
transaction: a decision that rolls back leaves no entry."""

from typing import Any

from audit import chain
from audit.models import AuditEntry


def record_decision(*, obj, by, from_status: str, to_status: str, comment: str = "") -> AuditEntry:
    """A change of status decided by an agent (enrolment or funding request)."""
    return chain.append(
        action=AuditEntry.Action.DECISION,
        actor=by,
        obj=obj,
        details={"from": from_status, "to": to_status, "comment": comment},
    )


def record_export(*, by, what: str, filters: dict[str, Any], rows: int, file_format: str) -> AuditEntry:
    """An export of a list from the back office: who, when, which filter, how many rows."""
    return chain.append(
        action=AuditEntry.Action.EXPORT,
        actor=by,
        object_type="export",
        object_label=what,
        details={"filters": filters, "rows": rows, "format": file_format},
    )


def record_flag_review(*, flag, by, comment: str) -> AuditEntry:
    return chain.append(
        action=AuditEntry.Action.FLAG_REVIEW,
        actor=by,
        obj=flag,
        details={"rule": flag.rule, "comment": comment, "request": flag.subject_number},
    )


def record_purge(*, obj, what: list[str], reason: str) -> AuditEntry:
    """Data removed when its retention period ended (R-OPS-5): what, never its content."""
    return chain.append(
        action=AuditEntry.Action.PURGE,
        obj=obj,
        details={"removed": what, "reason": reason},
    )
