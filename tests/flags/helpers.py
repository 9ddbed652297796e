"""Requests shaped for the flag rules: by default nothing in common and a holder matching the
denomination, so that each test adds only what its rule looks at."""

import itertools
import uuid
from decimal import Decimal

from django.utils import timezone

from funding.models import FundingLine, FundingRequest, FundingVersion
from tests.factories import EnrolmentRequestFactory, UserFactory

_counter = itertools.count(1)


def iban(n: int) -> str:
    return f"FR76300060000{n:014d}"


def enrolment(**kwargs):
    n = next(_counter)
    values = {
        "iban": iban(n),
        "representative_email": f"representant{n}@vendeur{n}.example",
        "representative_phone": f"06{n:08d}",
        "denomination": "ASSOCIATION SERVICES MEDIATION",
        "account_holder": "ASSOCIATION SERVICES MEDIATION",
    }
    return EnrolmentRequestFactory(**(values | kwargs))


def funding_request(lines: list[tuple[str, str, str]], *, status=FundingRequest.Status.SUBMITTED):
    """A funding request whose current version has these (type, identifier, name) lines."""
    n = next(_counter)
    vendor = enrolment(account=UserFactory())
    request = FundingRequest.objects.create(
        number=f"FIN{n:04d}",
        sequence=9000 + n,
        submission_key=uuid.uuid4(),
        enrolment=vendor,
        account=vendor.account,
        siret=vendor.siret,
        status=status,
        amount_ht=Decimal("0"),
        amount_ttc=Decimal("0"),
    )
    version = FundingVersion.objects.create(
        request=request,
        number=1,
        json_file="funding/x.json",
        json_name="demande.json",
        json_size=1,
        json_sha256="0" * 64,
        zip_state=FundingVersion.ZipState.ACCEPTED,
        beneficiary_count=len(lines),
        amount_ht=Decimal("0"),
        amount_ttc=Decimal("0"),
        vat_rate="ttc_20",
    )
    request.current_version = version
    request.save(update_fields=["current_version"])
    for position, (kind, identifier, name) in enumerate(lines, start=1):
        FundingLine.objects.create(
            version=version,
            request=request,
            position=position,
            identifier_type=kind,
            identifier=identifier,
            name=name,
            postal_code="75001",
            order_number=f"BC{position}",
            order_date=timezone.localdate(),
            connection_date=timezone.localdate(),
            amount_ht=Decimal("100.00"),
        )
    return request
