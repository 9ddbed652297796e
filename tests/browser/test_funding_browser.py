"""Scenario 8, the funding request in Chromium (R-FIN-3..7): a visitor tries the public simulator
with the published example; the vendor files the example and its zip and gets its FIN number;
an agent asks « A modifier »; the vendor sends a new version; the agent validates and marks it
paid; the vendor follows it all in « Suivi de ma demande de financement ». axe on every page."""

import re

import pytest
from playwright.sync_api import Page, expect

from funding import format as funding_format
from funding.models import FundingRequest
from tests.browser.helpers import DESKTOP, MOBILE, assert_accessible, choose, field, open_page
from tests.browser.test_backoffice_browser import assert_admin_accessible
from tests.browser.test_backoffice_browser import sign_in as admin_sign_in
from tests.browser.test_portal_browser import sign_in as vendor_sign_in
from tests.factories import agent
from tests.funding import files
from tests.funding.factories import open_window, validated_vendor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Le bon de commande BC-2026-002 n'est pas signé."


def attach(page: Page, label: str, name: str, content: bytes) -> None:
    kind = "application/zip" if name.endswith(".zip") else "application/json"
    field(page, label).set_input_files({"name": name, "mimeType": kind, "buffer": content})


def example_files(page: Page, json_content: bytes | None = None) -> None:
    attach(page, "Fichier json", "demande-financement.json", json_content or funding_format.example_bytes())
    attach(page, "Fichier zip des pièces", "pieces.zip", funding_format.example_zip_bytes())


