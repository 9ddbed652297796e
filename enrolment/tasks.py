from datetime import timedelta

from captcha.models import CaptchaStore
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from enrolment import drafts, versions
from enrolment.models import AccessRecord


@shared_task
def purge_stale_drafts() -> int:
    """Remove the files of wizards abandoned for more than DRAFT_MAX_AGE_HOURS (SECURITY F13)."""
    return drafts.purge_stale_drafts()


@shared_task
def purge_expired_captchas() -> int:
    """Delete the captcha codes past their expiration (R-PERF-3: not on every check)."""
    deleted, _ = CaptchaStore.objects.filter(expiration__lte=timezone.now()).delete()
    return deleted


@shared_task
def purge_old_access_records() -> int:
    """Forget consultations older than ACCESS_LOG_RETENTION_DAYS (SECURITY P3)."""
    limit = timezone.now() - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    deleted, _ = AccessRecord.objects.filter(at__lt=limit).delete()
    return deleted


@shared_task
def remind_corrections() -> int:
    """R-AFT-1: remind the vendors whose request is « A compléter » since CORRECTION_REMINDER_DAYS."""
    return versions.send_correction_reminders()
