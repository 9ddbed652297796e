"""Appending to the audit trail and proving it intact (R-OPS-4).

An entry's hash is the SHA-256 of a canonical serialisation: the JSON of its position, time (UTC,
microseconds), author, action, object, details and the previous entry's hash, keys sorted, no
blanks, UTF-8. The first entry's previous hash is 64 zeros.

Appends are serialised so that two entries never claim the same predecessor: on PostgreSQL by a
transaction-level advisory lock, held until the surrounding transaction (a decision, an export)
commits or rolls back; on SQLite (the embedded default) by the IMMEDIATE transactions that already
serialise every writer (see ``enrolment.services.submission_transaction``). A rolled-back transaction takes
its entries with it, so the chain holds only what happened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEntry

GENESIS_HASH = "0" * 64
SYSTEM = "système"
# Any constant shared by every process of the portal: the lock that serialises the appends.
LOCK_KEY = 0x5E6A_0D17


def canonical_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """The details as they read back from the JSON column (dates, decimals, UUIDs as text)."""
    return json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))


def entry_digest(
    *,
    position: int,
    at,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    object_label: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    payload = {
        "position": position,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_label": object_label,
        "details": details,
        "prev_hash": prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest_of(entry: AuditEntry) -> str:
    return entry_digest(
        position=entry.position,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        object_label=entry.object_label,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def describe(obj) -> tuple[str, str, str]:
    """The object's type (app.model), id and label, readable even once the object is purged."""
    if obj is None:
        return "", "", ""
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}", str(obj.pk), str(obj)[:300]


def append(
    *,
    action: str,
    actor=None,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry after the current head, inside the caller's transaction if any."""
    if obj is not None:
        object_type, object_id, object_label = describe(obj)
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    details = canonical_details(details)
    with transaction.atomic():
        _lock()
        head = AuditEntry.objects.order_by("-position").values_list("position", "hash").first()
        position, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        # Truncated to the microsecond, as both databases store it.
        at = timezone.now()
        fields = {
            "position": position,
            "at": at,
            "actor_id": user.pk if user else None,
            "actor_label": (user.get_username() if user else SYSTEM)[:150],
            "action": action,
            "object_type": object_type[:100],
            "object_id": str(object_id)[:64],
            "object_label": str(object_label)[:300],
            "details": details,
            "prev_hash": prev_hash,
        }
        entry = AuditEntry(**fields, hash=entry_digest(**fields))
        entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class Break:
    """The first entry where the chain does not hold, and why (in French, for the agent)."""

    position: int
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        return f"entrée n° {self.position} (id {self.entry_id}) : {self.reason}"


@dataclass(frozen=True)
class Verification:
    checked: int
    head_hash: str
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def _entries(batch: int) -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("position").iterator(chunk_size=batch)


def verify(entries: Iterable[AuditEntry] | None = None, batch: int = 2000) -> Verification:
    """Walk the chain from its first entry; stop at the first entry that does not hold."""
    expected_prev, expected_position, checked = GENESIS_HASH, 1, 0
    for entry in entries if entries is not None else _entries(batch):
        if entry.position != expected_position:
            reason = (
                f"entrée manquante avant elle (n° {expected_position} attendu)"
                if entry.position > expected_position
                else f"numéro en double ou désordonné (n° {expected_position} attendu)"
            )
            return Verification(checked, expected_prev, Break(entry.position, entry.pk, reason))
        if entry.prev_hash != expected_prev:
            reason = "son empreinte précédente ne correspond pas à l'entrée qui la précède"
            return Verification(checked, expected_prev, Break(entry.position, entry.pk, reason))
        if digest_of(entry) != entry.hash:
            reason = "son contenu ne correspond plus à son empreinte (entrée modifiée)"
            return Verification(checked, expected_prev, Break(entry.position, entry.pk, reason))
        expected_prev, expected_position, checked = entry.hash, expected_position + 1, checked + 1
    return Verification(checked, expected_prev, None)
