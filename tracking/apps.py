from django.apps import AppConfig


class TrackingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracking"
    verbose_name = "Suivi des demandes et accusés de dépôt"

    def ready(self) -> None:
        # The acknowledgement mails carry the deposit receipt, made when the mail is sent.
        from notifications.services import register_attachments
        from tracking import mail  # imports models: only once the registry is ready

        register_attachments(mail.ATTACHMENTS)
