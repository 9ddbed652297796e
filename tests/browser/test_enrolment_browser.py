"""Scenario 1 of the guide in a real browser: home → five steps → ENR number (R-PUB-1, R-WIZ-1..8),
on a desktop and a phone screen, and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from enrolment.models import EnrolmentRequest
from tests.browser.helpers import DESKTOP, MOBILE, assert_accessible, guide_enrolment, mails
from tests.enrolment.wizard import load_registries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_enrolled(number: str, mailoutbox) -> None:
    assert re.fullmatch(r"ENR\d{4,}M0", number)
    assert EnrolmentRequest.objects.get().number == number
    assert len(mails(mailoutbox, 1)) == 1 and number in mailoutbox[0].subject
    assert mailoutbox[0].to == ["eishiro.oda@example.fr"]


@pytest.mark.parametrize("viewport_width", [DESKTOP, MOBILE])
def test_enrolment_with_the_guide_data(page, live_server, mailoutbox):
    load_registries()
    number = guide_enrolment(page)  # accessible and without horizontal scroll on every page
    assert_enrolled(number, mailoutbox)
    page.get_by_role("link", name="OK").click()
    expect(page).to_have_url(live_server.url + "/")
    assert_accessible(page)


def test_enrolment_without_javascript(page_without_javascript, live_server, mailoutbox):
    """Every step works as plain form submissions (axe needs scripts: only the layout is checked)."""
    load_registries()
    page = page_without_javascript
    number = guide_enrolment(page)
    assert_enrolled(number, mailoutbox)
    assert page.locator("html[data-fr-js]").count() == 0  # the design system's script never ran
