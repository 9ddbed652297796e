"""Scenario 1 of the guide in a real browser: home → five steps → ENR number (R-PUB-1, R-WIZ-1..8)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from captcha.models import CaptchaStore
from playwright.sync_api import expect

from enrolment.models import EnrolmentRequest
from tests.enrolment.wizard import load_registries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = "static/docs/modele-mandat.pdf"


def captcha(page, prefix: str) -> str:
    key = page.locator(f'input[name="{prefix}-captcha_0"]').get_attribute("value")
    return CaptchaStore.objects.get(hashkey=key).response


AXE = Axe()


def assert_accessible(page):
    """axe-core (bundled, offline): no violation of impact serious or critical, once the design
    system's script has set the page up (it adapts the header's ARIA to the screen width)."""
    page.wait_for_selector('html[data-fr-js="true"]', state="attached")
    violations = [v for v in AXE.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


def label(text: str):
    return re.compile("^" + re.escape(text))


def fill(page, values: dict[str, str]) -> None:
    """Type into each field found by the start of its French label, as a person would."""
    for text, value in values.items():
        page.get_by_label(label(text)).fill(value)


def test_enrolment_with_the_guide_data(page, mailoutbox):
    load_registries()
    page.goto(page.base_url + "/")
    assert_accessible(page)
    page.get_by_role("link", name="Effectuer ma demande d'enrôlement").click()

    # 1 - Référencement
    page.get_by_label(label("N° unique de référencement (ANS)")).fill("tndSAS0031")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("ARCAD SAAD")).to_be_visible()
    assert_accessible(page)
    page.get_by_label(label("Certificat de référencement")).set_input_files(PDF)
    page.get_by_role("button", name="Etape suivante").click()

    # 2 - Demandeur: a wrong SIRET key first, the message is next to the field
    assert "Étape 2 sur 5" in page.content()
    page.get_by_label(label("Numéro de SIRET")).fill("47992882200068")
    page.get_by_label(label("Code captcha")).fill(captcha(page, "applicant"))
    page.get_by_role("button", name="Rechercher").click()
    assert page.locator("#id_applicant-siret-error").inner_text().startswith("Ce numéro de SIRET n'est pas valide")
    expect(page.locator("#error-summary")).to_be_focused()
    assert_accessible(page)
    page.get_by_label(label("Numéro de SIRET")).fill("47992882200069")
    page.get_by_label(label("Code captcha")).fill(captcha(page, "applicant"))
    page.get_by_role("button", name="Rechercher").click()
    assert page.get_by_label(label("Dénomination sociale")).input_value() == "ASSOCIATION SERVICES MEDIATION"
    expect(page.locator("#id_applicant-kbis-group")).to_be_hidden()  # unchanged dénomination
    expect(page.locator("#third-party")).to_be_hidden()  # legal representative not chosen yet
    page.get_by_label(label("Nom commercial")).fill("ASM Logiciels")
    page.locator("label[for=id_applicant-is_legal_representative_0]").click()
    fill(
        page,
        {
            "Nom du représentant": "Oda",
            "Prénom du représentant": "Eishiro",
            "Email du représentant": "zakaria.busch@example.fr",
            "Confirmation email du représentant": "zakaria.busch@example.fr",
            "Téléphone du représentant": "0668561565",
        },
    )
    page.get_by_label(label("CNI, passeport ou titre de séjour *")).set_input_files(PDF)
    assert_accessible(page)
    page.get_by_role("button", name="Etape suivante").click()

    # 3 - Coordonnées bancaires
    fill(page, {"IBAN": "FR7630056009271234567890182", "BIC": "CCFRFRPP", "Titulaire": "ODA"})
    page.get_by_label(label("RIB")).set_input_files(PDF)
    assert_accessible(page)
    page.get_by_role("button", name="Etape suivante").click()

    # 4 - Taux TVA
    page.get_by_label(label("Taux TVA")).select_option(label="HT - 0%")
    page.get_by_label(label("Preuve de régime hors TVA")).set_input_files(PDF)
    assert_accessible(page)
    page.get_by_role("button", name="Etape suivante").click()

    # 5 - Confirmation
    recap = page.content()
    for value in ("tndSAS0031", "47992882200069", "FR7630056009271234567890182", "HSBC FRANCE", "modele-mandat.pdf"):
        assert value in recap
    page.get_by_label(label("Captcha")).fill(captcha(page, "confirmation"))
    page.locator("label[for=id_confirmation-accept_terms]").click()
    page.locator("label[for=id_confirmation-accept_penal_code]").click()
    page.locator("label[for=id_confirmation-accept_sincerity]").click()
    assert_accessible(page)
    page.get_by_role("button", name="Terminer").click()

    message = page.get_by_role("status").inner_text()
    number = EnrolmentRequest.objects.get().number
    assert f"Demande d'enrôlement validée. Le numéro de votre demande est le {number}." in message
    assert_accessible(page)
    page.get_by_role("link", name="OK").click()
    assert page.url == page.base_url + "/"
    assert len(mailoutbox) == 1 and number in mailoutbox[0].subject