def finish(page: Page) -> str:
    """Recap → the two statements → « Terminer » → the FIN number."""
    expect(page.get_by_role("heading", name="Récapitulatif de ma demande de financement")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Terminer").click()
    expect(page.locator("#error-summary")).to_contain_text("article 441-7 du code pénal")
    assert_accessible(page)
    choose(page, "id_accept_penal_code")
    choose(page, "id_accept_sincerity")
    page.get_by_role("button", name="Terminer").click()
    status = page.get_by_role("status").filter(has_text="Demande de financement déposée.")
    expect(status).to_contain_text(re.compile(r"Le numéro de votre demande est le FIN\d{4}"))
    assert_accessible(page)
    return re.search(r"FIN\d{4}", status.inner_text()).group(0)


def decide(desk: Page, button: str, values: dict[str, str] | None = None) -> None:
    for label, value in (values or {}).items():
        desk.get_by_label(label).fill(value)
    desk.get_by_role("button", name=button).click()
    expect(desk.locator(".messagelist")).to_be_visible()
    assert_admin_accessible(desk)


def test_a_visitor_tries_the_public_simulator_with_the_example(page):
    page.goto("/")
    page.get_by_role("link", name="Simuler mon fichier json").click()
    expect(page.get_by_role("heading", name="Simuler mon fichier json", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Contrôler mon fichier").click()
    expect(page.locator("#error-summary")).to_contain_text("Joignez le fichier json de votre demande.")
    assert_accessible(page)
    example_files(page)
    page.get_by_role("button", name="Contrôler mon fichier").click()
    expect(page.get_by_role("heading", name="Rapport de contrôle")).to_be_visible()
    expect(page.get_by_text("Fichier conforme : 3 bénéficiaires, montant total 2 150,00 € HT")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le rapport (CSV)").click()
    assert download.value.path().read_text(encoding="utf-8-sig").startswith("Résumé;Fichier conforme")

    page.get_by_role("link", name="Contrôler un autre fichier").click()
    document = files.example()
    document["beneficiaires"][0]["montant_ht"] = 650.5
    attach(page, "Fichier json", "demande.json", files.json_bytes(document))
    page.get_by_role("button", name="Contrôler mon fichier").click()
    row = page.get_by_role("row").filter(has_text="beneficiaires[0].montant_ht")
    expect(row).to_contain_text("bloquante")
    expect(row).to_contain_text("écrit comme un nombre (650.5)")
    assert_accessible(page)
    page.goto("/simuler-fichier-json/")
    page.get_by_role("link", name="Documentation technique du format").click()
    expect(page.get_by_role("heading", name="Format segurnum-financement-sas 1.0")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("viewport_width", [MOBILE])
def test_the_simulator_and_the_format_fit_a_phone(page, viewport_width):
    for url in ("/simuler-fichier-json/", "/format/segurnum-financement-sas/1.0/"):
        page.goto(url)
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)


def test_file_modify_validate_and_pay_a_funding_request(page, browser, live_server):
    open_window()
    enrolment = validated_vendor()
    vendor_sign_in(page, live_server.url, enrolment.account)

    page.goto("/espace/")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Demande de financement").click()
    expect(page.get_by_text("Vous n'avez pas encore de demande de financement.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Déposer ma demande de financement").click()
    assert_accessible(page)
    example_files(page)
    page.get_by_role("button", name="Contrôler mes fichiers").click()
    expect(page.get_by_text("Fichier conforme : 3 bénéficiaires")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Continuer vers le récapitulatif").click()
    expect(page.get_by_role("cell", name="RPPS 10003176392")).to_be_visible()
    number = finish(page)
    assert number == "FIN0001"
    page.get_by_role("link", name="OK").click()
    expect(page.get_by_text(f"Demande {number} — Déposée")).to_be_visible()
    assert_accessible(page)

    desk = open_page(browser, live_server.url, width=DESKTOP)
    admin_sign_in(desk, agent(username="camille.roux", first_name="Camille", last_name="Roux").username)
    desk.get_by_role("link", name="Demandes de financement").first.click()
    desk.get_by_label("Rechercher", exact=True).fill("10003176392")  # a beneficiary's RPPS
    desk.get_by_role("button", name="Rechercher").click()
    assert_admin_accessible(desk)
    desk.get_by_role("link", name=number).click()
    expect(desk.get_by_text("RPPS")).to_be_visible()
    with desk.expect_download() as download:
        desk.get_by_role("link", name="structures/BC-2026-003.pdf").click()
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    assert_admin_accessible(desk)
    decide(desk, "Prendre en charge")
    decide(desk, "Demander une modification", {"Motif (obligatoire, communiqué au fournisseur)": REASON})
    expect(desk.get_by_text(f"La demande {number} est « A modifier »")).to_be_visible()

    page.reload()
    expect(page.get_by_text(f"Motif : {REASON}").first).to_be_visible()
    assert_accessible(page)
    corrected = files.example()
    corrected["beneficiaires"][1]["numero_bon_de_commande"] = "BC-2026-002-SIGNE"
    attach(page, "Fichier json", "demande-corrigee.json", files.json_bytes(corrected))
    page.get_by_role("button", name="Contrôler la nouvelle version").click()
    expect(page.get_by_text("Fichier conforme : 3 bénéficiaires")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Continuer vers le récapitulatif").click()
    expect(page.get_by_text("pièces de la version précédente")).to_be_visible()
    assert finish(page) == number

    desk.reload()
    decide(desk, "Valider")
    expect(desk.get_by_text(f"La demande {number} est validée.")).to_be_visible()
    decide(
        desk,
        "Marquer décidée et payée",
        {"Date de paiement": "2026-03-20", "Référence du paiement": "VIR-2026-0042"},
    )
    expect(desk.get_by_text(f"La demande {number} est décidée et payée.")).to_be_visible()
    desk.context.close()

    page.goto("/espace/demande-de-financement/")
    expect(page.get_by_text(f"Demande {number} — Décidée et payée")).to_be_visible()
    timeline = page.locator(".segurnum-timeline")
    for status in ("Déposée", "En cours d'instruction", "A modifier", "Validée", "Décidée et payée"):
        expect(timeline).to_contain_text(status)
    expect(page.get_by_text("VIR-2026-0042", exact=True)).to_be_visible()
    assert_accessible(page)
    funding = FundingRequest.objects.get(number=number)
    assert funding.versions.count() == 2 and str(funding.paid_amount) == "2580.00"
