"""Integrity of the wizard's state (SECURITY W1): a forged step name never gives a 500, and
« Terminer » only stores what the summary on the vendor's screen showed."""

import re

import pytest
from django.urls import reverse
from schwifty import IBAN

from enrolment.models import EnrolmentRequest
from tests import files
from tests.enrolment.wizard import GUIDE_IBAN, GUIDE_NUMBER, MANAGEMENT, Wizard, load_registries, step_url

pytestmark = pytest.mark.django_db

OTHER_IBAN = str(IBAN.generate("FR", bank_code="30056", branch_code="00927", account_code="98765432100"))
CHANGED = "Les informations de votre demande ont été modifiées depuis l&#x27;affichage de ce récapitulatif"


@pytest.fixture
def wizard(client):
    load_registries()
    return Wizard(client)


def html(response) -> str:
    return response.content.decode()


def shown_iban(response) -> str:
    match = re.search(r"<dt>IBAN</dt><dd>([^<]+)</dd>", html(response))
    assert match, "pas d'IBAN dans le récapitulatif"
    return match.group(1)


# --- forged step names ------------------------------------------------------------------------


@pytest.mark.parametrize("forged", ["../../admin", "inconnue", "termine", "", "referencing/../bank", "x" * 5000])
def test_forged_current_step_gets_400_and_the_draft_is_kept(wizard, client, forged):
    wizard.referencing()
    response = client.post(step_url("applicant"), {MANAGEMENT: forged, "applicant-siret": "47992882200069"})

    assert response.status_code == 400
    page = html(response)
    assert "Demande incorrecte" in page and "Vos informations déjà saisies sont conservées" in page
    assert '<html lang="fr">' in page
    # Nothing of the session was touched: the vendor goes on from where they were.
    following = wizard.get("applicant")
    assert following.status_code == 200
    assert "Numéro de SIRET" in html(following)
    back = wizard.get("referencing")
    assert GUIDE_NUMBER in html(back) and "certificat ANS.pdf" in html(back)


def test_missing_management_form_gets_400(wizard, client):
    wizard.get("referencing")
    response = client.post(step_url("referencing"), {"referencing-referencing_number": GUIDE_NUMBER})
    assert response.status_code == 400
    assert "Demande incorrecte" in html(response)


def test_unknown_step_in_the_address_goes_back_to_a_known_step(wizard, client):
    response = client.get("/enrolement/demande/inconnue/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == step_url("referencing")


def test_a_session_holding_an_unknown_step_starts_again_at_the_first_one(wizard, client):
    wizard.referencing()
    session = client.session
    session["wizard_enrolment_wizard"]["step"] = "../../admin"
    session.save()

    response = client.get(reverse("enrolment:start"), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == step_url("referencing")
    assert GUIDE_NUMBER in html(response)


# --- two tabs -----------------------------------------------------------------------------------


def test_terminer_refuses_when_another_tab_changed_the_iban(wizard, client):
    wizard.until_confirmation()
    # Tab A shows the summary, with the guide's IBAN.
    data, extra = wizard.confirmation_data()
    # Tab B goes back to the bank step and changes the IBAN.
    wizard.get("bank")
    changed = wizard.bank(iban=OTHER_IBAN)
    assert changed.redirect_chain[-1][0] == step_url("vat")

    # Tab A clicks « Terminer ».
    response = wizard.post("confirmation", data, extra=extra)

    assert EnrolmentRequest.objects.count() == 0
    assert response.redirect_chain[-1][0] == step_url("confirmation")
    assert CHANGED in html(response)
    assert shown_iban(response) == OTHER_IBAN  # the fresh summary
    assert not re.search(r'<input[^>]*name="confirmation-accept_[a-z_]+"[^>]*checked', html(response))
    # Certified again on the fresh summary, the request is stored with what it shows.
    stored = wizard.confirm()
    assert "Le numéro de votre demande est le" in html(stored)
    assert EnrolmentRequest.objects.get().iban == OTHER_IBAN


def test_terminer_refuses_when_another_tab_replaced_a_file_under_the_same_name(wizard):
    wizard.until_confirmation()
    data, extra = wizard.confirmation_data()
    wizard.get("bank")
    wizard.bank(rib=files.pdf("RIB.pdf", text="Un autre relevé d'identité bancaire"))

    response = wizard.post("confirmation", data, extra=extra)

    assert EnrolmentRequest.objects.count() == 0
    assert CHANGED in html(response)


def test_unchanged_summary_is_stored_as_shown(wizard):
    wizard.until_confirmation()
    page = wizard.get("confirmation")
    assert shown_iban(page) == GUIDE_IBAN
    response = wizard.confirm()
    assert "Le numéro de votre demande est le" in html(response)
    assert EnrolmentRequest.objects.get().iban == GUIDE_IBAN


@pytest.mark.parametrize("digest", ["", "0" * 64])
def test_a_missing_or_forged_digest_is_refused(wizard, digest):
    wizard.until_confirmation()
    data, extra = wizard.confirmation_data()
    response = wizard.post("confirmation", data, extra={**extra, "recap_digest": digest})
    assert EnrolmentRequest.objects.count() == 0
    assert CHANGED in html(response)
    assert shown_iban(response) == GUIDE_IBAN
