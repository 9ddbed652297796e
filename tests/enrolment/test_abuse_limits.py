"""Abuse limits of the enrolment (SECURITY F14, A12): drafts per address and per wizard, requests
stored per address, the captcha's refresh and audio version. Each limit answers in French and
keeps what the vendor typed."""

import re
import stat

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from enrolment import drafts
from enrolment.models import EnrolmentRequest
from enrolment.wizard import views
from segurnum import ratelimit
from tests import files
from tests.enrolment.wizard import GUIDE_IBAN, GUIDE_NUMBER, GUIDE_SIRET, Wizard, load_registries, step_url

pytestmark = pytest.mark.django_db

ADDRESS, OTHER_ADDRESS = "203.0.113.7", "198.51.100.20"


def html(response) -> str:
    return response.content.decode()


def field_error(response, message: str) -> bool:
    """The message is shown next to a field (fr-error-text), not only in the summary."""
    return re.search(r'class="fr-error-text"[^>]*>[^<]*' + re.escape(escape(message)), html(response)) is not None


def wizard_from(address: str) -> Wizard:
    return Wizard(Client(REMOTE_ADDR=address))


def shown_step(response) -> str:
    """The address of the page the vendor ends up on."""
    return response.redirect_chain[-1][0] if response.redirect_chain else response.request["PATH_INFO"]


def draft_folders(storage_root) -> list:
    root = storage_root / "drafts"
    return [path for path in root.iterdir() if path.is_dir()] if root.exists() else []


@pytest.fixture(autouse=True)
def registries():
    load_registries()


# --- drafts (F14) -------------------------------------------------------------------------------


def test_sixteenth_draft_from_one_address_in_an_hour_is_refused_at_its_field(_isolated_storage):
    for _ in range(15):
        response = wizard_from(ADDRESS).referencing()
        assert shown_step(response) == step_url("applicant")
    assert len(draft_folders(_isolated_storage)) == 15

    sixteenth = wizard_from(ADDRESS)
    response = sixteenth.referencing()

    assert shown_step(response) == step_url("referencing")
    assert field_error(response, drafts.TOO_MANY_DRAFTS)
    assert f'value="{GUIDE_NUMBER}"' in html(response)  # the number typed is kept
    assert "ARCAD SAAD" in html(response)
    assert len(draft_folders(_isolated_storage)) == 15  # nothing written
    # Another address is not concerned.
    assert shown_step(wizard_from(OTHER_ADDRESS).referencing()) == step_url("applicant")


def test_replacing_a_file_of_the_same_wizard_is_not_a_new_draft(_isolated_storage, settings):
    settings.DRAFT_RATE_LIMIT = 1
    wizard = wizard_from(ADDRESS)
    wizard.search_number()
    for index in range(3):
        response = wizard.post(
            "referencing",
            {"referencing_number": GUIDE_NUMBER, "certificate": files.pdf(f"certificat {index}.pdf")},
            action="search_referencing",
        )
        assert not field_error(response, drafts.TOO_MANY_DRAFTS)
    (folder,) = draft_folders(_isolated_storage)
    assert [path.name for path in folder.iterdir()] and len(list(folder.iterdir())) == 1
    assert field_error(wizard_from(ADDRESS).referencing(), drafts.TOO_MANY_DRAFTS)


def test_bytes_sent_by_one_address_in_an_hour_are_capped(settings):
    size = len(files.pdf_bytes())
    settings.DRAFT_ADDRESS_MAX_BYTES = 2 * size
    assert shown_step(wizard_from(ADDRESS).referencing()) == step_url("applicant")
    assert shown_step(wizard_from(ADDRESS).referencing()) == step_url("applicant")

    response = wizard_from(ADDRESS).referencing()

    assert field_error(response, drafts.TOO_MANY_BYTES)
    assert f'value="{GUIDE_NUMBER}"' in html(response)


def test_a_file_refused_at_its_field_counts_nothing_against_the_address(settings):
    """Refused by a quota, by its content or by a disk that cannot keep it: the address's
    counters are as they were, and its later files go through."""
    size = len(files.pdf_bytes())
    settings.DRAFT_ADDRESS_MAX_BYTES = 2 * size
    wizard = wizard_from(ADDRESS)
    wizard.search_number()
    counted = {drafts.NEW_DRAFTS: 0, drafts.DRAFT_BYTES: 0}

    for refused, message in (
        (files.pdf("trop gros.pdf", size=3 * size), drafts.TOO_MANY_BYTES),
        (files.exe_renamed_pdf(), None),
    ):
        response = wizard.post("referencing", {"referencing_number": GUIDE_NUMBER, "certificate": refused})
        assert shown_step(response) == step_url("referencing")
        assert message is None or field_error(response, message)
        assert ratelimit.counts(counted, ADDRESS) == counted

    assert shown_step(wizard.referencing()) == step_url("applicant")
    assert ratelimit.counts(counted, ADDRESS) == {drafts.NEW_DRAFTS: 1, drafts.DRAFT_BYTES: size}
    assert shown_step(wizard_from(ADDRESS).referencing()) == step_url("applicant")


