"""The three mails of a validation leave in order, once each, whatever the mail server does;
a failed one is re-sent with « Renvoyer » (R-MAIL-2, R-MAIL-3, R-MAIL-5)."""

import re
import smtplib
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.utils import timezone

from enrolment.services import validate_enrolment
from notifications import services
from notifications.models import OutboundEmail
from notifications.tasks import requeue_pending_emails
from tests.factories import EnrolmentRequestFactory, agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(monkeypatch):
    """The mail server as the tests want it: up, refusing the next ``down`` connections, or
    refusing ``fail_once`` messages whose subject contains the given words."""
    real_send = services.EmailMultiAlternatives.send
    state = {"down": 0, "code": None, "fail_once": "", "tried": []}

    def send(message, fail_silently=False):
        state["tried"].append(message.subject)
        if state["fail_once"] and state["fail_once"] in message.subject:
            state["fail_once"] = ""
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        if state["down"]:
            state["down"] -= 1
            if state["code"]:
                raise smtplib.SMTPDataError(state["code"], b"Greylisted, try again later")
            raise ConnectionRefusedError(111, "Connection refused")
        return real_send(message, fail_silently)

    monkeypatch.setattr(services.EmailMultiAlternatives, "send", send)
    return state


def validate(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return validate_enrolment(enrolment=EnrolmentRequestFactory(), by=agent())


def rows(enrolment):
    return {row.kind: row for row in OutboundEmail.objects.filter(enrolment=enrolment)}


def age_rows(minutes=5):
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(minutes=minutes))


ORDER = ("enrolment_validation", "account_identifiant", "account_temporary_password")


def test_the_password_waits_for_the_identifiant(smtp, mailoutbox, django_capture_on_commit_callbacks):
    smtp["fail_once"] = "identifiant"
    enrolment = validate(django_capture_on_commit_callbacks)
    sent = rows(enrolment)
    # The identifiant failed once and was retried; the password was not tried before it left.
    assert [subject.split()[1] for subject in smtp["tried"]] == ["demande", "identifiant", "identifiant", "mot"]
    assert sent["account_identifiant"].attempts == 2
    assert [m.subject for m in mailoutbox] == [sent[k].subject for k in ORDER]


def test_mail_server_down_delays_the_series_and_loses_nothing(smtp, mailoutbox, django_capture_on_commit_callbacks):
    smtp["down"] = 1000  # down for every attempt of this burst
    enrolment = validate(django_capture_on_commit_callbacks)
    sent = rows(enrolment)
    assert mailoutbox == []
    assert sent["enrolment_validation"].status == "failed"  # eager retries exhausted at once
    assert "ConnectionRefusedError" in sent["enrolment_validation"].last_error
    # The two others wait for it: never attempted, still pending, not re-queued on their own.
    assert [sent[k].attempts for k in ORDER[1:]] == [0, 0]
    age_rows()
    assert requeue_pending_emails.apply().get() == 0

    smtp["down"] = 0  # back up; an agent clicks « Renvoyer » on the failed mail
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend(email_id=sent["enrolment_validation"].pk)
    assert [m.subject for m in mailoutbox] == [sent[k].subject for k in ORDER]
    assert all(row.status == "sent" for row in OutboundEmail.objects.all())


def test_greylisting_is_retried_and_delivers_once(smtp, mailoutbox, django_capture_on_commit_callbacks):
    smtp.update(down=2, code=451)  # SMTP 4xx twice, then accepted
    enrolment = validate(django_capture_on_commit_callbacks)
    sent = rows(enrolment)
    assert [m.subject for m in mailoutbox] == [sent[k].subject for k in ORDER]
    assert sent["enrolment_validation"].attempts == 3


def test_requeue_sends_a_series_left_pending_by_a_broker_outage_in_order(mailoutbox, settings):
    enrolment = EnrolmentRequestFactory()
    validate_enrolment(enrolment=enrolment, by=agent())  # no commit callbacks: nothing handed over
    age_rows()
    assert requeue_pending_emails.apply().get() == 1  # only the head of the series is ready
    sent = rows(enrolment)
    assert [m.subject for m in mailoutbox] == [sent[k].subject for k in ORDER]
    assert requeue_pending_emails.apply().get() == 0


def test_a_sent_row_is_never_resent(mailoutbox, django_capture_on_commit_callbacks):
    enrolment = validate(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert not services.resend(email_id=rows(enrolment)["account_identifiant"].pk)
    assert len(mailoutbox) == 3


def test_resending_the_password_mail_gives_a_new_password_and_voids_the_old_one(
    smtp, mailoutbox, django_capture_on_commit_callbacks
):
    enrolment = validate(django_capture_on_commit_callbacks)
    first = re.search(r"Mot de passe provisoire : (\S+)", mailoutbox[2].body).group(1)
    # The vendor never received it (bounced later, say): the row is marked failed by hand.
    OutboundEmail.objects.filter(kind="account_temporary_password").update(status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        services.resend(email_id=rows(enrolment)["account_temporary_password"].pk)
    second = re.search(r"Mot de passe provisoire : (\S+)", mailoutbox[3].body).group(1)
    assert first != second
    username = rows(enrolment)["account_identifiant"].enrolment.account.username
    assert authenticate(RequestFactory().post("/connexion/"), username=username, password=first) is None
    assert authenticate(RequestFactory().post("/connexion/"), username=username, password=second) is not None
