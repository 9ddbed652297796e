"""The wizard's five steps, in the guide's order (R-WIZ-1..7)."""

from enum import StrEnum


class Step(StrEnum):
    REFERENCING = "referencing"
    APPLICANT = "applicant"
    BANK = "bank"
    VAT = "vat"
    CONFIRMATION = "confirmation"


TITLES = {
    Step.REFERENCING: "Référencement",
    Step.APPLICANT: "Demandeur",
    Step.BANK: "Coordonnées bancaires",
    Step.VAT: "Taux TVA",
    Step.CONFIRMATION: "Confirmation",
}
