import html
import re

import pytest
from django.db import OperationalError
from django.template.loader import render_to_string
from django.test import Client

from public import urls as public_urls
from public import views


def page_text(content: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


@pytest.mark.django_db
def test_unknown_page_gets_the_french_404(client):
    response = client.get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    text = page_text(response.content.decode())
    assert "Page non trouvée" in text
    assert "La page que vous cherchez est introuvable." in text
    assert "Portail SEGUR Numérique" in text
    assert 'href="/"' in response.content.decode()


def test_503_template_renders_without_request_nor_database():
    # No django_db mark: any query would fail the test.
    content = render_to_string("503.html")

    text = page_text(content)
    assert "Service momentanément indisponible" in text
    assert "Vos informations déjà saisies sont conservées. Veuillez réessayer dans quelques minutes." in text
    assert '<html lang="fr">' in content
    assert 'href="/static/dsfr/dist/dsfr/dsfr.min.css"' in content
    assert " style=" not in content and "<script" not in content


def test_500_view_renders_without_request_context_nor_database(rf):
    response = views.server_error(rf.get("/"))

    assert response.status_code == 500
    text = page_text(response.content.decode())
    assert "Erreur inattendue" in text
    assert "Portail SEGUR Numérique" in text


@pytest.mark.django_db
def test_unhandled_error_shows_the_french_500(monkeypatch):
    def boom(request):
        raise RuntimeError("boom")

    pattern = next(p for p in public_urls.urlpatterns if p.name == "home")
    monkeypatch.setattr(pattern, "callback", boom)
    client = Client(raise_request_exception=False)

    response = client.get("/")

    assert response.status_code == 500
    assert "Erreur inattendue" in page_text(response.content.decode())


@pytest.mark.django_db
def test_database_down_shows_the_503_page(monkeypatch):
    def db_down(request):
        raise OperationalError("connection refused")

    pattern = next(p for p in public_urls.urlpatterns if p.name == "faq")
    monkeypatch.setattr(pattern, "callback", db_down)
    client = Client(raise_request_exception=False)

    response = client.get("/aide/questions-frequentes/")

    assert response.status_code == 503
    assert "Service momentanément indisponible" in page_text(response.content.decode())


@pytest.mark.django_db
def test_a_form_refused_by_the_csrf_check_gets_the_french_403_in_the_portal_shell():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/connexion/identifiant-oublie/", {"email": "marie@editeur.fr"})

    assert response.status_code == 403
    content = response.content.decode()
    text = page_text(content)
    assert "Accès refusé" in text and "Erreur 403" in text
    assert "sa session de sécurité a expiré" in text
    assert "CSRF" not in text and "Forbidden" not in text
    assert "<main" in content and 'role="banner"' in content and 'role="contentinfo"' in content
    assert 'href="/"' in content


@pytest.mark.django_db
def test_a_page_refused_to_a_signed_in_person_gets_the_french_403(client):
    from tests.factories import support_user

    client.force_login(support_user())
    response = client.get("/admin/enrolment/enrolmentrequest/")

    assert response.status_code == 403
    text = page_text(response.content.decode())
    assert "Accès refusé" in text
    assert "Vous n'avez pas le droit d'accéder à cette page." in text
