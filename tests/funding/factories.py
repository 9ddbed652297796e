"""Funding fixtures shared by the tests, the browser scenario and the screenshots: the example
file's vendor with its validated enrolment, and an open filing window."""

from datetime import date, timedelta

from django.utils import timezone

from enrolment.models import EnrolmentRequest
from funding.models import FundingWindow
from tests.factories import EnrolmentRequestFactory, ReferencedSoftwareFactory, UserFactory

EXAMPLE_SIRET = "46293699800014"


def validated_vendor(
    *, username="eishiro.oda", number="ENR0001M0", siret=EXAMPLE_SIRET, referencing="tndSAS0033", **kwargs
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


def filed_request(enrolment: EnrolmentRequest, *, json_content: bytes | None = None, with_zip: bool = True):
    """A request filed through the services exactly as the pages do: check, then « Terminer »."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from funding import format as funding_format
    from funding import services
    from funding.models import FundingCheck

    json_upload = SimpleUploadedFile("demande.json", json_content or funding_format.example_bytes())
    zip_upload = SimpleUploadedFile("pieces.zip", funding_format.example_zip_bytes()) if with_zip else None
    check = services.start_check(
        purpose=FundingCheck.Purpose.FILING, json_upload=json_upload, zip_upload=zip_upload, account=enrolment.account
    )
    services.run_check(check_id=check.pk)
    check.refresh_from_db()
    assert check.report["json_accepted"], check.report
    return services.file_funding_request(check=check, account=enrolment.account)