def test_two_uploads_at_once_cannot_both_pass_a_limit_only_one_of_them_fits(settings):
    """The first one is counted as it starts, not once written: the second one, arriving while
    the first is being scanned, finds the address's bytes used up."""
    settings.DRAFT_ADDRESS_MAX_BYTES = 1000
    kept = [{"size": 10}]
    first = drafts.reserve_quota(client_ip=ADDRESS, kept=kept, replacing=None, size=600)

    with pytest.raises(ValidationError) as refused:
        drafts.reserve_quota(client_ip=ADDRESS, kept=kept, replacing=None, size=600)

    assert refused.value.messages == [drafts.TOO_MANY_BYTES]
    assert ratelimit.count(drafts.DRAFT_BYTES, ADDRESS) == 600  # the second one gave its bytes back
    drafts.give_back(first, ADDRESS)  # the first one refused after all (its content)
    assert ratelimit.count(drafts.DRAFT_BYTES, ADDRESS) == 0


def test_a_file_the_disk_cannot_keep_counts_nothing_against_the_address(monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(drafts.draft_storage(), "_save", full_disk)
    wizard = wizard_from(ADDRESS)
    wizard.search_number()

    response = wizard.post("referencing", {"referencing_number": GUIDE_NUMBER, "certificate": files.pdf()})

    assert field_error(response, drafts.STORAGE_ERROR)
    assert ratelimit.counts([drafts.NEW_DRAFTS, drafts.DRAFT_BYTES], ADDRESS) == {
        drafts.NEW_DRAFTS: 0,
        drafts.DRAFT_BYTES: 0,
    }


def test_a_wizard_keeps_at_most_its_quota_of_files(settings):
    settings.DRAFT_MAX_FILES = 2
    wizard = wizard_from(ADDRESS)
    wizard.referencing()
    wizard.applicant()  # certificate + identity document: 2 files

    response = wizard.bank()

    assert shown_step(response) == step_url("bank")
    assert field_error(response, drafts.DRAFT_FULL)
    assert f'value="{GUIDE_IBAN}"' in html(response)  # what was typed on the step stays
    # A file already kept can still be replaced.
    again = wizard.post("referencing", {"referencing_number": GUIDE_NUMBER, "certificate": files.pdf("v2.pdf")})
    assert not field_error(again, drafts.DRAFT_FULL)


def test_a_wizard_keeps_at_most_its_quota_of_bytes(settings):
    settings.DRAFT_MAX_BYTES = 10_000
    wizard = wizard_from(ADDRESS)
    wizard.search_number()
    response = wizard.post(
        "referencing", {"referencing_number": GUIDE_NUMBER, "certificate": files.pdf("gros.pdf", size=12_000)}
    )
    assert field_error(response, drafts.DRAFT_FULL)


# --- requests stored (A12: 5 per hour per address) ----------------------------------------------


def test_sixth_request_from_one_address_in_an_hour_is_refused_with_the_draft_kept():
    for _ in range(4):  # four requests already stored from this address within the hour
        ratelimit.record("enrolment-submissions", ADDRESS)
    fifth = wizard_from(ADDRESS).complete()
    assert "Le numéro de votre demande est le" in html(fifth)

    sixth = wizard_from(ADDRESS)
    sixth.until_confirmation(
        "tndSAS0032",
        "39431067600017",
        denomination="LE SELECT",
        street_type="AVENUE",
        street_name="DU BOIS DE VERRIERES",
        postal_code="92160",
        city="ANTONY",
    )
    response = sixth.confirm()

    assert EnrolmentRequest.objects.count() == 1
    assert shown_step(response) == step_url("confirmation")
    assert "Trop de demandes d&#x27;enrôlement ont été envoyées depuis votre connexion en une heure" in html(response)
    assert "LE SELECT" in html(response) and "tndSAS0032" in html(response)  # the summary, intact
    # From another address, the same draft data go through.
    other = wizard_from(OTHER_ADDRESS)
    other.client.cookies = sixth.client.cookies
    stored = other.confirm()
    assert "Le numéro de votre demande est le" in html(stored)
    assert EnrolmentRequest.objects.filter(siret="39431067600017").exists()


def test_a_refused_final_step_does_not_count_as_a_request(settings):
    settings.ENROLMENT_SUBMIT_RATE_LIMIT = 1
    wizard = wizard_from(ADDRESS)
    wizard.until_confirmation()
    wizard.confirm(wrong_captcha=True)
    wizard.confirm(accept=False)
    assert "Le numéro de votre demande est le" in html(wizard.confirm())


def test_a_request_is_counted_while_it_is_stored_and_given_back_when_it_is_not(monkeypatch, settings):
    """Two « Terminer » at once from one address with one request left: the second one finds
    the first one counted while it is being stored. A request the disk could not keep counts
    nothing."""
    settings.ENROLMENT_SUBMIT_RATE_LIMIT = 1
    seen = []
    submit = views.submit_enrolment

    def submit_while_another_arrives(**kwargs):
        seen.append(ratelimit.count(views.SUBMISSIONS, ADDRESS))
        raise OSError(28, "No space left on device")

    wizard = wizard_from(ADDRESS)
    wizard.until_confirmation()
    monkeypatch.setattr(views, "submit_enrolment", submit_while_another_arrives)
    refused = wizard.confirm()

    assert seen == [1]
    assert views.SUBMIT_STORAGE_ERROR.split(" :")[0] in html(refused).replace("&#x27;", "'")
    assert ratelimit.count(views.SUBMISSIONS, ADDRESS) == 0
    monkeypatch.setattr(views, "submit_enrolment", submit)
    assert "Le numéro de votre demande est le" in html(wizard.confirm())
    assert ratelimit.count(views.SUBMISSIONS, ADDRESS) == 1


# --- the captcha (A12) ----------------------------------------------------------------------------


def captcha_key(response, prefix: str = "applicant") -> str:
    return re.search(rf'name="{prefix}-captcha_0" value="([0-9a-f]+)"', html(response)).group(1)


def test_new_captcha_over_the_limit_keeps_the_code_shown(settings):
    settings.CAPTCHA_REFRESH_RATE_LIMIT = 2
    wizard = wizard_from(ADDRESS)
    wizard.referencing()
    shown = wizard.get("applicant")

    def click_new_code(page):
        # What the browser sends: the SIRET typed and the key of the code on the screen.
        data = {"siret": GUIDE_SIRET, "captcha_0": captcha_key(page), "captcha_1": ""}
        return wizard.post("applicant", data, action="new_captcha")

    for _ in range(2):
        refreshed = click_new_code(shown)
        assert captcha_key(refreshed) != captcha_key(shown)
        assert "Trop de nouveaux codes" not in html(refreshed)
        shown = refreshed

    refused = click_new_code(shown)

    assert captcha_key(refused) == captcha_key(shown)
    assert field_error(refused, "Trop de nouveaux codes ont été demandés depuis votre connexion")
    assert f'value="{GUIDE_SIRET}"' in html(refused)
    # The code kept is still the one to type: the SIRET search goes through with it.
    found = wizard.search_siret()
    assert "ASSOCIATION SERVICES MEDIATION" in html(found)


def test_captcha_refresh_for_scripts_is_limited_too(settings):
    settings.CAPTCHA_REFRESH_RATE_LIMIT = 2
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(2):
        response = client.get("/captcha/refresh/", headers={"x-requested-with": "XMLHttpRequest"})
        assert response.status_code == 200 and response.json()["key"]
    refused = client.get("/captcha/refresh/", headers={"x-requested-with": "XMLHttpRequest"})
    assert refused.status_code == 429
    assert set(refused.json()) == {"erreur"}
    assert refused.json()["erreur"].startswith("Trop de nouveaux codes")
    assert refused["Retry-After"]


@pytest.fixture
def fake_speech(tmp_path, settings):
    """A speech synthesiser that records each time it is started."""
    started = tmp_path / "started.txt"
    script = tmp_path / "espeak"
    script.write_text(f'#!/bin/sh\necho started >> "{started}"\nprintf RIFF0000WAVE\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    settings.CAPTCHA_AUDIO_COMMAND = str(script)
    return started


def test_captcha_audio_over_the_limit_gets_a_french_429_and_starts_no_process(fake_speech, settings):
    settings.CAPTCHA_AUDIO_RATE_LIMIT = 3
    wizard = wizard_from(ADDRESS)
    wizard.referencing()
    url = reverse("enrolment:captcha_audio", args=[captcha_key(wizard.get("applicant"))])
    for _ in range(3):
        response = wizard.client.get(url)
        assert response.status_code == 200 and response.content.startswith(b"RIFF")

    refused = wizard.client.get(url)

    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert "La version audio du code a été demandée trop souvent depuis votre connexion" in html(refused)
    assert '<html lang="fr"' in html(refused)
    assert fake_speech.read_text().count("started") == 3
    # Another address still gets it.
    assert Client(REMOTE_ADDR=OTHER_ADDRESS).get(url).status_code == 200


def test_unknown_captcha_audio_key_does_not_count(fake_speech, settings):
    settings.CAPTCHA_AUDIO_RATE_LIMIT = 1
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(3):
        assert client.get(reverse("enrolment:captcha_audio", args=["0" * 40])).status_code == 404
    assert ratelimit.count("captcha-audio", ADDRESS) == 0
