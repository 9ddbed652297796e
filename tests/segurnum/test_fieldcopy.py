"""Each form built gets its own fields, copied directly (segurnum.fieldcopy, R-PERF-5): the same
fields as Django's copy.deepcopy gives, and nothing a form changes reaches another form."""

import copy

import pytest
from django import forms
from django.utils.translation import gettext_lazy

from enrolment.forms import ApplicantForm, BankForm, ConfirmationForm, ReferencingForm, VatForm
from segurnum.fieldcopy import FieldsCopiedDirectly, FieldsCopiedDirectlyMetaclass

pytestmark = pytest.mark.django_db

WIZARD_FORMS = [ReferencingForm, ApplicantForm, BankForm, VatForm, ConfirmationForm]


class Every(forms.Form, metaclass=FieldsCopiedDirectlyMetaclass):
    text = forms.CharField(max_length=5, widget=forms.TextInput(attrs={"class": "fr-input"}))
    choice = forms.ChoiceField(choices=[("a", gettext_lazy("Oui")), ("b", "Non")], widget=forms.RadioSelect)
    grouped = forms.ChoiceField(choices=[("Groupe", [("x", "X"), ("y", "Y")]), ("z", "Z")])
    several = forms.MultipleChoiceField(choices=[("1", "Un")], widget=forms.CheckboxSelectMultiple)
    when = forms.SplitDateTimeField(required=False)  # a MultiValueField: Django's own copy
    flag = forms.BooleanField(required=False)


def same_field(copied, deep):
    assert type(copied) is type(deep) and type(copied.widget) is type(deep.widget)
    assert copied.__dict__.keys() == deep.__dict__.keys()
    for name in ("required", "label", "initial", "help_text", "disabled", "error_messages", "validators"):
        assert getattr(copied, name) == getattr(deep, name), name
    assert copied.widget.attrs == deep.widget.attrs
    if isinstance(deep, forms.ChoiceField):
        assert list(copied.choices) == list(deep.choices)
        assert list(copied.widget.choices) == list(deep.widget.choices)


@pytest.mark.parametrize("form_class", [*WIZARD_FORMS, Every])
def test_the_fields_are_those_of_a_deep_copy(form_class):
    assert isinstance(form_class.base_fields, FieldsCopiedDirectly)
    copied = copy.deepcopy(form_class.base_fields)
    deep = {name: copy.deepcopy(field) for name, field in form_class.base_fields.items()}
    assert type(copied) is dict and copied.keys() == deep.keys()
    for name, field in copied.items():
        original = form_class.base_fields[name]
        assert field is not original and field.widget is not original.widget
        assert field.widget.attrs is not original.widget.attrs
        assert field.error_messages is not original.error_messages and field.validators is not original.validators
        same_field(field, deep[name])


def test_a_form_renders_as_with_deep_copied_fields():
    class Plain(forms.Form):
        pass

    Plain.base_fields = dict(Every.base_fields)  # the same fields, copied by copy.deepcopy
    data = {"text": "trop long", "choice": "b", "grouped": "y", "several": ["1"], "flag": "on"}
    direct, deep = Every(data=data), Plain(data=data)
    assert direct.is_valid() is deep.is_valid() is False
    assert direct.errors == deep.errors
    assert str(direct) == str(deep)


def test_what_a_form_changes_stays_in_that_form():
    first, second = Every(), Every()
    first.fields["text"].widget.attrs["data-required"] = True
    first.fields["text"].required = False
    first.fields["text"].validators.append(lambda value: None)
    first.fields["text"].error_messages["required"] = "autre"
    first.fields["choice"].choices.append(("c", "Peut-être"))
    first.fields["grouped"].choices[0][1].append(("w", "W"))
    first.fields["when"].fields[0].required = True
    for form in (second, Every()):
        assert "data-required" not in form.fields["text"].widget.attrs
        assert form.fields["text"].required is True
        assert len(form.fields["text"].validators) == len(Every.base_fields["text"].validators)
        assert form.fields["text"].error_messages["required"] != "autre"
        assert [value for value, _ in form.fields["choice"].choices] == ["a", "b"]
        assert [value for value, _ in form.fields["grouped"].choices[0][1]] == ["x", "y"]
        assert form.fields["when"].fields[0].required is False
    assert [value for value, _ in Every.base_fields["choice"].choices] == ["a", "b"]


def test_the_wizard_steps_keep_what_each_form_sets():
    """Step 2 sets attributes per form (a disabled SIRET from the registry, conditional markers)."""
    company = {"siret": "47992882200069", "denomination": "ASM", "manual": False}
    looked_up = ApplicantForm(lookups={"company": company})
    plain = ApplicantForm()
    assert looked_up.fields["siret"].disabled is True
    assert plain.fields["siret"].disabled is False
    assert ApplicantForm.base_fields["siret"].disabled is False
