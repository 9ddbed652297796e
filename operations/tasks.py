from celery import shared_task

from operations import retention


@shared_task
def purge_decided_documents() -> int:
    """Identity documents and RIBs past their retention after the decision (R-OPS-5)."""
    return retention.purge_decided_documents()


@shared_task
def purge_registry_answers() -> int:
    """The company registry's answers no request needs any more (R-OPS-5)."""
    return retention.purge_registry_answers()
