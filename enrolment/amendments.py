"""Some of a stored request's values, changed through the wizard's own forms (R-AFT-1, R-AFT-2).

An ``Amendment`` builds the wizard's Demandeur, Coordonnées bancaires and Taux TVA forms for a
stored request, filled with the values in force, and takes from the vendor's POST only the items
it is about (the fields and documents an agent asked to complete, or a modification's blocks).
Every form is validated whole, so the wizard's rules (formats, e-mail confirmation, IBAN/BIC,
documents required by the values) apply unchanged: no field is defined twice.
"""

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django import forms
from django.http import QueryDict

from enrolment.field_groups import COMPANY_TYPED_FIELDS, GROUPS, THIRD_PARTY_FIELDS, Applicant, Bank, Company
from enrolment.forms import ApplicantForm, BankForm, VatForm
from enrolment.models import EnrolmentRequest
from enrolment.wizard.steps import Step

FORMS: dict[str, type[forms.Form]] = {Step.APPLICANT: ApplicantForm, Step.BANK: BankForm, Step.VAT: VatForm}
# Shown and taken with the field they go with: an email's confirmation; the BIC, checked against
# the IBAN's bank (a new IBAN of another bank needs its BIC).
COMPANIONS = {
    "representative_email": ("representative_email_confirmation",),
    "depositor_email": ("depositor_email_confirmation",),
    "iban": ("bic",),
    # « Obligatoire si vous modifiez la dénomination sociale »: the kbis comes with it.
    "denomination": ("kbis",),
    # A « tiers déclarant » gives the depositor's identity, quality and documents (R-WIZ-4).
    "is_legal_representative": (
        *THIRD_PARTY_FIELDS[:3],
        "depositor_email_confirmation",
        *THIRD_PARTY_FIELDS[3:],
        "depositor_id",
        "service_contract",
        "legal_representative_mandate",
    ),
}
MODEL_FIELDS = (*Company.names(), *Applicant.names(), *Bank.names(), "vat_rate")

NOTHING_CHANGED = "Vous n'avez rien modifié : saisissez les nouvelles informations ou joignez un nouveau fichier."
FORM_ERROR = "Certaines informations ne sont plus valides : {errors}"


def step_of(name: str) -> str:
    for step, form_class in FORMS.items():
        if name in form_class.base_fields:
            return step
    raise KeyError(name)


def item_label(name: str) -> str:
    """The wizard's label of a field or document (the ApplicantForm's « kbis », the BankForm's « IBAN »…)."""
    return str(FORMS[step_of(name)].base_fields[name].label)


def is_document(name: str) -> bool:
    return hasattr(FORMS[step_of(name)].base_fields[name], "kind")


# What an agent may ask to complete (R-AFT-1): every value the vendor typed and every document,
# grouped as the recap shows them. The SIRET is looked up, never typed again.
CORRECTABLE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (
        group.title,
        tuple(name for name in (*group.fields, *group.documents) if name not in ("siret", "registry_denomination")),
    )
    for group in GROUPS
)
CORRECTABLE = tuple(name for _, names in CORRECTABLE_GROUPS for name in names)


@dataclass(frozen=True)
class Block:
    """A block of a modification (R-AFT-2), with the guide's title."""

    slug: str
    title: str
    fields: tuple[str, ...]
    documents: tuple[str, ...]
    # Asked anew whenever the block changes, whatever the values (the kbis of a new address).
    always_documents: tuple[str, ...] = ()
    # A document asked anew only when one of these values changes (a new identity, not a new
    # phone number); the other documents, whenever the block changes.
    proves: dict[str, tuple[str, ...]] = dataclass_field(default_factory=dict)

    @property
    def items(self) -> tuple[str, ...]:
        return (*self.fields, *self.documents)


REPRESENTATIVE_FIELDS = tuple(name for name in Applicant.names() if name.startswith("representative_"))
BLOCKS = (
    Block("banque", "Coordonnées bancaires", Bank.names(), ("rib",)),
    Block(
        "representant",
        "Représentant légal",
        REPRESENTATIVE_FIELDS,
        ("representative_id",),
        proves={"representative_id": ("representative_last_name", "representative_first_name", "representative_email")},
    ),
    Block(
        "depositaire",
        "Dépositaire",
        ("is_legal_representative", *THIRD_PARTY_FIELDS),
        ("depositor_id", "service_contract", "legal_representative_mandate"),
    ),
    Block("denomination", "Dénomination et adresse (kbis)", COMPANY_TYPED_FIELDS, ("kbis",), ("kbis",)),
    Block("tva", "Taux TVA", ("vat_rate",), ("vat_exemption_proof",)),
)
BLOCKS_BY_SLUG = {block.slug: block for block in BLOCKS}


