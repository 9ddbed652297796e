"""R-AFT-4: the deposit receipt, read back from the PDF as a person would read it."""

import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import qrcode

from enrolment.models import EnrolmentRequest
from funding import format as funding_format
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory
from tests.funding.factories import filed_request, open_window, validated_vendor
from tests.tracking.pdf import first_page_png, link_rectangles, page_count, pdf_text
from tracking import receipts

pytestmark = pytest.mark.django_db

STATUS_URL = "https://segurnum.example.fr/suivre-ma-demande/"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "https://segurnum.example.fr"


def octets(size: int) -> str:
    """A size as the receipt prints it: digits grouped by three (« 1 529 octets »)."""
    return f"{size:,} octets".replace(",", " ")


def stored_sha256(document) -> str:
    """The digest of the file as the private storage gives it back (decrypted), computed here."""
    with document.file.open("rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.fixture
def enrolment():
    enrolment = EnrolmentRequestFactory(
        number="ENR0011M0",
        sequence=11,
        siret="47992882200069",
        denomination="ASSOCIATION SERVICES MEDIATION",
        representative_first_name="Eishiro",
        representative_last_name="Oda",
        iban="FR76 3005 6009 2712 3456 7890 182",
    )
    # 15 March 2026, 09:30:05 UTC: 10:30:05 in Paris (winter time).
    EnrolmentRequest.objects.filter(pk=enrolment.pk).update(submitted_at=datetime(2026, 3, 15, 9, 30, 5, tzinfo=UTC))
    enrolment.refresh_from_db()
    EnrolmentDocumentFactory(enrolment=enrolment, kind="referencing_certificate", original_name="certificat ANS.pdf")
    EnrolmentDocumentFactory(enrolment=enrolment, kind="rib", original_name="RIB <société>.pdf")
    return enrolment


def test_the_enrolment_receipt_carries_what_the_vendor_deposited(enrolment):
    pdf = receipts.render_pdf(receipts.enrolment_receipt(enrolment))

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Accusé de dépôt" in text
    assert "Demande d'enrôlement ENR0011M0" in text
    assert re.search(r"Numéro de la demande\s+ENR0011M0", text)
    assert re.search(r"Déposée le\s+15/03/2026 à 10:30:05 \(heure de Paris\)", text)
    assert re.search(r"Logiciel\s+ARCAD SAAD \(version 17\) — N° unique de référencement \(ANS\) tndSAS\d+", text)
    assert re.search(r"Numéro de SIRET\s+47992882200069", text)
    assert re.search(r"Dénomination sociale\s+ASSOCIATION SERVICES MEDIATION", text)
    assert re.search(r"Représentant\s+Eishiro ODA", text)
    for document in enrolment.documents.all():
        # Each piece: its label, its name as sent (markup shown as text), its size and its digest.
        assert re.search(
            rf"{re.escape(document.get_kind_display())}\s+{re.escape(document.original_name)}\s+{octets(document.size)}",
            text,
        ), document.original_name
        assert f"SHA-256 : {stored_sha256(document)}" in text
    # No personal data beyond the receipt's lines: the IBAN and the e-mail are not printed.
    assert "FR76" not in text and enrolment.representative_email not in text
    assert page_count(pdf) == 1


def test_the_submitted_data_digest_is_the_documented_canonical_json(enrolment):
    """The SHA-256 of the submitted data, computed here from its definition (tracking.receipts):
    the values under the model's names, the IBAN compacted, the pieces sorted by kind, sorted keys,
    no blanks, UTF-8."""
    values = {name: getattr(enrolment, name) for name in receipts.ENROLMENT_SUBMITTED_FIELDS}
    values["iban"] = "FR7630056009271234567890182"
    pieces = [
        {"kind": d.kind, "name": d.original_name, "size": d.size, "sha256": stored_sha256(d)}
        for d in enrolment.documents.order_by("kind")
    ]
    document = {"format": "segurnum/accuse-de-depot/enrolement/1", "values": values, "documents": pieces}
    expected = hashlib.sha256(
        json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    ).hexdigest()

    text = pdf_text(receipts.render_pdf(receipts.enrolment_receipt(enrolment)))
    assert re.search(rf"Empreinte des données déposées\s+SHA-256 : {expected}", text)

    # Any change of what was deposited changes the digest.
    enrolment.bank_domiciliation = "AUTRE BANQUE"
    assert receipts.enrolment_receipt(enrolment).data_sha256 != expected


def test_the_same_deposit_always_gives_the_same_bytes(enrolment):
    """Downloaded today, or attached again by a worker tomorrow: the same PDF, byte for byte."""
    first = receipts.render_pdf(receipts.enrolment_receipt(enrolment))
    enrolment.refresh_from_db()
    assert receipts.render_pdf(receipts.enrolment_receipt(enrolment)) == first


def test_page_one_renders_with_a_qr_code_to_the_status_check(enrolment, tmp_path):
    """Page 1 as an image (pdftoppm): the QR code drawn there holds, module for module, the
    address of « Suivre ma demande » taken from SITE_URL."""
    pdf = receipts.render_pdf(receipts.enrolment_receipt(enrolment))
    assert re.search(rf"rendez-vous sur\s+{re.escape(STATUS_URL)}", pdf_text(pdf))

    rectangles = link_rectangles(pdf)
    assert list(rectangles) == [STATUS_URL]  # the code is also a link to the page
    dpi = 150
    image = first_page_png(pdf, dpi=dpi, keep_as=tmp_path / "page-1.png")
    assert image.size == (1241, 1754)  # A4 (595.3 × 841.9 pt) at 150 dpi

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(STATUS_URL)
    code.make(fit=True)
    expected = code.get_matrix()
    x1, y1, x2, y2 = rectangles[STATUS_URL]
    scale, page_height = dpi / 72, 842
    module = (x2 - x1) / len(expected)
    drawn = [
        [
            image.getpixel(
                (
                    round((x1 + (column + 0.5) * module) * scale),
                    round((page_height - y2 + (row + 0.5) * module) * scale),
                )
            )
            < 128
            for column in range(len(expected))
        ]
        for row in range(len(expected))
    ]
    assert drawn == expected
    # The rest of the page is mostly white paper with dark text: a real rendering, not a blank page.
    histogram = image.histogram()
    dark = sum(histogram[:128]) / (image.size[0] * image.size[1])
    assert 0.01 < dark < 0.2


def test_unusual_characters_in_a_file_name_cannot_disguise_it(enrolment):
    EnrolmentDocumentFactory(enrolment=enrolment, kind="kbis", original_name="kbis\u202efdp.exe")
    text = pdf_text(receipts.render_pdf(receipts.enrolment_receipt(enrolment)))
    assert "kbis?fdp.exe" in text and "\u202e" not in text


def test_the_funding_request_receipt_lists_the_json_and_every_piece(settings):
    open_window()
    enrolment = validated_vendor()
    funding = filed_request(enrolment)
    version = funding.current_version

    pdf = receipts.render_pdf(receipts.funding_receipt(funding))
    text = pdf_text(pdf)

    assert f"Demande de financement {funding.number}" in text
    assert re.search(rf"Numéro de la demande\s+{funding.number}", text)
    assert re.search(r"Numéro de SIRET\s+46293699800014", text)
    assert re.search(rf"Logiciel\s+ARCAD SAAD \(version 17\) — enrôlement {enrolment.number}", text)
    assert re.search(r"Version\s+1\b", text)
    assert re.search(rf"Bénéficiaires\s+{version.beneficiary_count}\b", text)
    json_bytes = funding_format.example_bytes()
    assert re.search(rf"Fichier json\s+demande\.json\s+{octets(len(json_bytes))}", text)
    assert f"SHA-256 : {hashlib.sha256(json_bytes).hexdigest()}" in text
    with zipfile.ZipFile(io.BytesIO(funding_format.example_zip_bytes())) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        assert members
        for member in members:
            name = Path(member.filename).name
            content = archive.read(member)
            assert re.search(rf"Pièce du fichier zip\s+\S*{re.escape(name)}\s+{octets(len(content))}", text), name
            assert f"SHA-256 : {hashlib.sha256(content).hexdigest()}" in text
    assert re.search(rf"SHA-256 : {receipts.canonical_sha256(receipts.funding_submitted_data(version))}", text)
    assert list(link_rectangles(pdf)) == ["https://segurnum.example.fr/espace/demande-de-financement/"]


def test_a_long_list_of_pieces_runs_over_several_pages_with_every_digest():
    documents = [
        receipts.ReceiptDocument(
            label="Pièce du fichier zip",
            name=f"structures/bon-de-commande-{n:04d}.pdf",
            size=1000 + n,
            sha256=hashlib.sha256(str(n).encode()).hexdigest(),
        )
        for n in range(120)
    ]
    receipt = receipts.Receipt(
        kind="Demande de financement",
        number="FIN0042",
        submitted_at=datetime(2026, 7, 1, 8, 0, tzinfo=UTC),
        software="ARCAD SAAD (version 17) — enrôlement ENR0011M0",
        siret="47992882200069",
        denomination="ASSOCIATION SERVICES MEDIATION",
        representative="Eishiro ODA",
        documents=documents,
        data_sha256="0" * 64,
        tracking_url=STATUS_URL,
        tracking_label="Suivi de ma demande de financement",
        tracking_hint="et connectez-vous.",
    )
    pdf = receipts.render_pdf(receipt)
    text = pdf_text(pdf)

    assert page_count(pdf) > 3
    assert re.search(r"Déposée le\s+01/07/2026 à 10:00:00 \(heure de Paris\)", text)  # summer time: UTC+2
    assert text.count("SHA-256 : ") == 121
    for document in documents:
        assert re.search(rf"{re.escape(document.name)}\s+{octets(document.size)}", text)
        assert f"SHA-256 : {document.sha256}" in text
    assert f"Accusé de dépôt FIN0042 — page {page_count(pdf)}" in text
