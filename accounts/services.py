"""Vendor accounts: created when an agent validates a request, with credentials sent by mail
in two separate messages (R-BO-2, R-MAIL-3, SECURITY A7)."""

import logging
import re
import secrets
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from notifications.models import OutboundEmail
from notifications.services import queue_email, render_at_delivery

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
_LIGATURES = str.maketrans(
    {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
)


def _ascii_words(value: str) -> str:
    value = value.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
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


def issue_credentials(*, enrolment, after: OutboundEmail | None = None) -> User:
    """Create the vendor's account for a validated request and queue its two credential mails,
    the identifiant first, then the temporary password: never both secrets in one mail."""
    user = create_vendor_account(
        first_name=enrolment.representative_first_name,
        last_name=enrolment.representative_last_name,
        email=enrolment.representative_email,
    )
    context = {"enrolment": enrolment, "user": user, "login_url": _absolute("/connexion/")}
    identifiant_mail = queue_email(
        key=f"enrolment:{enrolment.pk}:identifiant",
        kind="account_identifiant",
        to=[user.email],
        template="account_identifiant",
        context=context,
        enrolment=enrolment,
        after=after,
    )
    queue_email(
        key=f"enrolment:{enrolment.pk}:temporary_password",
        kind="account_temporary_password",
        to=[user.email],
        template="account_temporary_password",
        context={**context, "password": PASSWORD_NOT_STORED, "expires_at": None},
        enrolment=enrolment,
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


@render_at_delivery("account_temporary_password")
def _temporary_password_mail(email: OutboundEmail) -> tuple[str, str]:
    """Runs inside the locked delivery of the row: each sending (a retry, a « Renvoyer ») makes
    a fresh password, so the one in the vendor's mailbox is always the valid one, and its 72 hours
    start when it leaves."""
    user = email.enrolment.account
    password = set_temporary_password(user=user)
    context = {
        "enrolment": email.enrolment,
        "user": user,
        "password": password,
        "expires_at": timezone.localtime(user.temporary_password_expires_at),
        "login_url": _absolute("/connexion/"),
    }
    text = render_to_string("emails/account_temporary_password_body.txt", context)
    html = render_to_string("emails/account_temporary_password_body.html", context)
    return text, html


def _absolute(path: str) -> str:
    # Built from the configured address, never from a request's Host header (SECURITY A6).
    return settings.SITE_URL + path
