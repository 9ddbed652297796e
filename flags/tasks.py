from celery import shared_task

from flags import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def refresh_flags(pending_id: int) -> bool:
    """Compute the flags of the request a PendingRefresh names (R-OPS-3)."""
    return services.run_pending_refresh(pending_id)


@shared_task
def requeue_flag_refreshes() -> int:
    """Computations left pending by a broker that was down."""
    return services.requeue_pending()
