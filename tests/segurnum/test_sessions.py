"""Sessions written to the database, read from the shared cache (segurnum.sessions, R-PERF-3).

The tests' cache is the process's memory, shared by the test and the views it calls: it stands
for production's Redis. Without CACHE_URL the portal reads sessions from the database instead
(a process's memory is not shared by gunicorn's workers).
"""

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segurnum.sessions import SessionStore
from tests.enrolment.wizard import GUIDE_NUMBER, Wizard, load_registries, step_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shared_cache(settings):
    settings.SESSION_CACHE_ALIAS = "default"
    cache.clear()


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


def assert_session_writes_keep_their_refusals() -> None:
    """A session deleted meanwhile is Django's « session interrompue » (a 400); a database that
    cannot be reached is the 503 page, the session as it was kept in the database."""
    from django.contrib.sessions.backends.base import UpdateError
    from django.db import OperationalError

    store = SessionStore()
    store["étape"] = "1"
    store.save()
    Session.objects.all().delete()  # another request deleted it (a sign-out elsewhere)
    store["étape"] = "2"
    with pytest.raises(UpdateError):
        store.save()

    store = SessionStore()
    store["étape"] = "1"
    store.save()

    def database_down(execute, sql, params, many, context):
        if "django_session" in sql:
            raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
        return execute(sql, params, many, context)

    store["étape"] = "2"
    with connection.execute_wrapper(database_down), pytest.raises(OperationalError):
        store.save()  # the 503 page (segurnum.middleware), not a 400
    cache.clear()
    assert SessionStore(session_key=store.session_key).load() == {"étape": "1"}


def test_a_session_written_while_the_database_is_down_is_the_503_not_a_lost_session():
    """Inside a transaction: Django's own way of writing it (the tests' transaction)."""
    assert_session_writes_keep_their_refusals()


def test_without_a_shared_cache_sessions_are_read_from_the_database(settings, client):
    """Without CACHE_URL each gunicorn worker would hold its own copy: none is kept."""
    settings.SESSION_CACHE_ALIAS = "sessions"  # what settings.py chooses without CACHE_URL
    load_registries()
    Wizard(client).referencing()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(step_url("applicant")).status_code == 200
    assert session_selects(queries.captured_queries) == 1


def test_settings_read_sessions_from_the_cache_only_when_it_is_shared(monkeypatch, tmp_path):
    import runpy

    from django.conf import settings as django_settings

    def configured(**variables):
        with monkeypatch.context() as patch:
            patch.delenv("CACHE_URL", raising=False)
            for name, value in variables.items():
                patch.setenv(name, value)
            patch.setenv("SEGURNUM_VAR_DIR", str(tmp_path / "var"))
            return runpy.run_path(str(django_settings.BASE_DIR / "segurnum" / "settings.py"))

    alone = configured()
    assert alone["SESSION_ENGINE"] == "segurnum.sessions"
    assert alone["CACHES"][alone["SESSION_CACHE_ALIAS"]]["BACKEND"].endswith("DummyCache")
    shared = configured(CACHE_URL="redis://127.0.0.1:6379/1")
    assert shared["CACHES"][shared["SESSION_CACHE_ALIAS"]]["BACKEND"] == "segurnum.cache.RedisCache"


@pytest.mark.django_db(transaction=True)
def test_a_session_written_again_is_one_update_without_a_commit_of_its_own(monkeypatch):
    """R-PERF-5: outside a transaction (a page's session written by the middleware) the UPDATE
    is a transaction by itself; a BEGIN and a COMMIT around it would be two more round trips."""
    store = SessionStore()
    store["étape"] = "1"
    store.save()
    commits = []
    monkeypatch.setattr(connection, "commit", lambda: commits.append(1))
    store["étape"] = "2"
    with CaptureQueriesContext(connection) as queries:
        store.save()
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 1 and statements[0].startswith("UPDATE") and "django_session" in statements[0]
    assert commits == []
    monkeypatch.undo()
    cache.clear()
    assert SessionStore(session_key=store.session_key).load() == {"étape": "2"}
    assert Session.objects.get(session_key=store.session_key).get_decoded() == {"étape": "2"}