def values_in_force(enrolment: EnrolmentRequest) -> dict[str, Any]:
    return {name: getattr(enrolment, name) for name in MODEL_FIELDS}


def stored_form_data(enrolment: EnrolmentRequest) -> dict[str, dict[str, Any]]:
    """The values in force as each step's form receives them (unprefixed)."""
    values = values_in_force(enrolment)
    applicant = {name: values[name] for name in (*COMPANY_TYPED_FIELDS, *Applicant.names())}
    applicant["is_legal_representative"] = "oui" if enrolment.is_legal_representative else "non"
    applicant["representative_email_confirmation"] = enrolment.representative_email
    applicant["depositor_email_confirmation"] = enrolment.depositor_email
    return {
        Step.APPLICANT: applicant,
        Step.BANK: {name: values[name] for name in Bank.names()},
        Step.VAT: {"vat_rate": enrolment.vat_rate},
    }


def stored_documents(enrolment: EnrolmentRequest) -> dict[str, dict[str, Any]]:
    """The documents in force, by kind, as the forms' « kept » files (no ``path``: not new)."""
    return {
        document.kind: {
            "stored": document.pk,
            "name": document.original_name,
            "content_type": document.content_type,
            "size": document.size,
            "sha256": document.sha256,
        }
        for document in enrolment.documents.all()
    }


def lookups_of(enrolment: EnrolmentRequest) -> dict[str, dict[str, Any]]:
    """What the wizard's look-ups found, rebuilt from the request: the registry's denomination
    (empty: typed by hand, R-WIZ-2) and the editor, for the distributor rule (R-WIZ-3)."""
    company = {"siret": enrolment.siret, "denomination": enrolment.registry_denomination}
    if not enrolment.registry_denomination:
        company["manual"] = True
    software = enrolment.software
    referencing = {"referencing_number": software.referencing_number, "editor_siret": software.editor_siret}
    return {"company": company, "referencing": referencing}


