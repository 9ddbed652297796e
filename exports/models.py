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
