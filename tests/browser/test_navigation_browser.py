"""Scenarios 4 and 5: « Étape précédente » / « Étape suivante » lose nothing (R-WIZ-10), and
« Quitter sans enregistrer » drops the draft and its files (R-WIZ-9)."""

from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from enrolment.models import EnrolmentRequest
from enrolment.views import WIZARD_SESSION_KEY
from tests.browser.helpers import (
    ARCAD,
    BANK,
    GUIDE_RECAP,
    REPRESENTATIVE,
    REPRESENTATIVE_ID,
    arrive,
    assert_accessible,
    assert_filled,
    assert_received,
    assert_step,
    attach,
    bank_step,
    field,
    legal_representative_step,
    next_step,
    press,
    referencing_step,
    start,
)
from tests.enrolment.wizard import load_registries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def previous_step(page) -> None:
    press(page, "Étape précédente")


def assert_steps_kept(page, number: int) -> None:
    """What steps 1 to 4 received, shown again on step ``number``."""
    if number == 1:
        expect(page.locator(".segurnum-readonly")).to_contain_text(ARCAD)
        assert_received(page, {"Certificat de référencement": "certificat ANS.pdf"})
    elif number == 2:
        assert_filled(page, {"Nom commercial": "ASM Logiciels", **REPRESENTATIVE})
        expect(page.locator("#id_applicant-is_legal_representative_0")).to_be_checked()
        assert_received(page, {REPRESENTATIVE_ID: "cni representant.pdf"})
    elif number == 3:
        assert_filled(page, BANK)
        assert_received(page, {"RIB": "RIB.pdf"})
    else:
        expect(field(page, "Taux TVA")).to_have_value("ht_0")
        assert_received(page, {"Preuve de régime hors TVA": "attestation non assujettissement.pdf"})


def test_previous_and_next_steps_lose_nothing(page):
    load_registries()
    start(page)
    referencing_step(page)
    legal_representative_step(page)
    bank_step(page)
    field(page, "Taux TVA").select_option(label="HT - 0%")
    attach(page, "Preuve de régime hors TVA", "attestation non assujettissement.pdf")

    titles = ["Référencement", "Demandeur", "Coordonnées bancaires", "Taux TVA"]
    for number in (3, 2, 1):
        previous_step(page)
        arrive(page, number, titles[number - 1])
        assert_steps_kept(page, number)
    for number in (2, 3, 4):
        next_step(page)
        arrive(page, number, titles[number - 1])
        assert_steps_kept(page, number)
    next_step(page)
    arrive(page, 5, "Confirmation")
    recap = page.locator(".segurnum-recap")
    for value in GUIDE_RECAP:
        expect(recap.get_by_text(value, exact=True)).to_have_count(1)


def draft_files() -> list[Path]:
    return [path for path in (Path(settings.PRIVATE_STORAGE_ROOT) / "drafts").rglob("*") if path.is_file()]


def session_data(page) -> dict:
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"]).load()


def test_quit_without_saving_drops_the_draft_and_its_files(page, live_server):
    load_registries()
    start(page)
    referencing_step(page)
    legal_representative_step(page)
    assert_step(page, 3, "Coordonnées bancaires")
    assert len(draft_files()) == 2  # the certificate and the identity document
    assert WIZARD_SESSION_KEY in session_data(page)

    press(page, "Quitter sans enregistrer")
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("status")).to_have_text(
        "Votre demande d'enrôlement a été abandonnée : aucune information n'a été conservée."
    )
    assert_accessible(page)
    assert draft_files() == []
    assert WIZARD_SESSION_KEY not in session_data(page)
    assert EnrolmentRequest.objects.count() == 0

    page.get_by_role("link", name="Effectuer ma demande d'enrôlement").click()
    arrive(page, 1, "Référencement")
    assert field(page, "N° unique de référencement (ANS)").input_value() == ""
