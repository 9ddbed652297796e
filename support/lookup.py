"""Finding a request from what a caller gives the support desk (R-BO-3)."""

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from enrolment.models import EnrolmentRequest
from enrolment.services import format_enr

ENR_RE = re.compile(r"^ENR0*(\d+)M(\d+)$", re.IGNORECASE)
SIRET_RE = re.compile(r"^\d{14}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

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

    Each form is an exact, indexed match: the support desk finds the caller's request, not a
    list of look-alikes.
    """
    query = " ".join((raw_query or "").split())
    compact = query.replace(" ", "")
    if not query:
        return Lookup(query, error=HOW_TO_SEARCH)
    if match := ENR_RE.match(compact):
        condition = Q(number=format_enr(int(match[1]), int(match[2])))
    elif SIRET_RE.match(compact):
        condition = Q(siret=compact)
    elif EMAIL_RE.match(query):
        condition = Q(representative_email__iexact=query) | Q(depositor_email__iexact=query)
    else:
        return Lookup(
            query, error=f"« {query} » n'est ni un numéro de demande, ni un SIRET, ni un courriel. {HOW_TO_SEARCH}"
        )
    requests = (
        EnrolmentRequest.objects.filter(condition)
        .order_by("-submitted_at", "-id")
        .prefetch_related("status_changes__by", "emails")
    )
    return Lookup(query, requests=requests)
