"""The confirmation page at its own address, and who may download a deposit receipt (R-AFT-4)."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from enrolment.links import confirmation_token
from enrolment.models import EnrolmentRequest
from enrolment.services import validate_enrolment
from tests.enrolment.wizard import Wizard, load_registries
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory, UserFactory, agent
from tests.funding.factories import filed_request, open_window, validated_vendor
from tests.tracking.pdf import pdf_text

pytestmark = pytest.mark.django_db

SENTENCE = re.compile(
    r"Demande d'enrôlement validée\. Le numéro de votre demande est le (ENR\d{4,}M0) ?\. Merci de le conserver "
    r"et le communiquer en cas d'échange avec notre plateforme de support\."
)
DOWNLOAD = "Télécharger l'accusé de dépôt"


def text(response) -> str:
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def receipt_link(response) -> str:
    match = re.search(r'href="([^"]+accuse-de-depot\.pdf)"', response.content.decode())
    return match.group(1) if match else ""


@pytest.fixture
def submitted(client, django_capture_on_commit_callbacks):
    load_registries()
    with django_capture_on_commit_callbacks(execute=True):
        page = Wizard(client).complete()
    return page


def test_the_wizard_ends_on_a_page_with_its_own_address(submitted, client):
    url = submitted.redirect_chain[-1][0]
    enrolment = EnrolmentRequest.objects.get()

    assert reverse("enrolment:done") in [u for u, _ in submitted.redirect_chain]
    assert url == f"/enrolement/demande-enregistree/{enrolment.number}.{url.split('.')[-1]}"
    assert SENTENCE.search(text(submitted)).group(1) == enrolment.number == "ENR0001M0"
    assert submitted["Cache-Control"] and "no-store" in submitted["Cache-Control"]
    assert "Un accusé de réception vous est envoyé par courriel." in text(submitted)
    assert DOWNLOAD in text(submitted)
    assert 'href="/suivre-ma-demande/?numero=ENR0001M0"' in submitted.content.decode()
    # No personal data in the page beyond the guide's sentence.
    for personal in ("Eishiro", "eishiro.oda@example.fr", "47992882200069", "ASSOCIATION SERVICES MEDIATION"):
        assert personal not in text(submitted)

    # The same session downloads the receipt.
    pdf = client.get(receipt_link(submitted))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'attachment; filename="accuse-de-depot-ENR0001M0.pdf"'
    assert pdf["X-Content-Type-Options"] == "nosniff" and "no-store" in pdf["Cache-Control"]
    assert "sandbox" in pdf["Content-Security-Policy"]
    content = pdf_text(pdf.content)
    assert "Demande d'enrôlement ENR0001M0" in content
    for document in enrolment.documents.all():
        assert f"SHA-256 : {document.sha256}" in content


def test_reopened_later_it_points_to_the_status_check_and_keeps_the_receipt_private(submitted, client):
    url = submitted.redirect_chain[-1][0]
    later = Client()  # the bookmark opened in another browser, or once the session has expired

    page = later.get(url)

    assert page.status_code == 200
    assert SENTENCE.search(text(page)).group(1) == "ENR0001M0"
    assert "Pour savoir où elle en est, utilisez « Suivre ma demande »" in text(page)
    assert 'href="/suivre-ma-demande/?numero=ENR0001M0"' in page.content.decode()
    assert "wizard" not in page.content.decode() and 'href="/enrolement/"' not in page.content.decode()
    assert DOWNLOAD not in text(page) and receipt_link(page) == ""
    # The receipt's address itself, known from the first session, is refused to anyone else.
    assert later.get(receipt_link(submitted)).status_code == 404
    # The old address without the session still starts a new request, as before.
    assert later.get(reverse("enrolment:done")).url == reverse("enrolment:start")


def test_a_forged_or_borrowed_signature_is_not_found(submitted, client):
    EnrolmentRequestFactory(number="ENR0002M0", sequence=2)
    signature = submitted.redirect_chain[-1][0].rstrip("/").split(".")[-1]

    for token in ("ENR0002M0." + signature, "ENR0001M0.abc", "ENR0001M0", confirmation_token("ENR0001M0") + "x"):
        assert client.get(f"/enrolement/demande-enregistree/{token}/").status_code == 404, token
        assert client.get(f"/enrolement/demande-enregistree/{token}/accuse-de-depot.pdf").status_code == 404, token
    # A number that is signed but has no request (deleted): not found either.
    token = confirmation_token("ENR0999M0")
    assert client.get(f"/enrolement/demande-enregistree/{token}/").status_code == 404


def test_the_vendors_account_downloads_its_receipts_and_no_one_elses(client):
    enrolment = EnrolmentRequestFactory(number="ENR0007M0", sequence=7)
    EnrolmentDocumentFactory(enrolment=enrolment, kind="rib", original_name="RIB.pdf")
    enrolment = validate_enrolment(enrolment=enrolment, by=agent())
    # Past its first connection: password changed, secret question set.
    enrolment.account.must_change_password = False
    enrolment.account.secret_question = "Nom de ma première école ?"
    enrolment.account.secret_answer = "jules ferry"
    enrolment.account.save()
    other = validated_vendor(username="autre.vendeur", number="ENR0008M0", siret="39431067600017", referencing="x1")
    url = reverse("tracking:enrolment_receipt", args=["ENR0007M0"])

    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(enrolment.account)
    detail = client.get(reverse("portal:enrolment_detail", args=["ENR0007M0"]))
    assert DOWNLOAD in text(detail) and receipt_link(detail) == url
    response = client.get(url)
    assert response.status_code == 200 and "Demande d'enrôlement ENR0007M0" in pdf_text(response.content)
    # The confirmation address works for the account too, in any session.
    token = confirmation_token("ENR0007M0")
    assert client.get(f"/enrolement/demande-enregistree/{token}/accuse-de-depot.pdf").status_code == 200

    client.force_login(other.account)
    assert client.get(url).status_code == 404
    assert client.get(f"/enrolement/demande-enregistree/{token}/accuse-de-depot.pdf").status_code == 404
    client.force_login(UserFactory(username="sans.demande"))
    assert client.get(url).status_code == 404


def test_the_funding_request_receipt_is_on_its_pages_for_its_owner_only(client):
    open_window()
    enrolment = validated_vendor()
    funding = filed_request(enrolment)
    url = reverse("tracking:funding_receipt", args=[funding.number, 1])

    client.force_login(enrolment.account)
    home = client.get(reverse("portal:funding"))
    assert DOWNLOAD in text(home) and url in home.content.decode()
    filed = client.get(reverse("funding:filed", args=[funding.number]))
    assert url in filed.content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="accuse-de-depot-{funding.number}-version-1.pdf"'
    assert f"Demande de financement {funding.number}" in pdf_text(response.content)
    assert client.get(reverse("tracking:funding_receipt", args=[funding.number, 2])).status_code == 404

    other = validated_vendor(username="autre.vendeur", number="ENR0008M0", siret="39431067600017", referencing="x1")
    client.force_login(other.account)
    assert client.get(url).status_code == 404
