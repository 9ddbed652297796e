from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Signalements de cohérence"

    def ready(self) -> None:
        # The requests' apps announce what they store; the flags are computed from it (R-OPS-3).
        # Imported here: the receivers need the models, ready only now.
        from enrolment.signals import company_looked_up, request_stored
        from flags import receivers
        from funding.signals import funding_request_stored

        request_stored.connect(receivers.enrolment_stored, dispatch_uid="flags.enrolment_stored")
        funding_request_stored.connect(receivers.funding_request_stored, dispatch_uid="flags.funding_stored")
        company_looked_up.connect(receivers.company_looked_up, dispatch_uid="flags.company_looked_up")
