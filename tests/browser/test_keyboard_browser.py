"""Scenario 1 with the keyboard only (RGAA 7.3, 12.8, 12.13): Tab, Shift+Tab, Space, Enter and
typing; no mouse click and no .fill(). The focus must go through each field and each button in
the order of the page, visibly, and Enter in a field must do what the step's main button does."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from enrolment.models import EnrolmentRequest
from tests.browser import helpers as guide  # the guide's data
from tests.browser.helpers import (
    arrive,
    assert_accessible,
    assert_field_error,
    attach,
    captcha,
    field,
    mails,
)
from tests.enrolment.wizard import load_registries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Position of the focused element in document order (-1: nothing but the page itself).
FOCUS_POSITION = "() => Array.prototype.indexOf.call(document.querySelectorAll('*'), document.activeElement)"


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 40) -> None:
    """Press Tab (Shift+Tab) until ``target`` has the focus. On the way the focus only moves
    forward (backward) through the page: it never skips back, nor wraps around."""
    target.wait_for(state="attached")
    position = page.evaluate(FOCUS_POSITION)
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if target.evaluate("element => element === document.activeElement"):
            assert target.evaluate("element => element.matches(':focus-visible')"), "focus invisible"
            return
        reached = page.evaluate(FOCUS_POSITION)
        assert (reached < position) if backwards else (reached > position), "ordre de tabulation incohérent"
        position = reached
    raise AssertionError(f"{target} jamais atteint au clavier")


def type_into(page: Page, text: str, value: str) -> None:
    tab_to(page, field(page, text))
    page.keyboard.type(value)


def tick(page: Page, input_id: str) -> None:
    """Radios and checkboxes: Tab to the box, Space."""
    box = page.locator(f"#{input_id}")
    tab_to(page, box)
    page.keyboard.press("Space")
    expect(box).to_be_checked()


def send_file(page: Page, text: str, name: str) -> None:
    # The operating system's file dialog cannot be driven: the file input is reached with Tab,
    # then the file is handed to it directly (set_input_files).
    tab_to(page, field(page, text))
    attach(page, text, name)


def activate(page: Page, name: str, role: str = "button") -> None:
    tab_to(page, page.get_by_role(role, name=name, exact=True))
    page.keyboard.press("Enter")


def test_enrolment_with_the_keyboard_only(page, mailoutbox):
    load_registries()
    page.goto("/")
    assert_accessible(page)
    activate(page, "Effectuer ma demande d'enrôlement", role="link")

    # 1 - Référencement
    arrive(page, 1, "Référencement")
    type_into(page, "N° unique de référencement (ANS)", guide.ARCAD)
    activate(page, "Rechercher")
    expect(page.get_by_text("ARCAD SAAD")).to_be_visible()
    assert_accessible(page)
    send_file(page, "Certificat de référencement", "certificat ANS.pdf")
    tab_to(page, page.get_by_role("link", name="Retour"))
    activate(page, "Étape suivante")

    # 2 - Demandeur: Enter in the captcha field searches (a wrong key first).
    arrive(page, 2, "Demandeur")
    type_into(page, "Numéro de SIRET", guide.WRONG_KEY_SIRET)
    type_into(page, "Code captcha", captcha(page, "applicant"))
    page.keyboard.press("Enter")
    assert_field_error(page, "id_applicant-siret", "Ce numéro de SIRET n'est pas valide")
    assert_accessible(page)
    # From the focused summary, its link takes the focus to the field concerned.
    tab_to(page, page.locator('#error-summary a[href="#id_applicant-siret"]'))
    page.keyboard.press("Enter")
    expect(field(page, "Numéro de SIRET")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(guide.GUIDE_SIRET)
    type_into(page, "Code captcha", captcha(page, "applicant"))
    page.keyboard.press("Enter")
    expect(field(page, "Dénomination sociale")).to_have_value("ASSOCIATION SERVICES MEDIATION")
    assert_accessible(page)
    type_into(page, "Nom commercial", "ASM Logiciels")
    tick(page, "id_applicant-is_legal_representative_0")
    for text, value in guide.REPRESENTATIVE.items():
        type_into(page, text, value)
    send_file(page, guide.REPRESENTATIVE_ID, "cni representant.pdf")
    for name in ("Étape précédente", "Quitter sans enregistrer", "Étape suivante"):
        tab_to(page, page.get_by_role("button", name=name, exact=True))
    for name in ("Quitter sans enregistrer", "Étape précédente"):
        tab_to(page, page.get_by_role("button", name=name, exact=True), backwards=True)
    activate(page, "Étape suivante")

    # 3 - Coordonnées bancaires
    arrive(page, 3, "Coordonnées bancaires")
    for text, value in guide.BANK.items():
        type_into(page, text, value)
    send_file(page, "RIB", "RIB.pdf")
    activate(page, "Étape suivante")

    # 4 - Taux TVA: typing on the closed list picks « HT - 0% », which shows the proof field.
    arrive(page, 4, "Taux TVA")
    tab_to(page, field(page, "Taux TVA"))
    page.keyboard.type("HT")
    expect(field(page, "Taux TVA")).to_have_value("ht_0")
    send_file(page, "Preuve de régime hors TVA", "attestation non assujettissement.pdf")
    activate(page, "Étape suivante")

    # 5 - Confirmation
    arrive(page, 5, "Confirmation")
    type_into(page, "Captcha", captcha(page, "confirmation"))
    for name in ("accept_terms", "accept_penal_code", "accept_sincerity"):
        tick(page, f"id_confirmation-{name}")
    activate(page, "Terminer")

    expect(page.get_by_role("status")).to_contain_text("Le numéro de votre demande est le ENR")
    number = EnrolmentRequest.objects.get().number
    expect(page.locator(".segurnum-enr")).to_have_text(number)
    assert len(mails(mailoutbox, 1)) == 1
    assert_accessible(page)
    activate(page, "OK", role="link")
    expect(page).to_have_url(re.compile(r"/$"))
