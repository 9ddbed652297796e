"""Fault 2 (SECURITY G2): the mail server answers 451 or is down. The worker retries with a
growing wait (here 1 s, 2 s, 4 s: SEGURNUM_EMAIL_RETRY_BACKOFF=1, SEGURNUM_EMAIL_MAX_RETRIES=3);
once it is back, one mail per row. After the last retry the row is « Échec », an agent sees it in
the back office and « Renvoyer » sends it, once. A 5xx answer fails at once."""

import time

import pytest
from django.urls import reverse

from tests.factories import agent
from tests.integration.conftest import outbox_row, publish, refreshed, wait_until
from tests.integration.test_enrolment_mail import sign_in_admin

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SEND = "notifications.tasks.send_outbound_email"


def attempts_at(relay, address: str) -> list[float]:
    return [at for at, recipient in relay.handler.rcpt_attempts if recipient == address]


def test_greylisting_is_retried_with_backoff_then_each_row_leaves_once(stack, relay, transactional_db):
    relay.set_mode("greylist")  # 451 to every RCPT
    rows = [outbox_row(1), outbox_row(2)]
    for row in rows:
        publish(stack.env["CELERY_BROKER_URL"], SEND, row.pk)

    # Two refused attempts each (recorded on the row); the third comes 2 s after the second.
    wait_until(lambda: all(refreshed(row).attempts >= 2 for row in rows), 15, "deux tentatives par courriel")
    for row in map(refreshed, rows):
        assert row.status == "pending" and row.attempts == 2 and "451" in row.last_error
    relay.set_mode("accept")  # the server is back before the third attempt

    wait_until(lambda: len(relay.messages) >= 2, 15, "un courriel par ligne")
    time.sleep(2)  # nothing else comes
    assert sorted(message.rcpt_tos[0] for message in relay.messages) == ["vendeur1@example.fr", "vendeur2@example.fr"]
    for row in map(refreshed, rows):
        assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
        first, second, third = attempts_at(relay, row.to[0])
        assert 0.9 < second - first < third - second  # 1 s, then 2 s


def test_dead_letter_after_the_last_retry_then_renvoyer_sends_once(stack, relay, transactional_db):
    relay.stop()  # connection refused
    row = outbox_row(3)
    started = time.monotonic()
    publish(stack.env["CELERY_BROKER_URL"], SEND, row.pk)

    wait_until(lambda: refreshed(row).status == "failed", 20, "ligne en échec après la dernière tentative")
    elapsed = time.monotonic() - started
    row = refreshed(row)
    assert row.attempts == 4 and "ConnectionRefusedError" in row.last_error  # 1 + 3 retries
    assert elapsed > 1 + 2 + 4  # the waits between attempts
    assert f"Courriel {row.pk} en échec définitif" in stack.worker.output(stack.worker.mark)  # the alert

    # An agent finds it in the back office's outbox, with its error and « Renvoyer ».
    agent(username="agent.courriels")
    client = stack.client()
    sign_in_admin(client, "agent.courriels")
    listed = client.get(reverse("admin:notifications_outboundemail_changelist"), {"status__exact": "failed"})
    for shown in ("Courriel d&#x27;essai 3", "vendeur3@example.fr", "Échec", "ConnectionRefusedError"):
        assert shown in listed.text
    change_url = reverse("admin:notifications_outboundemail_change", args=[row.pk])
    assert ">Renvoyer</button>" in client.get(change_url).text

    relay.start()
    time.sleep(1.5)
    assert relay.messages == []  # a failed row waits for the agent
    resent = client.post(reverse("admin:notifications_resend", args=[row.pk]), follow=True)
    assert "remis en file d&#x27;envoi" in resent.text
    wait_until(lambda: relay.messages, 15, "le courriel renvoyé")
    # « Renvoyer » on a sent row sends nothing more.
    again = client.post(reverse("admin:notifications_resend", args=[row.pk]), follow=True)
    assert "déjà envoyé" in again.text
    time.sleep(1.5)
    assert [message.rcpt_tos for message in relay.messages] == [["vendeur3@example.fr"]]
    row = refreshed(row)
    assert (row.status, row.attempts, row.last_error) == ("sent", 5, "")


def test_a_5xx_answer_fails_at_once_without_retrying(stack, relay, transactional_db):
    relay.set_mode("reject")  # 554 after DATA
    row = outbox_row(4)
    publish(stack.env["CELERY_BROKER_URL"], SEND, row.pk)

    wait_until(lambda: refreshed(row).status == "failed", 10, "ligne en échec")
    time.sleep(1.5)  # longer than the first retry's wait
    row = refreshed(row)
    assert row.attempts == 1 and "554" in row.last_error
    assert relay.messages == []
