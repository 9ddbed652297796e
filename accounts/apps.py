from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes"

    def ready(self) -> None:
        from accounts import groups, services  # noqa: F401  (services registers its mail renderer)

        post_migrate.connect(groups.after_migrate, dispatch_uid="accounts.groups")
