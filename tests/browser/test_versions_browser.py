"""After submission, in a browser with axe (R-AFT-1, R-AFT-2): an agent asks for a correction and
the vendor completes it from the mailed link; a validated vendor changes its bank details and the
agent validates ENR…M1."""

import re

import pytest
from playwright.sync_api import expect

from enrolment.models import EnrolmentDocument, EnrolmentRequest, EnrolmentVersion
from tests.browser.helpers import (
    assert_accessible,
    assert_field_error,
    attach,
    choose,
    field,
    mailed,
    mails,
    open_page,
)
from tests.browser.test_backoffice_browser import PASSWORD, assert_admin_accessible, sign_in
from tests.enrolment.wizard import load_registries
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory, UserFactory, agent
from tests.tracking.pdf import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_IBAN = "FR76 3000 4000 0312 3456 7890 143"
WRONG_IBAN = "FR76 3000 4000 0312 3456 7890 144"


def test_the_agent_asks_for_a_correction_and_the_vendor_completes_it(page, browser, live_server, mailoutbox, tmp_path):
    load_registries()
    enrolment = EnrolmentRequestFactory(representative_email="oda@example.fr")
    EnrolmentDocumentFactory(enrolment=enrolment, kind=EnrolmentDocument.Kind.RIB, original_name="RIB flou.pdf")

    desk = open_page(browser, live_server.url)
    sign_in(desk, agent(username="camille.roux").username)
    desk.goto(f"/admin/enrolment/enrolmentrequest/{enrolment.pk}/change/")
    desk.get_by_label("IBAN", exact=True).check()
    desk.get_by_label("RIB", exact=True).check()
    desk.get_by_label("Message au demandeur (obligatoire)").fill("Le RIB joint est illisible.")
    desk.get_by_role("button", name="Demander des compléments").click()
    expect(desk.get_by_text(f"La demande {enrolment.number} est « A compléter »")).to_be_visible()
    expect(desk.get_by_text("Tour 1")).to_be_visible()
    assert_admin_accessible(desk)

    mail = mails(mailoutbox, 1)[-1]
    assert mail.subject == f"Votre demande d'enrôlement {enrolment.number} est à compléter"
    link = re.search(r"(http://\S+/enrolement/completer/\S+/)", mail.body).group(1)
    page.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    expect(page.get_by_role("heading", name=f"Compléter la demande d'enrôlement {enrolment.number}")).to_be_visible()
    expect(page.get_by_text("Le RIB joint est illisible.")).to_be_visible()
    # The BIC comes with the IBAN: the wizard checks them together.
    expect(field(page, "BIC")).to_have_value("CCFRFRPP")
    expect(field(page, "Titulaire")).to_have_count(0)
    assert_accessible(page)

    field(page, "IBAN").fill(WRONG_IBAN)
    attach(page, "RIB", "RIB lisible.pdf")
    page.get_by_role("button", name="Renvoyer ma demande").click()
    assert_field_error(page, "id_bank-iban", "de l'IBAN est incorrecte")
    expect(field(page, "IBAN")).to_have_value(WRONG_IBAN)
    expect(page.locator("#id_bank-rib-kept")).to_contain_text("Fichier reçu : RIB lisible.pdf")
    assert_accessible(page)

    field(page, "IBAN").fill(NEW_IBAN)
    field(page, "BIC").fill("BNPAFRPP")
    page.get_by_role("button", name="Renvoyer ma demande").click()
    expect(page.get_by_text(f"Le numéro de votre demande reste le {enrolment.number}")).to_be_visible()
    assert_accessible(page)
    # R-AFT-4: the receipt of the compléments, for the session that sent them.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Télécharger l'accusé de dépôt")).click()
    download = download_info.value
    assert download.suggested_filename == f"accuse-de-depot-{enrolment.number}-complements-1.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    receipt = pdf_text(saved.read_bytes())
    assert f"Compléments de la demande d'enrôlement {enrolment.number}" in receipt
    rib = enrolment.correction_rounds.get().documents["rib"]
    assert "RIB lisible.pdf" in receipt and f"SHA-256 : {rib['sha256']}" in receipt
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentRequest.Status.IN_REVIEW
    assert enrolment.iban == NEW_IBAN.replace(" ", "")

    desk.reload()
    expect(desk.get_by_text(re.compile("Compléments reçus le"))).to_be_visible()
    expect(desk.get_by_text("A compléter → En cours d'instruction")).to_be_visible()
    assert_admin_accessible(desk)
    desk.context.close()

    page.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    expect(page.get_by_text("ce lien ne peut servir qu'une fois")).to_be_visible()
    assert_accessible(page)


