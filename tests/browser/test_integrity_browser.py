"""Two tabs of one vendor in Chromium (SECURITY W1): tab A shows the summary, tab B changes the IBAN,
tab A clicks « Terminer ». Nothing is stored that A's vendor did not see: the fresh summary comes
back with a French message, and it is that one which gets certified."""

import re

import pytest
from playwright.sync_api import expect
from schwifty import IBAN

from enrolment.models import EnrolmentRequest
from tests.browser.helpers import (
    GUIDE_IBAN,
    GUIDE_RECAP,
    assert_accessible,
    assert_step,
    bank_step,
    captcha,
    choose,
    confirm,
    field,
    legal_representative_step,
    mails,
    next_step,
    press,
    referencing_step,
    start,
    vat_step,
)
from tests.enrolment.wizard import load_registries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OTHER_IBAN = str(IBAN.generate("FR", bank_code="30056", branch_code="00927", account_code="98765432100"))


def test_terminer_in_a_stale_tab_shows_the_fresh_summary(page, live_server, mailoutbox):
    load_registries()
    tab_a = page
    start(tab_a)
    referencing_step(tab_a)
    legal_representative_step(tab_a)
    bank_step(tab_a)
    vat_step(tab_a)
    assert_step(tab_a, 5, "Confirmation")
    expect(tab_a.locator(".segurnum-recap").get_by_text(GUIDE_IBAN, exact=True)).to_have_count(1)

    # Tab B, same session: back to the bank step, another IBAN, on to the next step.
    tab_b = tab_a.context.new_page()
    tab_b.goto("/enrolement/demande/bank/")
    assert_step(tab_b, 3, "Coordonnées bancaires")
    field(tab_b, "IBAN").fill(OTHER_IBAN)
    next_step(tab_b)
    assert_step(tab_b, 4, "Taux TVA")

    # Tab A, still showing the old summary, certifies it and clicks « Terminer ».
    field(tab_a, "Captcha").fill(captcha(tab_a, "confirmation"))
    for name in ("accept_terms", "accept_penal_code", "accept_sincerity"):
        choose(tab_a, f"id_confirmation-{name}")
    press(tab_a, "Terminer")

    assert_step(tab_a, 5, "Confirmation")
    expect(tab_a.locator("#error-summary")).to_contain_text(
        "Les informations de votre demande ont été modifiées depuis l'affichage de ce récapitulatif"
    )
    recap = tab_a.locator(".segurnum-recap")
    expect(recap.get_by_text(OTHER_IBAN, exact=True)).to_have_count(1)
    expect(recap.get_by_text(GUIDE_IBAN, exact=True)).to_have_count(0)
    assert_accessible(tab_a)
    assert EnrolmentRequest.objects.count() == 0

    # Certified again, on what it now shows.
    expected = tuple(OTHER_IBAN if value == GUIDE_IBAN else value for value in GUIDE_RECAP)
    for name in ("accept_terms", "accept_penal_code", "accept_sincerity"):
        expect(tab_a.locator(f"#id_confirmation-{name}")).not_to_be_checked()  # certify anew
    number = confirm(tab_a, expected)
    assert re.fullmatch(r"ENR\d{4,}M0", number)
    assert EnrolmentRequest.objects.get().iban == OTHER_IBAN
    assert len(mails(mailoutbox, 1)) == 1
