"""The recovery of a forgotten password and the private space, walked twice (RGAA 7.3, 12.8,
12.13; issue of the audit): with the keyboard only (Tab, Shift+Tab, Enter, Space and typing, no
click and no .fill()), and without JavaScript on a phone-sized screen, where the header's « Menu »
button cannot open anything and its links must be there all the same."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts import services
from tests.browser.helpers import MOBILE, assert_accessible, field, open_page
from tests.browser.test_keyboard_browser import activate, tab_to, type_into
from tests.browser.test_recovery_browser import mailed, reset_link
from tests.factories import EnrolmentRequestFactory, NewsFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Nouveau;Mot2passe"


@pytest.fixture(autouse=True)
def _links_to_the_live_server(settings, live_server):
    settings.SITE_URL = live_server.url


@pytest.fixture
def vendor(db):
    user = UserFactory(username="marie.curie", first_name="Marie", last_name="Curie", email="marie@editeur.fr")
    services.set_secret_question(user=user, question="Nom de ma première école ?", answer="Jules Ferry")
    EnrolmentRequestFactory(account=user, number="ENR0042M0", sequence=42)
    NewsFactory(title="TEST SAS")
    return user


def type_in(page: Page, text: str, value: str) -> None:
    """Type into the field labelled ``text``: Tab to it, unless the page put the focus there."""
    if field(page, text).evaluate("element => element === document.activeElement"):
        page.keyboard.type(value)
    else:
        type_into(page, text, value)


def press_enter_in(page: Page, text: str, value: str) -> None:
    """Type into the field labelled ``text``, then Enter submits its form."""
    type_in(page, text, value)
    page.keyboard.press("Enter")


def follow(page: Page, target) -> None:
    tab_to(page, target)
    page.keyboard.press("Enter")


def test_recovery_and_private_space_with_the_keyboard_only(page, vendor, mailoutbox):
    page.goto("/")
    follow(page, page.get_by_role("banner").get_by_role("link", name="Se connecter"))
    expect(page.get_by_role("heading", name="Accéder à mon espace personnel")).to_be_visible()
    activate(page, "J'ai oublié mon mot de passe", role="link")
    # An empty identifiant first: the summary takes the focus and its link leads to the field.
    activate(page, "Valider")
    expect(page.locator("#error-summary")).to_be_focused()
    assert_accessible(page)
    tab_to(page, page.locator('#error-summary a[href="#id_identifiant"]'))
    page.keyboard.press("Enter")
    expect(field(page, "Votre identifiant")).to_be_focused()
    page.keyboard.type("marie.curie")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Demande envoyée")).to_be_visible()

    page.goto(reset_link(mailed(mailoutbox, "Réinitialisation")))  # the link opened from the mail
    expect(page.get_by_role("heading", name="Réinitialisation du mot de passe pour marie.curie")).to_be_visible()
    press_enter_in(page, "Entrez la réponse", "Jules Ferry")
    expect(page.get_by_role("heading", name="Nouveau mot de passe pour marie.curie")).to_be_visible()
    # The rules box describes the field a keyboard (and screen reader) user lands on.
    expect(field(page, "Entrez le nouveau mot de passe")).to_have_accessible_description(
        re.compile("^Le mot de passe doit être différent de l'identifiant")
    )
    type_in(page, "Entrez le nouveau mot de passe", NEW_PASSWORD)
    press_enter_in(page, "Confirmez le nouveau mot de passe", NEW_PASSWORD)
    expect(page.get_by_text("Votre mot de passe a été modifié.")).to_be_visible()

    type_in(page, "Votre identifiant", "marie.curie")
    press_enter_in(page, "Votre mot de passe", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Accueil fournisseur SAS")).to_be_visible()
    assert_accessible(page)

    # The skip link « Menu » leads to the menu; the menu to each page of the space.
    follow(page, page.get_by_role("link", name="Menu", exact=True))
    menu = page.get_by_role("navigation", name="Menu principal")
    follow(page, menu.get_by_role("link", name="Enrôlement"))
    expect(page.get_by_role("heading", name="Suivi des demandes d'enrôlement")).to_be_visible()
    activate(page, "ENR0042M0", role="link")
    expect(page.get_by_role("heading", name=re.compile("Demande d'enrôlement ENR0042M0"))).to_be_visible()
    assert_accessible(page)
    follow(page, menu.get_by_role("link", name="Accueil"))
    activate(page, "Lire la suite de l'actualité « TEST SAS »", role="link")
    expect(page.get_by_role("heading", name="TEST SAS")).to_be_visible()
    activate(page, "Se déconnecter")
    expect(page.get_by_role("banner").get_by_role("link", name="Se connecter")).to_be_visible()


def test_recovery_and_private_space_without_javascript_on_a_phone(browser, live_server, vendor, mailoutbox):
    page = open_page(browser, live_server.url, width=MOBILE, javascript=False)
    page.goto("/")
    # Without the design system's script, « Menu » could not open: the header's links are shown.
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    page.get_by_role("link", name="Se connecter").first.click()
    expect(page.get_by_role("navigation", name="vous êtes ici :").get_by_role("link", name="Accueil")).to_be_visible()
    page.get_by_role("link", name="J'ai oublié mon mot de passe").click()
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("#id_identifiant-error")).to_contain_text("Saisissez")
    assert_accessible(page)
    field(page, "Votre identifiant").fill("marie.curie")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Demande envoyée")).to_be_visible()

    page.goto(reset_link(mailed(mailoutbox, "Réinitialisation")))
    field(page, "Entrez la réponse").fill("Victor Hugo")
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("#id_answer-error")).to_contain_text("La réponse ne correspond pas")
    field(page, "Entrez la réponse").fill("Jules Ferry")
    page.get_by_role("button", name="Valider").click()
    field(page, "Entrez le nouveau mot de passe").fill(NEW_PASSWORD)
    field(page, "Confirmez le nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Changement du mot de passe").click()
    field(page, "Votre identifiant").fill("marie.curie")
    field(page, "Votre mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Accueil fournisseur SAS")).to_be_visible()
    assert_accessible(page)

    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu).to_be_visible()
    menu.get_by_role("link", name="Enrôlement").click()
    page.get_by_role("link", name="ENR0042M0").click()
    expect(page.get_by_role("heading", name=re.compile("Demande d'enrôlement ENR0042M0"))).to_be_visible()
    expect(page.get_by_role("link", name="Suivi des demandes d'enrôlement")).to_be_visible()  # the breadcrumb
    assert_accessible(page)
    page.get_by_role("link", name="Marie CURIE Fournisseur SAS").click()
    expect(page.get_by_role("heading", name="Mon compte")).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("link", name="Se connecter").first).to_be_visible()
    page.context.close()


def test_after_the_content_skip_link_an_error_still_takes_the_focus_to_its_summary(page):
    """The « Contenu » skip link adds #content to the address; the form posts to its own address
    without it, so that the page of errors focuses its summary, not <main> (RGAA 11.10)."""
    page.goto("/connexion/identifiant-oublie/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Contenu")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#content$"))
    press_enter_in(page, "Votre adresse électronique", "pas une adresse")
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page).to_have_url(re.compile("/connexion/identifiant-oublie/$"))
