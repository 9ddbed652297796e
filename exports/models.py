from django.conf import settings
from django.db import models


class ExportRecord(models.Model):
    """Each export of a back-office list (R-OPS-1): who, when, which list and filter, how many
    rows. Also appended to the audit trail (R-OPS-4)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="agent", on_delete=models.PROTECT)
    at = models.DateTimeField("le", auto_now_add=True, db_index=True)
    dataset = models.CharField("liste", max_length=100)
    file_format = models.CharField("format", max_length=10)
    filters = models.JSONField("filtre", default=dict)
    rows = models.PositiveIntegerField("lignes")
    full_iban = models.BooleanField("IBAN en clair", default=False)

    class Meta:
        verbose_name = "export"
        verbose_name_plural = "exports"
        ordering = ["-at", "-id"]
        permissions = [
            ("export_lists", "Peut exporter les listes du back-office (CSV, XLSX)"),
            ("export_full_iban", "Peut exporter les IBAN en clair"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} ({self.file_format}, {self.rows} lignes)"


class XlsxExport(models.Model):
    """An XLSX export asked for on a filtered list (R-OPS-1), written by a Celery task into the
    private storage (encrypted) and downloaded from the « Exports » page.

    Written before its task is queued (as the mail outbox is): a broker that is down delays it, and
    the periodic re-queue (``exports.tasks.requeue_xlsx_exports``) loses nothing. ``filters`` is
    the list's query string as on screen; the task rebuilds the list from it for ``user``. The full
    IBAN permission is decided when the export is asked for. The file is deleted
    EXPORT_FILE_RETENTION_HOURS after (R-OPS-5)."""

    class Status(models.TextChoices):
        PENDING = "pending", "en préparation"
        READY = "ready", "prêt"
        FAILED = "failed", "échec"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="agent", on_delete=models.CASCADE)
    requested_at = models.DateTimeField("demandé le", auto_now_add=True, db_index=True)
    dataset = models.CharField("liste", max_length=50)
    source = models.CharField("page", max_length=100)  # "app_label.model_name" of the list's admin
    filters = models.JSONField("filtre", default=dict)
    full_iban = models.BooleanField("IBAN en clair", default=False)
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    rows = models.PositiveIntegerField("lignes", null=True, blank=True)
    file = models.CharField("fichier", max_length=200, blank=True)
    error = models.TextField("erreur", blank=True)

    class Meta:
        verbose_name = "export XLSX"
        verbose_name_plural = "exports XLSX"
        ordering = ["-requested_at", "-id"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["status", "requested_at"], name="xlsx_export_status")]

    def __str__(self) -> str:
        return f"{self.dataset} ({self.requested_at:%d/%m/%Y %H:%M})"
