"""The vendor's private portal in a browser, at desktop and phone widths (R-PRIV-1..3)."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, MOBILE, assert_accessible
from tests.factories import EnrolmentRequestFactory, NewsFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PORTAL_PAGES = [
    "/espace/",
    "/espace/enrolement/",
    "/espace/demande-de-financement/",
    "/espace/mon-compte/",
    "/espace/aide/",
]


def sign_in(page, live_server_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server_url,
            }
        ]
    )


@pytest.fixture
def vendor_page(page, live_server):
    vendor = UserFactory(username="eishiro.oda", first_name="Eishiro", last_name="Oda")
    EnrolmentRequestFactory(account=vendor)
    NewsFactory(title="TEST SAS", body="Le portail évolue. " * 20)
    sign_in(page, live_server.url, vendor)
    return page


@pytest.mark.parametrize("viewport_width", [DESKTOP, MOBILE])
def test_every_portal_page_is_accessible_at_both_widths(vendor_page, viewport_width):
    for url in PORTAL_PAGES:
        vendor_page.goto(url)
        expect(vendor_page.locator("h1")).to_be_visible()
        assert_accessible(vendor_page)
    vendor_page.goto("/espace/enrolement/")
    vendor_page.locator("tbody a").first.click()
    expect(vendor_page.locator("h1")).to_contain_text("Demande d'enrôlement ENR")
    assert_accessible(vendor_page)


def test_the_menu_leads_to_each_page(vendor_page):
    vendor_page.goto("/espace/")
    expect(vendor_page.get_by_role("link", name="Eishiro ODA Fournisseur SAS").first).to_be_visible()
    menu = vendor_page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name="Mon compte").click()
    expect(vendor_page.locator("h1")).to_have_text("Mon compte")
    expect(menu.get_by_role("link", name="Mon compte")).to_have_attribute("aria-current", "page")
    vendor_page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Accueil").click()
    vendor_page.get_by_role("link", name="Lire la suite de l'actualité « TEST SAS »").click()
    expect(vendor_page.locator("h1")).to_have_text("TEST SAS")
