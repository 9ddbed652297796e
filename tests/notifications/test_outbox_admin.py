"""Agents see the outbox (state, attempts, last error) and re-send a failed mail (R-MAIL-5)."""

import pytest
from django.urls import reverse

from notifications.models import OutboundEmail
from tests.factories import EnrolmentRequestFactory, agent, support_user

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_outboundemail_changelist")


def failed_row(**kwargs) -> OutboundEmail:
    enrolment = EnrolmentRequestFactory(sequence=77)
    return OutboundEmail.objects.create(
        key=f"enrolment:{enrolment.pk}:validation",
        kind="enrolment_validation",
        to=["vendeur@example.fr"],
        subject="Votre demande d'enrôlement ENR0077M0 est validée",
        body_text="Bonjour",
        enrolment=enrolment,
        status=OutboundEmail.Status.FAILED,
        attempts=11,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
        **kwargs,
    )


@pytest.fixture
def agent_client(client):
    client.force_login(agent())
    return client


def test_agents_see_failed_mails_with_attempts_and_error(agent_client):
    failed_row()
    page = agent_client.get(CHANGELIST, {"status__exact": "failed"}).content.decode()
    for shown in ("ENR0077M0 est validée", "vendeur@example.fr", "Échec", ">11<", "SMTPServerDisconnected"):
        assert shown in page
    assert "Renvoyer les courriels sélectionnés" in page
    assert agent_client.get(CHANGELIST, {"q": "ENR0077M0"}).context["cl"].result_count == 1


def test_renvoyer_button_delivers_a_failed_mail_once(agent_client, mailoutbox, django_capture_on_commit_callbacks):
    row = failed_row()
    change = reverse("admin:notifications_outboundemail_change", args=[row.pk])
    assert ">Renvoyer</button>" in agent_client.get(change).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(reverse("admin:notifications_resend", args=[row.pk]))
    row.refresh_from_db()
    assert row.status == "sent" and row.last_error == "" and len(mailoutbox) == 1
    page = agent_client.get(change).content.decode()
    assert "remis en file d&#x27;envoi" in page and ">Renvoyer</button>" not in page
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(reverse("admin:notifications_resend", args=[row.pk]))
    assert len(mailoutbox) == 1


def test_renvoyer_action_on_a_selection(agent_client, mailoutbox, django_capture_on_commit_callbacks):
    row = failed_row()
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(CHANGELIST, {"action": "resend_selected", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == "sent" and len(mailoutbox) == 1


def test_support_cannot_see_nor_resend_mails(client, mailoutbox):
    row = failed_row()
    client.force_login(support_user())
    assert client.get(CHANGELIST).status_code == 403
    assert client.post(reverse("admin:notifications_resend", args=[row.pk])).status_code == 403
    row.refresh_from_db()
    assert row.status == "failed" and mailoutbox == []
