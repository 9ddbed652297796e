"""Sessions written to the database, read from the cache (segurnum.sessions, R-PERF-3)."""

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segurnum.sessions import SessionStore
from tests.enrolment.wizard import GUIDE_NUMBER, Wizard, load_registries, step_url

pytestmark = pytest.mark.django_db


def session_selects(queries) -> int:
    return sum(query["sql"].startswith("SELECT") and "django_session" in query["sql"] for query in queries)


def test_a_page_reads_its_session_from_the_cache_and_the_database_keeps_it(client):
    load_registries()
    Wizard(client).referencing()
    key = client.session.session_key
    with CaptureQueriesContext(connection) as queries:
        page = client.get(step_url("applicant"))
    assert page.status_code == 200
    assert session_selects(queries.captured_queries) == 0
    # The database holds the same session: the cache only copies it.
    stored = Session.objects.get(session_key=key).get_decoded()
    assert stored["wizard_enrolment_wizard"]["step_data"]["referencing"]["referencing-referencing_number"] == [
        GUIDE_NUMBER
    ]


def test_a_session_the_cache_lost_is_read_from_the_database_and_the_wizard_goes_on(client):
    load_registries()
    Wizard(client).referencing()
    cache.clear()  # a restarted Redis keeps nothing
    with CaptureQueriesContext(connection) as queries:
        page = client.get(step_url("applicant"))
    assert page.status_code == 200  # step 1 is still done: step 2 is open
    assert session_selects(queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        client.get(step_url("applicant"))
    assert session_selects(queries.captured_queries) == 0  # put back in the cache


def test_a_session_the_cache_could_not_take_is_dropped_from_it(monkeypatch):
    store = SessionStore()
    store["étape"] = "1"
    store.save()
    reread = SessionStore(session_key=store.session_key)
    assert reread.load() == {"étape": "1"}  # now in the cache too

    def refused(*args, **kwargs):
        raise ConnectionError("cache injoignable")

    monkeypatch.setattr(store._cache, "set", refused)
    store["étape"] = "2"
    store.save()  # no error: the database has it
    monkeypatch.undo()
    # Not the older copy from the cache: the database's.
    assert SessionStore(session_key=store.session_key).load() == {"étape": "2"}


def test_a_deleted_session_is_gone_from_the_cache_too():
    store = SessionStore()
    store["_auth_user_id"] = "1"
    store.save()
    assert SessionStore(session_key=store.session_key).load() == {"_auth_user_id": "1"}
    store.delete()
    assert SessionStore(session_key=store.session_key).load() == {}
    assert not Session.objects.exists()
