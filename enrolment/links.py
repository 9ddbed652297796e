"""The enrolment confirmation page's own address (R-AFT-5): the ENR number and its
signature (SECRET_KEY, with its fallbacks while keys rotate). The number is what the guide's
sentence shows anyway; the signature makes the address impossible to guess from the number."""

from django.core import signing
from django.urls import reverse

SALT = "tracking.confirmation"


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=".")


def confirmation_token(number: str) -> str:
    return _signer().sign(number)


def number_from_token(token: str) -> str | None:
    try:
        return _signer().unsign(token)
    except signing.BadSignature:
        return None


def confirmation_url(enrolment) -> str:
    return reverse("tracking:confirmation", kwargs={"token": confirmation_token(enrolment.number)})


def confirmation_receipt_url(enrolment) -> str:
    return reverse("tracking:confirmation_receipt", kwargs={"token": confirmation_token(enrolment.number)})
