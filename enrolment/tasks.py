from celery import shared_task

from enrolment import drafts


@shared_task
def purge_stale_drafts() -> int:
    """Remove the files of wizards abandoned for more than DRAFT_MAX_AGE_HOURS (SECURITY F13)."""
    return drafts.purge_stale_drafts()
