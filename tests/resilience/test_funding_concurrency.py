"""Funding filings at the same instant, on real PostgreSQL with real threads (R-BIZ-2, R-FIN-5):
the partial unique index decides « one open funding request per vendor », the submission key
decides « one « Terminer », one request », the counter row gives distinct FIN numbers."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from funding import format as funding_format
from funding import services
from funding.models import FundingCheck, FundingDocument, FundingRequest
from notifications.models import OutboundEmail
from tests.funding import files
from tests.funding.factories import open_window, validated_vendor
from tests.resilience.conftest import run_together, valid_siret

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def checked(enrolment, document=None) -> FundingCheck:
    content = files.json_bytes(document) if document else funding_format.example_bytes()
    check = services.start_check(
        purpose=FundingCheck.Purpose.FILING,
        json_upload=SimpleUploadedFile("demande.json", content),
        zip_upload=SimpleUploadedFile("pieces.zip", funding_format.example_zip_bytes()),
        account=enrolment.account,
    )
    check.refresh_from_db()  # run by the eager task at commit
    assert check.report["json_accepted"], check.report
    return check


def acknowledgements() -> int:
    return OutboundEmail.objects.filter(kind="funding_acknowledgement").count()


def test_two_filings_by_the_same_vendor_at_once_give_one_request(postgresql, _isolated_storage):
    open_window()
    enrolment = validated_vendor()
    checks = [checked(enrolment), checked(enrolment)]

    together = run_together(
        2, lambda index: services.file_funding_request(check=checks[index], account=enrolment.account)
    )

    assert len(together.results) == 1, together.outcomes
    (refusal,) = together.errors
    assert isinstance(refusal, services.FundingRefused), repr(refusal)
    assert refusal.message == services.ALREADY_OPEN
    assert FundingRequest.objects.get().number == "FIN0001"
    assert acknowledgements() == 1
    assert FundingDocument.objects.count() == 4  # the refused filing attached nothing
    # The refused filing's number went back to the counter.
    assert services.format_fin(services._next_fin_sequence()) == "FIN0002"


def test_terminer_sent_twice_at_once_gives_one_request(postgresql):
    open_window()
    enrolment = validated_vendor()
    check = checked(enrolment)

    together = run_together(2, lambda index: services.file_funding_request(check=check, account=enrolment.account))

    assert together.errors == []
    assert {request.number for request in together.results} == {"FIN0001"}
    assert FundingRequest.objects.count() == 1 and acknowledgements() == 1


def test_twenty_vendors_filing_at_once_get_twenty_distinct_numbers(postgresql):
    open_window()
    vendors = []
    for index in range(20):
        siret = valid_siret(300 + index)
        enrolment = validated_vendor(
            username=f"fournisseur{index}",
            number=f"ENR{index + 1:04d}M0",
            siret=siret,
            referencing=f"tndFIN{index:04d}",
        )
        document = files.example()
        document["fournisseur"].update(
            numero_enrolement=enrolment.number, siret=siret, numero_referencement=enrolment.referencing_number
        )
        vendors.append((enrolment, checked(enrolment, document)))

    together = run_together(
        20, lambda index: services.file_funding_request(check=vendors[index][1], account=vendors[index][0].account)
    )

    assert together.errors == []
    numbers = sorted(request.number for request in together.results)
    assert numbers == [f"FIN{sequence:04d}" for sequence in range(1, 21)]
    assert all(re.fullmatch(r"FIN\d{4,}", number) for number in numbers)
    assert acknowledgements() == 20
