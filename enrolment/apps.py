from django.apps import AppConfig
from django.db.models.signals import post_save


class EnrolmentConfig(AppConfig):
    name = "enrolment"
    verbose_name = "Enrôlement"

    def ready(self) -> None:
        # The consultation log is mirrored into the audit trail (R-OPS-4). Imported here: it
        # needs the models, ready only now.
        from enrolment import audit_mirror
        from enrolment.models import AccessRecord

        post_save.connect(audit_mirror.mirror_access_record, sender=AccessRecord, dispatch_uid="audit_access_record")
