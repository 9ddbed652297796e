"""« Accéder à mon espace personnel », the forced first connection, lockout and sessions
(R-ACC-1..3, R-ACC-5, SECURITY A2, A3, A4, A7, A9, S1–S3)."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from freezegun import freeze_time

from accounts.models import User
from notifications.models import OutboundEmail
from tests.accounts.conftest import STRONG, sign_in
from tests.factories import UserFactory, agent

pytestmark = pytest.mark.django_db
GENERIC = "Identifiant ou mot de passe incorrect."


def test_login_page_has_the_guide_labels_and_links(client):
    page = client.get("/connexion/").content.decode()
    for text in (
        "Accéder à mon espace personnel",
        "Votre identifiant",
        "Votre mot de passe",
        ">Valider</button>",
        "J'ai oublié mon identifiant",
        "J'ai oublié mon mot de passe",
    ):
        assert text in page
    assert 'autocomplete="current-password"' in page


def test_se_connecter_leads_to_the_login_page(client):
    assert 'href="/connexion/"' in client.get("/").content.decode()


def test_wrong_password_and_unknown_identifiant_read_the_same(client, vendor):
    wrong = sign_in(client, "marie.curie", "Pas1Bon!mot")
    unknown = sign_in(client, "personne.inconnue", "Pas1Bon!mot")
    assert wrong.status_code == unknown.status_code == 200
    assert GENERIC in wrong.content.decode()
    assert wrong.content.decode().replace("marie.curie", "X") == unknown.content.decode().replace(
        "personne.inconnue", "X"
    ).replace(_csrf(unknown), _csrf(wrong))
    assert "_auth_user_id" not in client.session


def _csrf(response) -> str:
    content = response.content.decode()
    start = content.index('name="csrfmiddlewaretoken" value="') + len('name="csrfmiddlewaretoken" value="')
    return content[start : content.index('"', start)]


def test_the_typed_identifiant_is_kept_after_a_failure(client, vendor):
    page = sign_in(client, "marie.curie", "mauvais").content.decode()
    assert 'value="marie.curie"' in page
    assert "aria-invalid" in page or GENERIC in page


def test_identifiant_is_not_case_sensitive(client, vendor):
    response = sign_in(client, "  Marie.Curie ", vendor.raw_password)
    assert response.status_code == 302 and response["Location"] == "/espace/"


def test_session_id_changes_at_login_and_logout_kills_it_on_the_server(client, vendor):
    client.get("/connexion/")
    client.session.save()
    before = client.cookies["sessionid"].value
    sign_in(client, "marie.curie", vendor.raw_password)
    after = client.cookies["sessionid"].value
    assert before != after

    stolen = client.cookies["sessionid"].value
    response = client.post("/deconnexion/")
    assert response.status_code == 302 and response["Location"] == "/"
    client.cookies["sessionid"] = stolen  # replaying the old cookie
    assert client.get("/espace/")["Location"].startswith("/connexion/")


def test_logout_is_post_only(client, vendor):
    client.force_login(vendor)
    assert client.get("/deconnexion/").status_code == 405
    assert "_auth_user_id" in client.session


def test_staff_signing_in_here_lands_in_the_back_office(client):
    agent(username="camille.agent")
    response = sign_in(client, "camille.agent", "Mot2passe!Solide")
    assert response["Location"] == "/admin/"


# --- First connection ---------------------------------------------------------------------


def test_first_login_forces_the_password_change_everywhere(client, new_vendor):
    response = sign_in(client, "eishiro.oda", new_vendor.temporary_password)
    assert response.status_code == 302
    for url in ("/espace/", "/espace/enrolement/", "/espace/mon-compte/", "/", "/aide/questions-frequentes/"):
        redirected = client.get(url)
        assert redirected.status_code == 302, url
        assert redirected["Location"] == "/espace/changement-mot-de-passe/", url
    page = client.get("/espace/changement-mot-de-passe/").content.decode()
    assert "Changement du mot de passe pour eishiro.oda" in page
    for label in (
        "Entrez l&#x27;ancien mot de passe",
        "Entrez le nouveau mot de passe",
        "Confirmez le nouveau mot de passe",
    ):
        assert label in page
    assert ">Changement du mot de passe</button>" in page


def test_first_connection_end_to_end(client, new_vendor, django_capture_on_commit_callbacks):
    sign_in(client, "eishiro.oda", new_vendor.temporary_password)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/espace/changement-mot-de-passe/",
            {"old_password": new_vendor.temporary_password, "new_password1": STRONG, "new_password2": STRONG},
        )
    assert response["Location"] == "/espace/question-secrete/"
    # Still signed in on this browser after the change.
    assert client.get("/espace/")["Location"] == "/espace/question-secrete/"
    page = client.get("/espace/question-secrete/").content.decode()
    assert "Positionnement de la question secrète pour eishiro.oda" in page
    assert "Entrez la question secrète" in page and "Entrez la réponse" in page and ">Envoyer</button>" in page

    response = client.post("/espace/question-secrete/", {"question": "Ville de naissance ?", "answer": "Saint-Étienne"})
    assert response["Location"] == "/espace/"
    user = User.objects.get(pk=new_vendor.pk)
    assert not user.must_change_password and user.temporary_password_expires_at is None
    assert user.check_password(STRONG)
    # Hashed, never the answer (A4).
    assert "etienne" not in user.secret_answer.lower()
    assert identify_hasher(user.secret_answer).algorithm in {"pbkdf2_sha256", "argon2"}
    # The notification of the change, without any secret (A9).
    notice = [m for m in mail.outbox if "a été modifié" in m.subject]
    assert len(notice) == 1 and notice[0].to == ["eishiro.oda@editeur.example.fr"]
    assert STRONG not in notice[0].body and "eishiro.oda" in notice[0].body


def test_new_password_must_differ_from_the_temporary_one(client, new_vendor):
    sign_in(client, "eishiro.oda", new_vendor.temporary_password)
    temporary = new_vendor.temporary_password
    page = client.post(
        "/espace/changement-mot-de-passe/",
        {"old_password": temporary, "new_password1": temporary, "new_password2": temporary},
    ).content.decode()
    assert "Le nouveau mot de passe doit être différent de l&#x27;ancien." in page
    assert User.objects.get(pk=new_vendor.pk).must_change_password


def test_change_requires_the_old_password_and_names_each_broken_rule(client, new_vendor):
    sign_in(client, "eishiro.oda", new_vendor.temporary_password)
    page = client.post(
        "/espace/changement-mot-de-passe/",
        {"old_password": "faux", "new_password1": "éte", "new_password2": "autre"},
    ).content.decode()
    assert "L&#x27;ancien mot de passe est incorrect." in page
    assert "au minimum 8 caractères" in page
    assert "au moins 1 chiffre" in page
    assert "caractères accentués" in page
    assert 'id="error-summary"' in page


def test_expired_temporary_password_is_refused(client, new_vendor):
    with freeze_time(new_vendor.temporary_password_expires_at + timedelta(seconds=1)):
        page = sign_in(client, "eishiro.oda", new_vendor.temporary_password).content.decode()
    assert "Votre mot de passe provisoire a expiré" in page
    assert "_auth_user_id" not in client.session
    with freeze_time(new_vendor.temporary_password_expires_at - timedelta(seconds=1)):
        assert sign_in(client, "eishiro.oda", new_vendor.temporary_password).status_code == 302


def test_password_change_ends_the_other_sessions(client, vendor):
    other = type(client)()
    other.force_login(vendor)
    assert other.get("/espace/mon-compte/").status_code == 200
    client.force_login(vendor)
    client.post(
        "/espace/changement-mot-de-passe/",
        {"old_password": vendor.raw_password, "new_password1": STRONG, "new_password2": STRONG},
    )
    assert client.get("/espace/mon-compte/").status_code == 200
    assert other.get("/espace/mon-compte/")["Location"].startswith("/connexion/")


def test_changing_the_secret_question_asks_for_the_password(client, vendor):
    client.force_login(vendor)
    page = client.post(
        "/espace/question-secrete/", {"question": "Mon premier chat ?", "answer": "Minou", "password": "faux"}
    ).content.decode()
    assert "Le mot de passe est incorrect." in page
    assert 'value="Mon premier chat ?"' in page  # nothing typed is lost
    response = client.post(
        "/espace/question-secrete/",
        {"question": "Mon premier chat ?", "answer": "Minou", "password": vendor.raw_password},
    )
    assert response["Location"] == "/espace/mon-compte/"
    assert User.objects.get(pk=vendor.pk).secret_question == "Mon premier chat ?"


# --- Lockout (A2) -------------------------------------------------------------------------


def test_ten_failures_lock_the_identifiant_with_the_same_message(client, vendor, settings):
    for _ in range(10):
        sign_in(client, "marie.curie", "Mauvais1!")
    locked = sign_in(client, "marie.curie", vendor.raw_password)
    assert locked.status_code == 200
    assert GENERIC in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # An unknown identifiant locked the same way answers the same.
    for _ in range(11):
        unknown = sign_in(client, "personne.inconnue", "Mauvais1!")
    assert unknown.status_code == 200 and GENERIC in unknown.content.decode()


def test_nine_failures_then_success_resets_the_count(client, vendor):
    for _ in range(9):
        sign_in(client, "marie.curie", "Mauvais1!")
    assert sign_in(client, "marie.curie", vendor.raw_password).status_code == 302
    client.post("/deconnexion/")
    for _ in range(9):
        sign_in(client, "marie.curie", "Mauvais1!")
    assert sign_in(client, "marie.curie", vendor.raw_password).status_code == 302


def test_lock_lifts_after_the_cool_off(client, vendor, settings):
    with freeze_time("2026-11-26 10:00:00"):
        for _ in range(10):
            sign_in(client, "marie.curie", "Mauvais1!")
        assert sign_in(client, "marie.curie", vendor.raw_password).status_code == 200
    with freeze_time("2026-11-26 10:31:00"):
        assert sign_in(client, "marie.curie", vendor.raw_password).status_code == 302


def test_an_agent_unlocks_the_account_in_the_admin(client, vendor):
    for _ in range(10):
        sign_in(client, "marie.curie", "Mauvais1!")
    staff = type(client)()
    staff.force_login(agent())
    response = staff.post(
        "/admin/accounts/user/", {"action": "unlock_accounts", "_selected_action": [vendor.pk]}, follow=True
    )
    assert "débloqué" in response.content.decode()
    assert sign_in(client, "marie.curie", vendor.raw_password).status_code == 302


# --- Sessions (S2) ------------------------------------------------------------------------


def test_idle_timeout_after_30_minutes(client, vendor):
    with freeze_time("2026-11-26 09:00:00") as frozen:
        client.force_login(vendor)
        assert client.get("/espace/mon-compte/").status_code == 200
        frozen.tick(timedelta(minutes=29))
        assert client.get("/espace/mon-compte/").status_code == 200
        frozen.tick(timedelta(minutes=29))
        assert client.get("/espace/mon-compte/").status_code == 200
        frozen.tick(timedelta(minutes=31))
        response = client.get("/espace/mon-compte/")
        assert response["Location"] == "/connexion/?next=%2Fespace%2Fmon-compte%2F"
        assert "Votre session a expiré" in client.get(response["Location"]).content.decode()


def test_absolute_timeout_after_12_hours(client, vendor):
    with freeze_time("2026-11-26 08:00:00") as frozen:
        client.force_login(vendor)
        minutes = 0
        while minutes < 14 * 60:  # active every 25 minutes, all day long
            frozen.tick(timedelta(minutes=25))
            minutes += 25
            if client.get("/espace/mon-compte/").status_code != 200:
                break
        assert minutes == 725  # in at 12 h 00 min (700 min), out at 12 h 05 min


def test_cookies_are_httponly_and_lax(client, vendor):
    response = sign_in(client, "marie.curie", vendor.raw_password)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_private_pages_are_never_cached(client, vendor):
    client.force_login(vendor)
    assert "no-store" in client.get("/espace/mon-compte/")["Cache-Control"]
    assert "no-store" in client.get("/connexion/")["Cache-Control"]


def test_password_hash_format_in_database(vendor):
    stored = User.objects.get(pk=vendor.pk).password
    assert stored.startswith(("pbkdf2_sha256$", "argon2$argon2id$"))


def test_no_email_row_holds_a_password(client, new_vendor, django_capture_on_commit_callbacks):
    sign_in(client, "eishiro.oda", new_vendor.temporary_password)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/espace/changement-mot-de-passe/",
            {"old_password": new_vendor.temporary_password, "new_password1": STRONG, "new_password2": STRONG},
        )
    for row in OutboundEmail.objects.all():
        assert STRONG not in row.body_text + row.body_html


def test_user_factory_vendor_is_ready(vendor):
    assert UserFactory().has_secret_question


def test_password_pages_sit_in_the_portal_menu_once_the_first_connection_is_done(client, vendor, new_vendor):
    client.force_login(vendor)
    for url in ("/espace/changement-mot-de-passe/", "/espace/question-secrete/"):
        page = client.get(url).content.decode()
        assert 'aria-label="Menu principal"' in page and "Marie CURIE Fournisseur SAS" in page
    first = type(client)()
    sign_in(first, "eishiro.oda", new_vendor.temporary_password)
    assert 'aria-label="Menu principal"' not in first.get("/espace/changement-mot-de-passe/").content.decode()
