from django.apps import AppConfig


class TrackingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracking"
    verbose_name = "Suivi des demandes et accusés de dépôt"

    def ready(self) -> None:
        # The acknowledgement mails carry the deposit receipt, made when the mail is sent.
        from tracking import mail  # noqa: F401
