from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The agents' campaign tools above the requests' apps: the « Tableau de bord » (R-OPS-2) and
    the retention of personal documents (R-OPS-5)."""

    name = "operations"
    verbose_name = "Pilotage"
