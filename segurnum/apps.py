from django.apps import AppConfig


class SegurnumConfig(AppConfig):
    """The project itself as an app: its system checks, and the multipart parser's cache of header
    lines (``segurnum.multipart``). (``manage.py rotate_keys`` is enrolment's, whose IBANs it
    re-encrypts.)"""

    name = "segurnum"
    verbose_name = "Portail Ségur Numérique"

    def ready(self) -> None:
        # Registers the antivirus's system check (segurnum.W001).
        from segurnum import antivirus, multipart  # noqa: F401

        multipart.install()
