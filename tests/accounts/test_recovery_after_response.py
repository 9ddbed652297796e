"""The recovery forms answer before the account is looked up, in every configuration (SECURITY
A13): in the embedded default (eager Celery) the look-up and the mail wait until the response has
left, so an existing account does not make the answer slower. Figures:
benchmarks/bench_enumeration.py."""

import pytest
from django.test import RequestFactory

from accounts import views
from accounts.models import RecoveryRequest
from segurnum.after_response import AfterResponseMiddleware, run_deferred


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.mark.parametrize(
    ("view", "data", "subject"),
    [
        (views.forgot_password, {"identifiant": "marie.curie"}, "Réinitialisation"),
        (views.forgot_identifiant, {"email": "marie@editeur.example.fr"}, "identifiant"),
    ],
    ids=["mot-de-passe", "identifiant"],
)
def test_the_answer_is_ready_before_the_account_is_looked_up(
    vendor, eager, mailoutbox, django_capture_on_commit_callbacks, view, data, subject
):
    request = RequestFactory().post("/connexion/", data)
    request._dont_enforce_csrf_checks = True
    handler = AfterResponseMiddleware(view)

    with django_capture_on_commit_callbacks(execute=True):
        response = handler(request)

    # The response is complete: the demand is recorded, nobody has looked for the account yet.
    assert response.status_code == 302
    recovery = RecoveryRequest.objects.get()
    assert recovery.processed_at is None
    assert mailoutbox == []

    # The server has sent it and closes it (Django's request_finished): now the job runs, here.
    with django_capture_on_commit_callbacks(execute=True):
        run_deferred()

    recovery.refresh_from_db()
    assert recovery.processed_at is not None
    assert len(mailoutbox) == 1 and subject.lower() in mailoutbox[0].subject.lower()


def test_through_a_whole_request_the_mail_still_leaves(
    client, vendor, eager, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"})
    assert response.status_code == 302
    assert RecoveryRequest.objects.get().processed_at is not None
    assert len(mailoutbox) == 1


def test_a_failing_deferred_job_is_logged_and_left_for_the_periodic_retry(
    vendor, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(recovery_id):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr("accounts.services._publish_recovery", broken)
    request = RequestFactory().post("/connexion/", {"identifiant": "marie.curie"})
    request._dont_enforce_csrf_checks = True
    with django_capture_on_commit_callbacks(execute=True):
        response = AfterResponseMiddleware(views.forgot_password)(request)

    run_deferred()  # raises nothing: the response is already gone

    assert response.status_code == 302
    assert "Tâche différée en échec" in caplog.text
    # Still pending: accounts.tasks.process_pending_recovery_requests takes it up again.
    assert RecoveryRequest.objects.get().processed_at is None
