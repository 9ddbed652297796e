"""After submission in a real browser (R-AFT-3..5): the deposit receipt downloaded from the
confirmation page, the page reopened later, and « Suivre ma demande » — each page checked by axe."""

import re

import pytest
from captcha.models import CaptchaStore
from playwright.sync_api import Page, expect

from enrolment.models import EnrolmentRequest
from enrolment.services import reject_enrolment
from tests.browser.helpers import (
    DESKTOP,
    GUIDE_SIRET,
    MOBILE,
    assert_accessible,
    assert_field_error,
    field,
    guide_enrolment,
    open_page,
)
from tests.enrolment.wizard import load_registries
from tests.factories import EnrolmentRequestFactory, agent
from tests.tracking.pdf import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_captcha(page: Page) -> None:
    key = page.locator('input[name="captcha_0"]').get_attribute("value")
    field(page, "Code captcha").fill(CaptchaStore.objects.get(hashkey=key).response)


def press_search(page: Page) -> None:
    page.get_by_role("button", name="Afficher l'état de ma demande", exact=True).last.click()


def test_the_receipt_is_downloaded_from_the_confirmation_page_and_the_page_can_be_reopened(
    page, browser, live_server, tmp_path
):
    load_registries()
    number = guide_enrolment(page)
    enrolment = EnrolmentRequest.objects.get(number=number)
    confirmation_url = page.url
    assert re.fullmatch(rf"{re.escape(live_server.url)}/enrolement/demande-enregistree/{number}\.[\w-]+/", page.url)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Télécharger l'accusé de dépôt")).click()
    download = download_info.value
    assert download.suggested_filename == f"accuse-de-depot-{number}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = pdf_text(saved.read_bytes())
    assert f"Demande d'enrôlement {number}" in text
    assert re.search(r"Numéro de SIRET\s+47992882200069", text)
    for document in enrolment.documents.all():
        assert f"SHA-256 : {document.sha256}" in text

    # The bookmark, opened later in another browser: the sentence, then « Suivre ma demande ».
    later = open_page(browser, live_server.url)
    try:
        later.goto(confirmation_url)
        expect(later.get_by_role("status")).to_contain_text(f"Le numéro de votre demande est le {number}.")
        expect(later.get_by_role("link", name=re.compile("^Télécharger l'accusé de dépôt"))).to_have_count(0)
        assert_accessible(later)
        later.get_by_role("link", name="Suivre ma demande", exact=True).click()
        expect(later).to_have_url(re.compile(r"/suivre-ma-demande/\?numero="))
        expect(field(later, "Numéro de demande")).to_have_value(number)
        field(later, "Numéro de SIRET").fill(GUIDE_SIRET)
        fill_captcha(later)
        press_search(later)
        expect(later.get_by_role("status")).to_have_text(re.compile(rf"Demande {number} : Soumise"))
        assert_accessible(later)
    finally:
        later.context.close()


@pytest.mark.parametrize("viewport_width", [DESKTOP, MOBILE])
def test_the_status_check_from_the_home_page(page, live_server):
    enrolment = EnrolmentRequestFactory(number="ENR0011M0", sequence=11, siret=GUIDE_SIRET)
    reject_enrolment(enrolment=enrolment, by=agent(), reason="Le RIB ne correspond pas au titulaire déclaré.")

    page.goto("/")
    page.get_by_role("link", name="Suivre ma demande").click()
    expect(page).to_have_title(re.compile("^Suivre ma demande"))
    assert_accessible(page)

    # A wrong number format: the message at the field, what was typed kept.
    field(page, "Numéro de demande").fill("0011")
    field(page, "Numéro de SIRET").fill(GUIDE_SIRET)
    fill_captcha(page)
    field(page, "Code captcha").press("Enter")  # Enter looks the request up, it does not change the code
    assert_field_error(page, "id_number", "Le numéro de demande doit être de la forme ENR0011M0")
    expect(field(page, "Numéro de SIRET")).to_have_value(GUIDE_SIRET)
    assert_accessible(page)

    # A pair that matches nothing.
    field(page, "Numéro de demande").fill("ENR0011M0")
    field(page, "Numéro de SIRET").fill("39431067600017")
    fill_captcha(page)
    press_search(page)
    expect(page.get_by_role("status")).to_have_text(
        re.compile("Aucune demande ne correspond à ce numéro de demande et à ce numéro de SIRET.")
    )
    assert_accessible(page)

    # The right pair: the status, the reason, what to do next; no name.
    field(page, "Numéro de SIRET").fill(GUIDE_SIRET)
    fill_captcha(page)
    press_search(page)
    expect(page.get_by_role("status")).to_have_text(re.compile("Demande ENR0011M0 : Rejetée"))
    answer = page.locator(".segurnum-status-answer")
    expect(answer).to_contain_text("Le RIB ne correspond pas au titulaire déclaré.")
    expect(answer.get_by_role("link", name="Effectuer ma demande d'enrôlement")).to_be_visible()
    expect(answer).not_to_contain_text("Eishiro")
    assert_accessible(page)