def test_a_validated_vendor_changes_its_bank_details_and_the_agent_validates_m1(
    page, browser, live_server, mailoutbox, tmp_path
):
    load_registries()
    vendor = UserFactory(username="eishiro.oda", first_name="Eishiro", last_name="Oda", email="eishiro.oda@asm.example")
    enrolment = EnrolmentRequestFactory(
        account=vendor,
        status=EnrolmentRequest.Status.VALIDATED,
        representative_email=vendor.email,
        sequence=11,
        number="ENR0011M0",
    )
    EnrolmentDocumentFactory(enrolment=enrolment, kind=EnrolmentDocument.Kind.RIB, original_name="ancien RIB.pdf")

    page.goto("/connexion/")
    field(page, "Votre identifiant").fill(vendor.username)
    field(page, "Votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Valider").click()
    page.get_by_role("link", name="Suivi des demandes d'enrôlement").first.click()
    page.get_by_role("link", name="ENR0011M0").click()
    page.get_by_role("link", name="Demander une modification").click()
    assert_accessible(page)
    choose(page, "bloc-banque")
    page.get_by_role("button", name="Suivant").click()

    expect(field(page, "IBAN")).to_have_value("FR7630056009271234567890182")
    assert_accessible(page)
    field(page, "IBAN").fill(NEW_IBAN)
    field(page, "BIC").fill("BNPAFRPP")
    page.get_by_role("button", name="Etape suivante").click()
    assert_field_error(page, "id_bank-rib", "Joignez un nouveau fichier « RIB ».")
    assert_accessible(page)
    attach(page, "RIB", "nouveau RIB.pdf")
    page.get_by_role("button", name="Etape suivante").click()

    expect(
        page.get_by_role("heading", name="Récapitulatif de la modification de l'enrôlement ENR0011M0")
    ).to_be_visible()
    row = page.get_by_role("row").filter(has_text="IBAN")
    expect(row).to_contain_text("FR76 **** **** 0182")
    expect(row).to_contain_text("FR76 **** **** 0143")
    assert_accessible(page)
    choose(page, "id_accept_penal_code")
    choose(page, "id_accept_sincerity")
    page.get_by_role("button", name="Terminer").click()
    expect(
        page.get_by_text(re.compile("Demande de modification enregistrée. Le numéro de votre demande est le ENR0011M1"))
    ).to_be_visible()
    assert_accessible(page)
    # R-AFT-4: the modification's deposit receipt, downloaded from the confirmation page.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Télécharger l'accusé de dépôt")).click()
    download = download_info.value
    assert download.suggested_filename == "accuse-de-depot-ENR0011M1.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    receipt = pdf_text(saved.read_bytes())
    assert "Demande de modification ENR0011M1" in receipt
    assert re.search(r"IBAN\s+FR76 \*\*\*\* \*\*\*\* 0143", receipt)
    rib = EnrolmentVersion.objects.get(enrolment=enrolment, index=1).documents["rib"]
    assert "nouveau RIB.pdf" in receipt and f"SHA-256 : {rib['sha256']}" in receipt
    enrolment.refresh_from_db()
    assert enrolment.iban == "FR7630056009271234567890182"

    desk = open_page(browser, live_server.url)
    sign_in(desk, agent(username="camille.roux").username)
    desk.get_by_role("link", name="Demandes de modification").first.click()
    desk.get_by_role("link", name="ENR0011M1").click()
    changed = desk.locator("tr.changed").filter(has_text="IBAN")
    expect(changed.locator("mark")).to_have_text("FR7630004000031234567890143")
    expect(changed.locator("del")).to_have_text("FR7630056009271234567890182")
    assert_admin_accessible(desk)
    desk.get_by_role("button", name="Valider la modification").click()
    expect(desk.get_by_text("La modification ENR0011M1 est validée")).to_be_visible()
    assert_admin_accessible(desk)
    desk.context.close()

    enrolment.refresh_from_db()
    assert enrolment.iban == "FR7630004000031234567890143"
    bank_mail = mailed(mailoutbox, "Changement de coordonnées bancaires")
    assert bank_mail.to == [vendor.email]
    page.get_by_role("button", name="OK").or_(page.get_by_role("link", name="OK")).click()
    page.get_by_role("link", name="ENR0011M0").click()
    expect(page.get_by_text(re.compile("Demande de modification ENR0011M1 — Validée"))).to_be_visible()
    expect(page.get_by_text("FR76 **** **** 0143")).to_be_visible()
    expect(
        page.get_by_role("link", name="Télécharger l'accusé de dépôt de la demande de modification ENR0011M1 (PDF)")
    ).to_be_visible()
    assert_accessible(page)
