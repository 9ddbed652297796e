"""« J'ai oublié mon identifiant » and « J'ai oublié mon mot de passe » (R-ACC-4, R-MAIL-4,
SECURITY A3, A5, A6, A8, A10)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from freezegun import freeze_time

from accounts import services
from accounts.models import RecoveryRequest, User
from accounts.tasks import process_pending_recovery_requests
from notifications.models import OutboundEmail
from tests.accounts.conftest import STRONG, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _post(client, captured, url, data):
    with captured(execute=True):
        return client.post(url, data)


def _strip_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def _reset_link(message) -> str:
    return re.search(r"http://[^\s]+/connexion/reinitialisation/[^\s]+/", message.body).group(0)


# --- Identifiant ----------------------------------------------------------------------------


def test_forgot_identifiant_mails_it_and_answers_like_for_an_unknown_address(
    client, vendor, django_capture_on_commit_callbacks
):
    known = _post(
        client,
        django_capture_on_commit_callbacks,
        "/connexion/identifiant-oublie/",
        {"email": "MARIE@editeur.example.fr"},
    )
    unknown = _post(
        client, django_capture_on_commit_callbacks, "/connexion/identifiant-oublie/", {"email": "nobody@example.fr"}
    )
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert _strip_csrf(client.get(known["Location"])) == _strip_csrf(client.get(unknown["Location"]))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["marie@editeur.example.fr"]
    assert "Votre identifiant : marie.curie" in mail.outbox[0].body
    page = client.get(known["Location"]).content.decode()
    assert "Si un compte correspond à l&#x27;adresse électronique indiquée" in page or "Si un compte correspond" in page


def test_forgot_identifiant_bad_address_is_said_next_to_the_field(client):
    page = client.post("/connexion/identifiant-oublie/", {"email": "pas-une-adresse"}).content.decode()
    assert "Saisissez une adresse électronique valide" in page
    assert 'value="pas-une-adresse"' in page


def test_staff_accounts_are_not_recovered_here(client, django_capture_on_commit_callbacks):
    UserFactory(username="agent.asp", email="agent@asp.example.fr", is_staff=True)
    _post(
        client, django_capture_on_commit_callbacks, "/connexion/identifiant-oublie/", {"email": "agent@asp.example.fr"}
    )
    _post(client, django_capture_on_commit_callbacks, "/connexion/mot-de-passe-oublie/", {"identifiant": "agent.asp"})
    assert mail.outbox == []


# --- Password -------------------------------------------------------------------------------


def test_password_recovery_end_to_end(client, vendor, django_capture_on_commit_callbacks):
    # A locked-out vendor recovers access through the link and the secret question.
    for _ in range(10):
        sign_in(client, "marie.curie", "Mauvais1!")
    response = _post(
        client, django_capture_on_commit_callbacks, "/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"}
    )
    assert response["Location"] == "/connexion/demande-envoyee/?demande=password"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["marie@editeur.example.fr"]
    link = _reset_link(message)
    assert link.startswith("http://127.0.0.1:8000/")  # SITE_URL, not the Host header
    assert "valable 60 minutes" in message.body
    # The token is in the mail only, never in the database.
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert all(token not in row.body_text + row.body_html for row in OutboundEmail.objects.all())

    path = link.replace("http://127.0.0.1:8000", "")
    response = client.get(path)
    assert response.status_code == 302 and token not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"  # the address that carries the token
    page = client.get(response["Location"])
    # A page with a form: same-origin, or Chromium would post it with « Origin: null » (A11).
    assert page["Referrer-Policy"] == "same-origin"
    assert "Votre question secrète : Nom de ma première école ?" in page.content.decode()

    wrong = client.post(response["Location"], {"answer": "Victor Hugo"})
    assert "La réponse ne correspond pas" in wrong.content.decode()
    right = client.post(response["Location"], {"answer": "  JULES   férry "})
    assert right.status_code == 302
    new_password_page = client.get(right["Location"]).content.decode()
    assert "Nouveau mot de passe pour marie.curie" in new_password_page

    weak = client.post(right["Location"], {"new_password1": "court", "new_password2": "court"})
    assert "au minimum 8 caractères" in weak.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(right["Location"], {"new_password1": STRONG, "new_password2": STRONG})
    assert done["Location"] == "/connexion/"
    assert User.objects.get(pk=vendor.pk).check_password(STRONG)
    assert any("a été modifié" in m.subject for m in mail.outbox)
    # Single use: the link is void now.
    assert client.get(path).status_code == 400
    # Recovery lifted the lock set by the failed sign-ins.
    assert sign_in(client, "marie.curie", STRONG).status_code == 302


def test_unknown_identifiant_gets_the_same_answer_and_no_mail(client, vendor, django_capture_on_commit_callbacks):
    known = _post(
        client, django_capture_on_commit_callbacks, "/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"}
    )
    unknown = _post(
        client, django_capture_on_commit_callbacks, "/connexion/mot-de-passe-oublie/", {"identifiant": "inconnu"}
    )
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    assert RecoveryRequest.objects.count() == 2  # both recorded the same way


def test_the_question_is_asked_only_with_the_mailed_token(client, vendor):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(vendor.pk))
    assert client.get(f"/connexion/reinitialisation/{uid}/question/").status_code == 400
    assert client.post(f"/connexion/reinitialisation/{uid}/question/", {"answer": "Jules Ferry"}).status_code == 400
    assert (
        client.post(
            f"/connexion/reinitialisation/{uid}/nouveau-mot-de-passe/",
            {"new_password1": STRONG, "new_password2": STRONG},
        ).status_code
        == 400
    )
    assert client.get(f"/connexion/reinitialisation/{uid}/faux-jeton/").status_code == 400
    assert User.objects.get(pk=vendor.pk).check_password(vendor.raw_password)


def _open_link(client, captured, identifiant="marie.curie"):
    _post(client, captured, "/connexion/mot-de-passe-oublie/", {"identifiant": identifiant})
    path = _reset_link(mail.outbox[-1]).replace("http://127.0.0.1:8000", "")
    return path, client.get(path)["Location"]


def test_the_link_expires_after_one_hour(client, vendor, django_capture_on_commit_callbacks):
    with freeze_time("2026-11-26 10:00:00"):
        _post(
            client,
            django_capture_on_commit_callbacks,
            "/connexion/mot-de-passe-oublie/",
            {"identifiant": "marie.curie"},
        )
    path = _reset_link(mail.outbox[-1]).replace("http://127.0.0.1:8000", "")
    with freeze_time("2026-11-26 11:00:00"):
        assert client.get(path).status_code == 302
    with freeze_time("2026-11-26 11:00:01"):
        assert client.get(path).status_code == 400


def test_the_link_dies_with_an_email_change(client, vendor, django_capture_on_commit_callbacks):
    path, _ = _open_link(client, django_capture_on_commit_callbacks)
    User.objects.filter(pk=vendor.pk).update(email="nouvelle@editeur.example.fr")
    assert client.get(path).status_code == 400


def test_five_wrong_answers_lock_the_recovery(client, vendor, django_capture_on_commit_callbacks):
    _, question_url = _open_link(client, django_capture_on_commit_callbacks)
    for _ in range(4):
        assert "La réponse ne correspond pas" in client.post(question_url, {"answer": "non"}).content.decode()
    locked = client.post(question_url, {"answer": "non"}).content.decode()
    assert "Récupération du mot de passe bloquée" in locked
    # Even the right answer is refused now.
    assert (
        "Récupération du mot de passe bloquée" in client.post(question_url, {"answer": "Jules Ferry"}).content.decode()
    )
    assert User.objects.get(pk=vendor.pk).recovery_locked_until is not None


def test_an_account_without_secret_question_sets_its_password_from_the_link(
    client, new_vendor, django_capture_on_commit_callbacks
):
    """A temporary password that expired before the first connection: the link alone (the
    mailbox that received the temporary password) lets the vendor choose a password."""
    _, question_url = _open_link(client, django_capture_on_commit_callbacks, identifiant="eishiro.oda")
    response = client.get(question_url)
    assert response.status_code == 302 and response["Location"].endswith("/nouveau-mot-de-passe/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"new_password1": STRONG, "new_password2": STRONG})
    user = User.objects.get(pk=new_vendor.pk)
    assert user.check_password(STRONG) and not user.must_change_password
    sign_in(client, "eishiro.oda", STRONG)
    assert client.get("/espace/")["Location"] == "/espace/question-secrete/"


@override_settings(RECOVERY_RATE_LIMIT=5)
def test_sixth_request_in_an_hour_is_throttled_per_target(client, vendor):
    with freeze_time("2026-11-26 10:00:00"):
        for number in range(5):  # from five different addresses
            response = client.post(
                "/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"}, REMOTE_ADDR=f"10.0.0.{number}"
            )
            assert response.status_code == 302
        throttled = client.post(
            "/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"}, REMOTE_ADDR="10.9.9.9"
        )
        assert throttled.status_code == 429
        page = throttled.content.decode()
        assert "Trop de demandes" in page and 'value="marie.curie"' in page
        # An unknown identifiant is throttled identically.
        for _ in range(5):
            client.post("/connexion/mot-de-passe-oublie/", {"identifiant": "inconnu"}, REMOTE_ADDR="10.8.8.8")
        assert (
            client.post(
                "/connexion/mot-de-passe-oublie/", {"identifiant": "inconnu"}, REMOTE_ADDR="10.7.7.7"
            ).status_code
            == 429
        )
    with freeze_time("2026-11-26 11:00:01"):
        assert client.post("/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"}).status_code == 302


def test_sixth_request_in_an_hour_is_throttled_per_address(client):
    for number in range(5):
        response = client.post(
            "/connexion/identifiant-oublie/", {"email": f"p{number}@example.fr"}, REMOTE_ADDR="10.1.1.1"
        )
        assert response.status_code == 302
    assert (
        client.post("/connexion/identifiant-oublie/", {"email": "p9@example.fr"}, REMOTE_ADDR="10.1.1.1").status_code
        == 429
    )
    assert (
        client.post("/connexion/identifiant-oublie/", {"email": "p9@example.fr"}, REMOTE_ADDR="10.1.1.2").status_code
        == 302
    )


def test_a_request_left_by_a_broker_outage_is_processed_later(vendor, django_capture_on_commit_callbacks):
    recovery = RecoveryRequest.objects.create(kind="identifiant", target="marie@editeur.example.fr")
    RecoveryRequest.objects.filter(pk=recovery.pk).update(created_at=recovery.created_at - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert process_pending_recovery_requests() == 1
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert process_pending_recovery_requests() == 0  # processed once
    assert len(mail.outbox) == 1


def test_a_forged_host_is_refused(client, vendor):
    response = client.post("/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"}, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert RecoveryRequest.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("chosen", "typed"), [("Cœur de Lion", "coeur de lion"), ("Lætitia", "LAETITIA")])
def test_secret_answer_chosen_with_a_ligature_is_recognised_typed_in_two_letters(chosen, typed):
    # R-ACC-3: a vendor who chose « Cœur » types « coeur » on a keyboard without « œ ».
    user = UserFactory()
    services.set_secret_question(user=user, question="Surnom de mon grand-père ?", answer=chosen)
    assert services.check_secret_answer(user=user, answer=typed)
    assert not services.check_secret_answer(user=user, answer=typed[:-1])
