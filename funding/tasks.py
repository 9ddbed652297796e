from celery import shared_task

from funding import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_funding_check(check_id: str) -> None:
    """Check a funding file and its zip while the page shows the progress (R-FIN-8)."""
    services.run_check(check_id=check_id)


@shared_task
def requeue_funding_checks() -> int:
    """Checks still waiting (a broker that was down) go back to the queue."""
    return services.requeue_checks()


@shared_task
def purge_funding_checks() -> int:
    """Simulation reports after an hour, unfinished filings after a day, with their files."""
    return services.purge_checks()
