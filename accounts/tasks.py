from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts import services
from accounts.models import RecoveryRequest


@shared_task(acks_late=True, reject_on_worker_lost=True)
def process_recovery_request(recovery_id: int) -> bool:
    return services.process_recovery_request(recovery_id=recovery_id)


@shared_task
def process_pending_recovery_requests(older_than_seconds: int = 60) -> int:
    """Requests left unprocessed by a broker that was down are handled here (nothing lost)."""
    limit = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        RecoveryRequest.objects.filter(processed_at__isnull=True, created_at__lte=limit)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    for recovery_id in ids:
        services.enqueue_recovery(recovery_id)
    return len(ids)


@shared_task
def purge_recovery_requests() -> int:
    return services.purge_recovery_requests()


@shared_task
def clear_expired_sessions() -> None:
    services.purge_expired_sessions()
