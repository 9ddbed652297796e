import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from notifications.models import OutboundEmail
from public.models import SupportRequest
from tests.factories import EnrolmentRequestFactory, UserFactory, agent

CONTACT_URL = "/aide/contacter-assistance/"

VALID = {
    "name": "Eishiro Oda",
    "email": "eishiro.oda@editeur.example",
    "enr_number": "enr0011m0",
    "subject": "enrolment",
    "message": "Bonjour,\nje n'ai pas reçu mon accusé de réception.",
    "site_web": "",
}


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def input_value(response, name: str) -> str:
    match = re.search(rf'<input\b[^>]*name="{name}"[^>]*>', response.content.decode())
    assert match, name
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


@pytest.fixture
def support_email(settings):
    settings.SUPPORT_EMAIL = "assistance@asp.example"
    return settings.SUPPORT_EMAIL


def test_urls():
    assert reverse("public:contact") == CONTACT_URL
    assert reverse("public:contact_done") == "/aide/contacter-assistance/envoyee/"


@pytest.mark.django_db
def test_form_has_french_accessible_labels(client):
    response = client.get(CONTACT_URL)
    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    for field_id, label in [
        ("id_name", "Nom et prénom *"),
        ("id_email", "Adresse électronique *"),
        ("id_enr_number", "Numéro de demande d'enrôlement"),
        ("id_subject", "Objet de votre demande *"),
        ("id_message", "Votre message *"),
    ]:
        assert re.search(rf'<label class="fr-label" for="{field_id}">{re.escape(label)}</label>', content), label
    assert 'aria-describedby="id_enr_number-hint"' in content
    for choice in ("Enrôlement", "Connexion à mon espace", "Demande de financement", "Autre"):
        assert f">{choice}</option>" in content
    # The honeypot is out of sight, out of the tab order and out of the accessibility tree.
    assert re.search(r'<div class="segurnum-honeypot" aria-hidden="true">', content)
    assert re.search(
        r'<input[^>]*name="site_web"[^>]*tabindex="-1"|<input[^>]*tabindex="-1"[^>]*name="site_web"', content
    )


@pytest.mark.django_db
def test_valid_message_is_stored_acknowledged_and_forwarded(
    client, mailoutbox, django_capture_on_commit_callbacks, support_email
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONTACT_URL, VALID)

    assert response.status_code == 302
    assert response["Location"] == reverse("public:contact_done")
    support_request = SupportRequest.objects.get()
    assert support_request.name == "Eishiro Oda"
    assert support_request.enr_number == "ENR0011M0"  # normalised
    assert support_request.subject == SupportRequest.Subject.ENROLMENT
    assert support_request.handled is False

    ack = OutboundEmail.objects.get(key=f"support:{support_request.pk}:ack")
    notify = OutboundEmail.objects.get(key=f"support:{support_request.pk}:notify")
    assert ack.to == ["eishiro.oda@editeur.example"]
    assert notify.to == [support_email]
    assert {ack.status, notify.status} == {OutboundEmail.Status.SENT}

    reference = f"ASSIST-{support_request.pk}"
    assert len(mailoutbox) == 2
    by_recipient = {tuple(mail.to): mail for mail in mailoutbox}
    ack_mail = by_recipient[("eishiro.oda@editeur.example",)]
    assert reference in ack_mail.subject
    assert reference in ack_mail.body and "ENR0011M0" in ack_mail.body
    assert ack_mail.alternatives and reference in ack_mail.alternatives[0][0]
    notify_mail = by_recipient[(support_email,)]
    assert reference in notify_mail.subject and "ENR0011M0" in notify_mail.subject
    assert "je n'ai pas reçu mon accusé de réception." in notify_mail.body
    assert f"/admin/public/supportrequest/{support_request.pk}/change/" in notify_mail.body

    done = client.get(response["Location"])
    text = page_text(done)
    assert "Votre demande a bien été envoyée" in text
    assert reference in text


