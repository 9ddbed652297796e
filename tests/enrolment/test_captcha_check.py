"""The captcha check (R-PERF-3): one DELETE when the code is right, each code usable once, a
wrong or expired code refused in French, and expired codes purged by the periodic housekeeping
rather than by every check."""

from datetime import timedelta

import pytest
from captcha.models import CaptchaStore
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from enrolment.forms import SecurityCodeField
from enrolment.tasks import purge_expired_captchas

pytestmark = pytest.mark.django_db

REFUSED = "Le code captcha est incorrect. Recopiez le nouveau code affiché."


def code(*, expired: bool = False) -> CaptchaStore:
    store = CaptchaStore.objects.create(challenge="ABCDE", response="abcde")
    if expired:
        CaptchaStore.objects.filter(pk=store.pk).update(expiration=timezone.now() - timedelta(minutes=1))
    return store


def test_a_right_code_is_accepted_once_in_one_statement(django_assert_num_queries):
    store, other = code(), code()
    with django_assert_num_queries(1):
        SecurityCodeField().clean([store.hashkey, " ABCDE "])
    with pytest.raises(ValidationError) as refused:
        SecurityCodeField().clean([store.hashkey, "abcde"])
    assert refused.value.messages == [REFUSED]
    assert list(CaptchaStore.objects.all()) == [other]


def test_a_wrong_code_is_refused_and_cannot_be_tried_again():
    store = code()
    with pytest.raises(ValidationError) as refused:
        SecurityCodeField().clean([store.hashkey, "abcdf"])
    assert refused.value.messages == [REFUSED]
    assert not CaptchaStore.objects.exists()
    with pytest.raises(ValidationError):
        SecurityCodeField().clean([store.hashkey, "abcde"])


def test_an_expired_code_is_refused_and_deleted():
    store = code(expired=True)
    with pytest.raises(ValidationError) as refused:
        SecurityCodeField().clean([store.hashkey, "abcde"])
    assert refused.value.messages == [REFUSED]
    assert not CaptchaStore.objects.exists()


def test_an_empty_answer_is_asked_for():
    store = code()
    with pytest.raises(ValidationError) as refused:
        SecurityCodeField().clean([store.hashkey, ""])
    assert refused.value.messages == ["Recopiez le code captcha affiché."]


def test_the_housekeeping_purges_the_expired_codes_only():
    code(expired=True)
    code(expired=True)
    kept = code()
    assert purge_expired_captchas() == 2
    assert list(CaptchaStore.objects.all()) == [kept]
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-expired-captchas"]
    assert schedule["task"] == "enrolment.tasks.purge_expired_captchas"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_check_is_its_delete_alone(monkeypatch):
    """The « Rechercher » of step 2 checks its captcha outside any transaction: one DELETE for a
    right code, two for a wrong one (it is used up), and no BEGIN or COMMIT around them
    (R-PERF-5)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    right, wrong, other = code(), code(), code()
    commits = []
    monkeypatch.setattr(connection, "commit", lambda: commits.append(1))
    with CaptureQueriesContext(connection) as queries:
        SecurityCodeField().clean([right.hashkey, "abcde"])
        with pytest.raises(ValidationError):
            SecurityCodeField().clean([wrong.hashkey, "abcdf"])
    monkeypatch.undo()
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["DELETE"] * 3
    assert commits == []
    assert list(CaptchaStore.objects.all()) == [other]


def test_a_code_with_a_deletion_receiver_goes_through_django_s_collector():
    from django.db.models.signals import post_delete

    deleted = []

    def receiver(sender, instance, **kwargs):
        deleted.append(instance.hashkey)

    store = code()
    post_delete.connect(receiver, sender=CaptchaStore)
    try:
        SecurityCodeField().clean([store.hashkey, "abcde"])
    finally:
        post_delete.disconnect(receiver, sender=CaptchaStore)
    assert deleted == [store.hashkey]
    assert not CaptchaStore.objects.exists()
