"""R-AFT-4 for a modification ENR…Mn (R-AFT-2): its deposit receipt, read back as a person reads
it, offered to the owning account only, and attached once to its acknowledgement mail."""

import hashlib
import json
import re
from datetime import UTC, datetime

import pytest
from django.http import QueryDict
from django.urls import reverse

from enrolment import drafts, versions
from enrolment.models import EnrolmentDocument, EnrolmentVersion
from notifications.models import OutboundEmail
from notifications.services import deliver
from notifications.tasks import send_outbound_email
from tests import files
from tests.enrolment.wizard import load_registries
from tests.factories import UserFactory, agent
from tests.funding.factories import validated_vendor
from tests.tracking.pdf import pdf_text
from tracking import receipts

pytestmark = pytest.mark.django_db

NEW_IBAN = "FR76 3000 4000 0312 3456 7890 143"
STATUS_URL = "https://segurnum.example.fr/suivre-ma-demande/"


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.SITE_URL = "https://segurnum.example.fr"
    load_registries()


@pytest.fixture
def vendor():
    enrolment = validated_vendor(
        number="ENR0011M0",
        denomination="ASSOCIATION SERVICES MEDIATION",
        representative_first_name="Eishiro",
        representative_last_name="Oda",
    )
    return enrolment


def posted(values: dict) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in values.items():
        data[key] = value
    return data


def upload(enrolment, name: str) -> dict:
    return drafts.save_draft_file(str(enrolment.submission_key), files.pdf(name))


def bank_and_representative(enrolment):
    """A modification of two blocks: new bank details with a RIB, a new representative with an ID."""
    data = posted(
        {
            "bank-iban": NEW_IBAN,
            "bank-bic": "BNPAFRPP",
            "bank-account_holder": "ODA NOUVEAU",
            "bank-bank_domiciliation": "",
            "applicant-representative_last_name": "Martin",
            "applicant-representative_first_name": "Claire",
            "applicant-representative_email": "claire.martin@asm.example",
            "applicant-representative_email_confirmation": "claire.martin@asm.example",
            "applicant-representative_phone": "01 45 67 89 10",
        }
    )
    uploads = {"rib": upload(enrolment, "nouveau RIB.pdf"), "representative_id": upload(enrolment, "cni Martin.pdf")}
    amendment = versions.modification_amendment(enrolment, ["banque", "representant"], data=data, uploads=uploads)
    assert amendment.is_valid(), (amendment.errors, [form.errors for form in amendment.forms.values()])
    return amendment


def submit(vendor, capture) -> EnrolmentVersion:
    """« Terminer »: the modification stored and its acknowledgement mail sent (on commit)."""
    with capture(execute=True):
        return versions.request_modification(
            enrolment=vendor, by=vendor.account, amendment=bank_and_representative(vendor)
        )


@pytest.fixture
def modification(vendor, django_capture_on_commit_callbacks, mailoutbox):
    version = submit(vendor, django_capture_on_commit_callbacks)
    # 15 March 2026, 09:30:05 UTC: 10:30:05 in Paris (winter time).
    EnrolmentVersion.objects.filter(pk=version.pk).update(submitted_at=datetime(2026, 3, 15, 9, 30, 5, tzinfo=UTC))
    version.refresh_from_db()
    return version


