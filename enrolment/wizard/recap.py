"""The confirmation summary (R-WIZ-7), its digest (SECURITY W1), and what « Terminer » stores
(R-WIZ-8), all read from the validated forms of the steps."""

import json
import uuid
from typing import Any

from django import forms
from django.utils.crypto import salted_hmac

from enrolment.field_groups import GROUPS, THIRD_PARTY_FIELDS, Applicant, Bank, Company
from enrolment.services import EnrolmentSubmission
from enrolment.wizard.steps import Step


def build_recap(forms_by_step: dict[str, forms.Form]) -> list[dict[str, Any]]:
    """The guide's recap groups: every value and every file name."""
    referencing_form = forms_by_step[Step.REFERENCING]
    referencing = referencing_form.cleaned_data["referencing"]
    groups = [
        {
            "title": "Référencement",
            "step": Step.REFERENCING,
            "rows": [
                {"label": "N° unique de référencement (ANS)", "value": referencing["referencing_number"]},
                {"label": "Nom du logiciel", "value": referencing["software_name"]},
                {"label": "Version du logiciel", "value": referencing["version"]},
                {"label": "DSR concerné (couloir / type logiciel / vague)", "value": referencing["dsr_label"]},
            ]
            + recap_files(referencing_form, ("certificate",)),
        }
    ]
    third_party = forms_by_step[Step.APPLICANT].cleaned_data["is_legal_representative"] == "non"
    for group in GROUPS:
        form = forms_by_step[group.step]
        names = [name for name in group.fields if third_party or name not in THIRD_PARTY_FIELDS]
        rows = recap_values(form, names) + recap_files(form, group.documents)
        groups.append({"title": group.title, "step": group.step, "rows": rows})
    return groups


def recap_digest(recap: list[dict[str, Any]]) -> str:
    """A keyed digest of the summary the vendor is shown (values, file names and contents): the
    final POST carries it back (W1)."""
    payload = json.dumps(recap, sort_keys=True, ensure_ascii=False, default=str)
    return salted_hmac("enrolment.recap", payload, algorithm="sha256").hexdigest()


def recap_values(form: forms.Form, names) -> list[dict[str, str]]:
    rows = []
    for name in names:
        field, value = form.fields[name], form.cleaned_data.get(name)
        if value and hasattr(field, "choices"):
            value = dict(field.choices).get(value, value)
        rows.append({"label": field.label, "value": value or ""})
    return rows


def recap_files(form: forms.Form, names) -> list[dict[str, str]]:
    """The names of the files this request keeps (a file not required is not part of it)."""
    documents = form.cleaned_data["documents"]
    # The content's digest is not shown; it makes the summary's digest change with a file.
    return [
        {
            "label": form.fields[name].label,
            "value": documents[form.fields[name].kind]["name"],
            "sha256": documents[form.fields[name].kind]["sha256"],
        }
        for name in names
        if name in form.fields and form.fields[name].kind in documents
    ]


def build_submission(forms_by_step: dict[str, forms.Form], *, key: str) -> EnrolmentSubmission:
    applicant = forms_by_step[Step.APPLICANT].cleaned_data
    bank = forms_by_step[Step.BANK].cleaned_data
    documents: dict[str, dict] = {}
    for form in forms_by_step.values():
        documents.update(form.cleaned_data["documents"])
    return EnrolmentSubmission(
        submission_key=uuid.UUID(key),
        referencing_number=forms_by_step[Step.REFERENCING].cleaned_data["referencing_number"],
        company=Company.of(applicant),
        applicant=Applicant.of(
            {
                **applicant,
                "is_legal_representative": applicant["is_legal_representative"] == "oui",
                "third_party_quality": applicant.get("third_party_quality") or "",
            }
        ),
        bank=Bank.of(bank),
        vat_rate=forms_by_step[Step.VAT].cleaned_data["vat_rate"],
        documents=documents,
    )
