"""Submissions at the same instant, on real PostgreSQL with real threads (SECURITY R3, R4, R5).

Each thread has its own database connection, as each gunicorn worker would; a barrier releases
them together. The counter row lock, the partial unique indexes and the submission key must
decide, never an IntegrityError shown as a 500.
"""

import re
import uuid
from html import escape

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from enrolment.models import EnrolmentDocument, EnrolmentRequest
from enrolment.services import (
    ALREADY_ENROLLED_NUMBER,
    ALREADY_ENROLLED_SIRET,
    EnrolmentRefused,
    format_enr,
    submit_enrolment,
)
from notifications.models import OutboundEmail
from tests.enrolment.test_services import stored_documents, submission
from tests.enrolment.wizard import Wizard, load_registries, step_url
from tests.resilience.conftest import referenced_software, run_together, valid_siret

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ENR_RE = re.compile(r"^ENR\d{4,}M0$")
PARALLEL = 50


def acknowledgements() -> int:
    return OutboundEmail.objects.filter(kind="enrolment_acknowledgement").count()


def test_fifty_parallel_submissions_get_fifty_gapless_numbers(postgresql, _isolated_storage):
    software = referenced_software(PARALLEL)
    submissions = [submission(item.referencing_number, item.editor_siret) for item in software]

    together = run_together(PARALLEL, lambda index: submit_enrolment(submission=submissions[index]))

    assert together.errors == []
    numbers = [enrolment.number for enrolment in together.results]
    assert all(ENR_RE.match(number) for number in numbers), numbers
    # Distinct and gapless: the locked counter hands out 1..50, in whatever order.
    assert sorted(numbers) == [format_enr(sequence) for sequence in range(1, PARALLEL + 1)]
    assert sorted(EnrolmentRequest.objects.values_list("sequence", flat=True)) == list(range(1, PARALLEL + 1))
    assert acknowledgements() == PARALLEL
    assert EnrolmentDocument.objects.count() == PARALLEL
    assert len(stored_documents(_isolated_storage)) == PARALLEL
    print(f"\n{PARALLEL} soumissions parallèles : {together.seconds:.2f} s")


@pytest.mark.parametrize(
    ("shared", "message", "field"),
    [
        ("referencing_number", ALREADY_ENROLLED_NUMBER, "referencing_number"),
        ("siret", ALREADY_ENROLLED_SIRET, "siret"),
    ],
    ids=["meme-numero", "meme-siret"],
)
def test_two_requests_for_the_same_number_or_siret_give_one_request(
    postgresql, _isolated_storage, shared, message, field
):
    first, second = referenced_software(2)
    if shared == "referencing_number":
        pairs = [(first.referencing_number, valid_siret(100)), (first.referencing_number, valid_siret(101))]
    else:
        pairs = [(first.referencing_number, valid_siret(100)), (second.referencing_number, valid_siret(100))]
    submissions = [submission(number, siret) for number, siret in pairs]

    together = run_together(2, lambda index: submit_enrolment(submission=submissions[index]))

    assert len(together.results) == 1, together.outcomes
    (refusal,) = together.errors
    assert isinstance(refusal, EnrolmentRefused), repr(refusal)
    assert refusal.message == message
    assert refusal.field == field
    assert message.startswith("Ce ") and "déjà" in message
    assert EnrolmentRequest.objects.count() == 1
    # The refused submission left nothing: no document row, no stored file, no mail; and its
    # number went back to the counter (the next request is ENR0002M0).
    assert EnrolmentDocument.objects.count() == 1
    assert len(stored_documents(_isolated_storage)) == 1
    assert acknowledgements() == 1
    assert together.results[0].number == "ENR0001M0"
    third = referenced_software(3, prefix="tndNXT")[2]
    assert submit_enrolment(submission=submission(third.referencing_number, valid_siret(102))).number == "ENR0002M0"


def test_same_submission_key_from_two_threads_gives_one_request(postgresql):
    (software,) = referenced_software(1)
    key = uuid.uuid4()
    submissions = [submission(software.referencing_number, software.editor_siret, key=key) for _ in range(2)]

    together = run_together(2, lambda index: submit_enrolment(submission=submissions[index]))

    assert together.errors == []
    assert {enrolment.pk for enrolment in together.results} == {EnrolmentRequest.objects.get().pk}
    assert {enrolment.number for enrolment in together.results} == {"ENR0001M0"}
    assert acknowledgements() == 1


def test_final_post_sent_twice_in_parallel_gives_one_request(postgresql, client):
    """A double click on « Terminer » from two connections of the same browser (same session)."""
    load_registries()
    wizard = Wizard(client)
    wizard.until_confirmation()
    data, extra = wizard.confirmation_data()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    browsers = [Client(), Client()]
    for browser in browsers:
        browser.cookies[settings.SESSION_COOKIE_NAME] = cookie

    together = run_together(
        2, lambda index: Wizard(browsers[index]).post("confirmation", data, extra=extra, follow=False)
    )

    assert together.errors == []
    assert [response.status_code for response in together.results] == [302, 302]
    assert {response.url for response in together.results} == {reverse("enrolment:done")}
    enrolment = EnrolmentRequest.objects.get()
    assert enrolment.number == "ENR0001M0"
    assert acknowledgements() == 1
    for browser in browsers:
        page = browser.get(reverse("enrolment:done"), follow=True)
        assert page.status_code == 200
        assert enrolment.number in page.content.decode()
    # Whichever request saved the session last, the draft is done: a new wizard starts afresh
    # instead of showing the recap of the stored request.
    assert client.get(step_url("confirmation")).url == step_url("referencing")


def test_two_vendors_submitting_the_same_number_at_once_over_http(postgresql):
    """Two vendors, each in their own browser, click « Terminer » for the same software at the
    same instant: one gets the ENR number, the other the referencing step with the French
    « déjà » message at the field and what they typed kept — never a 500."""
    load_registries()
    wizards = [Wizard(Client()), Wizard(Client())]
    for wizard in wizards:
        wizard.until_confirmation()
    finals = [wizard.confirmation_data() for wizard in wizards]

    together = run_together(
        2,
        lambda index: wizards[index].post("confirmation", finals[index][0], extra=finals[index][1], follow=False),
    )

    assert together.errors == []
    assert sorted(response.status_code for response in together.results) == [302, 302]
    targets = sorted(response.url for response in together.results)
    assert targets == sorted([reverse("enrolment:done"), step_url("referencing")])
    enrolment = EnrolmentRequest.objects.get()
    assert acknowledgements() == 1
    for wizard, response in zip(wizards, together.results, strict=True):
        page = wizard.client.get(response.url, follow=True)
        assert page.status_code == 200
        html = page.content.decode()
        if response.url == reverse("enrolment:done"):
            assert enrolment.number in html
        else:
            assert escape(ALREADY_ENROLLED_NUMBER) in html
            assert f'value="{enrolment.referencing_number}"' in html
            assert enrolment.number not in html
