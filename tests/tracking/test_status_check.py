"""R-AFT-3: « Suivre ma demande », without an account: ENR number + SIRET + captcha."""

import re
from html import unescape

import pytest
from captcha.models import CaptchaStore
from django.urls import reverse
from django.utils import timezone

from enrolment.models import EnrolmentRequest
from enrolment.services import reject_enrolment, start_review
from tests.factories import EnrolmentRequestFactory, agent
from tracking.views import THROTTLED

pytestmark = pytest.mark.django_db

URL = "/suivre-ma-demande/"
SIRET = "47992882200069"
OTHER_SIRET = "39431067600017"


def html(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """The page's visible text, blanks folded."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html(response), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def captcha_fields(page_html: str, *, wrong: bool = False) -> dict:
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', page_html).group(1)
    answer = CaptchaStore.objects.get(hashkey=key).response
    return {"captcha_0": key, "captcha_1": "faux00" if wrong else answer}


def look_up(client, number: str, siret: str, **kwargs):
    page = client.get(URL)
    return client.post(URL, {"number": number, "siret": siret, **captcha_fields(html(page), **kwargs)})


@pytest.fixture
def enrolment():
    return EnrolmentRequestFactory(
        number="ENR0011M0",
        sequence=11,
        siret=SIRET,
        representative_first_name="Eishiro",
        representative_last_name="Oda",
        representative_email="eishiro.oda@example.fr",
        denomination="ASSOCIATION SERVICES MEDIATION",
    )


def test_the_page_is_linked_from_the_home_page_and_asks_for_the_number_the_siret_and_a_captcha(client):
    home = client.get("/")
    assert f'href="{URL}"' in html(home) and "Suivre ma demande" in text(home)

    page = client.get(URL)
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]
    assert "<title>Suivre ma demande" in html(page)
    for label in ("Numéro de demande *", "Numéro de SIRET *", "Code captcha *"):
        assert label in text(page)
    assert 'name="captcha_0"' in html(page)
    assert reverse("tracking:status") == URL


def test_a_submitted_request_shows_its_status_dates_and_next_step_without_personal_data(client, enrolment):
    response = look_up(client, " enr0011m0 ", "479 928 822 00069")

    assert response.status_code == 200
    page = text(response)
    assert "Demande ENR0011M0 : Soumise" in page
    submitted = timezone.localtime(enrolment.submitted_at)
    assert f"Déposée le {submitted:%d/%m/%Y à %H:%M}" in page
    assert "Décidée le — (pas encore décidée)" in page
    assert "Prochaine étape Votre demande a bien été reçue. Elle sera examinée par un agent de l'ASP" in page
    for personal in ("Eishiro", "ODA", "Oda", "eishiro.oda@example.fr", "ASSOCIATION SERVICES MEDIATION", "FR76"):
        assert personal not in page, personal
    # The typed values stay in the fields, with a fresh captcha for the next look-up.
    assert 'value="ENR0011M0"' in html(response) and f'value="{SIRET}"' in html(response)
    assert 'name="captcha_1"' in html(response) and "Suivre une autre demande" in page


def test_in_review_then_rejected_shows_the_reason_and_what_to_do(client, enrolment):
    staff = agent()
    start_review(enrolment=enrolment, by=staff)
    assert "Demande ENR0011M0 : En cours d'instruction" in text(look_up(client, "ENR0011M0", SIRET))

    reject_enrolment(enrolment=enrolment, by=staff, reason="Le RIB ne correspond pas au titulaire déclaré.")
    page = text(look_up(client, "ENR0011M0", SIRET))

    assert "Demande ENR0011M0 : Rejetée" in page
    decided = timezone.localtime(EnrolmentRequest.objects.get().decided_at)
    assert f"Décidée le {decided:%d/%m/%Y à %H:%M}" in page
    assert "Motif du rejet Le RIB ne correspond pas au titulaire déclaré." in page
    assert "Vous pouvez effectuer une nouvelle demande d'enrôlement pour ce logiciel." in page
    assert "Effectuer ma demande d'enrôlement" in page


def test_a_validated_request_points_to_the_login(client, enrolment):
    EnrolmentRequest.objects.filter(pk=enrolment.pk).update(
        status=EnrolmentRequest.Status.VALIDATED, decided_at=timezone.now()
    )
    response = look_up(client, "ENR0011M0", SIRET)
    assert "Demande ENR0011M0 : Validée" in text(response)
    assert "connectez-vous à votre espace" in text(response)
    assert f'href="{reverse("accounts:login")}"' in html(response)


def normalised(response, *values: str) -> str:
    """The page without what differs from one look-up to another by construction: the captcha,
    the CSRF token and the values typed in the fields."""
    page = html(response)
    page = re.sub(r"[0-9a-f]{40}", "KEY", page)
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", page)
    for value in values:
        page = page.replace(f'value="{value}"', 'value="VALUE"')
    return page


def test_an_unknown_pair_gets_the_same_answer_whether_the_number_exists_or_not(client, enrolment):
    wrong_siret = look_up(client, "ENR0011M0", OTHER_SIRET)
    no_such_number = look_up(client, "ENR0099M0", OTHER_SIRET)

    for response in (wrong_siret, no_such_number):
        assert response.status_code == 200
        assert "Aucune demande ne correspond à ce numéro de demande et à ce numéro de SIRET." in text(response)
        assert "Soumise" not in text(response)
    assert normalised(wrong_siret, "ENR0011M0") == normalised(no_such_number, "ENR0099M0")
    # The same shape as a known pair: the same sections, in the same order.
    known = look_up(client, "ENR0011M0", SIRET)
    headings = re.compile(r"<h[23][^>]*>(.*?)</h[23]>")
    assert headings.findall(html(known))[:3] == headings.findall(html(wrong_siret))[:3]


@pytest.mark.parametrize(
    ("number", "siret", "field", "message"),
    [
        ("0011", SIRET, "number", "Le numéro de demande doit être de la forme ENR0011M0"),
        ("", SIRET, "number", "Indiquez le numéro de votre demande (par exemple ENR0011M0)."),
        ("ENR0011M0", "47992882200068", "siret", "sa clé de contrôle est incorrecte"),
        ("ENR0011M0", "4799", "siret", "Le numéro de SIRET doit comporter 14 chiffres."),
    ],
)
def test_bad_input_gets_a_french_message_next_to_the_field_and_keeps_what_was_typed(
    client, enrolment, number, siret, field, message
):
    response = look_up(client, number, siret)

    assert response.status_code == 200
    error = re.search(rf'<p class="fr-error-text" id="id_{field}-error">(.*?)</p>', html(response))
    assert error and message in error.group(1)
    assert f'value="{siret}"' in html(response)
    assert "État de la demande" not in text(response)


def test_a_wrong_captcha_shows_nothing_and_asks_for_the_new_code(client, enrolment):
    response = look_up(client, "ENR0011M0", SIRET, wrong=True)
    assert "Le code captcha est incorrect. Recopiez le nouveau code affiché." in text(response)
    assert "Soumise" not in text(response) and "État de la demande" not in text(response)
    assert 'value="ENR0011M0"' in html(response)


def test_a_captcha_is_used_once(client, enrolment):
    page = client.get(URL)
    fields = {"number": "ENR0011M0", "siret": SIRET, **captcha_fields(html(page))}
    assert "Soumise" in text(client.post(URL, fields))
    replay = client.post(URL, fields)
    assert "Soumise" not in text(replay) and "Le code captcha est incorrect" in text(replay)


def test_new_code_keeps_the_typed_values(client, enrolment):
    page = client.get(URL)
    old = captcha_fields(html(page))["captcha_0"]
    response = client.post(URL, {"number": "ENR0011M0", "siret": SIRET, "action": "new_captcha"})
    assert response.status_code == 200
    assert 'value="ENR0011M0"' in html(response) and f'value="{SIRET}"' in html(response)
    assert captcha_fields(html(response))["captcha_0"] != old
    assert "Le formulaire contient des erreurs" not in text(response)


def test_look_ups_are_limited_per_address_known_and_unknown_alike(client, enrolment, settings):
    settings.TRACKING_RATE_LIMIT = 2
    assert "Soumise" in text(look_up(client, "ENR0011M0", SIRET))
    assert "Aucune demande" in text(look_up(client, "ENR0099M0", SIRET))

    refused = look_up(client, "ENR0011M0", SIRET)

    assert refused.status_code == 429
    assert THROTTLED in text(refused)
    assert "Soumise" not in text(refused)
    assert 'value="ENR0011M0"' in html(refused) and f'value="{SIRET}"' in html(refused)
    # Another address is not affected.
    other = client.get(URL, REMOTE_ADDR="192.0.2.7")
    answer = client.post(
        URL, {"number": "ENR0011M0", "siret": SIRET, **captcha_fields(html(other))}, REMOTE_ADDR="192.0.2.7"
    )
    assert "Soumise" in text(answer)


def test_the_number_can_come_from_the_confirmation_page_link(client):
    page = client.get(URL + "?numero=ENR0011M0")
    assert 'value="ENR0011M0"' in html(page)


def test_a_request_to_complete_lists_the_items_the_agent_asked_for(client, enrolment):
    """R-AFT-1 and R-AFT-3: « A compléter » shows the wizard's labels of the items to correct and
    the way to do it, never the agent's free message (which may name people)."""
    from enrolment import versions

    versions.request_corrections(
        enrolment=enrolment, by=agent(), items=["iban", "rib"], message="Le RIB de M. Oda est illisible."
    )

    page = text(look_up(client, "ENR0011M0", SIRET))

    assert "Demande ENR0011M0 : A compléter" in page
    assert "« Renvoyer ma demande »" in page
    assert "Éléments à compléter" in page
    assert "IBAN" in page and "RIB" in page
    assert "Oda" not in page
