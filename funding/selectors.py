"""Reads that encode a funding rule: whose enrolment files, which window is open, which requests
a vendor sees, which beneficiaries are already financed. Views, services, the admin and the
check task call these; nobody spells the filters twice."""

import re
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from enrolment.models import EnrolmentRequest
from funding import engine
from funding.engine import VendorContext
from funding.models import FundingCheck, FundingLine, FundingRequest, FundingWindow, format_fin

Status = FundingRequest.Status
FINANCED = (Status.VALIDATED, Status.PAID)
LOOKUP_CHUNK = 500


def validated_enrolment(user) -> EnrolmentRequest | None:
    """The signed-in vendor's validated enrolment: the one a funding request is filed under."""
    return (
        EnrolmentRequest.objects.owned_by(user)
        .filter(status=EnrolmentRequest.Status.VALIDATED)
        .order_by("-decided_at", "-id")
        .first()
    )


def open_window(moment=None) -> FundingWindow | None:
    return FundingWindow.objects.open_at(moment or timezone.now()).order_by("closes_at").first()


def next_window(moment=None) -> FundingWindow | None:
    return FundingWindow.objects.upcoming(moment or timezone.now()).first()


def scheme_period(moment=None):
    """The period the lines' dates must fall in: the open window's, else the next one's, else the
    configured default (the public simulator checks against it too)."""
    window = open_window(moment) or next_window(moment)
    return (window.period_start, window.period_end) if window else engine.scheme_period()


def requests_of(user) -> QuerySet[FundingRequest]:
    return FundingRequest.objects.filter(account=user)


def current_request(user) -> FundingRequest | None:
    """The vendor's funding request that is not rejected (at most one: R-BIZ-2), else the latest."""
    requests = requests_of(user).order_by("-submitted_at", "-id")
    return requests.exclude(status=Status.REJECTED).first() or requests.first()


def incomplete_requests(user) -> QuerySet[FundingRequest]:
    return requests_of(user).filter(status=Status.INCOMPLETE)


def financed_elsewhere(siret: str) -> Callable[[list[tuple[str, str]]], dict[tuple[str, str], str]]:
    """(type, identifier) pairs already financed in another vendor's validated or paid request,
    with that request's FIN number (R-FIN-2: one financing per beneficiary)."""

    def lookup(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        wanted = set(pairs)
        identifiers = sorted({identifier for _, identifier in wanted})
        found: dict[tuple[str, str], str] = {}
        for start in range(0, len(identifiers), LOOKUP_CHUNK):
            rows = (
                FundingLine.objects.filter(
                    identifier__in=identifiers[start : start + LOOKUP_CHUNK],
                    request__status__in=FINANCED,
                    version_id=F("request__current_version_id"),
                )
                .exclude(request__siret=siret)
                .values_list("identifier_type", "identifier", "request__number")
            )
            for kind, identifier, number in rows:
                if (kind, identifier) in wanted:
                    found.setdefault((kind, identifier), number)
        return found

    return lookup


def vendor_context(enrolment: EnrolmentRequest) -> VendorContext:
    return VendorContext(
        enrolment_number=enrolment.number,
        siret=enrolment.siret,
        referencing_number=enrolment.referencing_number,
        vat_rate=enrolment.vat_rate,
        financed_elsewhere=financed_elsewhere(enrolment.siret),
    )


def check_for(check_id, *, user=None, session_checks: Iterable[str] = ()) -> FundingCheck | None:
    """A check as its owner sees it: a vendor's own, or one started in this browser session."""
    try:
        check = FundingCheck.objects.get(pk=check_id)
    except (FundingCheck.DoesNotExist, ValueError, ValidationError):
        return None
    if check.account_id is not None:
        return check if user is not None and check.account_id == getattr(user, "pk", None) else None
    return check if str(check.pk) in set(session_checks) else None


FIN_RE = re.compile(r"^FIN0*(\d+)$", re.IGNORECASE)
ENR_RE = re.compile(r"^ENR\d+M\d+$", re.IGNORECASE)


def exact_condition(query: str):
    """FIN, ENR, SIRET or a beneficiary's identifier (RPPS, FINESS, SIRET of a line), exactly."""
    compact = "".join((query or "").split()).upper()
    if match := FIN_RE.match(compact):
        return Q(number=format_fin(int(match[1])))
    if ENR_RE.match(compact):
        return Q(enrolment__number=compact)
    if re.fullmatch(r"\d{14}", compact):
        return Q(siret=compact) | Q(lines__identifier=compact)
    if re.fullmatch(r"[0-9AB]{9,11}", compact):
        return Q(lines__identifier=compact)
    return None
