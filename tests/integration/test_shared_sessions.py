"""Sessions read from the shared cache by several gunicorn workers (segurnum.sessions, R-PERF-3):
the guide's enrolment, its requests answered by either of two workers, reads every step back as
the other worker wrote it."""

import pytest
import redis
from django.urls import reverse

from enrolment.models import EnrolmentRequest
from tests.enrolment.wizard import Wizard
from tests.integration.conftest import redis_database, stack_env
from tests.integration.test_enrolment_mail import ENR

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SESSION_CACHE_DB = 12


@pytest.fixture
def shared_cache(machine_redis):
    url = redis_database(machine_redis, SESSION_CACHE_DB)
    yield url
    redis_database(machine_redis, SESSION_CACHE_DB)


def test_two_workers_sharing_the_cache_carry_the_wizard_to_its_number(
    processes, tmp_path, test_database_url, spare_broker, relay, clamd_server, shared_cache, registries
):
    env = stack_env(tmp_path, database_url=test_database_url, broker_url=spare_broker, relay=relay, clamd=clamd_server)
    web = processes.web({**env, "CACHE_URL": shared_cache}, name="gunicorn-cache-partage")
    page = Wizard(web.client()).complete()

    assert any(url.endswith(reverse("enrolment:done")) for url, _ in page.redirect_chain)
    enrolment = EnrolmentRequest.objects.get(number=ENR.search(page.text).group(0))
    assert enrolment.documents.count() == 4
    # The session went through the shared cache, not only through the database.
    cached = redis.Redis.from_url(shared_cache).keys("*django.contrib.sessions.cached_db*")
    assert len(cached) == 1
