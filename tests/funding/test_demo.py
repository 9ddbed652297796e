"""`make run` loads an open window and one funding request in each status, and the example
file's vendor, ready to file the published example (R-FIN-1, issue's « Fixtures »)."""

import io

import pytest
from django.core.management import call_command

from enrolment.models import EnrolmentRequest
from funding import format as funding_format
from funding import selectors
from funding.engine import check_files
from funding.models import FundingRequest

pytestmark = pytest.mark.django_db


def test_the_demonstration_shows_every_status_and_the_example_files_cleanly(django_capture_on_commit_callbacks):
    call_command("loaddata", "referenced_software", verbosity=0)
    output = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_funding_demo", stdout=output)
        call_command("load_funding_demo", stdout=io.StringIO())  # idempotent
    assert sorted(FundingRequest.objects.values_list("status", flat=True)) == sorted(FundingRequest.Status.values)
    assert selectors.open_window() is not None
    assert "compte de démonstration demo.financement : mot de passe " in output.getvalue()

    example_vendor = EnrolmentRequest.objects.get(account__username="demo.financement")
    assert example_vendor.number == funding_format.example()["fournisseur"]["numero_enrolement"]
    result = check_files(
        json_file=io.BytesIO(funding_format.example_bytes()),
        zip_file=io.BytesIO(funding_format.example_zip_bytes()),
        vendor=selectors.vendor_context(example_vendor),
        window_closed="",
    )
    assert result.anomalies == []
    paid = FundingRequest.objects.get(status="paid")
    assert paid.payment_reference == f"VIR-DEMO-{paid.number}"
    assert paid.status_changes.count() == 4  # déposée, en cours d'instruction, validée, payée
