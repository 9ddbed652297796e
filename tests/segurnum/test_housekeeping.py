"""The periodic housekeeping where no beat runs (SECURITY F14, P6): abandoned drafts and expired
sessions (with the wizards' IBANs and names) go, in the embedded default too."""

import json
import os
import sys
import time
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts import tasks as account_tasks
from segurnum import housekeeping
from tests.enrolment.wizard import GUIDE_IBAN, Wizard, load_registries
from tests.segurnum.conftest import production_env, run_here

pytestmark = pytest.mark.django_db


def abandoned_wizard(client) -> Wizard:
    """A wizard left on the VAT step: its session holds names and the IBAN, its folder files."""
    load_registries()
    wizard = Wizard(client)
    wizard.referencing()
    wizard.applicant()
    wizard.bank()
    return wizard


def age(path, hours: float) -> None:
    past = time.time() - hours * 3600
    for item in [path, *path.iterdir()]:
        os.utime(item, (past, past))


def expire_sessions(hours: float = 1) -> None:
    Session.objects.update(expire_date=timezone.now() - timedelta(hours=hours))


def live_session() -> str:
    session = SessionStore()
    session["vivante"] = True
    session.create()
    return session.session_key


def test_expired_sessions_are_deleted_with_the_wizard_data_they_hold(client):
    abandoned_wizard(client)
    (abandoned,) = Session.objects.all()
    assert GUIDE_IBAN in json.dumps(abandoned.get_decoded())
    expire_sessions()
    kept = live_session()

    account_tasks.clear_expired_sessions.delay()

    assert list(Session.objects.values_list("session_key", flat=True)) == [kept]


def test_the_schedule_purges_sessions_hourly_and_drafts():
    from django.conf import settings

    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["accounts.tasks.clear_expired_sessions"] <= 3600
    assert tasks["enrolment.tasks.purge_stale_drafts"] <= 3600


def test_a_request_of_the_embedded_default_runs_the_housekeeping_after_its_response(
    client, settings, _isolated_storage
):
    abandoned_wizard(client)
    settings.HOUSEKEEPING_IN_WEB = True  # `make run`: eager Celery, no beat
    (folder,) = (_isolated_storage / "drafts").iterdir()
    age(folder, 25)
    expire_sessions()
    client.cookies.clear()
    kept = live_session()

    response = client.get("/")

    assert response.status_code == 200
    assert not folder.exists()
    assert list(Session.objects.values_list("session_key", flat=True)) == [kept]


def test_each_task_runs_at_most_once_per_interval(settings):
    settings.HOUSEKEEPING_IN_WEB = True
    first = housekeeping.run_if_due()
    assert "clear-expired-sessions" in first and "purge-stale-drafts" in first
    assert housekeeping.run_if_due() == []  # checked at most once a minute
    from django.core.cache import cache

    cache.delete("housekeeping:check")
    assert housekeeping.run_if_due() == []  # none of the tasks is due again yet
    cache.delete("housekeeping:clear-expired-sessions")
    cache.delete("housekeeping:check")
    assert housekeeping.run_if_due() == ["clear-expired-sessions"]


def test_nothing_runs_where_beat_does_the_work(client, settings, _isolated_storage):
    settings.HOUSEKEEPING_IN_WEB = False
    abandoned_wizard(client)
    expire_sessions()
    client.get("/")
    assert Session.objects.count() == 1
    assert housekeeping.run_if_due() == []


def test_a_failing_task_does_not_stop_the_others(settings, monkeypatch, caplog):
    settings.HOUSEKEEPING_IN_WEB = True

    def broken():
        raise OSError("disque illisible")

    monkeypatch.setattr("enrolment.drafts.purge_stale_drafts", broken)
    live = live_session()
    expire_sessions()

    ran = housekeeping.run_if_due()

    assert "purge-stale-drafts" in ran and "clear-expired-sessions" in ran
    assert not Session.objects.filter(session_key=live).exists()
    assert "Tâche périodique purge-stale-drafts en échec" in caplog.text


DUMP = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.HOUSEKEEPING_IN_WEB))"
)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [({}, True), ({"CELERY_BROKER_URL": "redis://redis:6379/0"}, False)],
    ids=["embedded-default", "with-a-broker-and-beat"],
)
def test_the_web_process_does_the_housekeeping_only_without_a_broker(tmp_path, overrides, expected):
    result = run_here([sys.executable, "-c", DUMP], production_env(tmp_path, **overrides))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) is expected
