import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from notifications import services
from notifications.models import OutboundEmail

logger = logging.getLogger(__name__)

# Connection problems and SMTP 4xx are worth retrying; a refused recipient is not.
RETRYABLE = (
    ConnectionError,
    TimeoutError,
    OSError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
)


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # A 4xx on RCPT (greylisting, mailbox busy) is temporary; a 5xx refuses for good.
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, RETRYABLE)


def retry_countdown(retries: int) -> float:
    """Seconds before retry number ``retries + 1``: EMAIL_RETRY_BACKOFF × 2ⁿ, 10 minutes at most."""
    return min(600.0, settings.EMAIL_RETRY_BACKOFF * 2**retries)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def send_outbound_email(self, email_id: int) -> None:
    try:
        services.deliver(email_id)
    except Exception as exc:
        max_retries = settings.EMAIL_MAX_RETRIES
        if _is_retryable(exc) and self.request.retries < max_retries:
            countdown = retry_countdown(self.request.retries)
            raise self.retry(exc=exc, countdown=countdown, max_retries=max_retries) from exc
        services.mark_failed(email_id, f"{type(exc).__name__}: {exc}")
        logger.error("Courriel %s en échec définitif : %s", email_id, exc)


@shared_task
def requeue_pending_emails(older_than_seconds: int = 120) -> int:
    """Re-queue rows still pending after a while (a broker that was down loses nothing).

    A row that follows another one waits until that one is sent: the series keeps its order.
    """
    limit = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, created_at__lte=limit)
        .filter(Q(after__isnull=True) | Q(after__status=OutboundEmail.Status.SENT))
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:500]
    )
    for email_id in ids:
        services.enqueue_delivery(email_id)
    return len(ids)
