"""Scenario 7, first half: the request filed in scenario 1 is found, read and validated by an ASP
agent in the back office, then found by the support desk (R-BO-1..3)."""

import re

import pytest
from playwright.sync_api import Page, expect

from enrolment.models import AccessRecord, EnrolmentRequest
from tests.browser.helpers import AXE, check_accessible, guide_enrolment, open_page
from tests.enrolment.wizard import load_registries
from tests.factories import agent, support_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Mot2passe!Solide"  # the factories' password


def assert_admin_accessible(page: Page) -> None:
    """The back office is Django's admin: no design-system script to wait for."""
    violations = [v for v in AXE.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


def sign_in(page: Page, username: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()


def test_agent_validates_the_vendors_request_and_support_finds_it(page, browser, live_server, mailoutbox):
    load_registries()
    number = guide_enrolment(page)

    desk = open_page(browser, live_server.url)
    sign_in(desk, agent(username="camille.roux", first_name="Camille", last_name="Roux").username)
    assert_admin_accessible(desk)
    desk.get_by_role("link", name="Demandes d'enrôlement").first.click()
    desk.get_by_label("Rechercher", exact=True).fill(number.lower())
    desk.get_by_role("button", name="Rechercher").click()
    assert_admin_accessible(desk)
    desk.get_by_role("link", name=number).click()

    expect(desk.get_by_role("heading", name="Coordonnées bancaires")).to_be_visible()
    expect(desk.get_by_text("FR7630056009271234567890182")).to_be_visible()
    with desk.expect_download() as download:
        desk.get_by_role("link", name="RIB.pdf").click()
    assert download.value.suggested_filename == "RIB.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    assert_admin_accessible(desk)

    desk.get_by_role("button", name="Valider").click()
    expect(desk.get_by_text(re.compile(f"La demande {number} est validée"))).to_be_visible()
    expect(desk.get_by_text("Soumise → Validée")).to_be_visible()
    expect(desk.get_by_role("button", name="Valider")).to_have_count(0)
    assert_admin_accessible(desk)
    enrolment = EnrolmentRequest.objects.get(number=number)
    assert enrolment.status == "validated" and enrolment.account.username == "eishiro.oda"
    assert [m.subject.split(" (")[0] for m in mailoutbox[1:]] == [
        f"Votre demande d'enrôlement {number} est validée",
        "Votre identifiant de connexion au Portail Ségur Numérique",
        "Votre mot de passe provisoire pour le Portail Ségur Numérique",
    ]
    assert set(AccessRecord.objects.values_list("action", flat=True)) == {"view_request", "open_document"}
    desk.context.close()

    helpdesk = open_page(browser, live_server.url)
    sign_in(helpdesk, support_user().username)
    helpdesk.get_by_role("link", name="Rechercher une demande d'enrôlement").click()
    helpdesk.get_by_label("Numéro ENR, SIRET ou adresse électronique").fill(number)
    helpdesk.get_by_role("button", name="Rechercher").click()
    expect(helpdesk.get_by_role("heading", name=f"Demande {number} — Validée")).to_be_visible()
    expect(helpdesk.get_by_text("FR76 **** **** 0182")).to_be_visible()
    assert "RIB.pdf" not in helpdesk.content()
    assert_admin_accessible(helpdesk)
    helpdesk.context.close()
    check_accessible(page, "retour au portail")  # the vendor's page is untouched
