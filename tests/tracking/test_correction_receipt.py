"""R-AFT-4 for the compléments of an « A compléter » round (R-AFT-1): the receipt, read back as a
person reads it, offered to the session that sent them and the vendor's account only, attached
once to the « Compléments reçus » mail."""

import hashlib
import json
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from enrolment import versions
from enrolment.models import EnrolmentDocument
from notifications.models import OutboundEmail
from notifications.services import deliver
from tests import files
from tests.enrolment.wizard import load_registries
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory, UserFactory, agent
from tests.tracking.pdf import pdf_text
from tracking import receipts

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"https?://\S+/enrolement/completer/(\S+)/")
NEW_IBAN = "FR76 3000 4000 0312 3456 7890 143"
RECEIPT_URL = "/enrolement/ENR0011M0/complements-1/accuse-de-depot.pdf"


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.SITE_URL = "https://segurnum.example.fr"
    load_registries()


@pytest.fixture
def enrolment():
    enrolment = EnrolmentRequestFactory(
        number="ENR0011M0",
        sequence=11,
        representative_email="oda@example.fr",
        representative_first_name="Eishiro",
        representative_last_name="Oda",
        denomination="ASSOCIATION SERVICES MEDIATION",
    )
    EnrolmentDocumentFactory(enrolment=enrolment, kind=EnrolmentDocument.Kind.RIB, original_name="RIB flou.pdf")
    return enrolment


@pytest.fixture
def sent(client, enrolment, mailoutbox, django_capture_on_commit_callbacks):
    """The agent asked for the IBAN, the BIC and the RIB; the vendor sent them from the link."""
    with django_capture_on_commit_callbacks(execute=True):
        versions.request_corrections(
            enrolment=enrolment, by=agent(), items=["iban", "bic", "rib"], message="Le RIB joint est illisible."
        )
    token = LINK_RE.search(mailoutbox[-1].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("enrolment:complete", args=[token]),
            {"bank-iban": NEW_IBAN, "bank-bic": "BNPAFRPP", "bank-rib": files.pdf("RIB lisible.pdf")},
            follow=True,
        )
    return response


def stored_sha256(meta: dict) -> str:
    storage = EnrolmentDocument._meta.get_field("file").storage
    with storage.open(meta["file"], "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_session_that_sent_the_complements_downloads_their_receipt(client, sent, enrolment):
    page = unescape(sent.content.decode())
    assert "Le numéro de votre demande reste le ENR0011M0" in flat(re.sub(r"<[^>]+>", "", page))
    link = re.search(r'href="([^"]+)"[^>]*>Télécharger l\'accusé de dépôt', page)
    assert link and link.group(1) == RECEIPT_URL

    response = client.get(RECEIPT_URL)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="accuse-de-depot-ENR0011M0-complements-1.pdf"'
    text = flat(pdf_text(response.content))
    assert "Compléments de la demande d'enrôlement ENR0011M0" in text
    assert "Demande de compléments n° 1" in text
    assert "Éléments demandés IBAN, BIC, RIB" in text
    assert "Représentant Eishiro ODA" in text
    new_values = text.split("Nouvelles valeurs", 1)[1].split("Pièces déposées", 1)[0]
    assert "IBAN FR76 **** **** 0143" in new_values and "BIC BNPAFRPP" in new_values
    assert "FR7630004000031234567890143" not in text

    round_ = enrolment.correction_rounds.get()
    rib = round_.documents["rib"]
    assert "RIB RIB lisible.pdf" in text and f"SHA-256 : {stored_sha256(rib)}" in text
    expected = {
        "format": "segurnum/accuse-de-depot/complements/1",
        "number": "ENR0011M0",
        "round": 1,
        "items": ["iban", "bic", "rib"],
        "values": {"iban": "FR7630004000031234567890143", "bic": "BNPAFRPP", "bank_domiciliation": "BNP PARIBAS"},
        "documents": [{"kind": "rib", "name": "RIB lisible.pdf", "size": rib["size"], "sha256": stored_sha256(rib)}],
    }
    assert receipts.correction_submitted_data(round_) == expected
    digest = hashlib.sha256(
        json.dumps(expected, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert f"SHA-256 : {digest}" in text


def test_no_one_else_gets_it_but_the_vendors_account(sent, enrolment):
    assert Client().get(RECEIPT_URL).status_code == 404
    stranger = Client()
    stranger.force_login(UserFactory(username="autre.editeur"))
    assert stranger.get(RECEIPT_URL).status_code == 404
    # A round that does not exist, or was never answered: not found, even for the sending session.
    assert Client().get(RECEIPT_URL.replace("complements-1", "complements-2")).status_code == 404

    owner = Client()
    enrolment.account = UserFactory(username="eishiro.oda")
    enrolment.save(update_fields=["account"])
    owner.force_login(enrolment.account)
    assert owner.get(RECEIPT_URL).status_code == 200
    detail = unescape(owner.get(reverse("portal:enrolment_detail", args=[enrolment.number])).content.decode())
    assert f'href="{RECEIPT_URL}"' in detail
    assert "Télécharger l'accusé de dépôt des compléments n° 1" in detail


def test_the_complements_received_mail_carries_the_receipt_once(client, sent, mailoutbox):
    mail = mailoutbox[-1]
    assert mail.subject == "Compléments reçus pour votre demande d'enrôlement ENR0011M0"
    assert "L'accusé de dépôt de vos compléments est joint à ce courriel (PDF)" in mail.body
    assert [name for name, _, _ in mail.attachments] == ["accuse-de-depot-ENR0011M0-complements-1.pdf"]
    assert mail.attachments[0][1] == client.get(RECEIPT_URL).content
    row = OutboundEmail.objects.get(kind="enrolment_correction_received")
    count = len(mailoutbox)
    assert deliver(row.pk) is False
    assert len(mailoutbox) == count
