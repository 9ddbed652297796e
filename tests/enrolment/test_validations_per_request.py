"""Forms validated per request of the wizard (R-PERF-5): each step's form is built and validated
once per request, a step found valid is not validated again by the next requests while its data
is unchanged, and « Terminer » still validates everything it stores."""

from collections import Counter
from contextlib import contextmanager

import pytest
from django.core.signals import request_started
from django.forms.forms import BaseForm
from django.urls import reverse

from enrolment.models import EnrolmentRequest
from tests.enrolment.wizard import Wizard, load_registries, step_url

pytestmark = pytest.mark.django_db

STEP_FORMS = ("ReferencingForm", "ApplicantForm", "BankForm", "VatForm")


@contextmanager
def validations(monkeypatch):
    """The step forms validated by each request sent inside the block: one Counter per request
    (an unbound form, shown empty, has nothing to validate)."""
    per_request: list[Counter] = []
    full_clean = BaseForm.full_clean

    def counted(form):
        if form.is_bound and type(form).__name__ in (*STEP_FORMS, "ConfirmationForm"):
            per_request[-1][type(form).__name__] += 1
        return full_clean(form)

    def started(**kwargs):
        per_request.append(Counter())

    monkeypatch.setattr(BaseForm, "full_clean", counted)
    request_started.connect(started)
    try:
        yield per_request
    finally:
        request_started.disconnect(started)


@pytest.fixture
def wizard(client):
    load_registries()
    return Wizard(client)


def test_the_steps_already_valid_are_not_validated_again_on_each_request(wizard, monkeypatch):
    wizard.referencing()
    wizard.applicant()
    wizard.bank()
    with validations(monkeypatch) as counts:
        page = wizard.get("vat", follow=False)
    assert page.status_code == 200
    assert "TVA" in page.content.decode()
    # Étape 4 GET: the three steps before are remembered valid, the empty form is not validated.
    assert counts == [Counter()]

    wizard.vat()
    with validations(monkeypatch) as counts:
        page = wizard.get("confirmation", follow=False)
    assert "47992882200069" in page.content.decode()
    # Étape 5 GET: the summary is read from each earlier step's form, validated once.
    assert counts == [Counter({name: 1 for name in STEP_FORMS})]

    data, extra = wizard.confirmation_data()
    with validations(monkeypatch) as counts:
        done = wizard.post("confirmation", data, extra=extra, follow=False)
    assert done["Location"] == reverse("enrolment:done")
    assert EnrolmentRequest.objects.count() == 1
    # « Terminer »: every step once; the confirmation twice (the POST with its captcha, then its
    # stored data, without).
    assert counts == [Counter({**{name: 1 for name in STEP_FORMS}, "ConfirmationForm": 2})]


def test_a_step_changed_since_it_was_found_valid_is_validated_again(wizard, client):
    """A step's remembered validity holds for its data only: an IBAN changed in the session is
    checked again, and the vendor is sent back to the « Coordonnées bancaires » step."""
    wizard.until_confirmation()
    assert wizard.get("confirmation", follow=False).status_code == 200
    session = client.session
    bank = session["wizard_enrolment_wizard"]["step_data"]["bank"]
    bank["bank-iban"] = ["FR76 0000 0000 0000 0000 0000 000"]
    session.save()
    response = wizard.get("confirmation", follow=False)
    assert response.status_code == 302
    assert response["Location"] == step_url("bank")
    page = wizard.get("bank")
    assert "FR76 0000 0000 0000 0000 0000 000" in page.content.decode()
