import pytest
from django.utils import timezone

from enrolment.models import EnrolmentRequest
from tests.funding.factories import open_window, validated_vendor


@pytest.fixture
def window(db):
    return open_window()


@pytest.fixture
def enrolment(db):
    """The example file's vendor: ENR0001M0, SIRET 46293699800014, tndSAS0033, TTC 20 %."""
    return validated_vendor()


@pytest.fixture
def vendor(enrolment):
    return enrolment.account


@pytest.fixture
def vendor_client(client, vendor):
    client.force_login(vendor)
    return client


@pytest.fixture
def not_validated_client(client, db):
    from tests.factories import EnrolmentRequestFactory, UserFactory

    user = UserFactory(username="claire.martin")
    EnrolmentRequestFactory(account=user, status=EnrolmentRequest.Status.IN_REVIEW, decided_at=timezone.now())
    client.force_login(user)
    return client
