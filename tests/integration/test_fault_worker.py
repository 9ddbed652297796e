"""Fault 3 (SECURITY G3): the worker is killed with ``kill -9`` in the middle of an SMTP
conversation. The task, acknowledged only after it ran (acks_late), goes back to the queue once
the Redis visibility timeout has passed (SEGURNUM_BROKER_VISIBILITY_TIMEOUT, a few seconds here);
a new worker takes it and exactly one mail leaves."""

import time

import pytest
import redis

from tests.integration.conftest import outbox_row, publish, refreshed, stack_env, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 4


def test_worker_killed_while_sending_redelivers_and_one_mail_leaves(
    processes, tmp_path, test_database_url, spare_broker, relay, transactional_db, clamd_server
):
    env = stack_env(
        tmp_path,
        database_url=test_database_url,
        broker_url=spare_broker,
        relay=relay,
        clamd=clamd_server,
        SEGURNUM_BROKER_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
    )
    killed = processes.worker(env, name="worker-tue")
    held = relay.hold_next_data()
    row = outbox_row(5)
    publish(spare_broker, "notifications.tasks.send_outbound_email", row.pk)
    published = time.monotonic()

    assert held.wait(15), "le worker n'a pas atteint DATA"
    killed.kill()  # kill -9: the message and its final dot are never sent
    relay.release()
    assert relay.messages == []
    # The killed worker's transaction is rolled back (its row lock too); the message is still
    # unacknowledged in Redis.
    wait_until(lambda: refreshed(row).attempts == 0, 10, "annulation de la transaction du worker tué")
    assert refreshed(row).status == "pending"
    broker = redis.Redis.from_url(spare_broker)
    assert broker.hlen("unacked") == 1

    # A new worker, started once the visibility timeout has passed, takes the task back.
    time.sleep(max(0.0, published + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second = processes.worker(env, name="worker-nouveau")
    received = wait_until(lambda: relay.messages, 30, "le courriel après la relivraison")
    time.sleep(2)  # nothing else comes
    assert relay.messages == received and len(received) == 1
    assert received[0].rcpt_tos == ["vendeur5@example.fr"] and received[0].sender_pid == second.pid
    row = refreshed(row)
    assert (row.status, row.attempts) == ("sent", 1)
    wait_until(lambda: broker.hlen("unacked") == 0, 10, "acquittement de la tâche relivrée")
