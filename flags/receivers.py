"""The flags' answers to what the requests' apps announce (connected in FlagsConfig.ready())."""

from flags import services


def enrolment_stored(sender, *, enrolment, **kwargs) -> None:
    services.schedule_refresh(enrolment=enrolment)


def funding_request_stored(sender, *, funding_request, **kwargs) -> None:
    services.schedule_refresh(funding_request=funding_request)


def company_looked_up(sender, *, company, **kwargs) -> None:
    services.keep_registry_answer(company)
