"""A request's parts, defined once: Company (« Personne morale »), Applicant (« Demandeur »), Bank
(« Coordonnées bancaires »), and the groups the vendor and the agents see them in (R-WIZ-3..7).

The wizard's forms (the company block), the recap, the admin's fieldsets, the services that
store a request and the submission they receive read their field names here; a modification of
a request (R-AFT-2) and the exports (R-OPS-1) are to read them here too.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any, Self

from enrolment.wizard.steps import Step


class Part:
    """A typed part of a request, built from a form's cleaned data or a dict."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(item.name for item in fields(cls))

    @classmethod
    def of(cls, data: dict[str, Any]) -> Self:
        """The part's values in ``data`` (a value left out, or None, takes the field's default)."""
        return cls(**{name: data[name] for name in cls.names() if data.get(name) is not None})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class Company(Part):
    siret: str
    # The denomination the company registry gave (empty when it could not answer, R-WIZ-2).
    registry_denomination: str = ""
    denomination: str
    trade_name: str
    recipient: str = ""
    building: str = ""
    street_number: str = ""
    street_extension: str = ""
    street_type: str
    street_name: str
    address_complement: str = ""
    postal_code: str
    city: str


@dataclass(frozen=True, kw_only=True)
class Applicant(Part):
    is_legal_representative: bool
    representative_last_name: str
    representative_first_name: str
    representative_email: str
    representative_phone: str
    # A « tiers déclarant » (is_legal_representative false) files for the representative (R-WIZ-4).
    depositor_last_name: str = ""
    depositor_first_name: str = ""
    depositor_email: str = ""
    depositor_phone: str = ""
    third_party_quality: str = ""


@dataclass(frozen=True, kw_only=True)
class Bank(Part):
    iban: str
    bic: str
    account_holder: str
    bank_domiciliation: str


# What the vendor types in the company block (the SIRET is looked up; the registry's
# denomination is kept aside to compare with what is typed, R-WIZ-3).
COMPANY_TYPED_FIELDS = tuple(name for name in Company.names() if name not in ("siret", "registry_denomination"))
# Only a « tiers déclarant » gives these.
THIRD_PARTY_FIELDS = tuple(name for name in Applicant.names() if name.startswith(("depositor_", "third_party")))


@dataclass(frozen=True)
class FieldGroup:
    """A titled group of a request's values and documents, as the recap shows it (R-WIZ-7)."""

    title: str
    step: str
    fields: tuple[str, ...]
    documents: tuple[str, ...] = ()


GROUPS = (
    FieldGroup("Personne morale", Step.APPLICANT, ("siret", *COMPANY_TYPED_FIELDS), ("kbis", "editor_mandate")),
    FieldGroup(
        "Demandeur",
        Step.APPLICANT,
        Applicant.names(),
        ("representative_id", "depositor_id", "service_contract", "legal_representative_mandate"),
    ),
    FieldGroup("Coordonnées bancaires", Step.BANK, Bank.names(), ("rib",)),
    FieldGroup("Régime TVA", Step.VAT, ("vat_rate",), ("vat_exemption_proof",)),
)
