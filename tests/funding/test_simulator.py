"""« Simuler mon fichier json », public (R-FIN-3): no account, the report page, its CSV, the JSON
twin documented on the page, a limit per address, nothing kept; and the published format
(R-FIN-1): its documentation page and its downloads."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from funding import format as funding_format
from funding.models import FundingCheck
from tests.funding import files
from tests.portal.pages import link_hrefs, page_text

pytestmark = pytest.mark.django_db

SIMULATOR = "/simuler-fichier-json/"


def upload(content: bytes, name: str = "demande.json", kind: str = "application/json"):
    return SimpleUploadedFile(name, content, content_type=kind)


def simulate(client, capture, json_content: bytes | None = None, zip_content: bytes | None = None):
    data = {"fichier_json": upload(json_content or funding_format.example_bytes())}
    if zip_content is not None:
        data["fichier_zip"] = upload(zip_content, "pieces.zip", "application/zip")
    with capture(execute=True):
        response = client.post(SIMULATOR, data)
    assert response.status_code == 302, page_text(response)
    return response.url


def test_the_example_with_its_zip_is_conforming(client, django_capture_on_commit_callbacks, _isolated_storage):
    report_url = simulate(client, django_capture_on_commit_callbacks, zip_content=funding_format.example_zip_bytes())
    page = client.get(report_url)
    text = page_text(page)
    assert "Fichier conforme : 3 bénéficiaires, montant total 2 150,00 € HT, 2 580,00 € TTC." in text
    assert "Vos fichiers ne sont pas conservés" in text
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]
    # Nothing kept: no file in the private storage, only the report (purged after an hour).
    assert not [path for path in _isolated_storage.rglob("*") if path.is_file()]
    check = FundingCheck.objects.get()
    assert (check.json_file, check.zip_file, check.pieces, check.account) == ("", "", {}, None)


def test_anomalies_are_listed_and_downloaded_as_csv(client, django_capture_on_commit_callbacks):
    document = files.example()
    document["beneficiaires"][0]["date_raccordement"] = "31/02/2024"
    report_url = simulate(client, django_capture_on_commit_callbacks, files.json_bytes(document))
    page = client.get(report_url)
    text = page_text(page)
    assert "Fichier non conforme : 1 anomalie bloquante." in text
    assert "beneficiaires[0].date_raccordement" in text
    assert "La date « 31/02/2024 » n'existe pas ou n'est pas écrite AAAA-MM-JJ." in text
    assert "Aucun fichier zip n'a été joint" in text  # the zip is optional: a warning
    (csv_url,) = link_hrefs(page, "Télécharger le rapport (CSV)")
    response = client.get(csv_url)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Résumé", "Fichier non conforme : 1 anomalie bloquante."]
    assert rows[1] == ["Sévérité", "Code", "Emplacement", "Ligne", "Colonne", "Message"]
    assert rows[2][:3] == ["bloquante", "date_invalide", "beneficiaires[0].date_raccordement"]
    assert rows[3][:2] == ["avertissement", "zip_absent"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("latin1", "Le fichier json n'est pas encodé en UTF-8 (octet illisible ligne 19, colonne 16)"),
        ("truncated", "Le fichier json est mal formé ligne"),
        ("huge", "Le fichier json dépasse la taille maximum de 10 Mo"),
        ("float", "Le montant « montant_ht » est écrit comme un nombre (650.5)"),
    ],
)
def test_bad_files_get_a_french_anomaly_never_a_500(client, django_capture_on_commit_callbacks, content, expected):
    example = funding_format.example_bytes()
    raw = {
        "latin1": example.decode().replace("MARTIN", "MÉLANIE").encode("latin-1"),
        "truncated": example[: len(example) // 2],
        "huge": b"[" + b" " * (50 * 1024 * 1024) + b"]",
        "float": example.replace(b'"montant_ht": "650.00"', b'"montant_ht": 650.5'),
    }[content]
    text = page_text(client.get(simulate(client, django_capture_on_commit_callbacks, raw)))
    assert "Fichier non conforme" in text
    assert expected in text


def test_a_zip_bomb_and_a_file_that_is_not_a_zip_are_refused(client, django_capture_on_commit_callbacks):
    bomb = files.make_zip([*files.example_members(), ("bombe.pdf", b"%PDF-" + b"\0" * 3_000_000)]).getvalue()
    text = page_text(client.get(simulate(client, django_capture_on_commit_callbacks, zip_content=bomb)))
    assert "« bombe.pdf » est compressé plus de 100 fois : il est refusé (bombe de décompression)." in text
    text = page_text(client.get(simulate(client, django_capture_on_commit_callbacks, zip_content=b"Rar!\x1a\x07")))
    assert "Le fichier envoyé n'est pas un fichier zip lisible." in text


def test_the_json_file_is_required(client):
    response = client.post(SIMULATOR, {})
    assert response.status_code == 200
    assert "Joignez le fichier json de votre demande." in page_text(response)


def test_a_report_is_only_shown_to_the_browser_that_asked(client, django_capture_on_commit_callbacks):
    report_url = simulate(client, django_capture_on_commit_callbacks)
    assert Client().get(report_url).status_code == 404
    assert Client().get(report_url + "rapport.csv").status_code == 404


def test_the_simulator_is_limited_per_address(client, settings, django_capture_on_commit_callbacks):
    settings.FUNDING_SIMULATOR_RATE_LIMIT = 2
    from django.core.cache import cache

    cache.clear()
    simulate(client, django_capture_on_commit_callbacks)
    simulate(client, django_capture_on_commit_callbacks)
    response = client.post(SIMULATOR, {"fichier_json": upload(funding_format.example_bytes())})
    assert response.status_code == 429
    assert "Trop de fichiers contrôlés depuis votre connexion. Réessayez dans une heure." in page_text(response)
    api = client.post(reverse("funding:api_check"), {"json": upload(funding_format.example_bytes())})
    assert api.status_code == 429
    other = Client(REMOTE_ADDR="192.0.2.10")
    assert other.get(SIMULATOR).status_code == 200
    cache.clear()


def test_the_json_twin_answers_the_same_report(client):
    from django.core.cache import cache

    cache.clear()
    page = client.get(SIMULATOR)
    assert "curl -F json=@demande.json -F zip=@pieces.zip http://testserver/simuler-fichier-json/api/v1/controle" in (
        page_text(page)
    )
    response = client.post(
        reverse("funding:api_check"),
        {"json": upload(funding_format.example_bytes()), "zip": upload(funding_format.example_zip_bytes(), "p.zip")},
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    answer = json.loads(response.content)
    assert answer == {
        "format": "segurnum-financement-sas",
        "version": "1.0",
        "conforme": True,
        "resume": "Fichier conforme : 3 bénéficiaires, montant total 2\u202f150,00 € HT, 2\u202f580,00 € TTC.",
        "beneficiaires": 3,
        "montant_total_ht": "2150.00",
        "montant_total_ttc": "2580.00",
        "nombre_anomalies": 0,
        "anomalies": [],
    }
    broken = client.post(reverse("funding:api_check"), {"json": upload(b'{"format": ')})
    anomaly, warning = json.loads(broken.content)["anomalies"]
    assert warning["code"] == "zip_absent" and warning["severite"] == "avertissement"
    assert (anomaly["code"], anomaly["severite"], anomaly["ligne"], anomaly["colonne"]) == (
        "json_syntaxe",
        "bloquante",
        1,
        12,
    )
    assert client.post(reverse("funding:api_check"), {}).status_code == 400
    assert not FundingCheck.objects.exists()  # nothing kept
    cache.clear()


def test_the_format_documentation_page_is_drawn_from_the_schema(client):
    page = client.get(reverse("funding:format"))
    text = page_text(page)
    assert "Format segurnum-financement-sas 1.0" in text
    for row in funding_format.documentation():
        assert row.path in text
    assert "beneficiaires[].identifiant texte Oui" in text
    assert "piece_non_citee avertissement zip" in text
    assert "Zip : 500 Mo au plus, 2000 fichiers au plus" in text


@pytest.mark.parametrize(
    ("name", "filename", "kind"),
    [
        ("schema", "segurnum-financement-sas-1.0.schema.json", "application/schema+json"),
        ("blank_model", "modele-vierge-financement-sas-1.0.json", "application/json"),
        ("example", "exemple-financement-sas-1.0.json", "application/json"),
        ("example_zip", "exemple-pieces-financement-sas-1.0.zip", "application/zip"),
    ],
)
def test_the_format_files_download(client, name, filename, kind):
    response = client.get(reverse(f"funding:{name}"))
    assert response.status_code == 200 and response["Content-Type"] == kind
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    if kind != "application/zip":
        json.loads(response.content)
    assert link_hrefs(client.get(SIMULATOR), "Documentation technique du format") == [reverse("funding:format")]
