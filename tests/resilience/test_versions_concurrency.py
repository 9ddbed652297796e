"""Modifications sent at the same instant, on real PostgreSQL with real threads (R-AFT-2): at most
one pending modification per request, decided by the database, never a 500."""

import pytest
from django.db import IntegrityError

from enrolment import versions
from enrolment.models import EnrolmentVersion
from enrolment.services import DecisionRefused
from tests.enrolment.test_versions import bank_amendment
from tests.enrolment.wizard import load_registries
from tests.funding.factories import validated_vendor
from tests.resilience.conftest import run_together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PARALLEL = 10


def test_ten_modifications_at_once_leave_one_pending(postgresql, _isolated_storage):
    load_registries()
    enrolment = validated_vendor()
    amendments = [bank_amendment(enrolment) for _ in range(PARALLEL)]
    assert all(amendment.is_valid() for amendment in amendments)

    together = run_together(
        PARALLEL,
        lambda index: versions.request_modification(
            enrolment=enrolment, by=enrolment.account, amendment=amendments[index]
        ),
    )

    assert len(together.results) == 1 and together.results[0].number == "ENR0001M1"
    assert len(together.errors) == PARALLEL - 1
    assert all(isinstance(error, DecisionRefused) for error in together.errors), together.errors
    assert all("déjà en cours" in error.message for error in together.errors)
    assert EnrolmentVersion.objects.filter(enrolment=enrolment, status="pending").count() == 1
    print(f"\n{PARALLEL} demandes de modification simultanées : {together.seconds:.2f} s")


def test_the_partial_unique_index_decides_without_the_service_lock(postgresql):
    enrolment = validated_vendor()

    together = run_together(
        PARALLEL, lambda index: EnrolmentVersion.objects.create(enrolment=enrolment, index=index + 1)
    )

    assert len(together.results) == 1
    assert len(together.errors) == PARALLEL - 1
    assert all(isinstance(error, IntegrityError) for error in together.errors), together.errors
    assert "enrolment_one_pending_modification" in str(together.errors[0])
