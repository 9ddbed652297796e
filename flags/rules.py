"""The consistency rules (R-OPS-3). Each takes a request and returns a Finding, or None.

Comparisons:
- IBAN: through the keyed hash of the encrypted column (``enrolment.selectors.requests_with_iban``),
  never decrypted row by row; a vendor is its SIREN (the SIRET's first nine digits), so two
  establishments of one company sharing an IBAN are not flagged.
- documents: the SHA-256 of the stored file, against the documents of other SIRENs' requests.
- representative: the email without case; the phone as a French number (« +33 6… » is « 06… »).
- account holder against the denomination, the registry's denomination and the trade name: each
  name folded with the standard library (``unicodedata`` NFKD, accents removed, upper case, every
  character that is not a letter or digit a blank), split into words, the legal forms and linking
  words dropped (SAS, SARL, SA, EURL, SOCIETE, DE, LA…). The holder matches when its words equal
  one name's words or one set holds the other (« ODA SAS » and « SARL ODA » match, « DUPONT »
  and « ASSOCIATION SERVICES MEDIATION » do not).
- postal address: the street, number, postal code and city the vendor gave, folded the same way,
  against the registry's answer kept at the wizard's look-up (``flags.RegistryAnswer``); only
  flagged without a kbis.
- beneficiary: the (identifier type, identifier) of each line of the current version, against the
  current versions of the other funding requests that are not rejected.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import F

from enrolment.models import EnrolmentDocument, EnrolmentRequest
from enrolment.selectors import requests_with_iban
from flags.models import ConsistencyFlag, RegistryAnswer
from funding.models import FundingLine, FundingRequest

Rule = ConsistencyFlag.Rule
LISTED = 5  # counterparts named in a message; the evidence keeps them all
LEGAL_WORDS = frozenset(
    [
        "SA",
        "SAS",
        "SASU",
        "SARL",
        "EURL",
        "SNC",
        "SCI",
        "SCOP",
        "SCM",
        "SELARL",
        "SELAS",
        "EI",
        "EIRL",
        "GIE",
        "STE",
        "SOCIETE",
        "ETS",
        "ETABLISSEMENTS",
        "CIE",
        "COMPAGNIE",
        "ET",
        "DE",
        "DU",
        "DES",
        "D",
        "LA",
        "LE",
        "LES",
        "L",
    ]
)
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")


@dataclass
class Finding:
    rule: str
    message: str
    evidence: dict
    # Other requests involved: their own flags are computed again (the rule is symmetric).
    related_enrolments: set[int] = field(default_factory=set)
    related_funding: set[int] = field(default_factory=set)


def fold(value: str) -> str:
    text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode().upper()
    return " ".join(_NOT_ALNUM.sub(" ", text).split())


def name_words(value: str) -> frozenset[str]:
    return frozenset(word for word in fold(value).split() if word not in LEGAL_WORDS)


def holder_matches(holder: str, *names: str) -> bool:
    held = name_words(holder)
    if not held:
        return False
    for name in names:
        words = name_words(name)
        if words and (held <= words or words <= held):
            return True
    return False


def phone_variants(phone: str) -> set[str]:
    digits = "".join(char for char in phone or "" if char.isdigit() or char == "+")
    if digits.startswith("+33") and len(digits) == 12:
        return {digits, "0" + digits[3:]}
    if digits.startswith("0") and len(digits) == 10:
        return {digits, "+33" + digits[1:]}
    return {digits} if digits else set()


def siren(siret: str) -> str:
    return (siret or "")[:9]


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown + (f" et {len(items) - LISTED} autre(s)" if len(items) > LISTED else "")


# --- enrolment requests ----------------------------------------------------------------------


def same_iban(enrolment: EnrolmentRequest) -> Finding | None:
    others = list(
        requests_with_iban(enrolment.iban)
        .exclude(pk=enrolment.pk)
        .exclude(siret__startswith=siren(enrolment.siret))
        .order_by("number")
        .values_list("pk", "number", "siret")
    )
    if not others:
        return None
    return Finding(
        Rule.SAME_IBAN,
        "Le même IBAN est donné par "
        + _listing([f"{number} (SIREN {siren(siret)})" for _, number, siret in others])
        + ".",
        {"requests": [number for _, number, _ in others]},
        related_enrolments={pk for pk, _, _ in others},
    )


def same_document(enrolment: EnrolmentRequest) -> Finding | None:
    own = dict(enrolment.documents.values_list("sha256", "kind"))
    if not own:
        return None
    others = list(
        EnrolmentDocument.objects.filter(sha256__in=list(own))
        .exclude(enrolment__siret__startswith=siren(enrolment.siret))
        .order_by("enrolment__number", "kind")
        .values_list("enrolment_id", "enrolment__number", "kind", "sha256")
    )
    if not others:
        return None
    kinds = dict(EnrolmentDocument.Kind.choices)
    described = [f"« {kinds[own[sha]]} » dans {number} ({kinds[kind]})" for _, number, kind, sha in others]
    return Finding(
        Rule.SAME_DOCUMENT,
        "Pièce identique (même empreinte SHA-256) : " + _listing(described) + ".",
        {"documents": sorted({f"{number}:{kind}:{sha}" for _, number, kind, sha in others})},
        related_enrolments={pk for pk, _, _, _ in others},
    )


def same_contact(enrolment: EnrolmentRequest) -> Finding | None:
    candidates = EnrolmentRequest.objects.exclude(pk=enrolment.pk).exclude(siret__startswith=siren(enrolment.siret))
    email = (enrolment.representative_email or "").strip()
    by_email = list(candidates.filter(representative_email__iexact=email).values_list("pk", "number")) if email else []
    phones = phone_variants(enrolment.representative_phone)
    by_phone = list(candidates.filter(representative_phone__in=phones).values_list("pk", "number")) if phones else []
    if not by_email and not by_phone:
        return None
    parts = []
    if by_email:
        parts.append(f"l'email {email.lower()} est aussi celui de " + _listing(sorted(n for _, n in by_email)))
    if by_phone:
        parts.append(
            f"le téléphone {enrolment.representative_phone} est aussi celui de "
            + _listing(sorted(n for _, n in by_phone))
        )
    message = "Représentant d'un autre fournisseur : " + " ; ".join(parts) + "."
    return Finding(
        Rule.SAME_CONTACT,
        message,
        {"email": sorted(n for _, n in by_email), "phone": sorted(n for _, n in by_phone)},
        related_enrolments={pk for pk, _ in by_email + by_phone},
    )


def holder_mismatch(enrolment: EnrolmentRequest) -> Finding | None:
    names = (enrolment.denomination, enrolment.registry_denomination, enrolment.trade_name)
    if holder_matches(enrolment.account_holder, *names):
        return None
    return Finding(
        Rule.HOLDER_MISMATCH,
        f"Le titulaire du compte « {enrolment.account_holder} » ne correspond ni à la dénomination sociale "
        f"« {enrolment.denomination} » ni au nom commercial « {enrolment.trade_name} ».",
        {"holder": fold(enrolment.account_holder), "denomination": fold(enrolment.denomination)},
    )


ADDRESS_FIELDS = ("street_number", "street_extension", "street_type", "street_name", "postal_code", "city")


def _address(values) -> str:
    get = values.get if isinstance(values, dict) else lambda name, default="": getattr(values, name, default)
    return " ".join(part for part in (fold(str(get(name, "") or "")) for name in ADDRESS_FIELDS) if part)


def address_changed(enrolment: EnrolmentRequest) -> Finding | None:
    answer = (
        RegistryAnswer.objects.filter(siret=enrolment.siret, looked_up_at__lte=enrolment.submitted_at)
        .order_by("-looked_up_at", "-id")
        .values_list("answer", flat=True)
        .first()
    )
    if not answer or answer.get("manual"):
        return None
    registry, given = _address(answer), _address(enrolment)
    if not registry or registry == given:
        return None
    if enrolment.documents.filter(kind=EnrolmentDocument.Kind.KBIS).exists():
        return None
    return Finding(
        Rule.ADDRESS_CHANGED,
        f"Adresse modifiée par rapport au répertoire des entreprises, sans kbis : répertoire « {registry} », "
        f"demande « {given} ».",
        {"registry": registry, "given": given},
    )


ENROLMENT_RULES: list[Callable[[EnrolmentRequest], Finding | None]] = [
    same_iban,
    same_document,
    same_contact,
    holder_mismatch,
    address_changed,
]


# --- funding requests ------------------------------------------------------------------------

BATCH = 500


def beneficiary_twice(request: FundingRequest) -> Finding | None:
    own = (
        dict(
            FundingLine.objects.filter(version_id=request.current_version_id).values_list(
                "identifier", "identifier_type"
            )
        )
        if request.current_version_id
        else {}
    )
    identifiers = sorted(own)
    found: list[tuple[int, str, str, str, str]] = []
    for start in range(0, len(identifiers), BATCH):
        lines = (
            FundingLine.objects.filter(identifier__in=identifiers[start : start + BATCH])
            .filter(version_id=F("request__current_version_id"))
            .exclude(request_id=request.pk)
            .exclude(request__status=FundingRequest.Status.REJECTED)
            .values_list("request_id", "request__number", "identifier_type", "identifier", "name")
        )
        found += [line for line in lines if own.get(line[3]) == line[2]]
    if not found:
        return None
    found.sort(key=lambda line: (line[1], line[3]))
    described = [f"{kind} {identifier} ({name}) dans {number}" for _, number, kind, identifier, name in found]
    return Finding(
        Rule.BENEFICIARY_TWICE,
        f"{len(found)} bénéficiaire(s) figurent aussi dans une autre demande de financement : "
        + _listing(described)
        + ".",
        {"lines": [f"{number}:{kind}:{identifier}" for _, number, kind, identifier, _ in found]},
        related_funding={line[0] for line in found},
    )


FUNDING_RULES: list[Callable[[FundingRequest], Finding | None]] = [beneficiary_twice]
