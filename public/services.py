from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from notifications.services import queue_email
from public.models import SupportRequest

DEFAULT_SUPPORT_EMAIL = "support@segurnum.localhost"
CONTACT_RATE_LIMIT = 5
CONTACT_RATE_WINDOW_SECONDS = 3600


def support_email() -> str:
    return getattr(settings, "SUPPORT_EMAIL", DEFAULT_SUPPORT_EMAIL)


def _rate_key(client_ip: str) -> str:
    return f"public:contact-rate:{client_ip or 'unknown'}"


def contact_rate_exceeded(*, client_ip: str) -> bool:
    """True once CONTACT_RATE_LIMIT messages were sent from this address in the current hour."""
    return cache.get(_rate_key(client_ip), 0) >= CONTACT_RATE_LIMIT


def record_contact_attempt(*, client_ip: str) -> None:
    key = _rate_key(client_ip)
    # add() starts the one-hour window on the first message; incr() keeps its expiry.
    cache.add(key, 0, CONTACT_RATE_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, CONTACT_RATE_WINDOW_SECONDS)


def submit_support_request(
    *, name: str, email: str, subject: str, message: str, enr_number: str = ""
) -> SupportRequest:
    """Store a support message and queue, in the same transaction, the acknowledgement to the
    sender and the notification to the support team (sent after the commit)."""
    with transaction.atomic():
        support_request = SupportRequest.objects.create(
            name=name, email=email, enr_number=enr_number.upper(), subject=subject, message=message
        )
        context = {
            "reference": support_request.reference,
            "name": support_request.name,
            "email": support_request.email,
            "enr_number": support_request.enr_number,
            "subject": support_request.get_subject_display(),
            "message": support_request.message,
            "created_at": support_request.created_at,
            "site_url": settings.SITE_URL,
            "admin_url": settings.SITE_URL + reverse("admin:public_supportrequest_change", args=[support_request.pk]),
        }
        queue_email(
            key=f"support:{support_request.pk}:ack",
            kind="support_ack",
            to=[support_request.email],
            template="support_ack",
            context=context,
        )
        queue_email(
            key=f"support:{support_request.pk}:notify",
            kind="support_notify",
            to=[support_email()],
            template="support_notify",
            context=context,
        )
    return support_request
