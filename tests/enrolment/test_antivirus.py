"""Every upload is scanned by clamd (SECURITY F12, F12b, G6): check_upload() on the bytes as
sent, then the wizard as a vendor sees it: the refusal at its field, every typed value kept, and
nothing stored for a refused file."""

import hashlib
import re
from html import escape

import pytest
from django.core.exceptions import ValidationError

from enrolment.models import EnrolmentDocument, EnrolmentRequest
from enrolment.uploads import check_upload
from tests import files
from tests.antivirus import EICAR, eicar_jpeg, eicar_pdf, eicar_png
from tests.enrolment.wizard import GUIDE_IBAN, GUIDE_NUMBER, REPRESENTATIVE, Wizard, load_registries

INFECTED = "Ce fichier a été détecté comme dangereux par notre antivirus"
UNAVAILABLE = "réessayez dans quelques minutes"

INFECTED_FILES = [
    pytest.param("RIB.pdf", eicar_pdf, "application/pdf", id="pdf"),
    pytest.param("RIB.png", eicar_png, "image/png", id="png"),
    pytest.param("RIB.jpg", eicar_jpeg, "image/jpeg", id="jpeg"),
]


def html(response) -> str:
    return response.content.decode()


def error_at(response, field: str) -> str:
    """The text shown next to a field (DSFR's fr-error-text with the field's id)."""
    match = re.search(rf'id="id_{field}-error"[^>]*>\s*([^<]*)', html(response))
    assert match, f"aucune erreur sous {field}"
    return match.group(1).strip()


def draft_files(root) -> set:
    return {path for path in (root / "drafts").rglob("*") if path.is_file()}


# --- check_upload() ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "build", "content_type"), INFECTED_FILES)
def test_check_upload_refuses_eicar_in_an_otherwise_valid_document(clamd, name, build, content_type):
    with pytest.raises(ValidationError) as refused:
        check_upload(files.upload(name, build(), content_type))
    assert refused.value.code == "infected"
    assert refused.value.messages[0].startswith(INFECTED)


def test_the_antivirus_scans_while_the_content_is_checked(clamd, monkeypatch):
    """R-PERF-2: the bytes go to clamd first (a local clamd is handed them as a memory file), clamd
    scans them in its own process while the PDF is checked here, then its verdict is read."""
    from enrolment import uploads
    from segurnum import antivirus

    events = []
    real_send, real_verdict, real_check = antivirus._send_descriptor, antivirus.PendingScan.verdict, uploads._check_pdf

    def send(sock, data, path):
        events.append(("sent", (len(data), path)))
        return real_send(sock, data, path)

    def verdict(self):
        events.append(("verdict", None))
        return real_verdict(self)

    def check(data):
        events.append(("checked", None))
        return real_check(data)

    monkeypatch.setattr(antivirus, "_send_descriptor", send)
    monkeypatch.setattr(antivirus.PendingScan, "verdict", verdict)
    monkeypatch.setattr(uploads, "_check_pdf", check)
    data = files.pdf_bytes(size=3 * 1024 * 1024 + 1000)
    scanned_before = clamd.clean_scans("memory")
    checked = check_upload(files.upload("RIB.pdf", data, "application/pdf"))
    assert [name for name, _ in events] == ["sent", "checked", "verdict"]
    assert events[0][1] == (len(data), None)  # held in memory: no file to hand over
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert clamd.clean_scans("memory", at_least=scanned_before + 1) - scanned_before == 1  # the memory file

    events.clear()
    with pytest.raises(ValidationError) as refused:
        check_upload(files.upload("RIB.pdf", eicar_pdf(), "application/pdf"))
    assert INFECTED in refused.value.messages[0]
    assert [name for name, _ in events] == ["sent", "checked", "verdict"]


def test_a_remote_clamd_gets_the_upload_as_a_stream(clamd, settings):
    """Over TCP (clamd in another machine or container) no descriptor can be handed over: the same
    bytes go through INSTREAM, with the same hash and the same verdicts."""
    settings.CLAMD_ADDRESS = clamd.tcp_address
    data = files.pdf_bytes(size=3 * 1024 * 1024 + 1000)
    streams, descriptors = clamd.clean_scans("stream"), clamd.clean_scans("memory")
    checked = check_upload(files.upload("RIB.pdf", data, "application/pdf"))
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert clamd.clean_scans("stream", at_least=streams + 1) - streams == 1
    assert clamd.clean_scans("memory") == descriptors
    with pytest.raises(ValidationError) as refused:
        check_upload(files.upload("RIB.pdf", eicar_pdf(), "application/pdf"))
    assert refused.value.code == "infected"


@pytest.mark.parametrize(("name", "build", "content_type"), INFECTED_FILES[1:])
def test_the_scan_sees_the_bytes_as_sent_not_the_reencoded_image(settings, name, build, content_type):
    """Without the antivirus, the image is accepted and re-encoded: the string is gone from what
    would be stored. Scanning after re-encoding would see a clean file; it is scanned before."""
    settings.CLAMD_ADDRESS = ""
    checked = check_upload(files.upload(name, build(), content_type))
    assert EICAR in build() and EICAR not in checked.content


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("kbis.pdf", files.pdf_bytes(size=files.MAX_BYTES), "application/pdf"),
        ("scan.png", files.png_bytes(), "image/png"),
        ("photo.jpg", files.jpeg_bytes(), "image/jpeg"),
    ],
    ids=["pdf-4MiB", "png", "jpeg"],
)
def test_clean_documents_pass_the_scan(clamd, name, data, content_type):
    assert check_upload(files.upload(name, data, content_type)).size > 0


