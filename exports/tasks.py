from celery import shared_task

from exports import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_xlsx_export(export_id: int) -> bool:
    """Write an agent's XLSX export into the private storage (R-OPS-1)."""
    return services.build_xlsx(export_id)


@shared_task
def requeue_xlsx_exports() -> int:
    """XLSX exports left pending by a broker that was down, or by a worker that died."""
    return services.requeue_pending_xlsx()


@shared_task
def purge_xlsx_exports() -> int:
    """XLSX export files past EXPORT_FILE_RETENTION_HOURS (R-OPS-5)."""
    return services.purge_xlsx_exports()
