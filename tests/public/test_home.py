import html
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import constants
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.staticfiles import finders
from django.urls import reverse

from public import views

GUIDE_LABELS = [
    "Portail SEGUR Numérique",
    "Se connecter",
    "Vous n'avez pas de compte ?",
    "Effectuer ma demande d'enrôlement",
    "Besoin d'aide ?",
    "Consulter les questions fréquentes",
    "Contacter l'assistance",
    "Vous n'êtes pas encore référencé ?",
    "Simuler mon fichier json",
    "Qu'est-ce que le Ségur du numérique en santé ?",
    "Qu'est-ce que le financement à l'équipement numérique des acteurs de l'offre de soins ?",
    # The guide's full text of both sections (« Etape 12 »).
    "De mai à juillet 2020, le Ségur de la santé a réuni l'ensemble des acteurs du système de soin.",
    "un plan massif d'investissement de 6 milliards d'euros est lancé, dont deux milliards d'euros accordés "
    "pour soutenir le développement massif et cohérent du numérique en santé en France.",
    "Cet investissement historique vise à accélérer la modernisation, l'interopérabilité, la réversibilité, "
    "la convergence et la sécurité des systèmes d'information en santé.",
    "pour mieux prévenir et mieux soigner.",
    "site de l'Agence du numérique en santé",
    "présentation officielle",
    "l'Etat met en place un mécanisme d'achat pour compte au bénéfice des acteurs de l'offre de soins, "
    "sous la forme d'un système ouvert et non sélectif (SONS) de référencement et de financement "
    "d'éditeurs de solutions logicielles.",
    "Seules les solutions référencées par l'Agence du numérique en santé seront éligibles à ce financement.",
]


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(text).split())


def link_hrefs(response, label: str) -> list[str]:
    content = response.content.decode()
    hrefs = []
    for match in re.finditer(r'<a\b[^>]*href="([^"]*)"[^>]*>(.*?)</a>', content, re.S):
        if " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split()) == label:
            hrefs.append(html.unescape(match.group(1)))
    return hrefs


@pytest.fixture
def home(client):
    return client.get("/")


@pytest.mark.django_db
def test_home_shows_every_label_of_the_guide(home):
    assert home.status_code == 200
    text = page_text(home)
    for label in GUIDE_LABELS:
        assert label in text, label


@pytest.mark.django_db
def test_home_is_a_french_dsfr_page(home):
    content = home.content.decode()
    assert '<html lang="fr">' in content
    assert "<title>Accueil — Portail SEGUR Numérique</title>" in content
    assert "Agence de services et de paiement" in content
    assert 'class="fr-header"' in content and 'class="fr-footer"' in content
    for skip_link in ("Contenu", "Pied de page"):
        assert f">{skip_link}</a>" in content
    assert ">Menu</a>" not in content  # no menu on the public pages: no skip link to it (RGAA 12.7)
    assert '<main id="content" role="main"' in content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("label", "url"),
    [
        ("Se connecter", "/connexion/"),
        ("Effectuer ma demande d'enrôlement", "enrolment:start"),
        ("Consulter les questions fréquentes", "public:faq"),
        ("Contacter l'assistance", "public:contact"),
        ("Simuler mon fichier json", "public:json_simulator"),
        ("Accessibilité : non conforme", "public:accessibility"),
        ("Mentions légales", "public:legal"),
    ],
)
def test_home_links_lead_to_the_right_pages(home, label, url):
    expected = url if url.startswith("/") else reverse(url)
    hrefs = link_hrefs(home, label)
    assert hrefs, f"pas de lien « {label} »"
    assert set(hrefs) == {expected}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["faq", "contact", "json_simulator", "legal", "accessibility"])
def test_linked_public_pages_answer(client, name):
    assert client.get(reverse(f"public:{name}")).status_code == 200


@pytest.mark.django_db
def test_json_simulator_offers_the_form_and_the_format(client):
    text = page_text(client.get(reverse("public:json_simulator")))
    assert "Simuler mon fichier json" in text
    assert "Fichier json *" in text and "Contrôler mon fichier" in text
    assert "pas encore disponible" not in text


@pytest.mark.django_db
def test_styles_and_scripts_are_served_locally(home):
    content = home.content.decode()
    stylesheets = re.findall(r'<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"', content, re.S)
    assert stylesheets
    assert all(href.startswith("/static/") for href in stylesheets), stylesheets
    assert "/static/dsfr/dist/dsfr/dsfr.min.css" in stylesheets
    assert "/static/css/segurnum.css" in stylesheets
    scripts = re.findall(r'<script\b[^>]*src="([^"]+)"', content)
    assert scripts and all(src.startswith("/static/") for src in scripts), scripts


@pytest.mark.django_db
def test_no_inline_script_or_style_the_csp_would_block(home):
    content = home.content.decode()
    assert " style=" not in content
    assert "<style" not in content
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content)
    assert home["Content-Security-Policy"].startswith("default-src 'self'")


def test_linked_static_files_exist():
    assert finders.find("dsfr/dist/dsfr/dsfr.min.css")
    assert finders.find("css/segurnum.css")
    assert finders.find("js/error-summary.js")


@pytest.mark.django_db
def test_messages_are_shown_as_dsfr_alerts(rf):
    request = rf.get("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request._messages.add(constants.SUCCESS, "Votre mot de passe a été modifié.")
    request._messages.add(constants.ERROR, "Identifiant ou mot de passe incorrect.")
    request.user = AnonymousUser()
    content = views.home(request).content.decode()
    assert re.search(r'class="fr-alert fr-alert--sm fr-mb-2w fr-alert--success"[^>]*>\s*<p>Votre mot de passe', content)
    assert re.search(r'fr-alert--error" role="alert">\s*<p>Identifiant ou mot de passe incorrect', content)