def test_clamd_stopped_refuses_with_reessayez(private_clamd, caplog):
    check_upload(files.pdf("avant.pdf"))
    private_clamd.stop()
    with pytest.raises(ValidationError) as refused:
        check_upload(files.pdf("pendant.pdf"))
    assert refused.value.code == "antivirus_unavailable"
    assert "réessayez" in refused.value.messages[0]
    assert "Pièce refusée faute d'analyse antivirus" in caplog.text


# --- through the wizard ------------------------------------------------------------------------


@pytest.fixture
def wizard(client, db):
    load_registries()
    return Wizard(client)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "build", "content_type"), INFECTED_FILES)
def test_eicar_is_refused_at_its_field_and_nothing_else_is_lost(
    clamd, wizard, _isolated_storage, name, build, content_type
):
    wizard.referencing()
    wizard.applicant()
    kept = draft_files(_isolated_storage)
    assert len(kept) == 2  # certificate, representative's ID

    response = wizard.bank(rib=files.upload(name, build(), content_type))

    assert error_at(response, "bank-rib").startswith(escape(INFECTED, quote=True))
    assert response.redirect_chain == [] and "Étape 3 sur 5" in html(response)
    assert f'value="{GUIDE_IBAN}"' in html(response) and 'value="ODA"' in html(response)
    assert draft_files(_isolated_storage) == kept  # the infected file was never written
    assert "Fichier reçu" not in html(response)


@pytest.mark.django_db
def test_eicar_certificate_on_step_1(clamd, wizard, _isolated_storage):
    wizard.search_number()
    response = wizard.post(
        "referencing", {"referencing_number": GUIDE_NUMBER, "certificate": files.upload("certificat.pdf", eicar_pdf())}
    )
    assert error_at(response, "referencing-certificate").startswith(escape(INFECTED, quote=True))
    assert f'value="{GUIDE_NUMBER}"' in html(response)
    assert draft_files(_isolated_storage) == set()


@pytest.mark.django_db
def test_a_large_upload_is_handed_to_clamd_as_the_file_django_wrote(clamd, wizard, settings, _isolated_storage):
    """R-PERF-2: over FILE_UPLOAD_MAX_MEMORY_SIZE Django writes the upload to disk; clamd is handed
    that file, so that the bytes are neither copied nor streamed. An infected one is refused at its
    field all the same."""
    large = files.pdf_bytes(size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1000)
    before = {route: clamd.clean_scans(route) for route in ("file", "memory", "stream")}
    response = wizard.referencing(certificate=files.upload("certificat.pdf", large))
    assert response.redirect_chain[-1][0].endswith("/applicant/")
    clamd.clean_scans("file", at_least=before["file"] + 1)
    after = {route: clamd.clean_scans(route) for route in ("file", "memory", "stream")}
    assert {route: after[route] - before[route] for route in after} == {"file": 1, "memory": 0, "stream": 0}
    assert EnrolmentDocument.objects.count() == 0 and len(draft_files(_isolated_storage)) == 1

    infected = files.pdf_bytes(EICAR.decode("ascii"), size=len(large))
    certificate = files.upload("certificat.pdf", infected)
    response = wizard.post("referencing", {"referencing_number": GUIDE_NUMBER, "certificate": certificate})
    assert error_at(response, "referencing-certificate").startswith(escape(INFECTED, quote=True))


@pytest.mark.django_db
def test_clamd_stopped_keeps_every_typed_value_and_stores_nothing(private_clamd, wizard, _isolated_storage):
    wizard.referencing()  # scanned and kept while clamd runs
    kept = draft_files(_isolated_storage)
    assert len(kept) == 1
    wizard.search_siret()
    typed = wizard.applicant_data()

    private_clamd.stop()
    response = wizard.post("applicant", typed)

    assert UNAVAILABLE in error_at(response, "applicant-representative_id")
    assert "réessayez" in html(response)
    for name in ("trade_name", "building", "street_name", "postal_code", "city", *REPRESENTATIVE):
        assert f'value="{escape(typed[name])}"' in html(response), name
    assert response.redirect_chain == []
    assert draft_files(_isolated_storage) == kept
    assert EnrolmentDocument.objects.count() == 0

    # « Réessayez »: clamd is back, the very same step goes through.
    private_clamd.start()
    response = wizard.post("applicant", wizard.applicant_data())
    assert response.redirect_chain[-1][0].endswith("/bank/")
    assert len(draft_files(_isolated_storage)) == 2


@pytest.mark.django_db
def test_the_guide_enrolment_with_every_file_scanned(clamd, wizard):
    scanned_before = clamd.clean_scans("memory")
    response = wizard.complete()
    request = EnrolmentRequest.objects.get()
    assert request.number in html(response)
    assert request.documents.count() == 4
    assert clamd.clean_scans("memory", at_least=scanned_before + 4) - scanned_before == 4  # one memory file each
