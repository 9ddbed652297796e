"""Every form a vendor reaches only from a mailed link, walked in Chromium (SECURITY A11).

The Django test client sends no ``Origin`` header, so it cannot see what a real browser does
with these pages: a page sent with ``Referrer-Policy: no-referrer`` makes Chromium post its form
with ``Origin: null``, which Django's CSRF check refuses. Here the vendor follows the mailed link
in Chromium, answers, chooses a password and signs in, as a person does.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import services
from tests.browser.helpers import assert_accessible, field, mailed
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Nouveau;Mot2passe"


@pytest.fixture(autouse=True)
def _links_to_the_live_server(settings, live_server):
    settings.SITE_URL = live_server.url


def reset_link(message) -> str:
    return re.search(r"http://\S+/connexion/reinitialisation/\S+/", message.body).group(0)


def ask_for(page: Page, link_name: str, label: str, value: str) -> None:
    """From the sign-in page, one of the two « J'ai oublié… » forms."""
    page.goto("/connexion/")
    page.get_by_role("link", name=link_name).click()
    expect(page.get_by_role("heading", name=link_name)).to_be_visible()
    assert_accessible(page)
    field(page, label).fill(value)
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Demande envoyée")).to_be_visible()
    assert_accessible(page)


def sign_in(page: Page, identifiant: str, password: str) -> None:
    field(page, "Votre identifiant").fill(identifiant)
    field(page, "Votre mot de passe").fill(password)
    page.get_by_role("button", name="Valider").click()


def choose_new_password(page: Page, identifiant: str) -> None:
    expect(page.get_by_role("heading", name=f"Nouveau mot de passe pour {identifiant}")).to_be_visible()
    assert_accessible(page)
    # A weak one first: the rule is named next to the field, then a good one.
    field(page, "Entrez le nouveau mot de passe").fill("court")
    field(page, "Confirmez le nouveau mot de passe").fill("court")
    page.get_by_role("button", name="Changement du mot de passe").click()
    expect(page.locator("#id_new_password1-error")).to_contain_text("au minimum 8 caractères")
    assert_accessible(page)
    field(page, "Entrez le nouveau mot de passe").fill(NEW_PASSWORD)
    field(page, "Confirmez le nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Changement du mot de passe").click()
    expect(page.get_by_text("Votre mot de passe a été modifié.")).to_be_visible()
    expect(page.get_by_role("heading", name="Accéder à mon espace personnel")).to_be_visible()


def test_forgotten_password_from_the_mailed_link_to_the_private_space(page, mailoutbox):
    vendor = UserFactory(username="marie.curie", first_name="Marie", last_name="Curie", email="marie@editeur.fr")
    services.set_secret_question(user=vendor, question="Nom de ma première école ?", answer="Jules Ferry")

    ask_for(page, "J'ai oublié mon mot de passe", "Votre identifiant", "marie.curie")
    page.goto(reset_link(mailed(mailoutbox, "Réinitialisation")))

    expect(page.get_by_role("heading", name="Réinitialisation du mot de passe pour marie.curie")).to_be_visible()
    assert "/question/" in page.url and page.url.count("/") == 7  # the token left the address bar
    expect(page.get_by_text("Votre question secrète : Nom de ma première école ?")).to_be_visible()
    assert_accessible(page)
    field(page, "Entrez la réponse").fill("Victor Hugo")
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("#id_answer-error")).to_contain_text("La réponse ne correspond pas")
    assert_accessible(page)
    field(page, "Entrez la réponse").fill("  JULES   férry ")
    page.get_by_role("button", name="Valider").click()

    choose_new_password(page, "marie.curie")
    sign_in(page, "marie.curie", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Accueil fournisseur SAS")).to_be_visible()
    assert_accessible(page)


def test_forgotten_identifiant_from_the_mail_to_the_private_space(page, mailoutbox):
    vendor = UserFactory(username="marie.curie", first_name="Marie", last_name="Curie", email="marie@editeur.fr")
    services.set_secret_question(user=vendor, question="Nom de ma première école ?", answer="Jules Ferry")

    ask_for(page, "J'ai oublié mon identifiant", "Votre adresse électronique", "Marie@Editeur.fr")
    identifiant = re.search(r"Votre identifiant : (\S+)", mailed(mailoutbox, "Votre identifiant").body).group(1)

    page.get_by_role("link", name="Se connecter").first.click()
    sign_in(page, identifiant, "Mot2passe!Solide")  # the factories' password
    expect(page.get_by_role("heading", name="Accueil fournisseur SAS")).to_be_visible()


def test_expired_temporary_password_recovered_from_the_link_then_first_connection(page, mailoutbox):
    """A vendor who let the 72-hour temporary password expire never set a secret question: the
    link leads straight to the new password, then the first connection asks for the question."""
    vendor = UserFactory(
        username="eishiro.oda", email="eishiro.oda@editeur.fr", must_change_password=True, secret_question=""
    )
    temporary = services.set_temporary_password(user=vendor)
    vendor.temporary_password_expires_at = timezone.now() - timedelta(minutes=1)
    vendor.save(update_fields=["temporary_password_expires_at"])

    page.goto("/connexion/")
    sign_in(page, "eishiro.oda", temporary)
    expect(page.get_by_text("Votre mot de passe provisoire a expiré")).to_be_visible()
    ask_for(page, "J'ai oublié mon mot de passe", "Votre identifiant", "eishiro.oda")
    page.goto(reset_link(mailed(mailoutbox, "Réinitialisation")))

    choose_new_password(page, "eishiro.oda")
    sign_in(page, "eishiro.oda", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Positionnement de la question secrète pour eishiro.oda")).to_be_visible()
    assert_accessible(page)
    field(page, "Entrez la question secrète").fill("Ville de naissance de ma grand-mère ?")
    field(page, "Entrez la réponse").fill("Quimper")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("heading", name="Accueil fournisseur SAS")).to_be_visible()


def test_a_refused_form_gets_the_french_403_page(page, live_server):
    """A form posted without its CSRF cookie (expired, blocked): a French page in the portal's
    shell, with its landmarks, and a way out."""
    page.goto("/connexion/identifiant-oublie/")
    page.context.clear_cookies()
    field(page, "Votre adresse électronique").fill("marie@editeur.fr")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
    expect(page.get_by_text("Erreur 403")).to_be_visible()
    expect(page).to_have_title(re.compile("^Accès refusé"))
    expect(page.get_by_role("main")).to_be_visible()
    expect(page.get_by_role("banner")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_be_visible()
    expect(page.get_by_role("link", name="Page d'accueil")).to_be_visible()
    assert_accessible(page)
