"""The periodic tasks where no Celery beat runs (SECURITY F14, P6).

In production beat queues CELERY_BEAT_SCHEDULE (drafts and sessions purges, mail re-queue…). The
embedded default (``make run``: eager Celery, no broker, no beat) has no scheduler: with
HOUSEKEEPING_IN_WEB, the web process runs the same schedule itself, after the responses it sends
(``segurnum.after_response``). A task runs at most once per its beat interval; the check itself at
most once a minute. The marks live in the cache, so with a shared cache several processes share
them too.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 60


def interval_seconds(schedule) -> float | None:
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    return None  # a crontab: left to beat


def run_if_due() -> list[str]:
    """Run the periodic tasks whose interval has passed; returns their names."""
    if not settings.HOUSEKEEPING_IN_WEB:
        return []
    try:
        if not cache.add("housekeeping:check", 1, CHECK_EVERY_SECONDS):
            return []
        due = [
            (name, entry)
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
            if (interval := interval_seconds(entry["schedule"]))
            and cache.add(f"housekeeping:{name}", 1, max(int(interval), 1))
        ]
    except Exception:
        logger.warning("Cache injoignable : tâches périodiques remises à plus tard", exc_info=True)
        return []
    for name, entry in due:
        try:
            # The task's name is its import path (shared_task's default); apply() runs it here.
            task = import_string(entry["task"])
            result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
        except Exception:
            logger.exception("Tâche périodique %s en échec", name)
            continue
        if result.failed():
            logger.error("Tâche périodique %s en échec : %r", name, result.result)
    return [name for name, _ in due]