@pytest.mark.django_db
def test_enr_number_is_optional(client, django_capture_on_commit_callbacks, mailoutbox, settings):
    if hasattr(settings, "SUPPORT_EMAIL"):
        del settings.SUPPORT_EMAIL
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONTACT_URL, {**VALID, "enr_number": "", "subject": "other"})
    assert response.status_code == 302
    support_request = SupportRequest.objects.get()
    assert support_request.enr_number == ""
    ack = next(mail for mail in mailoutbox if mail.to == [VALID["email"]])
    assert "Numéro de demande d'enrôlement" not in ack.body
    notify = next(mail for mail in mailoutbox if mail.to != [VALID["email"]])
    assert notify.to == ["support@segurnum.localhost"]  # default without settings.SUPPORT_EMAIL


@pytest.mark.django_db
def test_invalid_email_gets_a_french_error_and_keeps_the_other_values(client):
    response = client.post(CONTACT_URL, {**VALID, "email": "pas-une-adresse"})

    assert response.status_code == 200
    assert not SupportRequest.objects.exists()
    assert not OutboundEmail.objects.exists()
    content = response.content.decode()
    text = page_text(response)
    assert "Le formulaire contient des erreurs" in text
    assert "Saisissez une adresse électronique valide, par exemple nom@domaine.fr." in text
    assert re.search(r'<p class="fr-error-text" id="id_email-error">Saisissez une adresse', content)
    assert re.search(
        r'<input[^>]*aria-invalid="true"[^>]*name="email"|<input[^>]*name="email"[^>]*aria-invalid="true"',
        content,
    )
    assert 'href="#id_email"' in content  # summary links to the field
    assert input_value(response, "email") == "pas-une-adresse"
    assert input_value(response, "name") == "Eishiro Oda"
    assert input_value(response, "enr_number") == "enr0011m0"
    assert 'value="enrolment" selected' in content
    assert "je n&#x27;ai pas reçu mon accusé de réception." in content
    assert "<title>Erreur — Contacter l'assistance — Portail SEGUR Numérique</title>" in content


@pytest.mark.django_db
@pytest.mark.parametrize("enr_number", ["ENR0011", "0011M0", "ENRXM0", "ENR0011M0X", "ENR 00M"])
def test_bad_enr_number_is_refused(client, enr_number):
    response = client.post(CONTACT_URL, {**VALID, "enr_number": enr_number})

    assert response.status_code == 200
    assert not SupportRequest.objects.exists()
    assert "Le numéro de demande doit être de la forme ENR0011M0" in page_text(response)
    assert 'id="id_enr_number-error"' in response.content.decode()
    assert input_value(response, "enr_number") == enr_number


@pytest.mark.django_db
def test_missing_fields_are_named_in_french(client):
    response = client.post(CONTACT_URL, {"site_web": ""})
    text = page_text(response)
    for message in (
        "Indiquez votre nom et votre prénom.",
        "Indiquez votre adresse électronique.",
        "Choisissez l'objet de votre demande.",
        "Écrivez votre message.",
    ):
        assert message in text
    assert not SupportRequest.objects.exists()


@pytest.mark.django_db
def test_filled_honeypot_stores_and_sends_nothing(client, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONTACT_URL, {**VALID, "site_web": "https://spam.example"})

    assert response.status_code == 302  # the bot is told nothing
    assert not SupportRequest.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert mailoutbox == []
    assert "ASSIST-" not in page_text(client.get(response["Location"]))


@pytest.mark.django_db
def test_sixth_message_in_an_hour_is_throttled(client, django_capture_on_commit_callbacks):
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(CONTACT_URL, VALID).status_code == 302

    response = client.post(CONTACT_URL, VALID)

    assert response.status_code == 429
    assert SupportRequest.objects.count() == 5
    text = page_text(response)
    assert "Trop de demandes envoyées depuis votre connexion. Réessayez plus tard." in text
    assert input_value(response, "name") == "Eishiro Oda"


