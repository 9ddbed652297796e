import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import OutboundEmail
from segurnum import after_response

logger = logging.getLogger(__name__)

# Kinds whose body holds a secret made at the moment of sending (a temporary password): the row
# keeps a version without it, and the registered function gives the text and HTML actually sent.
# The secret is never written to the database (SECURITY A7, P1).
DeliveryRenderer = Callable[[OutboundEmail], tuple[str, str]]
_renderers_at_delivery: dict[str, DeliveryRenderer] = {}


# Kinds that carry files made at the moment of sending from stored data (the deposit receipt):
# nothing is kept in the row, and a row sent again gives the same files.
Attachment = tuple[str, bytes, str]  # file name, content, MIME type
AttachmentMaker = Callable[[OutboundEmail], list[Attachment]]
_attachments_at_delivery: dict[str, AttachmentMaker] = {}


def register_renderers(renderers: dict[str, DeliveryRenderer]) -> None:
    """Called by the AppConfig.ready() of the app that owns the kinds (accounts)."""
    _renderers_at_delivery.update(renderers)


def register_attachments(makers: dict[str, AttachmentMaker]) -> None:
    """Called by the AppConfig.ready() of the app that makes the files (tracking)."""
    _attachments_at_delivery.update(makers)


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML of ``templates/emails/<template>_*``."""
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    text = render_to_string(f"emails/{template}_body.txt", context)
    html = render_to_string(f"emails/{template}_body.html", context)
    return subject, text, html


def queue_email(
    *,
    key: str,
    kind: str,
    to: Iterable[str],
    template: str,
    context: dict[str, Any],
    enrolment=None,
    enrolment_id: int | None = None,
    account=None,
    after: OutboundEmail | None = None,
    new_event: bool = False,
) -> OutboundEmail:
    """Write an outbox row in the caller's transaction; its sending is queued after the commit,
    after the response within a web request (``after_response.after_commit``).

    A second call with the same key returns the existing row: one event, one email. With
    ``after``, the row leaves only once that one is sent, so a series arrives in order. The row
    is filed under its request (``enrolment`` or ``enrolment_id``) and its account, for the back
    office and support. ``new_event``: the key names an object created in the caller's own
    transaction, so no row can hold it yet: one INSERT, without the look-up and its savepoint
    (R-PERF-3).
    """
    subject, text, html = render_email(template, context)
    recipients = sorted({address.strip().lower() for address in to if address})
    values = {
        "kind": kind,
        "to": recipients,
        "subject": subject,
        "body_text": text,
        "body_html": html,
        "enrolment_id": enrolment.pk if enrolment is not None else enrolment_id,
        "account": account,
        "after": after,
    }
    if new_event:
        email, created = OutboundEmail.objects.create(key=key, **values), True
    else:
        email, created = OutboundEmail.objects.get_or_create(key=key, defaults=values)
    if created and after is None:
        after_response.after_commit(enqueue_delivery, email.pk)
    return email


def enqueue_delivery(email_id: int) -> None:
    """Hand the row to a worker. A broker that is down is logged, not raised: the row stays
    pending and the periodic re-queue picks it up."""
    from notifications.tasks import send_outbound_email  # tasks imports this module

    try:
        send_outbound_email.apply_async(args=[email_id], retry=False)
    except Exception:
        logger.warning("Courriel %s laissé en attente : file de messages indisponible", email_id, exc_info=True)


def deliver(email_id: int) -> bool:
    """Send one outbox row, at most once. Returns True when this call sent it.

    The row is locked while it is sent, so two deliveries of the same row never both send; a row
    already sent, or waiting for the one it follows, is left alone. A failure is recorded on the
    row (attempts, last error) and raised again for the task to decide whether to retry. Once
    sent, the rows that follow it are queued.
    """
    failure: Exception | None = None
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update(of=("self",)).select_related("after").get(pk=email_id)
        if email.status == OutboundEmail.Status.SENT:
            return False
        if email.after is not None and email.after.status != OutboundEmail.Status.SENT:
            return False
        email.attempts += 1
        try:
            renderer = _renderers_at_delivery.get(email.kind)
            text, html = renderer(email) if renderer else (email.body_text, email.body_html)
            message = EmailMultiAlternatives(subject=email.subject, body=text, to=email.to)
            if html:
                message.attach_alternative(html, "text/html")
            attachments = _attachments_at_delivery.get(email.kind)
            for filename, content, mimetype in attachments(email) if attachments else []:
                message.attach(filename, content, mimetype)
            message.send(fail_silently=False)
        except Exception as exc:
            failure = exc
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            email.save(update_fields=["attempts", "last_error"])
        else:
            email.status = OutboundEmail.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
            email.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    if failure is not None:
        raise failure
    for follower_id in email.followers.filter(status=OutboundEmail.Status.PENDING).values_list("pk", flat=True):
        enqueue_delivery(follower_id)
    return True


def resend(*, email_id: int) -> bool:
    """« Renvoyer »: a failed (or stuck pending) row goes back to the queue. A sent row is never
    sent again from here: one event, one mail. Returns False when the row was already sent."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(pk=email_id)
        if email.status == OutboundEmail.Status.SENT:
            return False
        email.status = OutboundEmail.Status.PENDING
        email.save(update_fields=["status"])
        after_response.after_commit(enqueue_delivery, email_id)
    logger.info("Courriel %s remis en file d'envoi", email_id)
    return True


def mark_failed(email_id: int, error: str) -> None:
    OutboundEmail.objects.filter(pk=email_id).exclude(status=OutboundEmail.Status.SENT).update(
        status=OutboundEmail.Status.FAILED, last_error=error[:2000]
    )
