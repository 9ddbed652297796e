"""The broker's Redis transport keeps one client per channel (segurnum.broker, R-PERF-5): a task
published from a web request still reaches its queue, and settings.py chooses it for a redis://
broker only."""

import json
import secrets
import sys

import pytest
from kombu import Connection

from segurnum.broker import Transport
from tests.segurnum.conftest import production_env, run_here

REDIS_DB = 14

SETTINGS_IN_A_PROCESS = """
import json
import django
django.setup()
from django.conf import settings
from segurnum.celery import app
print(json.dumps({"setting": getattr(settings, "CELERY_BROKER_TRANSPORT", None),
                  "transport": app.conf.broker_transport}))
"""


@pytest.mark.services
def test_a_message_goes_through_one_kept_client(local_redis):
    queue_name = f"test-broker-{secrets.token_hex(6)}"
    with Connection(f"{local_redis}/{REDIS_DB}", transport=Transport) as connection:
        channel = connection.default_channel
        first = channel._create_client()
        assert channel._create_client() is first  # kept: no client built per command
        assert channel._create_client(asynchronous=True) is not first  # the consumer's, as kombu makes them
        queue = connection.SimpleQueue(queue_name)
        try:
            for number in range(3):
                queue.put({"courriel": number})
            received = [queue.get(timeout=2) for _ in range(3)]
            for message in received:
                message.ack()
            assert [message.payload for message in received] == [{"courriel": n} for n in range(3)]
            assert channel._create_client() is first
        finally:
            queue.clear()
            queue.close()


@pytest.mark.parametrize(
    "broker, expected",
    [("redis://127.0.0.1:6379/0", "segurnum.broker:Transport"), ("", None), ("memory://", None)],
)
def test_settings_choose_the_transport_for_a_redis_broker_only(tmp_path, broker, expected):
    env = production_env(tmp_path, CELERY_BROKER_URL=broker) if broker else production_env(tmp_path)
    result = run_here(
        [sys.executable, "-c", SETTINGS_IN_A_PROCESS], {**env, "DJANGO_SETTINGS_MODULE": "segurnum.settings"}
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"setting": expected, "transport": expected}
