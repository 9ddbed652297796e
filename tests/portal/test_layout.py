"""The private portal's frame: who may enter, the header and the main menu (R-PRIV-1)."""

import html
import re

import pytest
from django.urls import reverse

from tests.factories import UserFactory, agent
from tests.portal.pages import link_hrefs, page_text

pytestmark = pytest.mark.django_db

MENU = [
    ("Accueil", "/espace/"),
    ("Enrôlement", "/espace/enrolement/"),
    ("Demande de financement", "/espace/demande-de-financement/"),
    ("Mon compte", "/espace/mon-compte/"),
    ("Besoin d'aide?", "/espace/aide/"),
]
PAGES = [url for _, url in MENU]


def test_url_names():
    assert [reverse(f"portal:{name}") for name in ("home", "enrolments", "funding", "account", "help")] == PAGES
    assert reverse("portal:news_detail", args=[7]) == "/espace/actualites/7/"
    assert reverse("portal:enrolment_detail", args=["ENR0011M0"]) == "/espace/enrolement/ENR0011M0/"


@pytest.mark.parametrize("url", PAGES)
def test_header_names_the_vendor_and_offers_a_logout_form(vendor_client, url):
    response = vendor_client.get(url)
    assert response.status_code == 200
    assert "Eishiro ODA Fournisseur SAS" in page_text(response)
    logout = re.search(r'<form method="post" action="/deconnexion/"[^>]*>(.*?)</form>', response.content.decode(), re.S)
    assert logout, "pas de formulaire « Se déconnecter »"
    assert 'name="csrfmiddlewaretoken"' in logout.group(1)
    assert re.search(r'<button type="submit"[^>]*>Se déconnecter</button>', logout.group(1))
    assert "Se connecter" not in page_text(response)


@pytest.mark.parametrize(("current", "url"), MENU)
def test_main_menu_has_the_five_entries_and_marks_the_current_one(vendor_client, current, url):
    content = vendor_client.get(url).content.decode()
    nav = re.search(r'<nav class="fr-nav"[^>]*aria-label="Menu principal"[^>]*>(.*?)</nav>', content, re.S)
    assert nav, "pas de navigation principale"
    entries = re.findall(r'<a class="fr-nav__link" href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav.group(1))
    assert [(html.unescape(label), href) for href, _, label in entries] == MENU
    assert [html.unescape(label) for _, marked, label in entries if marked] == [current]


@pytest.mark.parametrize("url", [*PAGES, "/espace/enrolement/ENR0011M0/", "/espace/actualites/1/"])
def test_anonymous_visitor_is_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/connexion/?next={url}"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", PAGES)
def test_staff_is_sent_to_the_back_office(client, url):
    client.force_login(agent())
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize("url", [*PAGES, "/espace/enrolement/ENR9999M0/"])
def test_no_page_of_the_portal_is_cached(vendor_client, url):
    response = vendor_client.get(url)
    assert response.status_code in (200, 404)
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", PAGES)
def test_portal_pages_keep_to_the_content_security_policy(vendor_client, url):
    content = vendor_client.get(url).content.decode()
    assert " style=" not in content and "<style" not in content
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content)


def test_pages_below_home_have_a_breadcrumb_back_to_the_portal(vendor_client):
    content = vendor_client.get("/espace/mon-compte/").content.decode()
    crumbs = re.search(r'<nav role="navigation" class="fr-breadcrumb[^>]*>(.*?)</nav>', content, re.S)
    assert crumbs
    assert re.search(r'<a class="fr-breadcrumb__link" href="/espace/">Accueil</a>', crumbs.group(1))
    assert re.search(r'<a class="fr-breadcrumb__link" aria-current="page">Mon compte</a>', crumbs.group(1))


def test_public_pages_offer_my_space_and_logout_to_a_signed_in_vendor(vendor_client):
    response = vendor_client.get("/")
    assert link_hrefs(response, "Mon espace") == ["/espace/"]
    assert '<form method="post" action="/deconnexion/"' in response.content.decode()
    # « Se connecter » stays in the home page's card, but no longer in the header.
    assert link_hrefs(response, "Se connecter") == ["/connexion/"]


def test_public_pages_send_staff_to_the_back_office(client):
    client.force_login(UserFactory(is_staff=True))
    assert link_hrefs(client.get("/aide/questions-frequentes/"), "Mon espace") == ["/admin/"]


def test_public_pages_offer_login_to_anonymous_visitors(client):
    response = client.get("/aide/questions-frequentes/")
    assert link_hrefs(response, "Se connecter") == ["/connexion/"]
    assert "Mon espace" not in page_text(response)
    assert "/deconnexion/" not in response.content.decode()
