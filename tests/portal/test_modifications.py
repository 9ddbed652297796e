"""« Demander une modification » from « Enrôlement » in the private space (R-AFT-2): the blocks,
the wizard's forms and rules, the recap old → new, the two statements, « Terminer » → ENR…M1;
the agent's page with the differences highlighted, « Valider » / « Rejeter »."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from enrolment.models import AccessRecord, EnrolmentDocument, EnrolmentRequest, EnrolmentVersion
from tests import files
from tests.enrolment.wizard import load_registries
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory, agent
from tests.portal.pages import page_text

pytestmark = pytest.mark.django_db

NEW_IBAN = "FR76 3000 4000 0312 3456 7890 143"


@pytest.fixture(autouse=True)
def registries():
    load_registries()


@pytest.fixture
def enrolment(vendor):
    enrolment = EnrolmentRequestFactory(
        account=vendor, status=EnrolmentRequest.Status.VALIDATED, representative_email=vendor.email, sequence=11,
        number="ENR0011M0",
    )  # fmt: skip
    EnrolmentDocumentFactory(enrolment=enrolment, kind=EnrolmentDocument.Kind.RIB, original_name="ancien RIB.pdf")
    return enrolment


def url(name: str, enrolment) -> str:
    return reverse(f"portal:{name}", args=[enrolment.number])


def text(response) -> str:
    return html.unescape(page_text(response))


def bank_post(**overrides) -> dict:
    data = {
        "bank-iban": NEW_IBAN,
        "bank-bic": "BNPAFRPP",
        "bank-account_holder": "ODA",
        "bank-bank_domiciliation": "",
        "bank-rib": files.pdf("nouveau RIB.pdf"),
    }
    return {**data, **overrides}


def test_the_detail_page_offers_a_modification_only_when_validated(vendor_client, enrolment):
    assert "Demander une modification" in text(vendor_client.get(f"/espace/enrolement/{enrolment.number}/"))
    EnrolmentRequest.objects.filter(pk=enrolment.pk).update(status=EnrolmentRequest.Status.IN_REVIEW)
    assert "Demander une modification" not in text(vendor_client.get(f"/espace/enrolement/{enrolment.number}/"))
    assert vendor_client.get(url("modification", enrolment)).status_code == 404


def test_the_blocks_are_the_guides(vendor_client, enrolment):
    page = text(vendor_client.get(url("modification", enrolment)))
    for title in (
        "Coordonnées bancaires",
        "Représentant légal",
        "Dépositaire",
        "Dénomination et adresse (kbis)",
        "Taux TVA",
    ):
        assert title in page
    refused = text(vendor_client.get(url("modification", enrolment) + "?choisir=1"))
    assert "Choisissez au moins un bloc à modifier." in refused


def test_a_bank_modification_from_the_private_space_to_enr_m1(
    vendor_client, enrolment, mailoutbox, django_capture_on_commit_callbacks
):
    form_url = url("modification", enrolment) + "?blocs=banque"
    page = vendor_client.get(form_url)
    body = page.content.decode()
    assert 'name="bank-iban"' in body and 'value="FR7630056009271234567890182"' in body
    assert 'name="applicant-denomination"' not in body and 'name="vat-vat_rate"' not in body

    # The wizard's checks: a wrong IBAN key, at its field, what was typed kept.
    wrong = vendor_client.post(form_url, bank_post(**{"bank-iban": "FR76 3000 4000 0312 3456 7890 144"}))
    assert re.search(
        r"id=\"id_bank-iban-error\">La clé (RIB|de contrôle) de l&#x27;IBAN est incorrecte", wrong.content.decode()
    )
    assert 'value="FR76 3000 4000 0312 3456 7890 144"' in wrong.content.decode()
    assert "Fichier reçu : nouveau RIB.pdf" in text(wrong)

    response = vendor_client.post(form_url, bank_post(**{"bank-rib": ""}))
    assert response.status_code == 302 and response.url == url("modification_recap", enrolment)
    recap = vendor_client.get(response.url)
    recap_text = text(recap)
    assert "FR76 **** **** 0182" in recap_text and "FR76 **** **** 0143" in recap_text
    assert "HSBC FRANCE" in recap_text and "BNP PARIBAS" in recap_text and "nouveau RIB.pdf" in recap_text
    assert "FR7630004000031234567890143" not in recap.content.decode()

    refused = vendor_client.post(url("modification_recap", enrolment), {"accept_penal_code": "on"})
    assert "Vous devez certifier que les éléments saisis sont sincères et véritables." in text(refused)
    with django_capture_on_commit_callbacks(execute=True):
        done = vendor_client.post(
            url("modification_recap", enrolment), {"accept_penal_code": "on", "accept_sincerity": "on"}, follow=True
        )
    assert (
        "Demande de modification enregistrée. Le numéro de votre demande est le ENR0011M1 . Merci de le conserver"
        in text(done)
    )
    enrolment.refresh_from_db()
    assert enrolment.iban == "FR7630056009271234567890182"  # in force until an agent validates
    version = enrolment.versions.get(index=1)
    assert version.status == EnrolmentVersion.Status.PENDING and version.documents["rib"]["name"] == "nouveau RIB.pdf"
    assert mailoutbox[-1].subject == "Demande de modification ENR0011M1 enregistrée"

    detail = text(vendor_client.get(f"/espace/enrolement/{enrolment.number}/"))
    assert "Demande de modification ENR0011M1 — En attente de validation" in detail
    again = text(vendor_client.get(url("modification", enrolment)))
    assert "Une demande de modification (ENR0011M1) est déjà en cours d'instruction" in again


def test_the_agent_sees_the_differences_and_validates(vendor_client, enrolment, django_capture_on_commit_callbacks):
    vendor_client.post(
        url("modification", enrolment) + "?blocs=banque&blocs=tva", {**bank_post(), "vat-vat_rate": "ttc_8_5"}
    )
    vendor_client.post(url("modification_recap", enrolment), {"accept_penal_code": "on", "accept_sincerity": "on"})
    version = enrolment.versions.get(index=1)
    assert version.blocks == ["banque", "tva"]

    client = Client()
    client.force_login(agent())
    request_page = client.get(reverse("admin:enrolment_enrolmentrequest_change", args=[enrolment.pk])).content.decode()
    assert "ENR0011M1" in request_page and "En attente de validation" in request_page
    page = client.get(reverse("admin:enrolment_enrolmentversion_change", args=[version.pk])).content.decode()
    rows = re.findall(r'<tr class="changed">(.*?)</tr>', page, re.S)
    flat = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]
    assert "Coordonnées bancaires IBAN FR7630056009271234567890182 FR7630004000031234567890143" in flat
    assert "Taux TVA Taux TVA TTC - 20% TTC - 8,5%" in flat
    assert "<mark>" in page and "Valider la modification" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:enrolment_version_validate", args=[version.pk]), follow=True)
    assert "La modification ENR0011M1 est validée" in html.unescape(response.content.decode())
    enrolment.refresh_from_db()
    assert enrolment.iban == "FR7630004000031234567890143" and enrolment.vat_rate == "ttc_8_5"
    assert enrolment.documents.get(kind="rib").original_name == "nouveau RIB.pdf"
    detail = text(vendor_client.get(f"/espace/enrolement/{enrolment.number}/"))
    assert "Demande de modification ENR0011M1 — Validée" in detail


def test_the_new_documents_open_for_agents_only_and_are_recorded(vendor_client, enrolment):
    vendor_client.post(url("modification", enrolment) + "?blocs=banque", bank_post())
    vendor_client.post(url("modification_recap", enrolment), {"accept_penal_code": "on", "accept_sincerity": "on"})
    version = enrolment.versions.get(index=1)
    document_url = reverse("admin:enrolment_version_document", args=[version.pk, "rib"])

    assert vendor_client.get(document_url).status_code == 302  # to the admin's sign-in, never the file
    desk = Client()
    desk.force_login(agent())
    response = desk.get(document_url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")
    assert response["Content-Disposition"] == 'attachment; filename="nouveau RIB.pdf"'
    record = AccessRecord.objects.get(action="open_document")
    assert record.target == "ENR0011M1 — RIB (nouveau RIB.pdf)" and record.enrolment == enrolment
