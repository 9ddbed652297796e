"""The portal speaks French to every browser (one language: LANGUAGE_CODE, no choosing)."""

import pytest

pytestmark = pytest.mark.django_db

ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def test_a_browser_asking_for_english_gets_the_portal_and_django_messages_in_french(client):
    home = client.get("/", **ENGLISH_BROWSER)
    assert home.status_code == 200 and '<html lang="fr"' in home.content.decode()
    # Django's own words come from its French catalogue: the admin's login form, its errors.
    login = client.post("/admin/login/", {"username": "", "password": ""}, **ENGLISH_BROWSER)
    page = login.content.decode()
    assert "Ce champ est obligatoire." in page and "This field is required." not in page
    assert "Mot de passe" in page


def test_pages_do_not_vary_on_the_language_the_browser_asks(client):
    """One language: a cache in front keeps one copy of a page, not one per Accept-Language."""
    response = client.get("/", **ENGLISH_BROWSER)
    assert "accept-language" not in response.get("Vary", "").lower()
