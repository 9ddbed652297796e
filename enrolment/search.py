"""Exact look-ups of a request from what an agent or the support desk types (R-BO-1, R-BO-3)."""

import re

from django.db.models import Q

from enrolment.models import format_enr
from segurnum.encryption import search_hash

ENR_RE = re.compile(r"^ENR0*(\d+)M(\d+)$", re.IGNORECASE)
SIRET_RE = re.compile(r"^\d{14}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def exact_condition(query: str) -> Q | None:
    """The condition for an ENR number (as typed: « enr 11 m0 »), a SIRET or a whole email
    address; None when the text is none of them. ENR and SIRET are indexed, exact matches."""
    query = " ".join((query or "").split())
    compact = query.replace(" ", "")
    if match := ENR_RE.match(compact):
        modification = int(match[2])
        if modification == 0:
            return Q(number=format_enr(int(match[1])))
        # A modification's number ENR…Mn (R-AFT-2) finds the request it modifies.
        return Q(number=format_enr(int(match[1]))) & Q(versions__index=modification)
    if SIRET_RE.match(compact):
        return Q(siret=compact)
    if EMAIL_RE.match(query):
        return Q(representative_email__iexact=query) | Q(depositor_email__iexact=query)
    return None


IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def iban_condition(query: str) -> Q | None:
    """A whole IBAN, as typed (blanks, any case), matched on the keyed hash of the encrypted
    column (SECURITY P5); None when the text is not shaped like an IBAN."""
    compact = "".join((query or "").split()).upper()
    if not IBAN_RE.match(compact):
        return None
    return Q(iban_hash=search_hash(compact))
