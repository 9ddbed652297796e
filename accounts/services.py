"""Vendor accounts: created when an agent validates a request, with credentials sent by mail
in two separate messages (R-BO-2, R-MAIL-3, SECURITY A7)."""

import logging
import re
import secrets
import uuid
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import RecoveryRequest, User
from notifications.models import OutboundEmail
from notifications.services import queue_email
from segurnum import after_response
from segurnum.text import fold, squash

logger = logging.getLogger(__name__)

IDENTIFIANT_MAX_LENGTH = 30
TEMPORARY_PASSWORD_LENGTH = 12
# No look-alike characters (0/O, 1/l/I) in a password read from a mail and typed by hand.
_LOWER = "abcdefghijkmnopqrstuvwxyz"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"
_SPECIAL = ".,;?!:%#"  # the guide's examples of special characters
PASSWORD_NOT_STORED = "(communiqué dans le courriel envoyé, jamais enregistré)"  # noqa: S105  (a placeholder)


# Letters that Unicode does not decompose into ASCII ones.
def _ascii_words(value: str) -> str:
    decomposed = fold(value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", decomposed.lower()).strip("-")


def identifiant_base(first_name: str, last_name: str) -> str:
    """A readable identifiant: « prenom.nom » in lower-case ASCII (« Élise Dupont-Gaëlle » →
    « elise.dupont-gaelle »)."""
    parts = [part for part in (_ascii_words(first_name), _ascii_words(last_name)) if part]
    return ".".join(parts)[: IDENTIFIANT_MAX_LENGTH - 3].strip(".-") or "fournisseur"


def _free_identifiant(base: str) -> str:
    taken = {
        name.lower() for name in User.objects.filter(username__istartswith=base).values_list("username", flat=True)
    }
    if base not in taken:
        return base
    suffix = 2
    while f"{base}{suffix}" in taken:
        suffix += 1
    return f"{base}{suffix}"


def generate_temporary_password(length: int = TEMPORARY_PASSWORD_LENGTH) -> str:
    """A password from the operating system's CSPRNG that satisfies the portal's own rules
    (lower and upper case, a digit, a special character, ASCII only)."""
    pools = (_LOWER, _UPPER, _DIGITS, _SPECIAL)
    everything = "".join(pools)
    characters = [secrets.choice(pool) for pool in pools]
    characters += [secrets.choice(everything) for _ in range(length - len(pools))]
    secrets.SystemRandom().shuffle(characters)
    return "".join(characters)


def create_vendor_account(*, first_name: str, last_name: str, email: str) -> User:
    """A vendor account with a unique, readable identifiant and no usable password yet: the
    temporary password is made when its mail leaves (see ``_temporary_password_mail``)."""
    base = identifiant_base(first_name, last_name)
    for _ in range(20):
        user = User(
            username=_free_identifiant(base),
            first_name=first_name,
            last_name=last_name,
            email=email,
            must_change_password=True,
        )
        user.set_unusable_password()
        try:
            with transaction.atomic():  # a savepoint: a concurrent taker of the name only costs a retry
                user.save()
        except IntegrityError:
            continue
        return user
    raise RuntimeError(f"Aucun identifiant libre trouvé à partir de « {base} »")


def issue_credentials(
    *,
    first_name: str,
    last_name: str,
    email: str,
    number: str,
    enrolment_id: int,
    after: OutboundEmail | None = None,
    key: str = "",
) -> User:
    """Create the account of a validated request's representative and queue its two credential
    mails, the identifiant first, then the temporary password: never both secrets in one mail
    (R-MAIL-3). ``number`` (ENR…) is recalled in the mails; they are filed under the request.

    ``key`` prefixes the mails' outbox keys: a new representative validated by a modification
    (R-AFT-2) gets its own series, not the original's."""
    key = key or f"enrolment:{enrolment_id}"
    user = create_vendor_account(first_name=first_name, last_name=last_name, email=email)
    context = {"number": number, "user": user, "login_url": _absolute(reverse("accounts:login"))}
    identifiant_mail = queue_email(
        key=f"{key}:identifiant",
        kind="account_identifiant",
        to=[user.email],
        template="account_identifiant",
        context=context,
        enrolment_id=enrolment_id,
        account=user,
        after=after,
    )
    queue_email(
        key=f"{key}:temporary_password",
        kind="account_temporary_password",
        to=[user.email],
        template="account_temporary_password",
        context={**context, "password": PASSWORD_NOT_STORED, "expires_at": None},
        enrolment_id=enrolment_id,
        account=user,
        after=identifiant_mail,
    )
    return user


def set_temporary_password(*, user: User) -> str:
    """Give the user a new temporary password, valid TEMPORARY_PASSWORD_VALIDITY and to be
    changed at first login. Returns it in clear, for the mail only."""
    password = generate_temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.temporary_password_expires_at = timezone.now() + timedelta(hours=settings.TEMPORARY_PASSWORD_VALIDITY_HOURS)
    user.save(update_fields=["password", "must_change_password", "temporary_password_expires_at"])
    return password


def _temporary_password_mail(email: OutboundEmail) -> tuple[str, str]:
    """Runs inside the locked delivery of the row: each sending (a retry, a « Renvoyer ») makes
    a fresh password, so the one in the vendor's mailbox is always the valid one, and its 72 hours
    start when it leaves."""
    # Rows queued before they were filed under the account carry only their request.
    user = email.account or email.enrolment.account
    password = set_temporary_password(user=user)
    context = {
        "number": email.enrolment.number,
        "user": user,
        "password": password,
        "expires_at": timezone.localtime(user.temporary_password_expires_at),
        "login_url": _absolute(reverse("accounts:login")),
    }
    text = render_to_string("emails/account_temporary_password_body.txt", context)
    html = render_to_string("emails/account_temporary_password_body.html", context)
    return text, html


def _absolute(path: str) -> str:
    # Built from the configured address, never from a request's Host header (SECURITY A6).
    return settings.SITE_URL + path


# --- First connection, password and secret question (R-ACC-2, R-ACC-3) ---------------------


def normalise_answer(answer: str) -> str:
    """The secret answer as compared: case, accents and spacing do not matter
    (« Jules  FERRY » = « jules ferry » = « Jules Férry »)."""
    return squash(fold(answer).casefold())


def set_secret_question(*, user: User, question: str, answer: str) -> None:
    """Store the question and the answer's hash (never the answer itself, SECURITY A4)."""
    user.secret_question = " ".join(question.split())
    user.secret_answer = make_password(normalise_answer(answer))
    user.secret_answer_failures = 0
    user.save(update_fields=["secret_question", "secret_answer", "secret_answer_failures"])
    logger.info("Question secrète positionnée pour le compte %s", user.pk)


def recovery_locked(user: User) -> bool:
    return bool(user.recovery_locked_until and user.recovery_locked_until > timezone.now())


def check_secret_answer(*, user: User, answer: str) -> bool:
    """One try at the secret question. After SECRET_ANSWER_MAX_FAILURES wrong answers in a row
    the recovery is locked for RECOVERY_LOCK_HOURS (SECURITY A8)."""
    with transaction.atomic():
        locked_user = User.objects.select_for_update().get(pk=user.pk)
        if recovery_locked(locked_user):
            return False
        if locked_user.secret_answer and check_password(normalise_answer(answer), locked_user.secret_answer):
            locked_user.secret_answer_failures = 0
            locked_user.save(update_fields=["secret_answer_failures"])
            return True
        locked_user.secret_answer_failures += 1
        if locked_user.secret_answer_failures >= settings.SECRET_ANSWER_MAX_FAILURES:
            locked_user.recovery_locked_until = timezone.now() + timedelta(hours=settings.RECOVERY_LOCK_HOURS)
            locked_user.secret_answer_failures = 0
            logger.warning("Récupération du compte %s bloquée après des réponses erronées", locked_user.pk)
        locked_user.save(update_fields=["secret_answer_failures", "recovery_locked_until"])
    user.refresh_from_db(fields=["secret_answer_failures", "recovery_locked_until"])
    return False


def change_password(*, user: User, password: str) -> None:
    """Set a new password chosen by the vendor (first connection, « Mon compte » or recovery).

    The temporary password is void from now on, the login lock and the recovery lock are lifted,
    every other session of the user ends (the session hash changes with the password, SECURITY
    S3), and a notification without any secret is mailed (A9).
    """
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = False
        user.temporary_password_expires_at = None
        user.recovery_locked_until = None
        user.secret_answer_failures = 0
        user.save(
            update_fields=[
                "password",
                "must_change_password",
                "temporary_password_expires_at",
                "recovery_locked_until",
                "secret_answer_failures",
            ]
        )
        queue_email(
            key=f"account:{user.pk}:password_changed:{uuid.uuid4()}",
            kind="account_password_changed",
            to=[user.email],
            template="account_password_changed",
            context={"user": user, "changed_at": timezone.localtime(), "site_url": settings.SITE_URL},
            account=user,
        )
    unlock_login(user=user)
    logger.info("Mot de passe modifié pour le compte %s", user.pk)


def unlock_login(*, user: User) -> None:
    """Lift the lock set after repeated failed sign-ins (django-axes) and the recovery lock."""
    from axes.utils import reset

    reset(username=user.username.lower())
    User.objects.filter(pk=user.pk).update(recovery_locked_until=None, secret_answer_failures=0)


# --- Recovery (R-ACC-4): no enumeration, rate-limited ---------------------------------------


def normalise_target(value: str) -> str:
    return value.strip().lower()[:254]


def recovery_throttled(*, kind: str, target: str, client_ip: str | None) -> bool:
    """True once RECOVERY_RATE_LIMIT requests of this kind were made in the last hour for this
    target or from this address (SECURITY A10). Counted in the database: every web process and
    every machine sees the same figures."""
    since = timezone.now() - timedelta(hours=1)
    recent = RecoveryRequest.objects.filter(kind=kind, created_at__gte=since)
    limit = settings.RECOVERY_RATE_LIMIT
    if recent.filter(target=normalise_target(target)).count() >= limit:
        return True
    return bool(client_ip) and recent.filter(client_ip=client_ip).count() >= limit


def request_recovery(*, kind: str, target: str, client_ip: str | None) -> RecoveryRequest:
    """Record the request; a worker looks the account up and mails it after the commit."""
    with transaction.atomic():
        recovery = RecoveryRequest.objects.create(kind=kind, target=normalise_target(target), client_ip=client_ip)
        transaction.on_commit(lambda: enqueue_recovery(recovery.pk))
    return recovery


def enqueue_recovery(recovery_id: int) -> None:
    """Hand the demand to a worker once the response has left (SECURITY A13).

    Without a broker (eager Celery, the embedded default) the task would run right here: the
    look-up, and the mail of an existing account, would make the answer slower for an account that
    exists. Deferred, the request only records the demand, whatever the configuration.
    """
    after_response.defer(_publish_recovery, recovery_id)


def _publish_recovery(recovery_id: int) -> None:
    from accounts.tasks import process_recovery_request  # tasks imports this module

    try:
        process_recovery_request.apply_async(args=[recovery_id], retry=False)
    except Exception:
        logger.warning("Demande de récupération %s laissée en attente : file indisponible", recovery_id, exc_info=True)


def process_recovery_request(*, recovery_id: int) -> bool:
    """Mail the identifiant, or the recovery link, if an account matches. At most once per
    request; returns True when a mail was queued."""
    with transaction.atomic():
        recovery = RecoveryRequest.objects.select_for_update().get(pk=recovery_id)
        if recovery.processed_at is not None:
            return False
        recovery.processed_at = timezone.now()
        recovery.save(update_fields=["processed_at"])
        if recovery.kind == RecoveryRequest.Kind.IDENTIFIANT:
            users = list(User.objects.filter(email__iexact=recovery.target, is_active=True, is_staff=False))
            for user in users:
                queue_email(
                    key=f"recovery:{recovery.pk}:identifiant:{user.pk}",
                    kind="account_identifiant_reminder",
                    to=[user.email],
                    template="account_identifiant_reminder",
                    context={"user": user, "login_url": _absolute(reverse("accounts:login"))},
                    account=user,
                )
            return bool(users)
        user = User.objects.filter(username__iexact=recovery.target, is_active=True, is_staff=False).first()
        if user is None or not user.email:
            return False
        queue_email(
            key=f"recovery:{recovery.pk}:password",
            kind="account_password_reset",
            to=[user.email],
            template="account_password_reset",
            context={"user": user, "reset_url": RESET_URL_NOT_STORED, "valid_minutes": _reset_minutes()},
            account=user,
        )
    return True


RESET_URL_NOT_STORED = "(lien communiqué dans le courriel envoyé, jamais enregistré)"


def _reset_minutes() -> int:
    return settings.PASSWORD_RESET_TIMEOUT // 60


def reset_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return _absolute(reverse("accounts:reset_link", kwargs={"uidb64": uid, "token": token}))


def _password_reset_mail(email: OutboundEmail) -> tuple[str, str]:
    """The link is made when the mail leaves: its hour of validity starts then, and the token
    (as good as a password for an hour) never reaches the database."""
    context = {"user": email.account, "reset_url": reset_url(email.account), "valid_minutes": _reset_minutes()}
    text = render_to_string("emails/account_password_reset_body.txt", context)
    html = render_to_string("emails/account_password_reset_body.html", context)
    return text, html


def purge_recovery_requests(*, older_than_days: int = 30) -> int:
    deleted, _ = RecoveryRequest.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=older_than_days)
    ).delete()
    return deleted


def purge_expired_sessions() -> None:
    """Delete the sessions past their expiry date (SECURITY P6): sign-ins, and the data of the
    wizards abandoned in them (names, emails, IBANs). Django only ever deletes a session that is
    used again; an abandoned one stays until this purge."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


# The mails whose secret is made when they leave (SECURITY A7, P1), registered with the outbox by
# AccountsConfig.ready().
DELIVERY_RENDERERS = {
    "account_temporary_password": _temporary_password_mail,
    "account_password_reset": _password_reset_mail,
}
