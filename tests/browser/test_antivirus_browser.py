"""The antivirus as a vendor meets it in Chromium (SECURITY F12, F12b, G6): a file carrying
the EICAR test string is refused at its field; while clamd is stopped a file is refused with
« réessayez » and everything typed stays; once clamd is back, the same step goes through."""

import pytest
from playwright.sync_api import expect

from tests.antivirus import eicar_png
from tests.browser.helpers import (
    ARCAD,
    GUIDE_SIRET,
    REPRESENTATIVE,
    REPRESENTATIVE_ID,
    arrive,
    assert_field_error,
    assert_filled,
    assert_received,
    attach,
    choose,
    field,
    fill,
    next_step,
    press,
    search_siret,
    start,
)
from tests.enrolment.wizard import load_registries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_dangerous_file_then_the_antivirus_down_then_back(page, private_clamd):
    load_registries()
    start(page)

    # 1 - Référencement: a PNG certificate with the EICAR string hidden in its metadata.
    arrive(page, 1, "Référencement")
    field(page, "N° unique de référencement (ANS)").fill(ARCAD)
    press(page, "Rechercher")
    attach(page, "Certificat de référencement", "certificat ANS.png", eicar_png())
    next_step(page)
    arrive(page, 1, "Référencement")
    assert_field_error(
        page, "id_referencing-certificate", "Ce fichier a été détecté comme dangereux par notre antivirus"
    )
    expect(page.locator(".segurnum-readonly")).to_contain_text(ARCAD)
    expect(page.locator("#id_referencing-certificate-kept")).to_have_count(0)
    attach(page, "Certificat de référencement", "certificat ANS.pdf")
    next_step(page)

    # 2 - Demandeur: clamd stops before the identity document is sent.
    arrive(page, 2, "Demandeur")
    search_siret(page, GUIDE_SIRET)
    typed = {"Nom commercial": "ASM Logiciels", **REPRESENTATIVE}
    fill(page, typed)
    choose(page, "id_applicant-is_legal_representative_0")
    attach(page, REPRESENTATIVE_ID, "cni representant.pdf")
    private_clamd.stop()
    next_step(page)
    arrive(page, 2, "Demandeur")
    assert_field_error(page, "id_applicant-representative_id", "réessayez dans quelques minutes")
    assert_filled(page, typed)
    expect(page.locator("#id_applicant-is_legal_representative_0")).to_be_checked()

    # « Réessayez »: clamd is back, the same file goes through.
    private_clamd.start()
    attach(page, REPRESENTATIVE_ID, "cni representant.pdf")
    next_step(page)
    arrive(page, 3, "Coordonnées bancaires")
    assert private_clamd.clean_scans(at_least=2) == 2  # the certificate, then the identity document
    page.goto(page.url.replace("/bank/", "/applicant/"))
    assert_received(page, {REPRESENTATIVE_ID: "cni representant.pdf"})
