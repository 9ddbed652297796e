"""Agents' decisions as services: validation creates the account and sends three separate mails,
in order, once each; rejection mails the reason; a decided request is not decided again
(R-BO-1, R-BO-2, R-MAIL-2..4, SECURITY A7)."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import User
from enrolment import services
from enrolment.models import EnrolmentRequest, StatusChange
from notifications.models import OutboundEmail
from tests.factories import EnrolmentRequestFactory, agent

pytestmark = pytest.mark.django_db

PASSWORD_RE = re.compile(r"Mot de passe provisoire : (\S+)")


@pytest.fixture
def decide(django_capture_on_commit_callbacks):
    """Run a decision the way the admin does: commit, then the queued mails leave (eager Celery)."""

    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


def test_validation_creates_the_account_and_sends_three_mails_in_order(decide, mailoutbox):
    enrolment = EnrolmentRequestFactory(representative_first_name="Élise", representative_last_name="Dupont")
    by = agent()
    enrolment = decide(services.validate_enrolment, enrolment=enrolment, by=by)

    assert enrolment.status == EnrolmentRequest.Status.VALIDATED and enrolment.decided_at
    user = enrolment.account
    assert user.username == "elise.dupont" and user.email == enrolment.representative_email
    assert user.must_change_password and not user.is_staff

    validation, identifiant, password_mail = mailoutbox
    assert [m.subject for m in mailoutbox] == [
        f"Votre demande d'enrôlement {enrolment.number} est validée",
        f"Votre identifiant de connexion au Portail Ségur Numérique ({enrolment.number})",
        f"Votre mot de passe provisoire pour le Portail Ségur Numérique ({enrolment.number})",
    ]
    assert enrolment.number in validation.body and "elise.dupont" not in validation.body
    assert "Votre identifiant : elise.dupont" in identifiant.body
    password = PASSWORD_RE.search(password_mail.body).group(1)
    # Never both secrets in one mail; each mail has plain text and HTML.
    assert password not in identifiant.body and "elise.dupont" not in password_mail.body
    assert all(m.alternatives and m.alternatives[0][1] == "text/html" for m in mailoutbox)
    assert password in password_mail.alternatives[0][0]
    assert identifiant.to == password_mail.to == [enrolment.representative_email]
    assert authenticate(RequestFactory().post("/connexion/"), username="elise.dupont", password=password) == user


def test_the_temporary_password_is_never_stored_in_clear(decide, mailoutbox):
    enrolment = decide(services.validate_enrolment, enrolment=EnrolmentRequestFactory(), by=agent())
    password = PASSWORD_RE.search(mailoutbox[2].body).group(1)
    row = OutboundEmail.objects.get(kind="account_temporary_password")
    assert password not in row.body_text + row.body_html
    assert "jamais enregistré" in row.body_text
    enrolment.account.refresh_from_db()
    assert enrolment.account.password.startswith(("argon2$argon2id$", "pbkdf2_sha256$"))


@freeze_time("2026-11-26 10:00:00")
def test_the_temporary_password_expires_after_72_hours(decide, mailoutbox):
    enrolment = decide(services.validate_enrolment, enrolment=EnrolmentRequestFactory(), by=agent())
    user = User.objects.get(pk=enrolment.account_id)
    assert user.temporary_password_expires_at == timezone.now() + timedelta(hours=72)
    assert "valable jusqu'au 29/11/2026 à 11:00" in mailoutbox[2].body  # Paris time
    assert not user.temporary_password_expired
    with freeze_time("2026-11-29 10:00:01"):
        assert user.temporary_password_expired


def test_the_temporary_password_meets_the_portal_rules(decide, mailoutbox):
    decide(services.validate_enrolment, enrolment=EnrolmentRequestFactory(), by=agent())
    password = PASSWORD_RE.search(mailoutbox[2].body).group(1)
    assert len(password) >= 12 and password.isascii()
    assert re.search(r"\d", password) and re.search(r"[.,;?!:%#]", password)
    assert re.search(r"[a-z]", password) and re.search(r"[A-Z]", password)


def test_depositor_receives_the_validation_but_not_the_credentials(decide, mailoutbox):
    enrolment = EnrolmentRequestFactory(
        is_legal_representative=False,
        depositor_first_name="Claire",
        depositor_last_name="Martin",
        depositor_email="claire.martin@cabinet.example.fr",
        third_party_quality=EnrolmentRequest.ThirdPartyQuality.EMPLOYEE,
    )
    decide(services.validate_enrolment, enrolment=enrolment, by=agent())
    assert sorted(mailoutbox[0].to) == sorted([enrolment.representative_email, "claire.martin@cabinet.example.fr"])
    assert all(m.to == [enrolment.representative_email] for m in mailoutbox[1:])


def test_identifiants_are_unique_and_readable(decide):
    by = agent()
    names = []
    for _ in range(3):
        enrolment = EnrolmentRequestFactory(representative_first_name="Jean-Luc", representative_last_name="Le Bœuf")
        names.append(decide(services.validate_enrolment, enrolment=enrolment, by=by).account.username)
    assert names == ["jean-luc.le-boeuf", "jean-luc.le-boeuf2", "jean-luc.le-boeuf3"]


def test_a_validated_request_is_not_decided_again(decide, mailoutbox):
    by = agent()
    enrolment = decide(services.validate_enrolment, enrolment=EnrolmentRequestFactory(), by=by)
    with pytest.raises(services.DecisionRefused, match="est « validée »"):
        services.validate_enrolment(enrolment=enrolment, by=by)
    with pytest.raises(services.DecisionRefused):
        services.reject_enrolment(enrolment=enrolment, by=by, reason="Trop tard")
    assert User.objects.filter(enrolment_requests__isnull=False).count() == 1
    assert len(mailoutbox) == 3


def test_a_stale_copy_cannot_validate_twice(decide, mailoutbox):
    """Two agents open the same request; the second click finds it already decided (row lock)."""
    enrolment = EnrolmentRequestFactory()
    first_copy, second_copy = (
        EnrolmentRequest.objects.get(pk=enrolment.pk),
        EnrolmentRequest.objects.get(pk=enrolment.pk),
    )
    decide(services.validate_enrolment, enrolment=first_copy, by=agent())
    with pytest.raises(services.DecisionRefused):
        services.validate_enrolment(enrolment=second_copy, by=agent())
    assert len(mailoutbox) == 3


def test_rejection_mails_the_reason_and_frees_the_number(decide, mailoutbox):
    enrolment = EnrolmentRequestFactory()
    reason = "Le RIB fourni n'est pas au nom du fournisseur."
    enrolment = decide(services.reject_enrolment, enrolment=enrolment, by=agent(), reason=f"  {reason}\n")
    assert enrolment.status == EnrolmentRequest.Status.REJECTED and enrolment.account is None
    (mail,) = mailoutbox
    assert mail.subject == f"Votre demande d'enrôlement {enrolment.number} n'a pas été retenue"
    assert reason in mail.body and reason in html.unescape(mail.alternatives[0][0])
    assert not services.active_request_exists(referencing_number=enrolment.referencing_number)
    assert not services.active_request_exists(siret=enrolment.siret)


def test_rejection_needs_a_reason(mailoutbox):
    enrolment = EnrolmentRequestFactory()
    with pytest.raises(services.DecisionRefused, match="motif du rejet est obligatoire"):
        services.reject_enrolment(enrolment=enrolment, by=agent(), reason="   ")
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentRequest.Status.SUBMITTED and mailoutbox == []


def test_every_change_is_kept_with_who_when_from_to_and_comment(decide):
    by = agent()
    enrolment = EnrolmentRequestFactory()
    services.start_review(enrolment=enrolment, by=by)
    decide(services.reject_enrolment, enrolment=enrolment, by=by, reason="Pièce d'identité illisible")
    history = [(c.from_status, c.to_status, c.by, c.comment) for c in StatusChange.objects.filter(enrolment=enrolment)]
    assert history == [
        ("", "submitted", None, ""),
        ("submitted", "in_review", by, ""),
        ("in_review", "rejected", by, "Pièce d'identité illisible"),
    ]
    assert all(c.at for c in StatusChange.objects.all())


def test_a_request_in_review_is_not_taken_again():
    enrolment = EnrolmentRequestFactory()
    services.start_review(enrolment=enrolment, by=agent())
    with pytest.raises(services.DecisionRefused):
        services.start_review(enrolment=enrolment, by=agent())


def test_nothing_is_sent_when_the_validation_rolls_back(mailoutbox, django_capture_on_commit_callbacks, monkeypatch):
    from accounts import services as account_services

    def broken(**kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr(account_services, "create_vendor_account", broken)
    enrolment = EnrolmentRequestFactory()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        services.validate_enrolment(enrolment=enrolment, by=agent())
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentRequest.Status.SUBMITTED
    assert OutboundEmail.objects.count() == 0 and mailoutbox == []