@pytest.mark.django_db
def test_throttle_is_per_address(client, django_capture_on_commit_callbacks):
    for _ in range(5):
        client.post(CONTACT_URL, VALID, REMOTE_ADDR="10.0.0.1")
    assert client.post(CONTACT_URL, VALID, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.post(CONTACT_URL, VALID, REMOTE_ADDR="10.0.0.2").status_code == 302


@pytest.mark.django_db
def test_throttle_window_is_one_hour(client):
    with freeze_time("2024-03-01 10:00:00") as frozen:
        for _ in range(5):
            client.post(CONTACT_URL, VALID)
        assert client.post(CONTACT_URL, VALID).status_code == 429
        frozen.tick(3601)
        assert client.post(CONTACT_URL, VALID).status_code == 302


@pytest.mark.django_db
def test_support_admin_only_lets_agents_mark_a_request_handled(admin_client):
    support_request = SupportRequest.objects.create(
        name="Eishiro Oda", email="e@x.example", enr_number="ENR0011M0", subject="login", message="Bonjour"
    )
    changelist = admin_client.get(reverse("admin:public_supportrequest_changelist"), {"q": "ENR0011M0"})
    assert changelist.status_code == 200
    assert "ASSIST-" in changelist.content.decode()
    by_reference = admin_client.get(
        reverse("admin:public_supportrequest_changelist"), {"q": f"ASSIST-{support_request.pk}"}
    )
    assert "e@x.example" in by_reference.content.decode()

    url = reverse("admin:public_supportrequest_change", args=[support_request.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="handled"' in page
    assert 'name="message"' not in page and 'name="email"' not in page

    admin_client.post(url, {"handled": "on", "email": "pirate@x.example"})
    support_request.refresh_from_db()
    assert support_request.handled is True
    assert support_request.email == "e@x.example"
    assert admin_client.get(reverse("admin:public_supportrequest_add")).status_code == 403


# A signed-in vendor finds who it is already filled in (GET only).


@pytest.fixture
def vendor(db):
    return UserFactory(first_name="Eishiro", last_name="Oda", email="eishiro.oda@asm.example")


def test_vendor_finds_name_email_and_latest_enr_number_filled_in(client, vendor):
    with freeze_time(timezone.now() - timedelta(days=30)):
        EnrolmentRequestFactory(account=vendor, number="ENR0011M0", sequence=11)
    EnrolmentRequestFactory(account=vendor, number="ENR0042M0", sequence=42)
    EnrolmentRequestFactory(account=UserFactory(), number="ENR0043M0", sequence=43)
    client.force_login(vendor)

    response = client.get(CONTACT_URL)

    assert input_value(response, "name") == "Eishiro Oda"
    assert input_value(response, "email") == "eishiro.oda@asm.example"
    assert input_value(response, "enr_number") == "ENR0042M0"


def test_vendor_without_request_gets_an_empty_enr_number(client, vendor):
    client.force_login(vendor)
    response = client.get(CONTACT_URL)
    assert input_value(response, "name") == "Eishiro Oda"
    assert input_value(response, "enr_number") == ""


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_nothing_is_filled_in_for_others(client, who):
    if who == "staff":
        client.force_login(agent(first_name="Camille", last_name="Roux"))
    response = client.get(CONTACT_URL)
    assert input_value(response, "name") == "" and input_value(response, "email") == ""


def test_what_the_vendor_types_wins_over_the_prefill(client, vendor):
    EnrolmentRequestFactory(account=vendor, number="ENR0042M0", sequence=42)
    client.force_login(vendor)
    response = client.post(
        CONTACT_URL, {**VALID, "name": "Autre Personne", "email": "pas-une-adresse", "enr_number": ""}
    )
    assert response.status_code == 200  # invalid email: the form comes back with what was typed
    assert input_value(response, "name") == "Autre Personne"
    assert input_value(response, "enr_number") == ""
    assert not SupportRequest.objects.exists()