class Amendment:
    """The wizard's forms for ``enrolment``, of which only ``items`` are shown and taken from
    ``data``. ``uploads`` are the new files already judged and kept (field name → draft metadata);
    ``renew`` the documents that must be new ones; ``blocks`` (a modification) groups the items
    and asks each block's documents anew when the block changes."""

    def __init__(
        self,
        enrolment: EnrolmentRequest,
        items: tuple[str, ...] | list[str],
        *,
        data: QueryDict | None = None,
        uploads: dict[str, dict] | None = None,
        upload_errors: dict[str, str] | None = None,
        renew: tuple[str, ...] = (),
        blocks: tuple[Block, ...] = (),
    ) -> None:
        self.enrolment = enrolment
        self.items = tuple(items)
        self.shown = tuple(name for item in self.items for name in (item, *COMPANIONS.get(item, ())))
        self.uploads = uploads or {}
        self.renew = renew
        self.blocks = blocks
        self.bound = data is not None
        stored = stored_form_data(enrolment)
        documents = stored_documents(enrolment)
        lookups = lookups_of(enrolment)
        self.forms: dict[str, forms.Form] = {}
        for step in dict.fromkeys(step_of(name) for name in self.items):
            form_class = FORMS[step]
            kept = {
                name: self.uploads.get(name) or documents.get(field.kind)
                for name, field in form_class.base_fields.items()
                if hasattr(field, "kind") and (name in self.uploads or field.kind in documents)
            }
            form_data = None
            if data is not None:
                form_data = self._merge(form_class, step, stored[step], data)
            self.forms[step] = form_class(
                form_data,
                prefix=step,
                initial=stored[step],
                lookups=lookups,
                kept_files={name: meta for name, meta in kept.items() if meta},
                upload_errors={
                    name: error for name, error in (upload_errors or {}).items() if name in form_class.base_fields
                },
            )
        self.errors: list[str] = []

    def _merge(self, form_class, step: str, stored: dict[str, Any], data: QueryDict) -> QueryDict:
        merged = QueryDict(mutable=True)
        for name in form_class.base_fields:
            key = f"{step}-{name}"
            if name in self.shown:
                if key in data:
                    merged.setlist(key, data.getlist(key))
            elif stored.get(name) not in (None, ""):
                merged[key] = stored[name]
        return merged

    # --- display ---------------------------------------------------------------------------------

    def groups(self) -> list[dict[str, Any]]:
        """The shown fields, under the blocks' titles (a modification) or the recap's (a correction)."""
        sections = [(block.title, block.items) for block in self.blocks] if self.blocks else list(CORRECTABLE_GROUPS)
        result, seen = [], set()
        for title, names in sections:
            fields = []
            for name in names:
                if name not in self.items:
                    continue
                for shown in (name, *COMPANIONS.get(name, ())):
                    form = self.forms[step_of(shown)]
                    if shown in form.fields and shown not in seen:
                        seen.add(shown)
                        fields.append(
                            {"field": form[shown], "document": is_document(shown), "required": shown in self.renew}
                        )
            if fields:
                result.append({"title": title, "fields": fields})
        return result

    def field_errors(self) -> list[dict[str, str]]:
        """The errors of the fields shown, each linking to its field (the error summary)."""
        result = []
        for group in self.groups():
            for item in group["fields"]:
                field = item["field"]
                for message in field.errors:
                    result.append({"href": f"#{field.auto_id}", "label": str(field.label), "message": message})
        return result

    # --- validation ------------------------------------------------------------------------------

    def is_valid(self) -> bool:
        if not hasattr(self, "_valid"):
            self._valid = self._validate()
        return self._valid

    def _validate(self) -> bool:
        if not self.bound:
            return False
        valid = all(form.is_valid() for form in self.forms.values())
        for form in self.forms.values():
            hidden = [
                f"{form.fields[name].label} : {' '.join(errors)}" if name in form.fields else " ".join(errors)
                for name, errors in form.errors.items()
                if name not in self.shown
            ]
            self.errors.extend(hidden)
        if not valid:
            return False
        old = values_in_force(self.enrolment)
        new = self.values()
        for name in self._documents_to_renew(old, new):
            form = self.forms[step_of(name)]
            if name in form.fields and not self.uploads.get(name):
                form.add_error(name, f"Joignez un nouveau fichier « {form.fields[name].label} ».")
                valid = False
        if valid and self.blocks:
            for block in self.blocks:
                if not self._block_changed(block, old, new):
                    self.errors.append(f"{block.title} : {NOTHING_CHANGED}")
                    valid = False
        return valid

    def _documents_to_renew(self, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        names = list(self.renew)
        for block in self.blocks:
            if not self._block_changed(block, old, new):
                continue
            form = self.forms[step_of(block.items[0])]
            required = set(form.required_documents(form.cleaned_data))
            names += [
                name
                for name in block.documents
                if (name in required or name in block.always_documents)
                and (name not in block.proves or any(new.get(value) != old[value] for value in block.proves[name]))
            ]
        return list(dict.fromkeys(names))

    def _block_changed(self, block: Block, old: dict[str, Any], new: dict[str, Any]) -> bool:
        return any(name in new and new[name] != old[name] for name in block.fields) or any(
            self.uploads.get(name) for name in block.documents
        )

    def values(self) -> dict[str, Any]:
        """Every value of the forms concerned, as the model stores it (after is_valid)."""
        values: dict[str, Any] = {}
        if Step.APPLICANT in self.forms:
            data = self.forms[Step.APPLICANT].cleaned_data
            values.update(Company.of({**data, "siret": self.enrolment.siret}).as_dict())
            values.update(
                Applicant.of(
                    {
                        **data,
                        "is_legal_representative": data["is_legal_representative"] == "oui",
                        "third_party_quality": data.get("third_party_quality") or "",
                    }
                ).as_dict()
            )
            values.pop("siret")
            values["registry_denomination"] = self.enrolment.registry_denomination
        if Step.BANK in self.forms:
            values.update(Bank.of(self.forms[Step.BANK].cleaned_data).as_dict())
        if Step.VAT in self.forms:
            values["vat_rate"] = self.forms[Step.VAT].cleaned_data["vat_rate"]
        return values

    def changes(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(values replaced, new values): only what differs from the values in force."""
        old = values_in_force(self.enrolment)
        new = {name: value for name, value in self.values().items() if old.get(name) != value}
        return {name: old[name] for name in new}, new

    def new_documents(self) -> dict[str, dict]:
        """The new files by document kind (draft metadata), for the documents shown."""
        documents = {}
        for name, meta in self.uploads.items():
            if name in self.items and meta:
                documents[FORMS[step_of(name)].base_fields[name].kind] = meta
        return documents


def display(name: str, value: Any, *, masked: bool) -> str:
    """A value as a person reads it: « Oui »/« Non », a choice's label; the IBAN masked for the
    vendor (``masked``), whole for the agents."""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if name == "iban" and value and masked:
        iban = str(value).replace(" ", "")
        return f"{iban[:4]} **** **** {iban[-4:]}"
    if name == "vat_rate" and value:
        return EnrolmentRequest.VatRate(value).label
    if name == "third_party_quality" and value:
        return EnrolmentRequest.ThirdPartyQuality(value).label
    return str(value or "")
