"""Exports of the filtered lists (R-OPS-1): CSV and XLSX (read back with openpyxl), French headers
from the detail page's groups, IBAN masked unless the dedicated permission, each export recorded.
The XLSX goes through the « Exports » page (tests/ops/test_xlsx_exports.py for the background)."""

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import TestCase
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEntry
from enrolment.models import EnrolmentRequest
from exports.models import ExportRecord, XlsxExport
from flags import services as flag_services
from funding.models import FundingRequest
from tests.factories import agent, support_user
from tests.flags.helpers import enrolment, funding_request, iban

pytestmark = pytest.mark.django_db

ENROLMENT_EXPORT = "admin:enrolment_enrolmentrequest_export"
FUNDING_EXPORT = "admin:funding_fundingrequest_export"


@pytest.fixture
def agent_client(client):
    client.force_login(agent(username="camille.roux"))
    return client


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def read_xlsx(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def xlsx_export(client, url, params=None):
    """« Exporter (XLSX) »: the agent lands on « Exports », where the file, once ready, downloads."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.get(url, params or {})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:exports_xlsxexport_changelist")
    export = XlsxExport.objects.order_by("-id").first()
    page = client.get(response["Location"]).content.decode()
    download = reverse("admin:exports_xlsxexport_download", args=[export.pk])
    assert f'<a href="{download}">Télécharger' in page
    return client.get(download)


def test_the_filtered_enrolment_list_as_csv_with_masked_iban_and_the_export_recorded(agent_client):
    validated = enrolment(
        status=EnrolmentRequest.Status.VALIDATED, iban=iban(42), denomination="=HYPERLIEN(1)", account_holder="X"
    )
    enrolment(status=EnrolmentRequest.Status.SUBMITTED)
    changelist_url = reverse("admin:enrolment_enrolmentrequest_changelist")
    changelist = agent_client.get(changelist_url, {"status__exact": "validated"})
    url = reverse(ENROLMENT_EXPORT, args=["demandes-enrolement", "csv"])
    assert f'href="{url}?status__exact=validated">Exporter : Demandes d&#x27;enrôlement (CSV)</a>' in (
        changelist.content.decode()
    )

    response = agent_client.get(url, {"status__exact": "validated"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="demandes-enrolement-')
    header, *rows = read_csv(response)
    assert header[:5] == ["Numéro de demande", "Statut", "Soumise le", "Décidée le", "Compte du fournisseur"]
    assert {"N° unique de référencement (ANS)", "Numéro de SIRET", "N° de voie", "IBAN", "Taux TVA"} <= set(header)
    assert header[-1] == "Signalements"
    (row,) = rows
    values = dict(zip(header, row, strict=True))
    assert values["Numéro de demande"] == validated.number and values["Statut"] == "Validée"
    assert values["IBAN"] == "FR76 **** **** 0042"
    assert values["Dénomination sociale"] == "'=HYPERLIEN(1)"  # never run as a formula
    assert values["Représentant légal du fournisseur"] == "Oui"

    export = ExportRecord.objects.get()
    assert (export.user.username, export.dataset, export.file_format, export.rows, export.full_iban) == (
        "camille.roux",
        "Demandes d'enrôlement",
        "csv",
        1,
        False,
    )
    assert export.filters == {"status__exact": ["validated"]}
    entry = AuditEntry.objects.get(action="export")
    assert entry.details == {"filters": {"status__exact": ["validated"]}, "rows": 1, "format": "csv"}


def test_the_enrolment_list_as_xlsx_read_back_with_the_full_iban_for_a_permitted_agent(client):
    user = agent(username="agent.paiement")
    user.user_permissions.add(Permission.objects.get(codename="export_full_iban"))
    client.force_login(user)
    first = enrolment(iban=iban(7))
    second = enrolment(iban=iban(7))
    flag_services.refresh_enrolment_flags(enrolment_id=second.pk)

    response = xlsx_export(client, reverse(ENROLMENT_EXPORT, args=["demandes-enrolement", "xlsx"]))
    header, *rows = read_xlsx(response)
    assert len(rows) == 2
    by_number = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert by_number[first.number]["IBAN"] == iban(7)
    assert isinstance(by_number[first.number]["Soumise le"], datetime)
    assert by_number[second.number]["Signalements"] == "IBAN d'un autre SIREN"
    assert ExportRecord.objects.get().full_iban
    assert AuditEntry.objects.get(action="export").details["filters"] == {"iban_en_clair": True}


def test_funding_requests_and_their_beneficiaries_as_xlsx(agent_client):
    first = funding_request([("RPPS", "10003456789", "Dr Martin"), ("FINESS", "750000001", "Clinique A")])
    FundingRequest.objects.filter(pk=first.pk).update(amount_ttc=Decimal("2580.00"))
    other = funding_request([("RPPS", "10001111111", "Dr Petit")], status=FundingRequest.Status.REJECTED)

    response = xlsx_export(
        agent_client, reverse(FUNDING_EXPORT, args=["demandes-financement", "xlsx"]), {"status__exact": "submitted"}
    )
    header, *rows = read_xlsx(response)
    assert header[:4] == ["Numéro de demande", "Statut", "Déposée le", "Décidée le"]
    (row,) = rows
    values = dict(zip(header, row, strict=True))
    assert values["Numéro de demande"] == first.number and values["Statut"] == "Déposée"
    assert values["Enrôlement"] == first.enrolment.number and values["Montant TTC"] == 2580

    response = xlsx_export(
        agent_client, reverse(FUNDING_EXPORT, args=["beneficiaires", "xlsx"]), {"status__exact": "submitted"}
    )
    header, *rows = read_xlsx(response)
    assert header == [
        "Demande de financement",
        "Version",
        "Ligne",
        "Type d'identifiant",
        "Identifiant",
        "Bénéficiaire",
        "Code postal",
        "N° de bon de commande",
        "Date du bon de commande",
        "Date de raccordement",
        "Montant HT",
    ]
    assert [(row[0], row[2], row[4], row[5]) for row in rows] == [
        (first.number, 1, "10003456789", "Dr Martin"),
        (first.number, 2, "750000001", "Clinique A"),
    ]
    assert other.number not in str(rows)
    assert list(ExportRecord.objects.order_by("at", "id").values_list("dataset", "rows")) == [
        ("Demandes de financement", 1),
        ("Bénéficiaires des demandes de financement", 2),
    ]


def test_support_staff_cannot_export(client):
    enrolment()
    client.force_login(support_user())
    assert client.get(reverse(ENROLMENT_EXPORT, args=["demandes-enrolement", "csv"])).status_code == 403
    assert not ExportRecord.objects.exists()


def test_an_unknown_list_or_format_is_not_found(agent_client):
    assert agent_client.get(reverse(ENROLMENT_EXPORT, args=["beneficiaires", "csv"])).status_code == 404
    assert agent_client.get(reverse(ENROLMENT_EXPORT, args=["demandes-enrolement", "pdf"])).status_code == 404
