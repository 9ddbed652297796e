"""The production shape over HTTP (gunicorn with the production settings, PostgreSQL): uploads are
scanned by clamd and refused when it cannot answer (SECURITY F12, F12b, G6); what is stored,
in the database and on the disk, is encrypted (P2, P5)."""

import html
import json

import pytest
from django.db import connection
from django.urls import reverse

from enrolment.models import EnrolmentRequest
from segurnum.encryption import MAGIC
from tests import files
from tests.antivirus import eicar_pdf
from tests.enrolment.wizard import GUIDE_IBAN, GUIDE_NUMBER, Wizard
from tests.integration.conftest import stack_env
from tests.integration.test_enrolment_mail import ENR

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def post_certificate(wizard: Wizard, upload):
    wizard.search_number()
    return wizard.post("referencing", {"referencing_number": GUIDE_NUMBER, "certificate": upload})


@pytest.fixture
def web_env(tmp_path, test_database_url, spare_broker, relay, clamd_server):
    """A web server of this test's own: its storage under tmp_path, its tasks on Redis database 11
    (emptied after), so that the suite's shared stack sees nothing of it."""
    return stack_env(tmp_path, database_url=test_database_url, broker_url=spare_broker, relay=relay, clamd=clamd_server)


def files_under(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


def test_eicar_is_refused_then_a_clean_enrolment_is_stored_encrypted(processes, tmp_path, web_env, registries):
    web = processes.web(web_env, name="gunicorn-antivirus")
    page = post_certificate(Wizard(web.client()), files.upload("certificat.pdf", eicar_pdf()))
    assert page.status_code == 200
    assert "Ce fichier a été détecté comme dangereux par notre antivirus" in html.unescape(page.text)
    assert not files_under(tmp_path / "private")

    page = Wizard(web.client()).complete()
    assert any(url.endswith(reverse("enrolment:done")) for url, _ in page.redirect_chain)
    enrolment = EnrolmentRequest.objects.get(number=ENR.search(page.text).group(0))
    assert enrolment.iban == GUIDE_IBAN  # the test process holds the same keys
    with connection.cursor() as cursor:
        cursor.execute("SELECT iban, iban_hash FROM enrolment_enrolmentrequest WHERE id = %s", [enrolment.pk])
        token, digest = cursor.fetchone()
    assert token.startswith("gAAAAA") and GUIDE_IBAN not in token and len(digest) == 64
    stored = files_under(tmp_path / "private" / "documents")
    assert stored and len(stored) == enrolment.documents.count()
    for path in stored:
        raw = path.read_bytes()
        assert raw.startswith(MAGIC) and b"%PDF" not in raw and b"\x89PNG" not in raw


def test_production_fails_closed_when_clamd_cannot_be_reached(processes, tmp_path, web_env, registries):
    web_env["SEGURNUM_CLAMD_ADDRESS"] = f"unix://{tmp_path / 'aucun-clamd.sock'}"
    web = processes.web(web_env, name="gunicorn-sans-clamd")
    health = web.client().get("/sante/")
    assert health.status_code == 200 and json.loads(health.content)["checks"]["antivirus"] == "error"

    page = post_certificate(Wizard(web.client()), files.pdf("certificat.pdf"))

    assert page.status_code == 200
    assert "réessayez dans quelques minutes" in html.unescape(page.text)
    assert f'value="{GUIDE_NUMBER}"' in page.text
    assert not files_under(tmp_path / "private")
