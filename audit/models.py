"""The audit trail (R-OPS-4): one append-only, hash-chained table.

Each entry holds the SHA-256 of the previous entry and its own SHA-256 over a canonical
serialisation of its content (``audit.chain.entry_digest``). Editing, inserting or deleting a
row breaks the chain at that row, which ``manage.py verify_audit_log`` names.
"""

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        DECISION = "decision", "Décision"
        CONSULTATION = "consultation", "Consultation"
        DOCUMENT_OPENING = "document_opening", "Ouverture d'une pièce"
        EXPORT = "export", "Export"
        FLAG_REVIEW = "flag_review", "Signalement vérifié"
        DATA_CHANGE = "data_change", "Modification de données"
        PURGE = "purge", "Purge (durée de conservation)"

    position = models.PositiveBigIntegerField("n°", unique=True, editable=False)
    at = models.DateTimeField("le", editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField("auteur", max_length=150, help_text="Identifiant de l'agent, ou « système ».")
    action = models.CharField("action", max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField("type d'objet", max_length=100)
    object_id = models.CharField("identifiant de l'objet", max_length=64, blank=True)
    object_label = models.CharField("objet", max_length=300)
    details = models.JSONField("détails", default=dict)
    prev_hash = models.CharField("empreinte précédente", max_length=64)
    hash = models.CharField("empreinte", max_length=64, unique=True)

    class Meta:
        verbose_name = "entrée du journal d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-position"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]
        permissions = [("export_auditentry", "Peut exporter le journal d'audit")]

    def __str__(self) -> str:
        return f"n° {self.position} — {self.get_action_display()} — {self.object_label}"

    def save(self, *args, **kwargs):
        # Append-only: an entry is written once, by audit.chain.append, never updated.
        if self.pk is not None:
            raise ValueError("Une entrée du journal d'audit ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Une entrée du journal d'audit ne se supprime pas.")
