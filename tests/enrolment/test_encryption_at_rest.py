"""Encryption at rest as the people around a request see it (SECURITY P2, P5): a raw dump of the
table and a raw read of the files show nothing; agents still read the whole IBAN and open the exact
documents; support and the vendor see the IBAN masked; an exact IBAN is found by its keyed hash;
keys rotate; data written before encryption is migrated."""

import hashlib
import re

import pytest
from cryptography.fernet import Fernet
from django.contrib.messages import get_messages
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from enrolment import drafts
from enrolment.models import AccessRecord, EnrolmentDocument, EnrolmentRequest
from enrolment.selectors import requests_with_iban
from enrolment.services import submit_enrolment
from segurnum.encryption import MAGIC
from tests import files, keys
from tests.enrolment.test_services import submission
from tests.enrolment.wizard import GUIDE_IBAN, GUIDE_NUMBER, load_registries
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory, agent, support_user

pytestmark = pytest.mark.django_db

OTHER_IBAN = "FR7630006000011234567890189"


def raw_table() -> str:
    """Every value of every row of the requests' table, as a SQL dump would write them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {EnrolmentRequest._meta.db_table}")  # noqa: S608
        return repr(cursor.fetchall())


def raw_column(pk: int, column: str = "iban") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {EnrolmentRequest._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def body(blob: bytes) -> bytes:
    """An encrypted file without its header (magic, length, wrapped data key)."""
    return blob[len(MAGIC) + 2 + int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 2], "big") :]


def files_on_disk(root) -> list:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def stored_request():
    load_registries()
    return submit_enrolment(submission=submission())


# --- nothing readable at rest ------------------------------------------------------------------


def test_a_raw_dump_of_the_table_shows_no_iban(stored_request):
    dump = raw_table()
    assert GUIDE_IBAN not in dump and GUIDE_IBAN[4:-4] not in dump
    token = raw_column(stored_request.pk)
    assert token.startswith("gAAAAA")  # a Fernet token
    assert Fernet(keys.ENCRYPTION_KEY).decrypt(token.encode()).decode() == GUIDE_IBAN
    assert re.fullmatch(r"[0-9a-f]{64}", raw_column(stored_request.pk, "iban_hash"))
    assert EnrolmentRequest.objects.get().iban == GUIDE_IBAN  # what the code reads


def test_a_raw_read_of_the_files_shows_no_document(stored_request, _isolated_storage):
    stored = files_on_disk(_isolated_storage / "documents")
    assert len(stored) == stored_request.documents.count() == 1
    for path in stored:
        raw = path.read_bytes()
        assert raw.startswith(MAGIC)
        assert b"%PDF" not in raw and b"\x89PNG" not in raw and b"Pi\xe8ce" not in raw


def test_drafts_are_encrypted_too(_isolated_storage):
    meta = drafts.save_draft_file("8c1b7f6e-2b1c-4c66-9d0e-0f6f1c2a3b4d", files.png())
    raw = (_isolated_storage / "drafts" / meta["path"]).read_bytes()
    assert raw.startswith(MAGIC) and b"\x89PNG" not in raw
    with drafts.open_draft_file(meta) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == meta["sha256"]


# --- what people see ---------------------------------------------------------------------------


def test_the_agent_sees_the_whole_iban_and_opens_the_exact_document(client, stored_request):
    client.force_login(agent())
    page = client.get(reverse("admin:enrolment_enrolmentrequest_change", args=[stored_request.pk]))
    assert GUIDE_IBAN in page.content.decode()
    document = stored_request.documents.get()
    expected = files.pdf_bytes()  # the certificate of tests.enrolment.test_services.submission()
    response = client.get(reverse("admin:enrolment_document", args=[stored_request.pk, document.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == expected and hashlib.sha256(body).hexdigest() == document.sha256
    assert int(response["Content-Length"]) == len(expected)


def test_support_and_the_vendor_see_it_masked(client, stored_request):
    client.force_login(support_user())
    page = client.get(reverse("support_lookup"), {"q": stored_request.number}).content.decode()
    assert "FR76 **** **** 0182" in page and GUIDE_IBAN not in page
    assert stored_request.masked_iban == "FR76 **** **** 0182"


def test_an_altered_document_gives_the_agent_a_message_not_a_file(client, _isolated_storage, caplog):
    document = EnrolmentDocumentFactory(original_name="Kbis société.pdf")
    path = _isolated_storage / "documents" / document.file.name
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0xFF
    path.write_bytes(bytes(blob))
    client.force_login(agent())
    response = client.get(reverse("admin:enrolment_document", args=[document.enrolment_id, document.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:enrolment_enrolmentrequest_change", args=[document.enrolment_id])
    (message,) = get_messages(response.wsgi_request)
    assert "« Kbis société.pdf » ne peut pas être ouverte : elle est illisible" in str(message)
    assert "pièce altérée" in caplog.text
    assert AccessRecord.objects.filter(document=document).exists()  # the attempt is recorded


# --- exact search through the keyed hash -------------------------------------------------------


def test_an_exact_iban_is_found_through_its_hash_whatever_its_spelling(stored_request):
    EnrolmentRequestFactory(iban=OTHER_IBAN)
    for typed in (GUIDE_IBAN, "fr76 3005 6009 2712 3456 7890 182", " FR7630056009271234567890182 "):
        assert list(requests_with_iban(typed)) == [stored_request]
    assert [request.iban for request in requests_with_iban(OTHER_IBAN)] == [OTHER_IBAN]
    assert not requests_with_iban("FR7630056009271234567890183").exists()
    assert not requests_with_iban("pas un IBAN").exists()


def test_the_hash_column_is_indexed():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, EnrolmentRequest._meta.db_table)
    assert any(spec["index"] and spec["columns"] == ["iban_hash"] for spec in constraints.values())


def test_the_encrypted_column_refuses_lookups_instead_of_never_matching():
    with pytest.raises(FieldError):
        list(EnrolmentRequest.objects.filter(iban=GUIDE_IBAN))
    assert not EnrolmentRequest.objects.filter(iban__isnull=True).exists()


def test_an_agent_searches_the_list_by_a_whole_iban(client, stored_request):
    EnrolmentRequestFactory(iban=OTHER_IBAN)
    client.force_login(agent())
    response = client.get(
        reverse("admin:enrolment_enrolmentrequest_changelist"), {"q": "FR76 3005 6009 2712 3456 7890 182"}
    )
    assert [row.number for row in response.context["cl"].result_list] == [stored_request.number]


# --- rotation ----------------------------------------------------------------------------------


def test_rotation_then_the_old_key_removed_everything_still_reads(settings, client, _isolated_storage, capsys):
    load_registries()
    old_key, new_key = keys.ENCRYPTION_KEY, Fernet.generate_key().decode()
    request = submit_enrolment(submission=submission())
    draft = drafts.save_draft_file("8c1b7f6e-2b1c-4c66-9d0e-0f6f1c2a3b4d", files.pdf("en cours.pdf"))
    token_before = raw_column(request.pk)
    documents_before = {path: path.read_bytes() for path in files_on_disk(_isolated_storage)}
    in_documents = len(files_on_disk(_isolated_storage / "documents"))
    in_drafts = len(files_on_disk(_isolated_storage / "drafts"))
    assert (in_documents, in_drafts) == (1, 2)  # the certificate, kept as a draft too until the commit

    settings.ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_keys")
    output = capsys.readouterr().out
    assert "IBAN : 1 rechiffré(s), 0 déjà à jour, 0 en échec." in output
    assert "Pièces justificatives : 1 clé(s) re-scellée(s), 0 fichier(s) en clair chiffré(s)" in output
    assert "Brouillons du parcours : 2 clé(s) re-scellée(s)" in output
    assert "l'ancienne peut être retirée" in output

    settings.ENCRYPTION_KEYS = [new_key]  # the old key is gone
    token_after = raw_column(request.pk)
    assert token_after != token_before
    assert Fernet(new_key).decrypt(token_after.encode()).decode() == GUIDE_IBAN
    assert EnrolmentRequest.objects.get().iban == GUIDE_IBAN
    for path, before in documents_before.items():
        after = path.read_bytes()
        assert after[: len(MAGIC)] == MAGIC and after[:200] != before[:200]
        assert body(after) == body(before)  # only the data key was re-wrapped, not the body
    for document in EnrolmentDocument.objects.all():
        with document.file.open("rb") as stored:
            assert hashlib.sha256(stored.read()).hexdigest() == document.sha256
    with drafts.open_draft_file(draft) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == draft["sha256"]
    client.force_login(agent())
    assert (
        GUIDE_IBAN in client.get(reverse("admin:enrolment_enrolmentrequest_change", args=[request.pk])).content.decode()
    )

    call_command("rotate_keys")  # again: nothing left to do
    assert "IBAN : 0 rechiffré(s), 1 déjà à jour" in capsys.readouterr().out


def test_without_rotation_removing_the_old_key_loses_access(settings, stored_request):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="illisible"):
        EnrolmentRequest.objects.get()
    with pytest.raises(CommandError, match="ne retirez pas"):
        call_command("rotate_keys")


def test_a_new_search_key_is_taken_up_by_the_rotation(settings, stored_request):
    settings.SEARCH_HASH_KEY = Fernet.generate_key().decode()
    assert not requests_with_iban(GUIDE_IBAN).exists()
    call_command("rotate_keys")
    assert list(requests_with_iban(GUIDE_IBAN)) == [stored_request]


# --- data written before encryption ------------------------------------------------------------


def test_documents_written_in_plaintext_before_are_encrypted_by_the_command(client, _isolated_storage, capsys):
    load_registries()
    request = EnrolmentRequestFactory(number=GUIDE_NUMBER)
    content = files.pdf_bytes("Kbis écrit avant le chiffrement")
    legacy = _isolated_storage / "documents" / str(request.submission_key) / "ancien.pdf"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(content)
    document = EnrolmentDocument.objects.create(
        enrolment=request,
        kind="kbis",
        file=f"{request.submission_key}/ancien.pdf",
        original_name="kbis.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    call_command("rotate_keys")
    assert "0 clé(s) re-scellée(s), 1 fichier(s) en clair chiffré(s)" in capsys.readouterr().out
    raw = legacy.read_bytes()
    assert raw.startswith(MAGIC) and b"%PDF" not in raw
    client.force_login(agent())
    response = client.get(reverse("admin:enrolment_document", args=[request.pk, document.pk]))
    assert b"".join(response.streaming_content) == content


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_the_ibans_stored_in_plaintext():
    executor = MigrationExecutor(connection)
    before, after = [("enrolment", "0003_back_office")], [("enrolment", "0004_iban_encrypted")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    software = old_apps.get_model("enrolment", "ReferencedSoftware").objects.create(
        referencing_number="tndSAS0099", software_name="Ancien", version="1", dsr_label="DSR", editor_siret="1" * 14
    )
    row = EnrolmentRequestFactory.build(sequence=99, submitted_at=timezone.now())
    fields = {
        field.column: field.get_db_prep_save(getattr(row, field.attname), connection)
        for field in EnrolmentRequest._meta.concrete_fields
        if field.name not in ("id", "iban_hash")
    }
    fields.update(iban=GUIDE_IBAN, software_id=software.pk)  # the column as version 0003 wrote it
    columns = ", ".join(fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EnrolmentRequest._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})",  # noqa: S608
            list(fields.values()),
        )
    assert GUIDE_IBAN in raw_table()

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert GUIDE_IBAN not in raw_table()
    migrated = EnrolmentRequest.objects.get(number=row.number)
    assert migrated.iban == GUIDE_IBAN
    assert list(requests_with_iban(GUIDE_IBAN)) == [migrated]

    # And back: the column is plaintext again for the previous version of the code.
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    assert GUIDE_IBAN in raw_table()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert EnrolmentRequest.objects.get(number=row.number).iban == GUIDE_IBAN