def stored_sha256(meta: dict) -> str:
    """The digest of the file the private storage gives back (decrypted), computed here."""
    storage = EnrolmentDocument._meta.get_field("file").storage
    with storage.open(meta["file"], "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_modification_receipt_carries_its_number_new_values_and_documents(modification):
    receipt = receipts.modification_receipt(modification)
    content = receipts.render_pdf(receipt)
    text = flat(pdf_text(content))

    assert receipt.filename == "accuse-de-depot-ENR0011M1.pdf"
    assert "Demande de modification ENR0011M1" in text
    assert "Numéro de la demande ENR0011M1" in text
    assert "Déposée le 15/03/2026 à 10:30:05 (heure de Paris)" in text
    assert "Enrôlement modifié ENR0011M0" in text
    assert "Blocs modifiés Coordonnées bancaires, Représentant légal" in text
    assert "Numéro de SIRET 46293699800014" in text
    assert "Dénomination sociale ASSOCIATION SERVICES MEDIATION" in text
    # The representative in force when the modification was sent, not the new one it asks for.
    assert "Représentant Eishiro ODA" in text
    # The new values under their own heading, the IBAN masked as on the private space.
    new_values = text.split("Nouvelles valeurs", 1)[1].split("Pièces déposées", 1)[0]
    for line in (
        "IBAN FR76 **** **** 0143",
        "BIC BNPAFRPP",
        "Titulaire ODA NOUVEAU",
        "Nom du représentant Martin",
        "Prénom du représentant Claire",
        "Email du représentant claire.martin@asm.example",
    ):
        assert line in new_values, line
    assert "FR7630004000031234567890143" not in text
    # Each new document: its name, its size and the SHA-256 of the stored file.
    assert set(modification.documents) == {"rib", "representative_id"}
    for meta in modification.documents.values():
        assert meta["name"] in text
        assert f"{meta['size']:,} octets".replace(",", " ") in text
        assert f"SHA-256 : {stored_sha256(meta)}" in text
    assert "RIB nouveau RIB.pdf" in text and "CNI, passeport ou titre de séjour cni Martin.pdf" in text
    assert STATUS_URL in text and "ENR0011M0" in text


def test_the_submitted_data_digest_is_the_documented_canonical_json(modification):
    documents = sorted(
        (
            {"kind": kind, "name": meta["name"], "size": meta["size"], "sha256": stored_sha256(meta)}
            for kind, meta in modification.documents.items()
        ),
        key=lambda piece: piece["kind"],
    )
    expected = {
        "format": "segurnum/accuse-de-depot/modification/1",
        "number": "ENR0011M1",
        "enrolment": "ENR0011M0",
        "blocks": ["banque", "representant"],
        "values": {
            "iban": "FR7630004000031234567890143",
            "bic": "BNPAFRPP",
            "account_holder": "ODA NOUVEAU",
            "representative_last_name": "Martin",
            "representative_first_name": "Claire",
            "representative_email": "claire.martin@asm.example",
            "representative_phone": "0145678910",
        },
        "documents": documents,
    }
    submitted = receipts.modification_submitted_data(modification)
    # Only the values the modification changes (the domiciliation was empty and stays so).
    assert {k: v for k, v in submitted["values"].items() if k in expected["values"]} == expected["values"]
    expected["values"] = submitted["values"]
    assert submitted == expected
    digest = hashlib.sha256(
        json.dumps(expected, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    text = flat(pdf_text(receipts.render_pdf(receipts.modification_receipt(modification))))
    assert f"SHA-256 : {digest}" in text


def test_the_receipt_is_the_same_before_and_after_the_agent_validates(modification, django_capture_on_commit_callbacks):
    before = receipts.render_pdf(receipts.modification_receipt(modification))
    with django_capture_on_commit_callbacks(execute=True):
        versions.validate_modification(version=modification, by=agent())
    modification.refresh_from_db()
    modification.enrolment.refresh_from_db()
    assert modification.enrolment.representative_last_name == "Martin"
    after = receipts.render_pdf(receipts.modification_receipt(modification))
    assert after == before
    assert "Représentant Eishiro ODA" in flat(pdf_text(after))


def receipt_url(version) -> str:
    return reverse("tracking:modification_receipt", args=[version.enrolment.number, version.number])


def test_the_owning_account_downloads_it_from_its_pages_and_no_one_else(client, modification):
    vendor = modification.enrolment
    url = receipt_url(modification)
    assert url == "/espace/enrolement/ENR0011M0/modification/ENR0011M1/accuse-de-depot.pdf"

    # Not signed in: the sign-in page, no PDF.
    response = client.get(url)
    assert response.status_code == 302 and "/connexion/" in response["Location"]

    client.force_login(vendor.account)
    detail = client.get(reverse("portal:enrolment_detail", args=[vendor.number])).content.decode()
    assert f'href="{url}"' in detail
    assert "Télécharger l'accusé de dépôt de la demande de modification ENR0011M1" in detail
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="accuse-de-depot-ENR0011M1.pdf"'
    assert response["Cache-Control"] == "no-store"
    assert "Demande de modification ENR0011M1" in pdf_text(response.content)
    # A modification that does not exist, or the M0 itself: not found.
    for number in ("ENR0011M2", "ENR0011M0", "ENR0012M1", "n'importe quoi"):
        missing = reverse("tracking:modification_receipt", args=[vendor.number, number])
        assert client.get(missing).status_code == 404, number

    # Another vendor, holding the exact address: 404, as for an unknown number.
    other = validated_vendor(username="autre.editeur", number="ENR0012M0", siret="73282932000074", referencing="x1")
    client.force_login(other.account)
    assert client.get(url).status_code == 404
    # ... even when it names its own enrolment with the other's modification.
    borrowed = reverse("tracking:modification_receipt", args=[other.number, "ENR0011M1"])
    assert client.get(borrowed).status_code == 404
    client.force_login(UserFactory(username="sans.demande"))
    assert client.get(url).status_code == 404


def test_the_confirmation_page_offers_the_receipt(client, vendor):
    client.force_login(vendor.account)
    session = client.session
    session["modification_done"] = "ENR0011M1"
    session.save()
    page = client.get(reverse("portal:modification_done", args=[vendor.number])).content.decode()
    assert "Demande de modification enregistrée." in page
    link = re.search(r'href="([^"]+)"[^>]*>Télécharger l\'accusé de dépôt', page.replace("&#x27;", "'"))
    assert link and link.group(1) == "/espace/enrolement/ENR0011M0/modification/ENR0011M1/accuse-de-depot.pdf"


def test_the_acknowledgement_mail_carries_the_receipt_once(
    client, vendor, mailoutbox, django_capture_on_commit_callbacks
):
    modification = submit(vendor, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.subject == "Demande de modification ENR0011M1 enregistrée"
    assert "L'accusé de dépôt de votre demande de modification est joint à ce courriel (PDF)" in mail.body
    assert [(name, kind) for name, _, kind in mail.attachments] == [
        ("accuse-de-depot-ENR0011M1.pdf", "application/pdf")
    ]
    attached = mail.attachments[0][1]
    text = flat(pdf_text(attached))
    assert "Demande de modification ENR0011M1" in text
    for meta in modification.documents.values():
        assert f"SHA-256 : {stored_sha256(meta)}" in text
    # The one the vendor downloads from the private space is the same document.
    client.force_login(vendor.account)
    assert client.get(receipt_url(modification)).content == attached
    # The outbox row keeps no PDF.
    row = OutboundEmail.objects.get(kind="modification_acknowledgement")
    assert "%PDF" not in row.body_text and "%PDF" not in row.body_html

    # A worker's re-delivery of the same row (acks_late, a lost worker): no second mail.
    assert deliver(row.pk) is False
    send_outbound_email.apply(args=[row.pk])
    assert len(mailoutbox) == 1
