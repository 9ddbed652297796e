from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes"

    def ready(self) -> None:
        # services registers its mail renderers; middleware its sign-in receiver.
        from accounts import groups, middleware, services  # noqa: F401

        post_migrate.connect(groups.after_migrate, dispatch_uid="accounts.groups")
