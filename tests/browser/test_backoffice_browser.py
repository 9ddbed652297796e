"""Scenario 7: the request filed in scenario 1 is found, read and validated by an ASP agent in the
back office, then found by the support desk (R-BO-1..3); the vendor then signs in with the mailed
credentials, replaces the temporary password, sets the secret question and follows the request in
« Suivi des demandes d'enrôlement » (R-ACC-1..3, R-PRIV-1..3)."""

import re

import pytest
from playwright.sync_api import Page, expect

from enrolment.models import AccessRecord, EnrolmentRequest
from tests.browser.helpers import (
    AXE,
    assert_accessible,
    check_accessible,
    field,
    guide_enrolment,
    mails,
    open_page,
)
from tests.enrolment.wizard import load_registries
from tests.factories import agent, support_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Mot2passe!Solide"  # the factories' password


def assert_admin_accessible(page: Page) -> None:
    """The back office is Django's admin: no design-system script to wait for. No violation of
    any impact, minor included."""
    violations = AXE.run(page).response["violations"]
    assert violations == [], [(v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in violations]


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
    assert [m.subject.split(" (")[0] for m in mails(mailoutbox, 4)[1:]] == [
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

    identifiant = re.search(r"Votre identifiant : (\S+)", mailoutbox[2].body).group(1)
    temporary = re.search(r"Mot de passe provisoire : (\S+)", mailoutbox[3].body).group(1)
    vendor_signs_in_for_the_first_time(page, number, identifiant, temporary)


NEW_PASSWORD = "Segur;2026ok"


def vendor_signs_in_for_the_first_time(page: Page, number: str, identifiant: str, temporary: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Se connecter").first.click()
    expect(page.get_by_role("heading", name="Accéder à mon espace personnel")).to_be_visible()
    assert_accessible(page)
    field(page, "Votre identifiant").fill(identifiant)
    field(page, "Votre mot de passe").fill(temporary)
    page.get_by_role("button", name="Valider").click()

    expect(page.get_by_role("heading", name=f"Changement du mot de passe pour {identifiant}")).to_be_visible()
    assert_accessible(page)
    # A password with an accent first: the rule is named next to the field, then a good one.
    field(page, "Entrez l'ancien mot de passe").fill(temporary)
    field(page, "Entrez le nouveau mot de passe").fill("Sécurité;2026")
    field(page, "Confirmez le nouveau mot de passe").fill("Sécurité;2026")
    page.get_by_role("button", name="Changement du mot de passe").click()
    expect(page.locator("#id_new_password1-error")).to_contain_text("caractères accentués")
    assert_accessible(page)
    field(page, "Entrez l'ancien mot de passe").fill(temporary)
    field(page, "Entrez le nouveau mot de passe").fill(NEW_PASSWORD)
    field(page, "Confirmez le nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Changement du mot de passe").click()

    expect(
        page.get_by_role("heading", name=f"Positionnement de la question secrète pour {identifiant}")
    ).to_be_visible()
    assert_accessible(page)
    field(page, "Entrez la question secrète").fill("Nom de ma première école ?")
    field(page, "Entrez la réponse").fill("Jules Ferry")
    page.get_by_role("button", name="Envoyer").click()

    expect(page.get_by_role("heading", name="Accueil fournisseur SAS")).to_be_visible()
    expect(page.get_by_text("Eishiro ODA Fournisseur SAS").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Suivi des demandes d'enrôlement").first.click()
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("Validée")
    assert_accessible(page)
