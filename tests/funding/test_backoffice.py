"""« Demandes de financement » in the back office (R-FIN-6, R-FIN-7), as an agent and as the
support desk see it: search, detail, recorded opening of the pieces, every decision through a
button that calls a service, recorded, mailed, and shown to the vendor as a timeline."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from enrolment.models import AccessRecord
from funding import format as funding_format
from funding import services
from funding.models import FundingRequest, FundingWindow
from notifications.models import OutboundEmail
from tests.factories import agent, support_user
from tests.funding import files
from tests.funding.factories import filed_request, validated_vendor
from tests.portal.pages import page_text

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/funding/fundingrequest/"


@pytest.fixture
def funding(enrolment, window):
    return filed_request(enrolment)


@pytest.fixture
def desk(db):
    """The agent's own browser (the vendor has another one)."""
    browser = Client()
    browser.force_login(agent(username="camille.roux", first_name="Camille", last_name="Roux"))
    return browser


def detail_url(funding) -> str:
    return reverse("admin:funding_fundingrequest_change", args=[funding.pk])


def decide(desk, funding, action, **data):
    response = desk.post(reverse("admin:funding_decide", args=[funding.pk, action]), data)
    assert response.status_code == 302 and response.url == detail_url(funding)
    return page_text(desk.get(response.url))


@pytest.mark.parametrize("query", ["FIN0001", "fin 1", "ENR0001M0", "46293699800014", "10003176392", "750712184"])
def test_agents_find_a_request_by_fin_enr_siret_or_beneficiary(desk, funding, query):
    text = page_text(desk.get(CHANGELIST, {"q": query}))
    assert "FIN0001" in text and "1 résultat" in text


def test_agents_filter_by_status_and_window(desk, funding, window):
    assert "FIN0001" in page_text(desk.get(CHANGELIST, {"status__exact": "submitted"}))
    assert "FIN0001" not in page_text(desk.get(CHANGELIST, {"status__exact": "validated"}))
    assert "FIN0001" in page_text(desk.get(CHANGELIST, {"window__id__exact": window.pk}))


def test_the_detail_shows_lines_pieces_versions_and_history_and_is_recorded(desk, funding, settings):
    text = page_text(desk.get(detail_url(funding)))
    for expected in (
        "Bénéficiaires (3)",
        "RPPS 10003176392 MARTIN Claire 13700",
        "structures/BC-2026-003.pdf",
        "Versions",
        "demande.json",
        "pieces.zip (Accepté)",
        "Déposée — par le fournisseur (portail) (version 1)",
        "Demande de financement FIN0001 déposée",  # the acknowledgement in « Courriels »
        "Prendre en charge",
    ):
        assert expected in text, expected
    record = AccessRecord.objects.get(action="view_funding")
    assert (record.funding_request, record.target) == (funding, "FIN0001")


def test_lines_are_paginated(desk, enrolment, window):
    document = files.example()
    template = document["beneficiaires"][0]
    from stdnum import luhn

    lines = []
    for index in range(120):
        body = f"1{index:09d}"
        lines.append(template | {"identifiant": body + luhn.calc_check_digit(body), "montant_ht": "10.00"})
    document["beneficiaires"] = lines
    funding = filed_request(enrolment, json_content=files.json_bytes(files.with_totals(document)), with_zip=False)
    text = page_text(desk.get(detail_url(funding)))
    assert "Bénéficiaires (120)" in text and "Page 1 sur 3" in text
    assert "Page 3 sur 3" in page_text(desk.get(detail_url(funding), {"lignes": 3}))


def test_a_piece_opens_through_the_recorded_access_only(desk, funding):
    piece = funding.current_version.documents.get(name="structures/BC-2026-003.pdf")
    url = reverse("admin:funding_piece", args=[funding.pk, piece.pk])
    response = desk.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="BC-2026-003.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    record = AccessRecord.objects.get(action="open_funding_piece")
    assert (record.funding_document, record.target) == (piece, "FIN0001 — structures/BC-2026-003.pdf")

    helpdesk = Client()
    helpdesk.force_login(support_user())
    assert helpdesk.get(url).status_code == 403
    assert helpdesk.get(detail_url(funding)).status_code == 403
    assert Client().get(url).status_code == 404
    vendor = Client()
    vendor.force_login(funding.account)
    assert vendor.get(url).status_code == 404


