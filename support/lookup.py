"""Finding a request from what a caller gives the support desk (R-BO-3)."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from enrolment.models import EnrolmentRequest
from enrolment.search import exact_condition
from notifications.models import OutboundEmail

HOW_TO_SEARCH = (
    "Saisissez un numéro de demande (ex. ENR0011M0), un numéro de SIRET (14 chiffres) ou une adresse électronique."
)


@dataclass
class Lookup:
    query: str
    requests: QuerySet | None = None
    error: str = ""


def find_requests(raw_query: str) -> Lookup:
    """The requests matching an ENR number, a SIRET or an email (representative or depositor).

    Each form is an exact match: the support desk finds the caller's request, not a list of
    look-alikes.
    """
    query = " ".join((raw_query or "").split())
    if not query:
        return Lookup(query, error=HOW_TO_SEARCH)
    condition = exact_condition(query)
    if condition is None:
        return Lookup(
            query,
            error=f"« {query} » n'est ni un numéro de demande, ni un SIRET, ni un courriel. {HOW_TO_SEARCH}",
        )
    requests = (
        EnrolmentRequest.objects.filter(condition)
        .order_by("-submitted_at", "-id")
        .prefetch_related(
            "status_changes__by", Prefetch("emails", queryset=OutboundEmail.objects.order_by("created_at", "id"))
        )
    )
    return Lookup(query, requests=requests)
