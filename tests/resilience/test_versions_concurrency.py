"""Modifications sent at the same instant, on real PostgreSQL with real threads (R-AFT-2): at most
one pending modification per request, decided by the database, never a 500."""

import pytest
from django.db import IntegrityError

from enrolment import versions
from enrolment.models import EnrolmentVersion, StatusChange
from enrolment.services import DecisionRefused
from tests.enrolment.test_versions import bank_amendment, posted
from tests.enrolment.wizard import load_registries
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory, agent
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


def test_one_link_sent_twice_at_once_stores_the_corrections_once(postgresql, _isolated_storage):
    load_registries()
    enrolment = EnrolmentRequestFactory()
    EnrolmentDocumentFactory(enrolment=enrolment)  # its RIB
    round_ = versions.request_corrections(enrolment=enrolment, by=agent(), items=["iban"], message="IBAN erroné")
    token = versions.correction_token(round_)
    amendments = [
        versions.correction_amendment(
            round_, data=posted({"bank-bic": "CCFRFRPP", "bank-iban": "FR7630004000031234567890143"}), uploads={}
        )
        for _ in range(2)
    ]
    assert not any(amendment.is_valid() for amendment in amendments)  # the BIC goes with the IBAN
    amendments = [
        versions.correction_amendment(
            round_, data=posted({"bank-bic": "BNPAFRPP", "bank-iban": "FR7630004000031234567890143"}), uploads={}
        )
        for _ in range(2)
    ]
    assert all(amendment.is_valid() for amendment in amendments), amendments[0].errors

    together = run_together(2, lambda index: versions.resubmit_corrections(token=token, amendment=amendments[index]))

    assert len(together.results) == 1
    assert len(together.errors) == 1 and isinstance(together.errors[0], versions.LinkRefused)
    assert "ce lien ne peut servir qu'une fois" in together.errors[0].message
    assert StatusChange.objects.filter(enrolment=enrolment, to_status="in_review").count() == 1