@pytest.mark.django_db(transaction=True)
def test_a_session_written_again_is_not_compiled_by_the_orm_and_keeps_its_expiry(monkeypatch):
    """R-PERF-5: the session's UPDATE is written once per database, not built and compiled by the
    ORM on every page that changes its session; its data and its expiry are those of the store."""
    from datetime import timedelta

    from django.db.models.sql.compiler import SQLUpdateCompiler

    store = SessionStore()
    store["étape"] = "1"
    store.save()
    monkeypatch.setattr(SQLUpdateCompiler, "as_sql", lambda *args, **kwargs: pytest.fail("UPDATE compilé par l'ORM"))
    for value, seconds in (("2", 600), ("3", 7200)):
        store["étape"] = value
        store.set_expiry(seconds)
        store.save()
        row = Session.objects.get(session_key=store.session_key)
        assert row.get_decoded() == {"étape": value, "_session_expiry": seconds}
        assert abs(row.expire_date - store.get_expiry_date()) < timedelta(seconds=5)


@pytest.mark.django_db(transaction=True)
def test_a_session_written_alone_keeps_its_refusals_a_deleted_one_and_the_database_down():
    """Outside a transaction: the one UPDATE of segurnum.sessions."""
    assert_session_writes_keep_their_refusals()


@pytest.mark.django_db(transaction=True)
def test_a_session_written_inside_a_transaction_fails_without_breaking_it():
    """Inside a view's transaction the session is written Django's way, in a savepoint: a write
    that fails leaves the rest of the transaction usable, and it rolls back with it."""
    from django.contrib.sessions.backends.base import UpdateError
    from django.db import DatabaseError, transaction

    store = SessionStore()
    store["étape"] = "1"
    store.save()

    def refused(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and "django_session" in sql:
            raise DatabaseError("canceling statement due to lock timeout")
        return execute(sql, params, many, context)

    with pytest.raises(RuntimeError), transaction.atomic():
        store["étape"] = "2"
        with connection.execute_wrapper(refused), pytest.raises(UpdateError):
            store.save()
        assert Session.objects.filter(session_key=store.session_key).exists()  # still usable
        store.save()
        raise RuntimeError("la vue échoue après avoir écrit la session")
    assert Session.objects.get(session_key=store.session_key).get_decoded() == {"étape": "1"}


@pytest.mark.django_db(transaction=True)
def test_a_new_session_is_one_insert_and_a_key_already_taken_draws_another(monkeypatch):
    """R-PERF-5: no SELECT of the key first, no BEGIN or COMMIT around the INSERT; the key's
    uniqueness is the primary key's."""
    with CaptureQueriesContext(connection) as queries:
        first = SessionStore()
        first["étape"] = "1"
        first.save()
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["INSERT"]

    commits = []
    monkeypatch.setattr(connection, "commit", lambda: commits.append(1))
    keys = iter([first.session_key, "n" * 32])  # the first key drawn is already taken
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))
    second = SessionStore()
    second["étape"] = "2"
    second.save()
    monkeypatch.undo()
    assert commits == []
    assert second.session_key == "n" * 32
    assert Session.objects.get(session_key=first.session_key).get_decoded() == {"étape": "1"}
    assert Session.objects.get(session_key="n" * 32).get_decoded() == {"étape": "2"}


def test_a_new_session_inside_a_transaction_is_written_with_it():
    """Django's way (the tests' transaction): a key already taken draws another there too."""
    first = SessionStore()
    first.save()
    keys = iter([first.session_key, "m" * 32])
    second = SessionStore()
    second._get_new_session_key = lambda: next(keys)
    second["étape"] = "2"
    second.save()
    assert second.session_key == "m" * 32
    assert Session.objects.get(session_key="m" * 32).get_decoded() == {"étape": "2"}


def test_a_new_session_is_put_in_the_cache_once(monkeypatch):
    store = SessionStore()
    written = []
    real_set = store._cache.set

    def counted_set(key, *args, **kwargs):
        written.append(key)
        return real_set(key, *args, **kwargs)

    monkeypatch.setattr(store._cache, "set", counted_set)
    store["étape"] = "1"
    store.save()
    assert written == [store.cache_key]
    assert SessionStore(session_key=store.session_key).load() == {"étape": "1"}
