"""Scenario 2: a tiers déclarant (« Non », employee of the company) files for a distributor whose
dénomination was changed, with every document the guide can ask for (R-WIZ-3, R-WIZ-4, R-MAIL-1)."""

import pytest
from playwright.sync_api import expect

from enrolment.models import EnrolmentRequest
from tests import files
from tests.browser.helpers import (
    DEPOSITOR,
    GUIDE_SIRET,
    REPRESENTATIVE,
    REPRESENTATIVE_ID,
    arrive,
    assert_accessible,
    attach,
    bank_step,
    choose,
    confirm,
    field,
    fill,
    mails,
    next_step,
    referencing_step,
    search_siret,
    start,
    vat_step,
)
from tests.enrolment.wizard import load_registries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DISTRIBUTED = "tndSAS0032"  # edited by LE SELECT (SIRET 39431067600017), not by the guide's SIRET
DOCUMENTS = {
    "kbis": "kbis ASM.pdf",
    "Mandat de l'éditeur pour le distributeur": "mandat editeur.pdf",
    REPRESENTATIVE_ID: "cni representant.pdf",
    "CNI, passeport ou titre de séjour du demandeur": "cni depositaire.png",
    "Mandat du représentant légal": "mandat representant legal.pdf",
}


def test_third_party_declarant_for_a_distributor_with_every_document(page, mailoutbox):
    load_registries()
    start(page)
    referencing_step(page, number=DISTRIBUTED)

    arrive(page, 2, "Demandeur")
    search_siret(page, GUIDE_SIRET)
    expect(page.get_by_text("vous êtes distributeur, joignez le mandat de l'éditeur")).to_be_visible()
    kbis = page.locator("#id_applicant-kbis-group")
    expect(kbis).to_be_hidden()
    field(page, "Dénomination sociale").fill("ASM DISTRIBUTION")
    expect(kbis).to_be_visible()  # a changed dénomination needs a kbis
    field(page, "Nom commercial").fill("ASM Logiciels")

    third_party = page.locator("#third-party")
    expect(third_party).to_be_hidden()
    choose(page, "id_applicant-is_legal_representative_1")  # « Non »
    expect(third_party).to_be_visible()
    fill(page, REPRESENTATIVE | DEPOSITOR)
    contract = page.locator("#id_applicant-service_contract-group")
    mandate = page.locator("#id_applicant-legal_representative_mandate-group")
    expect(contract).to_be_hidden()
    expect(mandate).to_be_hidden()
    choose(page, "id_applicant-third_party_quality_1")  # « Employé de la personne morale »
    expect(page.locator("label[for=id_applicant-third_party_quality_1]")).to_have_text("Employé de la personne morale")
    expect(mandate).to_be_visible()
    expect(contract).to_be_hidden()
    for name in ("Modèle contrat de prestation", "Modèle de mandat"):
        model = page.request.get(page.get_by_role("link", name=name).get_attribute("href"))
        assert model.ok and model.headers["content-type"] == "application/pdf", name
    for text, name in DOCUMENTS.items():
        attach(page, text, name, files.png_bytes() if name.endswith(".png") else None)
    assert_accessible(page)
    next_step(page)

    bank_step(page)
    vat_step(page)
    number = confirm(
        page,
        (
            DISTRIBUTED,
            "ASM DISTRIBUTION",
            "Non",
            "Martin",
            "Claire",
            "claire.martin@cabinet.example.fr",
            "Employé de la personne morale",
            *DOCUMENTS.values(),
        ),
    )

    enrolment = EnrolmentRequest.objects.get()
    assert enrolment.number == number
    assert (enrolment.referencing_number, enrolment.is_legal_representative) == (DISTRIBUTED, False)
    assert enrolment.third_party_quality == "employee"
    assert sorted(enrolment.documents.values_list("kind", flat=True)) == sorted(
        [
            "referencing_certificate",
            "kbis",
            "editor_mandate",
            "representative_id",
            "depositor_id",
            "legal_representative_mandate",
            "rib",
            "vat_exemption_proof",
        ]
    )
    # The acknowledgement goes to the representative and to the depositor.
    assert len(mails(mailoutbox, 1)) == 1 and number in mailoutbox[0].subject
    assert sorted(mailoutbox[0].to) == ["claire.martin@cabinet.example.fr", "eishiro.oda@example.fr"]
