"""Scenario 3: what a vendor sees when a value or a file is refused (R-WIZ-2, R-WIZ-5, R-WIZ-9,
R-WIZ-10): the French message next to the field, announced by the summary at the top of the
step, and nothing already typed or sent is lost."""

import pytest
from playwright.sync_api import expect

from tests import files
from tests.browser.helpers import (
    ARCAD,
    BANK,
    GUIDE_IBAN,
    GUIDE_SIRET,
    REPRESENTATIVE,
    REPRESENTATIVE_ID,
    WRONG_KEY_SIRET,
    arrive,
    assert_accessible,
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

FIVE_MB = files.pdf_bytes(size=5 * 1024 * 1024)
EXE_AS_PDF = files.exe_renamed_pdf().read()  # a Windows program (MZ…) renamed .pdf
GERMAN_IBAN = "DE89370400440532013000"  # valid, but not French


def test_refused_values_and_files_keep_everything_else(page):
    load_registries()
    start(page)

    # 1 - Référencement: a 5 MB certificate.
    arrive(page, 1, "Référencement")
    field(page, "N° unique de référencement (ANS)").fill(ARCAD)
    press(page, "Rechercher")
    assert_accessible(page)
    attach(page, "Certificat de référencement", "certificat ANS.pdf", FIVE_MB)
    next_step(page)
    arrive(page, 1, "Référencement")
    assert_field_error(page, "id_referencing-certificate", "Le fichier dépasse la taille maximum de 4 Mo.")
    expect(page.locator(".segurnum-readonly")).to_contain_text(ARCAD)  # the number found is kept
    expect(page.locator("#id_referencing-certificate-kept")).to_have_count(0)  # nothing was received
    attach(page, "Certificat de référencement", "certificat ANS.pdf")
    next_step(page)

    # 2 - Demandeur: a wrong SIRET key, then a program renamed .pdf as the identity document.
    arrive(page, 2, "Demandeur")
    search_siret(page, WRONG_KEY_SIRET)
    assert_field_error(page, "id_applicant-siret", "Ce numéro de SIRET n'est pas valide")
    assert_filled(page, {"Numéro de SIRET": WRONG_KEY_SIRET})
    assert field(page, "Code captcha").input_value() == ""  # a new code to copy
    assert_accessible(page)
    search_siret(page, GUIDE_SIRET)
    assert_accessible(page)
    typed = {"Dénomination sociale": "ASM DISTRIBUTION", "Nom commercial": "ASM Logiciels", **REPRESENTATIVE}
    fill(page, typed)
    choose(page, "id_applicant-is_legal_representative_0")
    attach(page, "kbis", "kbis ASM.pdf")
    attach(page, REPRESENTATIVE_ID, "cni representant.pdf", EXE_AS_PDF)
    next_step(page)
    arrive(page, 2, "Demandeur")
    assert_field_error(
        page,
        "id_applicant-representative_id",
        "Le contenu du fichier ne correspond pas à un fichier .png, .jpg, .jpeg ou .pdf.",
    )
    assert_filled(page, typed)
    expect(page.locator("#id_applicant-is_legal_representative_0")).to_be_checked()
    assert_received(page, {"kbis": "kbis ASM.pdf"})
    expect(page.locator("#id_applicant-representative_id-kept")).to_have_count(0)
    attach(page, REPRESENTATIVE_ID, "cni representant.pdf")
    next_step(page)

    # 3 - Coordonnées bancaires: a valid IBAN that is not French.
    arrive(page, 3, "Coordonnées bancaires")
    german = BANK | {"IBAN": GERMAN_IBAN}
    fill(page, german)
    attach(page, "RIB", "RIB.pdf")
    next_step(page)
    arrive(page, 3, "Coordonnées bancaires")
    assert_field_error(page, "id_bank-iban", "IBAN français requis : l'IBAN doit commencer par FR.")
    assert_filled(page, german)
    assert_received(page, {"RIB": "RIB.pdf"})
    field(page, "IBAN").fill(GUIDE_IBAN)
    next_step(page)  # the RIB received before is enough

    arrive(page, 4, "Taux TVA")
