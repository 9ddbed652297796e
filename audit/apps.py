from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Journal d'audit"

    def ready(self) -> None:
        # Mirrors the consultation log and the admin's change log into the chain (R-OPS-4).
        from audit import signals  # noqa: F401
