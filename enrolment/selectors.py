"""Reads of enrolment requests that encode a rule."""

from django.db.models import QuerySet

from enrolment.models import EnrolmentRequest
from enrolment.search import iban_condition


def requests_with_iban(iban: str) -> QuerySet[EnrolmentRequest]:
    """Every request paid to exactly this IBAN (blanks and case ignored), through the index of its
    keyed hash: the column is encrypted, so it is never decrypted row by row to be compared. The
    fraud checks (« the same IBAN for different SIRENs ») start here."""
    condition = iban_condition(iban)
    if condition is None:
        return EnrolmentRequest.objects.none()
    return EnrolmentRequest.objects.filter(condition)