def test_the_whole_life_of_a_request_is_decided_recorded_mailed_and_shown(
    desk, funding, vendor_client, django_capture_on_commit_callbacks
):
    text = decide(desk, funding, "instruire")
    assert "La demande FIN0001 est en cours d'instruction." in text

    text = decide(desk, funding, "modifier", reason="")
    assert "Le motif est obligatoire : il est communiqué au fournisseur." in text
    text = decide(desk, funding, "modifier", reason="Le bon de commande de la ligne 2 n'est pas signé.")
    assert "La demande FIN0001 est « A modifier »" in text

    home = page_text(vendor_client.get("/espace/demande-de-financement/"))
    assert "L'ASP vous demande de modifier votre demande" in home
    assert "Motif : Le bon de commande de la ligne 2 n'est pas signé." in home

    # The vendor sends a new version: a corrected JSON only; the pieces are carried over.
    document = files.example()
    document["beneficiaires"][1]["numero_bon_de_commande"] = "BC-2026-002-SIGNE"
    with django_capture_on_commit_callbacks(execute=True):
        sent = vendor_client.post(
            reverse("funding:new_version"),
            {"fichier_json": SimpleUploadedFile("demande-v2.json", files.json_bytes(document))},
        )
    assert "Fichier conforme : 3 bénéficiaires" in page_text(vendor_client.get(sent.url))
    with django_capture_on_commit_callbacks(execute=True):
        done = vendor_client.post(sent.url + "recapitulatif/", {"accept_penal_code": "on", "accept_sincerity": "on"})
    assert done.url == "/espace/demande-de-financement/deposee/FIN0001/"
    funding.refresh_from_db()
    assert funding.status == "submitted" and funding.versions.count() == 2
    assert funding.current_version.zip_state == "carried" and funding.current_version.documents.count() == 4
    assert funding.lines.filter(version=funding.current_version, order_number="BC-2026-002-SIGNE").exists()
    assert funding.lines.count() == 6  # every version's lines are kept

    text = decide(desk, funding, "valider", comment="Pièces conformes.")
    assert "La demande FIN0001 est validée." in text
    text = decide(desk, funding, "payer", amount="2580,00", paid_on="2099-01-01", reference="VIR-2026-0042")
    assert "La date de paiement ne peut pas être dans le futur." in text
    text = decide(desk, funding, "payer", amount="2580,00", paid_on="2026-03-20", reference="VIR-2026-0042")
    assert "La demande FIN0001 est décidée et payée." in text
    assert "Décider" not in text and "Prendre en charge" not in text

    funding.refresh_from_db()
    assert (funding.status, str(funding.paid_amount), funding.payment_reference) == ("paid", "2580.00", "VIR-2026-0042")
    changes = list(funding.status_changes.values_list("from_status", "to_status"))
    assert changes == [
        ("", "submitted"),
        ("submitted", "in_review"),
        ("in_review", "to_modify"),
        ("to_modify", "submitted"),
        ("submitted", "validated"),
        ("validated", "paid"),
    ]
    mails = OutboundEmail.objects.filter(key__startswith=f"funding:{funding.pk}:").order_by("created_at", "id")
    assert [mail.subject for mail in mails] == [
        "Demande de financement FIN0001 déposée",
        "Demande de financement FIN0001 : en cours d'instruction",
        "Demande de financement FIN0001 : a modifier",
        "Demande de financement FIN0001 : déposée",
        "Demande de financement FIN0001 : validée",
        "Demande de financement FIN0001 : décidée et payée",
    ]
    assert "2580,00 € le 20/03/2026, référence du paiement VIR-2026-0042" in mails.last().body_text
    assert all(mail.to == ["eishiro.oda@asm.example"] for mail in mails)

    tracking = page_text(vendor_client.get("/espace/demande-de-financement/"))
    assert re.search(
        r"Déposée .* En cours d'instruction .* A modifier Motif : Le bon de commande de la ligne 2 n'est pas signé\. "
        r".* Déposée Version 2 envoyée par le fournisseur\. .* Validée Pièces conformes\. .* Décidée et payée",
        tracking,
    ), tracking
    assert "Référence du paiement VIR-2026-0042" in tracking


