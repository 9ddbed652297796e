"""The wizard's five steps, in the guide's order (R-WIZ-1..7)."""

from enum import StrEnum

from enrolment.forms import ApplicantForm, BankForm, ConfirmationForm, ReferencingForm, VatForm


class Step(StrEnum):
    REFERENCING = "referencing"
    APPLICANT = "applicant"
    BANK = "bank"
    VAT = "vat"
    CONFIRMATION = "confirmation"


FORMS = {
    Step.REFERENCING: ReferencingForm,
    Step.APPLICANT: ApplicantForm,
    Step.BANK: BankForm,
    Step.VAT: VatForm,
    Step.CONFIRMATION: ConfirmationForm,
}
TITLES = {
    Step.REFERENCING: "Référencement",
    Step.APPLICANT: "Demandeur",
    Step.BANK: "Coordonnées bancaires",
    Step.VAT: "Taux TVA",
    Step.CONFIRMATION: "Confirmation",
}
