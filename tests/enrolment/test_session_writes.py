"""The wizard writes its session only when the wizard changed (enrolment.wizard.storage, R-PERF-5)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrolment.wizard.lookups import NUMBER_MISSING
from tests.enrolment.wizard import Wizard, load_registries, step_url

pytestmark = pytest.mark.django_db


def session_writes(send) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as queries:
        response = send()
    writes = sum(
        '"django_session"' in query["sql"] and query["sql"].startswith(("UPDATE", "INSERT")) for query in queries
    )
    return response, writes


def test_showing_a_step_again_writes_nothing(client):
    load_registries()
    wizard = Wizard(client)
    wizard.referencing()
    first, _ = session_writes(lambda: client.get(step_url("applicant")))
    again, writes = session_writes(lambda: client.get(step_url("applicant")))
    assert again.status_code == first.status_code == 200
    assert writes == 0
    assert "Set-Cookie" not in again.headers or "sessionid" not in again.headers["Set-Cookie"]
    # What the vendor gave is still there for the next step.
    assert client.get(step_url("referencing")).context["form"]["referencing_number"].value() == "tndSAS0031"


def test_a_page_that_uses_up_a_message_writes_it_and_shows_it_once(client):
    load_registries()
    wizard = Wizard(client)
    wizard.get("referencing")
    wizard.post("referencing", {"referencing_number": ""}, action="search_referencing", follow=False)
    shown, writes = session_writes(lambda: client.get(step_url("referencing")))
    assert NUMBER_MISSING in shown.content.decode()
    assert writes == 1  # the message taken from the draft
    reloaded, writes = session_writes(lambda: client.get(step_url("referencing")))
    assert NUMBER_MISSING not in reloaded.content.decode()
    assert writes == 0


def test_a_post_that_changes_the_steps_writes_them(client):
    load_registries()
    wizard = Wizard(client)
    wizard.get("referencing")
    _, writes = session_writes(
        lambda: wizard.post(
            "referencing", {"referencing_number": "tndSAS0031"}, action="search_referencing", follow=False
        )
    )
    assert writes == 1


def test_going_back_to_a_step_is_remembered_without_any_save_of_the_draft(client):
    """A GET of an earlier step changes only the wizard's current step (formtools' own storage,
    not the draft): the comparison of before and after writes it."""
    load_registries()
    wizard = Wizard(client)
    wizard.referencing()
    assert client.get("/enrolement/").url == step_url("applicant")
    _, writes = session_writes(lambda: client.get(step_url("referencing")))
    assert writes == 1
    assert client.get("/enrolement/").url == step_url("referencing")
