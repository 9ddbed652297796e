"""With a real broker (CI's second pass: CELERY_BROKER_URL points at the local Redis), the outbox
row is published to Redis after the commit, for a worker to pick up."""

import base64
import json
import os

import pytest

from notifications.models import OutboundEmail
from tests.notifications.test_outbox import queue

pytestmark = [pytest.mark.services, pytest.mark.django_db]

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")


@pytest.fixture
def redis_broker():
    if not BROKER_URL.startswith("redis://"):
        if os.environ.get("SEGURNUM_REQUIRE_SERVICES") == "1":
            pytest.fail("CELERY_BROKER_URL (Redis) est exigé pour cette passe de tests.")
        pytest.skip("pas de courtier Redis configuré (CELERY_BROKER_URL)")
    import redis

    from segurnum.celery import app

    client = redis.Redis.from_url(BROKER_URL)
    client.delete("celery")
    app.conf.task_always_eager = False
    yield client
    app.conf.task_always_eager = True
    client.delete("celery")


def test_row_is_published_to_redis_after_commit(redis_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue(key="broker:1:ack")
        assert redis_broker.llen("celery") == 0  # nothing before the commit
    assert redis_broker.llen("celery") == 1
    message = json.loads(redis_broker.lpop("celery"))
    assert message["headers"]["task"] == "notifications.tasks.send_outbound_email"
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert args == [email.pk]
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING  # a worker, not the web request, sends it
