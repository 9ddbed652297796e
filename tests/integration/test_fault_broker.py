"""Fault 1 (SECURITY G1): the broker stops just before the final « Terminer ». The request still
commits and shows its ENR number within 5 s (publishing never hangs: celery#6046, kombu#735); the
acknowledgement stays pending in the outbox. Once Redis is back, the periodic re-queue hands it to
the worker: exactly one mail."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboundEmail
from tests.enrolment.wizard import Wizard
from tests.integration.conftest import PrivateRedis, celery_call, stack_env, wait_until
from tests.integration.test_enrolment_mail import ENR

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_broker_stopped_during_the_final_submit(
    processes, tmp_path, test_database_url, relay, registries, clamd_server
):
    broker = PrivateRedis(processes)
    broker.start()
    env = stack_env(tmp_path, database_url=test_database_url, broker_url=broker.url, relay=relay, clamd=clamd_server)
    web = processes.web(env, name="gunicorn-courtier")
    processes.worker(env, name="worker-courtier")
    client = web.client()
    wizard = Wizard(client)
    wizard.referencing()
    wizard.applicant()
    wizard.bank()
    wizard.vat()

    broker.stop()
    page = wizard.confirm()
    final_post = [response for response in client.history if response.method == "POST"][-1]

    assert final_post.path == reverse("enrolment:step", kwargs={"step": "confirmation"})
    assert final_post.status_code == 302 and final_post.seconds < 5, final_post.seconds
    assert page.status_code == 200
    number = ENR.search(page.text).group(0)
    row = OutboundEmail.objects.get(enrolment__number=number)
    assert (row.status, row.attempts) == ("pending", 0)
    print(f"\nPOST final, courtier arrêté : {final_post.seconds:.2f} s")

    broker.start()
    assert relay.messages == []
    # As beat does every 2 minutes: rows pending for a while go back to the queue, via the worker.
    OutboundEmail.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    restarted = time.monotonic()
    celery_call(env, "notifications.tasks.requeue_pending_emails")

    received = wait_until(lambda: relay.messages, 45, "l'accusé de réception après le retour du courtier")
    print(f"courriel reçu {time.monotonic() - restarted:.1f} s après le redémarrage du courtier")
    time.sleep(2)  # nothing else comes
    assert relay.messages == received and len(received) == 1 and number in received[0].subject
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)
