"""Filing a funding request as the vendor does it, through the test client with the real example
file and its zip (R-FIN-5): report → recap → the two statements → « Terminer » → FIN number and
acknowledgement; « Incomplète » when the zip is missing or refused, then « Suivi demandes
incomplètes »; one open request per vendor."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from enrolment.models import EnrolmentRequest
from funding import format as funding_format
from funding.models import FundingCheck, FundingDocument, FundingLine, FundingRequest
from tests.funding import files
from tests.funding.factories import validated_vendor
from tests.portal.pages import link_hrefs, page_text

pytestmark = pytest.mark.django_db

HOME = "/espace/demande-de-financement/"
STATEMENTS = {"accept_penal_code": "on", "accept_sincerity": "on"}


def json_upload(content: bytes | None = None, name="demande financement.json"):
    return SimpleUploadedFile(name, content or funding_format.example_bytes(), content_type="application/json")


def zip_upload(content: bytes | None = None, name="pieces.zip"):
    return SimpleUploadedFile(name, content or funding_format.example_zip_bytes(), content_type="application/zip")


def post_files(client, capture, url, **uploads):
    with capture(execute=True):
        response = client.post(url, uploads)
    assert response.status_code == 302, page_text(response)
    return response


def check_page(client, response):
    page = client.get(response.url)
    assert page.status_code == 200
    return page


def finish(client, capture, check_url: str, data=STATEMENTS):
    recap_url = check_url + "recapitulatif/"
    with capture(execute=True):
        return client.post(recap_url, data)


def test_a_vendor_files_the_example_and_gets_a_fin_number(
    vendor_client, vendor, window, django_capture_on_commit_callbacks, mailoutbox, _isolated_storage
):
    home = vendor_client.get(HOME)
    assert "Vous n'avez pas encore de demande de financement." in page_text(home)
    assert link_hrefs(home, "Déposer ma demande de financement") == ["/espace/demande-de-financement/deposer/"]

    response = post_files(
        vendor_client,
        django_capture_on_commit_callbacks,
        reverse("funding:file"),
        fichier_json=json_upload(),
        fichier_zip=zip_upload(),
    )
    text = page_text(check_page(vendor_client, response))
    assert "Fichier conforme : 3 bénéficiaires, montant total 2 150,00 € HT, 2 580,00 € TTC." in text
    recap_url = link_hrefs(check_page(vendor_client, response), "Continuer vers le récapitulatif")[0]
    assert recap_url == response.url + "recapitulatif/"

    recap = page_text(vendor_client.get(recap_url))
    for expected in (
        "Fichier json demande financement.json",
        "Fichier zip pieces.zip (4 pièces acceptées)",
        "Bénéficiaires 3",
        "RPPS 10003176392 MARTIN Claire (13700)",
        "FINESS 750712184 CENTRE DE SANTE DES CALANQUES",
        "structures/BC-2026-003.pdf",
        "Je suis informé(e) des dispositions de l'article 441-7 du code pénal",
        "sincères et véritables",
    ):
        assert expected in recap, expected

    refused = finish(vendor_client, django_capture_on_commit_callbacks, response.url, data={})
    assert refused.status_code == 200
    assert "Vous devez reconnaître les dispositions de l'article 441-7 du code pénal." in page_text(refused)
    assert not FundingRequest.objects.exists()

    done = finish(vendor_client, django_capture_on_commit_callbacks, response.url)
    assert done.status_code == 302 and done.url == "/espace/demande-de-financement/deposee/FIN0001/"
    confirmation = page_text(vendor_client.get(done.url)).replace(" .", ".")
    assert (
        "Demande de financement déposée. Le numéro de votre demande est le FIN0001. Merci de le conserver et le "
        "communiquer en cas d'échange avec notre plateforme de support." in confirmation
    )

    funding = FundingRequest.objects.get()
    assert (funding.number, funding.status, funding.window, funding.siret) == (
        "FIN0001",
        "submitted",
        window,
        "46293699800014",
    )
    assert str(funding.amount_ht) == "2150.00" and str(funding.amount_ttc) == "2580.00"
    assert list(FundingLine.objects.values_list("identifier_type", "identifier")) == [
        ("RPPS", "10003176392"),
        ("FINESS", "750712184"),
        ("SIRET", "78467169500087"),
    ]
    documents = FundingDocument.objects.order_by("name")
    assert [document.name for document in documents] == sorted(funding_format.example_piece_names())
    for document in documents:
        with document.file.open("rb") as stored:
            assert stored.read().startswith(b"%PDF-")
    (mail,) = mailoutbox
    assert mail.subject == "Demande de financement FIN0001 déposée"
    assert mail.to == ["eishiro.oda@asm.example"]
    assert "Bénéficiaires : 3" in mail.body and "Montant TTC : 2580,00 €" in mail.body
    # The zip itself is not kept; the check row no longer owns the files the request uses.
    stored = {path.name for path in (_isolated_storage / "documents").rglob("*") if path.is_file()}
    assert "pieces.zip" not in stored and len(stored) == 5  # the JSON and the 4 pieces

    # A replayed « Terminer » gives the same request, not a second one.
    again = finish(vendor_client, django_capture_on_commit_callbacks, response.url)
    assert again.url == done.url and FundingRequest.objects.count() == 1

    tracking = page_text(vendor_client.get(HOME))
    assert "Suivi de ma demande de financement" in tracking
    assert "Demande FIN0001 — Déposée" in tracking
    assert "Déposer ma demande de financement" not in tracking


def test_a_blocking_anomaly_stops_at_the_report(vendor_client, window, django_capture_on_commit_callbacks):
    document = files.example()
    document["beneficiaires"][0]["identifiant"] = "10003176398"
    response = post_files(
        vendor_client,
        django_capture_on_commit_callbacks,
        reverse("funding:file"),
        fichier_json=json_upload(files.json_bytes(document)),
        fichier_zip=zip_upload(),
    )
    page = check_page(vendor_client, response)
    text = page_text(page)
    assert "Fichier non conforme : 1 anomalie bloquante." in text
    assert "Le numéro RPPS « 10003176398 » est invalide : 11 chiffres dont une clé de Luhn." in text
    assert "beneficiaires[0].identifiant" in text
    assert link_hrefs(page, "Continuer vers le récapitulatif") == []
    assert vendor_client.get(response.url + "recapitulatif/").url == response.url
    check = FundingCheck.objects.get()
    assert check.json_file == ""  # the refused JSON is not kept; the accepted pieces are (see below)
    assert sorted(check.pieces) == sorted(funding_format.example_piece_names())


def test_without_a_zip_the_request_is_incomplete_until_the_zip_is_sent(
    vendor_client, window, django_capture_on_commit_callbacks, mailoutbox
):
    response = post_files(
        vendor_client, django_capture_on_commit_callbacks, reverse("funding:file"), fichier_json=json_upload()
    )
    recap = page_text(vendor_client.get(response.url + "recapitulatif/"))
    assert "Votre demande sera déposée « Incomplète »" in recap
    done = finish(vendor_client, django_capture_on_commit_callbacks, response.url)
    funding = FundingRequest.objects.get()
    assert funding.status == "incomplete"
    assert "Attention : votre demande est incomplète." in page_text(vendor_client.get(done.url))
    assert mailoutbox[0].subject == "Demande de financement FIN0001 déposée — incomplète"

    home = vendor_client.get("/espace/")
    assert "Attention : des demandes de financement n'ont pas été complétées." in page_text(home)
    assert link_hrefs(home, "Suivi demandes incomplètes") == ["/espace/demande-de-financement/incompletes/"]

    # A zip missing one piece is refused: the request stays incomplete, nothing else is lost.
    incomplete = reverse("funding:incomplete")
    partial = files.make_zip(files.example_members()[1:]).getvalue()
    with django_capture_on_commit_callbacks(execute=True):
        refused = vendor_client.post(
            incomplete, {"demande": funding.pk, f"demande-{funding.pk}-fichier_zip": zip_upload(partial)}
        )
    text = page_text(check_page(vendor_client, refused))
    assert "La pièce « BC-2026-001.pdf » citée par la ligne 0 est absente du zip." in text
    assert "Envoyer les pièces" not in text

    with django_capture_on_commit_callbacks(execute=True):
        sent = vendor_client.post(
            incomplete, {"demande": funding.pk, f"demande-{funding.pk}-fichier_zip": zip_upload()}
        )
    page = check_page(vendor_client, sent)
    assert "Fichier conforme : 3 bénéficiaires" in page_text(page)
    with django_capture_on_commit_callbacks(execute=True):
        completed = vendor_client.post(sent.url + "envoyer-les-pieces/")
    assert completed.url == HOME
    funding.refresh_from_db()
    assert funding.status == "submitted"
    assert funding.current_version.documents.count() == 4
    assert "n'ont pas été complétées" not in page_text(vendor_client.get("/espace/"))
    assert [change.to_status for change in funding.status_changes.all()] == ["incomplete", "submitted"]


def test_a_refused_zip_files_an_incomplete_request_with_the_json_kept(
    vendor_client, window, django_capture_on_commit_callbacks
):
    response = post_files(
        vendor_client,
        django_capture_on_commit_callbacks,
        reverse("funding:file"),
        fichier_json=json_upload(),
        fichier_zip=zip_upload(b"PK\x03\x04 pas vraiment un zip"),
    )
    text = page_text(check_page(vendor_client, response))
    assert "Le fichier envoyé n'est pas un fichier zip lisible." in text
    assert "Le fichier zip est refusé : vous pouvez poursuivre" in text
    finish(vendor_client, django_capture_on_commit_callbacks, response.url)
    funding = FundingRequest.objects.get()
    assert funding.status == "incomplete" and funding.current_version.zip_state == "refused"
    assert funding.lines.count() == 3


def test_one_open_request_per_vendor(vendor_client, window, django_capture_on_commit_callbacks):
    first = post_files(
        vendor_client,
        django_capture_on_commit_callbacks,
        reverse("funding:file"),
        fichier_json=json_upload(),
        fichier_zip=zip_upload(),
    )
    second = post_files(
        vendor_client,
        django_capture_on_commit_callbacks,
        reverse("funding:simulator"),
        fichier_json=json_upload(),
    )
    del second
    # A second filing check started before the first « Terminer » (another tab).
    from funding import services

    other = services.start_check(
        purpose=FundingCheck.Purpose.FILING,
        json_upload=json_upload(),
        zip_upload=zip_upload(),
        account=FundingCheck.objects.get(pk=first.url.split("/")[-2]).account,
    )
    services.run_check(check_id=other.pk)
    finish(vendor_client, django_capture_on_commit_callbacks, first.url)
    assert vendor_client.get(reverse("funding:file")).url == HOME
    refused = finish(vendor_client, django_capture_on_commit_callbacks, f"{HOME}controle/{other.pk}/")
    assert refused.status_code == 200
    assert "Vous avez déjà une demande de financement : un fournisseur SAS ne peut faire qu'une seule" in page_text(
        refused
    )
    assert FundingRequest.objects.count() == 1


def test_the_window_must_be_open_to_file_but_the_simulator_stays_open(
    vendor_client, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from tests.funding.factories import open_window

    opens = timezone.now() + timedelta(days=10)
    open_window(opens_at=opens, closes_at=opens + timedelta(days=30))
    text = page_text(vendor_client.get(HOME))
    expected = f"Le prochain ouvre le {timezone.localtime(opens):%d/%m/%Y} à {timezone.localtime(opens):%H:%M}"
    assert expected in text
    assert "Déposer ma demande de financement" in text  # the heading, without the button
    assert link_hrefs(vendor_client.get(HOME), "Déposer ma demande de financement") == []

    response = post_files(
        vendor_client, django_capture_on_commit_callbacks, reverse("funding:file"), fichier_json=json_upload()
    )
    text = page_text(check_page(vendor_client, response))
    assert "Le guichet de dépôt des demandes de financement est fermé." in text
    assert "Continuer vers le récapitulatif" not in text

    simulated = post_files(
        vendor_client, django_capture_on_commit_callbacks, reverse("funding:simulator"), fichier_json=json_upload()
    )
    text = page_text(check_page(vendor_client, simulated))
    assert "Fichier conforme : 3 bénéficiaires" in text
    assert re.search(r"avertissement .*guichet_ferme", text) or "guichet_ferme" in text


def test_the_private_simulator_checks_the_vendor_and_keeps_nothing(
    vendor_client, window, django_capture_on_commit_callbacks, _isolated_storage
):
    document = files.example()
    document["fournisseur"]["numero_enrolement"] = "ENR0002M0"
    response = post_files(
        vendor_client,
        django_capture_on_commit_callbacks,
        reverse("funding:simulator"),
        fichier_json=json_upload(files.json_bytes(document)),
        fichier_zip=zip_upload(),
    )
    text = page_text(check_page(vendor_client, response))
    assert "Le numéro d'enrôlement « ENR0002M0 » n'est pas celui de votre enrôlement validé (ENR0001M0)." in text
    assert not [path for path in _isolated_storage.rglob("*") if path.is_file()]
    assert not FundingRequest.objects.exists()


def test_the_filing_pages_need_a_validated_enrolment(not_validated_client):
    text = page_text(not_validated_client.get(HOME))
    assert "Votre enrôlement n'est pas encore validé" in text
    assert not_validated_client.get(reverse("funding:file")).url == HOME
    assert not_validated_client.get(reverse("funding:simulator")).url == HOME


def test_another_vendors_check_is_not_found(vendor_client, window, django_capture_on_commit_callbacks, client):
    from tests.funding.factories import validated_vendor

    response = post_files(
        vendor_client, django_capture_on_commit_callbacks, reverse("funding:file"), fichier_json=json_upload()
    )
    other = validated_vendor(
        username="autre.fournisseur", number="ENR0002M0", siret="39431067600017", referencing="tndSAS0032"
    )
    vendor_client.force_login(other.account)
    assert vendor_client.get(response.url).status_code == 404
    assert vendor_client.get(response.url + "recapitulatif/").status_code == 404


def test_a_refused_json_keeps_the_accepted_pieces_for_the_corrected_one(
    vendor_client, window, django_capture_on_commit_callbacks
):
    """Nothing already sent is lost when one file is refused: only the corrected JSON is sent."""
    document = files.example()
    document["demande"]["montant_ttc"] = "2580.01"
    response = post_files(
        vendor_client,
        django_capture_on_commit_callbacks,
        reverse("funding:file"),
        fichier_json=json_upload(files.json_bytes(document)),
        fichier_zip=zip_upload(),
    )
    page = check_page(vendor_client, response)
    text = page_text(page)
    assert "Le montant TTC (2580.01 €) devrait être 2580.00 €" in text
    assert "Les 4 pièces de pieces.zip sont acceptées et gardées : envoyez seulement le fichier json corrigé." in text
    (again_url,) = link_hrefs(page, "Envoyer le fichier json corrigé")
    form = page_text(vendor_client.get(again_url))
    assert "Les 4 pièces de pieces.zip sont gardées" in form

    reprise = again_url.split("reprise=")[1]
    with django_capture_on_commit_callbacks(execute=True):
        corrected = vendor_client.post(reverse("funding:file"), {"reprise": reprise, "fichier_json": json_upload()})
    assert "Fichier conforme : 3 bénéficiaires" in page_text(check_page(vendor_client, corrected))
    recap = page_text(vendor_client.get(corrected.url + "recapitulatif/"))
    assert "Fichier zip pieces.zip (4 pièces acceptées)" in recap
    finish(vendor_client, django_capture_on_commit_callbacks, corrected.url)
    funding = FundingRequest.objects.get()
    assert funding.status == "submitted" and funding.documents.count() == 4
    for document in funding.documents.all():
        assert document.file.storage.exists(document.file.name)


def test_the_funding_page_names_the_vendors_own_enrolment_never_another_one(vendor_client, enrolment, window):
    # R-PRIV-3: another vendor's validated enrolment, decided later, is not this vendor's.
    EnrolmentRequest.objects.filter(pk=enrolment.pk).update(decided_at=timezone.now() - timedelta(hours=1))
    validated_vendor(username="autre.fournisseur", number="ENR0002M0", siret="39431067600017", referencing="tndSAS0032")

    text = page_text(vendor_client.get(HOME))
    assert "au titre de votre enrôlement ENR0001M0" in text
    assert "ENR0002M0" not in text


def test_a_vendor_without_a_validated_enrolment_cannot_file_under_another_ones(not_validated_client, enrolment):
    text = page_text(not_validated_client.get(HOME))
    assert "Votre enrôlement n'est pas encore validé" in text
    assert enrolment.number not in text
