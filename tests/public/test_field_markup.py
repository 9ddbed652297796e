"""``{% dsfr_field %}`` and ``{% dsfr_document %}`` write, byte for byte, what the templates they
replaced wrote (R-PERF-5).

``field_reference.html`` and ``document_reference.html`` are those templates, kept here as the
reference: every field of the portal's forms, unbound, bound with nothing and bound with wrong
values (errors), with and without ``inline``, and the sample form's every kind of widget; every
document field of the wizard, kept or not, with its options; all must come out the same.
"""

from pathlib import Path

import pytest
from django.template import Context, engines

from accounts import forms as account_forms
from enrolment import forms as enrolment_forms
from funding import forms as funding_forms
from public.forms import SupportRequestForm
from tests.public.test_field_include import SampleForm
from tracking.forms import StatusCheckForm

REFERENCE = engines["django"].from_string((Path(__file__).parent / "field_reference.html").read_text())
TAG = engines["django"].from_string("{% load segurnum_forms %}{% dsfr_field field inline %}")
DOCUMENT_REFERENCE = engines["django"].from_string((Path(__file__).parent / "document_reference.html").read_text())
DOCUMENT_TAG = engines["django"].from_string(
    "{% load segurnum_forms %}{% dsfr_document field required=required toggle=toggle "
    "changed_field=changed_field changed_from=changed_from %}"
)
DOCUMENT_OPTIONS = [
    {"required": True},
    {"required": False},
    {"required": True, "toggle": "vat-vat_rate=ht_0"},
    {"required": True, "changed_field": "id_step-denomination", "changed_from": "MEDIATION & <FILS>"},
]
WRONG = {
    "siret": "123",
    "referencing_number": "?",
    "email": "pas-un-courriel",
    "iban": "FR00",
    "bic": "X",
    "vat_rate": "inconnu",
    "is_legal_representative": "peut-être",
    "postal_code": "7500",
    "representative_email": "a@b",
    "representative_email_confirmation": "c@d",
    "legal": "autre",
    "cgu": "",
}


def forms_of_the_portal():
    wizard = [
        enrolment_forms.ReferencingForm,
        enrolment_forms.ApplicantForm,
        enrolment_forms.BankForm,
        enrolment_forms.VatForm,
        enrolment_forms.ConfirmationForm,
    ]
    for form_class in wizard:
        yield form_class(prefix="step", captcha_required=True)
        yield form_class(data={}, prefix="step", captcha_required=True)
        yield form_class(
            data={f"step-{name}": value for name, value in WRONG.items()},
            prefix="step",
            kept_files={"certificate": {"name": "certificat <ANS>.pdf", "size": 2048}},
        )
    yield enrolment_forms.SiretLookupForm(data={"siret": "123"})
    others = [
        SampleForm,
        SupportRequestForm,
        StatusCheckForm,
        funding_forms.FundingFilesForm,
        funding_forms.ZipForm,
        funding_forms.StatementsForm,
        account_forms.SecretQuestionForm,
        account_forms.SecretAnswerForm,
        account_forms.ForgotIdentifiantForm,
        account_forms.ForgotPasswordForm,
    ]
    for form_class in others:
        for data in (None, {}, WRONG):
            try:
                yield form_class(data=data)
            except TypeError:  # a form that needs what its view gives it
                break


@pytest.mark.django_db
@pytest.mark.parametrize("inline", [False, True])
def test_every_field_of_the_portal_is_written_as_the_template_wrote_it(inline):
    compared = 0
    for form in forms_of_the_portal():
        if form.is_bound:
            form.is_valid()
        for field in form:
            if field.name == "captcha":
                continue  # a new code at each display; written by enrolment/_captcha.html
            context = {"field": field, "inline": inline}
            assert TAG.render(context) == REFERENCE.render(context), (type(form).__name__, field.name)
            compared += 1
    assert compared > 100


def test_something_that_is_not_a_field_writes_nothing():
    assert TAG.render(Context({"field": ""}).flatten()) == ""


@pytest.mark.django_db
def test_every_document_field_of_the_wizard_is_written_as_the_template_wrote_it():
    compared = 0
    for form in forms_of_the_portal():
        if not isinstance(form, enrolment_forms.WizardStepForm):
            continue
        if form.is_bound:
            form.is_valid()
        for name in form.document_fields():
            for kept in (None, {"name": "RIB <Banque> & co.pdf", "size": 123_456}):
                form.fields[name].kept = kept
                for options in DOCUMENT_OPTIONS:
                    context = {"field": form[name], **options}
                    assert DOCUMENT_TAG.render(context) == DOCUMENT_REFERENCE.render(context), (name, kept, options)
                    compared += 1
    assert compared > 50
