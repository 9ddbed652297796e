"""Reads of enrolment requests that encode a rule."""

from django.db.models import QuerySet

from enrolment.models import EnrolmentRequest, EnrolmentVersion
from enrolment.search import iban_condition


def requests_with_iban(iban: str) -> QuerySet[EnrolmentRequest]:
    """Every request paid to exactly this IBAN (blanks and case ignored), through the index of its
    keyed hash: the column is encrypted, so it is never decrypted row by row to be compared. The
    fraud checks (« the same IBAN for different SIRENs ») start here."""
    condition = iban_condition(iban)
    if condition is None:
        return EnrolmentRequest.objects.none()
    return EnrolmentRequest.objects.filter(condition)


def items_to_complete(enrolment: EnrolmentRequest) -> list[str]:
    """R-AFT-1: the wizard's labels of what the vendor is asked to correct, while the request is
    « A compléter » (``EnrolmentRequest.Status.TO_COMPLETE``); empty otherwise."""
    return enrolment.items_to_complete


def pending_modification(enrolment: EnrolmentRequest) -> EnrolmentVersion | None:
    """R-AFT-2: the modification ENR…Mn waiting for an agent (at most one, a database rule)."""
    return enrolment.versions.filter(status=EnrolmentVersion.Status.PENDING).first()
