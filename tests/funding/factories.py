"""Funding fixtures shared by the tests, the browser scenario and the screenshots: the example
file's vendor with its validated enrolment, and an open filing window."""

from datetime import date, timedelta

from django.utils import timezone

from enrolment.models import EnrolmentRequest
from funding.models import FundingWindow
from tests.factories import EnrolmentRequestFactory, ReferencedSoftwareFactory, UserFactory

EXAMPLE_SIRET = "47992882200069"


def validated_vendor(
    *, username="eishiro.oda", number="ENR0001M0", siret=EXAMPLE_SIRET, referencing="tndSAS0031", **kwargs
) -> EnrolmentRequest:
    user = UserFactory(username=username, first_name="Eishiro", last_name="Oda", email=f"{username}@asm.example")
    software = ReferencedSoftwareFactory(referencing_number=referencing, editor_siret=siret)
    sequence = int(number[3:].split("M")[0])
    return EnrolmentRequestFactory(
        account=user,
        software=software,
        number=number,
        sequence=sequence,
        siret=siret,
        status=EnrolmentRequest.Status.VALIDATED,
        decided_at=timezone.now(),
        representative_email=f"{username}@asm.example",
        **kwargs,
    )


def open_window(**kwargs) -> FundingWindow:
    now = timezone.now()
    values = {
        "name": "Guichet 2026",
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=30),
        "period_start": date(2023, 1, 1),
        "period_end": date(2027, 12, 31),
    }
    return FundingWindow.objects.create(**(values | kwargs))
