from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes"

    def ready(self) -> None:
        # Imported once the models are ready (they import them); middleware connects its
        # sign-in receiver on import.
        from accounts import groups, middleware, services  # noqa: F401
        from notifications.services import register_renderers

        register_renderers(services.DELIVERY_RENDERERS)
        post_migrate.connect(groups.after_migrate, dispatch_uid="accounts.groups")