def test_a_rejected_request_frees_the_vendor_for_a_new_one(desk, funding, enrolment):
    text = decide(desk, funding, "rejeter", reason="Bénéficiaires hors du dispositif.")
    assert "La demande FIN0001 est rejetée" in text
    again = filed_request(enrolment)
    assert again.number == "FIN0002" and again.status == "submitted"
    assert FundingRequest.objects.filter(siret=enrolment.siret).count() == 2


def test_a_decided_request_cannot_be_decided_again(desk, funding):
    decide(desk, funding, "valider")
    decide(desk, funding, "payer", amount="2580.00", paid_on="2026-03-20", reference="VIR-1")
    text = decide(desk, funding, "rejeter", reason="Trop tard")
    assert "La demande FIN0001 est « Décidée et payée » : elle ne peut pas passer au statut « Rejetée »." in text


def test_a_beneficiary_financed_in_another_vendors_validated_request_blocks(desk, funding, window):
    decide(desk, funding, "valider")
    other = validated_vendor(username="autre", number="ENR0002M0", siret="39431067600017", referencing="tndSAS0032")
    document = files.example()
    document["fournisseur"].update(
        numero_enrolement="ENR0002M0", siret="39431067600017", numero_referencement="tndSAS0032"
    )
    check = services.start_check(
        purpose="private",
        json_upload=SimpleUploadedFile("d.json", files.json_bytes(document)),
        account=other.account,
    )
    services.run_check(check_id=check.pk)
    check.refresh_from_db()
    messages = [a["message"] for a in check.report["anomalies"] if a["code"] == "beneficiaire_deja_finance"]
    assert len(messages) == 3
    assert messages[0] == (
        "Le bénéficiaire RPPS 10003176392 est déjà financé dans la demande FIN0001 d'un autre fournisseur : "
        "un bénéficiaire n'est financé qu'une fois."
    )


def test_support_sees_status_and_history_but_no_pieces(funding, client):
    client.force_login(support_user())
    assert "Rechercher une demande de financement" in page_text(client.get("/admin/"))
    response = client.get(reverse("funding_lookup"), {"q": "fin0001"})
    text = page_text(response)
    assert "Demande FIN0001 — Déposée" in text
    assert "Déposée — par le fournisseur (portail)" in text
    assert "BC-2026-001.pdf" not in text and "MARTIN" not in text
    assert AccessRecord.objects.get(action="support_funding").target == "FIN0001 (recherche « fin0001 »)"
    assert "n'est ni un numéro FIN" in page_text(client.get(reverse("funding_lookup"), {"q": "bonjour"}))


def test_agents_edit_the_filing_windows(desk):
    response = desk.post(
        "/admin/funding/fundingwindow/add/",
        {
            "name": "Guichet de printemps",
            "opens_at_0": "01/04/2026",
            "opens_at_1": "09:00:00",
            "closes_at_0": "30/06/2026",
            "closes_at_1": "18:00:00",
            "period_start": "01/01/2023",
            "period_end": "31/12/2027",
        },
    )
    assert response.status_code == 302, page_text(response)
    window = FundingWindow.objects.get()
    assert window.opens_at.isoformat() == "2026-04-01T07:00:00+00:00"  # 9:00 in Paris (summer time)
    bad = desk.post(
        "/admin/funding/fundingwindow/add/",
        {
            "name": "À l'envers",
            "opens_at_0": "30/06/2026",
            "opens_at_1": "09:00:00",
            "closes_at_0": "01/04/2026",
            "closes_at_1": "18:00:00",
            "period_start": "01/01/2023",
            "period_end": "31/12/2027",
        },
    )
    assert "La fermeture doit suivre l'ouverture." in page_text(bad)
    assert funding_format.FORMAT_NAME  # the format module loads without the request
