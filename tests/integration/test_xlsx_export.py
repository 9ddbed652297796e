"""An XLSX export over HTTP against gunicorn, written by the worker process (R-OPS-1): the agent's
« Exporter (XLSX) » answers at once with the « Exports » page; the worker writes the file into the
private storage it shares with gunicorn; the agent downloads it there."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from exports.models import XlsxExport
from tests.factories import agent
from tests.flags.helpers import enrolment
from tests.integration.conftest import wait_until
from tests.integration.test_enrolment_mail import sign_in_admin

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_worker_writes_the_xlsx_the_agent_downloads(stack, transactional_db):
    wanted = [enrolment(status="validated") for _ in range(3)]
    enrolment(status="submitted")
    agent(username="agent.exports")
    client = stack.client()
    sign_in_admin(client, "agent.exports")

    url = reverse("admin:enrolment_enrolmentrequest_export", args=["demandes-enrolement", "xlsx"])
    asked = client.get(url, {"status__exact": "validated"})
    assert asked.status_code == 302 and asked["Location"].endswith(reverse("admin:exports_xlsxexport_changelist"))
    assert asked.seconds < 5, asked.seconds

    export = wait_until(
        lambda: XlsxExport.objects.filter(status=XlsxExport.Status.READY).first(), 30, "l'export XLSX prêt"
    )
    assert export.rows == 3
    assert (stack.storage / "documents" / export.file).is_file()
    page = client.get(reverse("admin:exports_xlsxexport_changelist"))
    download = reverse("admin:exports_xlsxexport_download", args=[export.pk])
    assert f'<a href="{download}">Télécharger' in page.text

    response = client.get(download)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[0] == "Numéro de demande"
    assert sorted(row[0] for row in rows) == sorted(request.number for request in wanted)
