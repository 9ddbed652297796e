"""The outbox: one row per event, written in the event's transaction, sent once (R-MAIL-1, R-MAIL-5)."""

import smtplib
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import OutboundEmail
from notifications.tasks import requeue_pending_emails, retry_countdown, send_outbound_email

pytestmark = pytest.mark.django_db


def queue(key="test:1:ack", to=("vendeur@example.fr",)):
    return services.queue_email(
        key=key,
        kind="support_ack",
        to=list(to),
        template="enrolment_acknowledgement",
        context={
            "enrolment": {"number": "ENR0042M0", "software_name": "ARCAD SAAD"},
            "submitted_at": timezone.now(),
        },
    )


def test_rollback_sends_nothing(mailoutbox, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue()
        raise RuntimeError("échec de l'enregistrement")
    assert callbacks == []
    assert OutboundEmail.objects.count() == 0
    assert mailoutbox == []


def test_row_is_sent_after_commit(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue()
        assert mailoutbox == []  # nothing leaves before the commit
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT and email.attempts == 1 and email.sent_at
    assert len(mailoutbox) == 1
    assert "ENR0042M0" in mailoutbox[0].subject


def test_same_event_gives_one_row():
    first, second = queue(), queue()
    assert first.pk == second.pk
    assert OutboundEmail.objects.count() == 1


def test_sending_a_row_twice_delivers_one_mail(mailoutbox):
    email = queue()
    send_outbound_email.apply(args=[email.pk])
    send_outbound_email.apply(args=[email.pk])
    assert len(mailoutbox) == 1


def test_mail_server_down_keeps_the_row_and_retry_delivers(mailoutbox, monkeypatch):
    email = queue()
    calls = {"n": 0}
    real_send = services.EmailMultiAlternatives.send

    def flaky_send(self, fail_silently=False):
        calls["n"] += 1
        if calls["n"] == 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(self, fail_silently)

    monkeypatch.setattr(services.EmailMultiAlternatives, "send", flaky_send)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        services.deliver(email.pk)
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING
    assert "SMTPServerDisconnected" in email.last_error and email.attempts == 1
    services.deliver(email.pk)
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT and email.attempts == 2
    assert len(mailoutbox) == 1


def test_refused_recipient_is_not_retried(monkeypatch):
    email = queue()

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"vendeur@example.fr": (550, b"No such user")})

    monkeypatch.setattr(services.EmailMultiAlternatives, "send", refuse)
    send_outbound_email.apply(args=[email.pk])
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED and email.attempts == 1


def test_periodic_requeue_sends_pending_rows_once(mailoutbox):
    email = queue()  # never handed to a worker (no commit callbacks run here)
    OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert requeue_pending_emails.apply().get() == 1
    assert requeue_pending_emails.apply().get() == 0
    assert len(mailoutbox) == 1


def test_recent_pending_rows_are_left_to_their_first_delivery(mailoutbox):
    queue()
    assert requeue_pending_emails.apply().get() == 0
    assert mailoutbox == []


def test_broker_down_does_not_hang_nor_lose_the_row(settings):
    from segurnum.celery import app

    email = queue()
    app.conf.task_always_eager = False
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        started = time.monotonic()
        services.enqueue_delivery(email.pk)  # logs and returns
        elapsed = time.monotonic() - started
    finally:
        app.conf.broker_url = previous
        app.conf.task_always_eager = True
        # Forget the pools made for the closed port; the next user builds fresh ones.
        app._pool = None
        app.amqp._producer_pool = None
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING
    assert elapsed < 3  # the confirmation page does not wait on the broker


def test_temporary_refusal_of_the_recipient_is_retried(mailoutbox, monkeypatch):
    """451 on RCPT (greylisting) is temporary, unlike 550: the mail leaves on a later attempt."""
    email = queue()
    real_send = services.EmailMultiAlternatives.send
    calls = {"n": 0}

    def greylist_once(self, fail_silently=False):
        calls["n"] += 1
        if calls["n"] == 1:
            raise smtplib.SMTPRecipientsRefused({"vendeur@example.fr": (451, b"Greylisted, try again later")})
        return real_send(self, fail_silently)

    monkeypatch.setattr(services.EmailMultiAlternatives, "send", greylist_once)
    send_outbound_email.apply(args=[email.pk])
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT and email.attempts == 2
    assert len(mailoutbox) == 1


def test_backoff_and_number_of_retries_follow_the_settings(settings, monkeypatch):
    settings.EMAIL_RETRY_BACKOFF = 1
    assert [retry_countdown(n) for n in range(4)] == [1, 2, 4, 8]
    settings.EMAIL_RETRY_BACKOFF = 4  # the default: 4 s, 8 s, 16 s… at most 10 minutes
    assert [retry_countdown(n) for n in (0, 1, 2, 20)] == [4, 8, 16, 600]

    settings.EMAIL_MAX_RETRIES = 2
    email = queue()

    def down(self, fail_silently=False):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(services.EmailMultiAlternatives, "send", down)
    send_outbound_email.apply(args=[email.pk])
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED and email.attempts == 3  # 1 + 2 retries
