"""Agents at scale in the browser: the « Tableau de bord » walked with axe and the keyboard
(R-OPS-2), a consistency flag marked « vérifié » (R-OPS-3), the audit trail exported (R-OPS-4)."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from audit.models import AuditEntry
from exports.models import ExportRecord
from flags import services as flag_services
from flags.models import ConsistencyFlag
from tests.browser.test_backoffice_browser import assert_admin_accessible, sign_in
from tests.factories import EnrolmentRequestFactory, agent
from tests.flags.helpers import enrolment, iban

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_reads_the_dashboard_with_its_data_tables(page):
    for status in ("submitted", "submitted", "in_review", "validated"):
        EnrolmentRequestFactory(status=status)
    sign_in(page, agent(username="camille.roux").username)
    page.get_by_role("link", name="Tableau de bord").click()
    expect(page.get_by_role("heading", name="Tableau de bord", exact=True)).to_be_visible()
    assert page.title().startswith("Tableau de bord")
    table = page.get_by_role("table", name="Demandes d'enrôlement par statut (données du graphique)")
    expect(table.get_by_role("row", name="Soumise 2")).to_be_visible()
    expect(table.get_by_role("row", name="En cours d'instruction 1")).to_be_visible()
    expect(
        page.get_by_role("table", name="Délai entre le dépôt et la décision (validation, paiement ou rejet), en jours")
    ).to_be_visible()
    expect(page.get_by_role("table", name="Financement demandé, validé et payé (données du graphique)")).to_be_visible()
    # The bars are hidden from assistive technologies: their tables say the same.
    assert page.locator("svg.bars[aria-hidden=true]").count() == 7
    assert_admin_accessible(page)
    # Keyboard: from the breadcrumbs, Tab goes on through the page without a trap.
    page.get_by_role("link", name="Accueil").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Accueil"

    # The list filtered on « En cours d'instruction », exported as XLSX (R-OPS-1): prepared in the
    # background, the agent waits on « Exports », which reloads itself, then downloads it there.
    page.goto("/admin/enrolment/enrolmentrequest/?status__exact=in_review")
    assert_admin_accessible(page)
    page.get_by_role("link", name="Exporter : Demandes d'enrôlement (XLSX)").click()
    expect(page.get_by_role("heading", name="Exports", exact=True)).to_be_visible()
    expect(page.get_by_text("Export XLSX en préparation : il sera téléchargeable sur cette page")).to_be_visible()
    download_link = page.get_by_role("link", name=re.compile(r"^Télécharger Demandes d'enrôlement du "))
    expect(download_link).to_be_visible(timeout=20_000)
    expect(page.get_by_role("cell", name="prêt", exact=True)).to_be_visible()
    assert_admin_accessible(page)
    with page.expect_download() as download:
        download_link.click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:2] == ["Numéro de demande", "Statut"]
    assert [row[1] for row in rows] == ["En cours d'instruction"]
    assert ExportRecord.objects.get().filters == {"status__exact": ["in_review"]}


def test_an_agent_marks_a_flag_verified_and_exports_the_audit_trail(page):
    enrolment(iban=iban(900))
    second = enrolment(iban=iban(900))
    flag_services.refresh_enrolment_flags(enrolment_id=second.pk)
    sign_in(page, agent(username="camille.roux").username)
    page.goto(f"/admin/enrolment/enrolmentrequest/{second.pk}/change/")
    expect(page.get_by_role("heading", name="Signalements de cohérence")).to_be_visible()
    assert_admin_accessible(page)
    page.get_by_role("link", name="Marquer vérifié : IBAN d'un autre SIREN").click()

    page.get_by_role("button", name="Marquer vérifié").click()
    comment = page.get_by_label("Commentaire (obligatoire)")
    expect(page.get_by_text("Le commentaire est obligatoire : indiquez ce que vous avez vérifié.")).to_be_visible()
    expect(comment).to_have_attribute("aria-invalid", "true")
    assert_admin_accessible(page)
    comment.fill("Même groupe : IBAN du siège, confirmé par téléphone")
    page.get_by_role("button", name="Marquer vérifié").click()
    expect(
        page.get_by_text(f"Signalement « IBAN d'un autre SIREN » de la demande {second.number} marqué vérifié.")
    ).to_be_visible()
    expect(page.get_by_text("Même groupe : IBAN du siège, confirmé par téléphone")).to_be_visible()
    assert ConsistencyFlag.objects.get(enrolment=second).is_verified

    page.goto("/admin/audit/auditentry/")
    assert_admin_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter le journal (CSV)").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "N°"
    # The detail page, the review, the detail page again after it.
    assert [row[3] for row in rows[1:]] == ["Consultation", "Signalement vérifié", "Consultation"]
    assert AuditEntry.objects.order_by("-position").first().action == "export"
