"""The form renderer writes the one-tag ``<input>`` widgets, the options of radio and checkbox
groups, drop-down lists, and the forms of hidden fields alone itself (R-PERF-5): the HTML must be,
byte for byte, what Django's templates render."""

from datetime import date

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from enrolment.forms import ApplicantForm, BankForm, ConfirmationForm, ReferencingForm, VatForm
from public.templatetags.segurnum_forms import dsfr_widget
from segurnum.renderers import ERROR_LIST, FORM_DIV, FORM_P, INPUT_WIDGETS, OPTION_WIDGETS, FormRenderer

pytestmark = pytest.mark.django_db

TRICKY = "Dupont & \"Fils\" <script>'x' é"
COMPANY = {"siret": "47992882200069", "denomination": "ASM", "manual": False}


def rendered(form_class, renderer, **kwargs) -> list[str]:
    form = form_class(renderer=renderer, **kwargs)
    form.is_bound and form.is_valid()
    return [str(dsfr_widget(form[name])) for name in form.fields]


@pytest.mark.parametrize("form_class", [ReferencingForm, ApplicantForm, BankForm, VatForm, ConfirmationForm])
@pytest.mark.parametrize("bound", [False, True])
def test_the_wizard_fields_render_as_with_the_templates(form_class, bound):
    kwargs = {"prefix": "step", "lookups": {"company": COMPANY}}
    if bound:
        fields = form_class(lookups={"company": COMPANY}).fields
        kwargs["data"] = {f"step-{name}": TRICKY for name in fields}
    direct = rendered(form_class, FormRenderer(), **kwargs)
    assert direct == rendered(form_class, TemplatesSetting(), **kwargs)
    assert any("<input" in html for html in direct)


class Every(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"data-x": mark_safe("<b>"), "n": 0, "off": False}))
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autofocus": True, "title": TRICKY}))
    number = forms.IntegerField(widget=forms.NumberInput(attrs={"min": 1, "step": 0.5}))
    url = forms.URLField(required=False, assume_scheme="https")
    hidden = forms.CharField(widget=forms.HiddenInput)
    disabled = forms.CharField(disabled=True, initial=TRICKY)


@pytest.mark.parametrize(
    "data", [None, {"text": TRICKY, "email": "a@b.fr", "number": "12", "url": "", "hidden": mark_safe("&amp;")}]
)
def test_every_input_widget_renders_as_with_the_templates(data):
    forms_ = [Every(data=data, renderer=renderer) for renderer in (FormRenderer(), TemplatesSetting())]
    direct, templates = ([str(bound_field) for bound_field in form] for form in forms_)
    assert direct == templates
    assert 'title="Dupont &amp; &quot;Fils&quot; &lt;script&gt;&#x27;x&#x27; é"' in direct[1]


def test_the_five_input_templates_are_written_directly():
    assert FormRenderer().direct_templates == frozenset(INPUT_WIDGETS)


@pytest.mark.parametrize("audio", ["", "espeak-ng"])
def test_the_captcha_renders_as_with_its_template(settings, audio):
    from captcha.models import CaptchaStore

    from enrolment.forms import SecurityCodeField

    settings.CAPTCHA_AUDIO_COMMAND = audio
    key = CaptchaStore.generate_key()

    class WithCaptcha(forms.Form):
        captcha = SecurityCodeField()

    outputs = []
    for renderer in (FormRenderer(), TemplatesSetting()):
        form = WithCaptcha(renderer=renderer)  # unbound: a check would use the code up
        form.fields["captcha"].widget.kept_key = key  # the same code for both
        outputs.append(str(dsfr_widget(form["captcha"])))
    assert outputs[0] == outputs[1]
    assert f"/captcha/image/{key}/" in outputs[0] and 'name="captcha_1"' in outputs[0]
    assert ("Écouter le code" in outputs[0]) is bool(audio)


def test_the_captcha_is_written_directly():
    assert FormRenderer().direct_captcha is True


class Groups(forms.Form):
    choice = forms.ChoiceField(
        choices=[("a", TRICKY), ("b", "Non"), (mark_safe("<c>"), mark_safe("<i>C</i>"))], widget=forms.RadioSelect
    )
    several = forms.MultipleChoiceField(
        choices=[("x", "Un & deux"), ("y", TRICKY)], widget=forms.CheckboxSelectMultiple(attrs={"class": "k"})
    )
    no_id = forms.ChoiceField(choices=[("1", "Oui"), ("2", "Non")], widget=forms.RadioSelect)


@pytest.mark.parametrize("data", [None, {"choice": "b", "several": ["x", "y"], "no_id": "1"}, {"choice": "zz"}])
def test_radio_buttons_and_checkboxes_render_as_with_the_templates(data):
    outputs = []
    for renderer in (FormRenderer(), TemplatesSetting()):
        form = Groups(data=data, renderer=renderer, auto_id=False if data == {"choice": "zz"} else "id_%s")
        form.is_bound and form.is_valid()
        html = [str(bound_field) for bound_field in form]  # the whole group: each option in its label
        html += [str(choice.tag()) for bound_field in form for choice in bound_field]  # the options alone
        html += [str(choice.tag(wrap_label=True)) for bound_field in form for choice in bound_field]
        outputs.append(html)
    assert outputs[0] == outputs[1]
    assert ('<label for="id_choice_0"><input type="radio"' in outputs[0][0]) is (data != {"choice": "zz"})
    assert "Dupont &amp; &quot;Fils&quot; &lt;script&gt;" in outputs[0][0] and "<i>C</i>" in outputs[0][0]


def test_the_option_templates_are_written_directly():
    assert FormRenderer().direct_options == frozenset(OPTION_WIDGETS)


class Lists(forms.Form):
    rate = forms.ChoiceField(
        choices=[("", "Sélectionnez un taux"), ("a", TRICKY), (mark_safe("<b>"), mark_safe("<i>B</i>"))]
    )
    grouped = forms.ChoiceField(
        choices=[("", "—"), (TRICKY, [("x", "Un & deux"), ("y", gettext_lazy("Oui"))]), ("Autres", [("z", "Zéro")])],
        widget=forms.Select(attrs={"class": "fr-select", "aria-describedby": TRICKY, "disabled": False}),
    )
    several = forms.MultipleChoiceField(choices=[("1", "Un"), ("2", "Deux")], required=False)
    maybe = forms.NullBooleanField(widget=forms.NullBooleanSelect)
    numbers = forms.ChoiceField(choices=[(1, 1.5), (2, date(2026, 12, 1))])  # labels localised: the templates


@pytest.mark.parametrize("data", [None, {"rate": "a", "grouped": "y", "several": ["1", "2"], "maybe": "true"}])
def test_drop_down_lists_render_as_with_the_templates(data):
    outputs = []
    for renderer in (FormRenderer(), TemplatesSetting()):
        form = Lists(data=data, renderer=renderer)
        form.is_bound and form.is_valid()
        outputs.append([str(bound_field) for bound_field in form])
    assert outputs[0] == outputs[1]
    assert '<option value="a"' in outputs[0][0] and ">Dupont &amp; &quot;Fils&quot; &lt;script&gt;" in outputs[0][0]
    assert '<optgroup label="Dupont &amp; &quot;Fils&quot;' in outputs[0][1] and "1,5" in outputs[0][4]
    assert ('<option value="y" selected>Oui</option>' in outputs[0][1]) is bool(data)


def test_drop_down_lists_are_written_directly(monkeypatch):
    assert FormRenderer().direct_select is True
    monkeypatch.setattr(TemplatesSetting, "render", lambda *args, **kwargs: pytest.fail("rendu par les gabarits"))
    form = Lists(renderer=FormRenderer())
    assert str(form["rate"]).startswith('<select name="rate" required id="id_rate">\n  <option value="" selected>')
    assert "<optgroup" in str(form["grouped"]) and 'id="id_several" multiple>' in str(form["several"])


class Management(forms.Form):
    step = forms.CharField(widget=forms.HiddenInput, initial=TRICKY)
    count = forms.IntegerField(widget=forms.HiddenInput, initial=3)
    safe = forms.CharField(widget=forms.HiddenInput, initial=mark_safe("&amp;"))


class Mixed(Management):
    visible = forms.CharField(required=False)


@pytest.mark.parametrize(
    "form_class, data",
    [
        (Management, None),  # the wizard's management form, on every page
        (Management, {"step": "2", "count": "4", "safe": "x"}),
        (Management, {"step": "", "count": "quatre"}),  # hidden fields in error: the templates
        (Mixed, None),
        (Mixed, {"step": "2", "count": "x"}),
    ],
)
@pytest.mark.parametrize("template_name", [FORM_DIV, FORM_P])
def test_forms_and_error_lists_render_as_with_the_templates(form_class, data, template_name):
    outputs = []
    for renderer in (FormRenderer(), TemplatesSetting()):
        form = form_class(data=data, renderer=renderer)
        form.is_bound and form.is_valid()
        errors = [str(form.non_field_errors()), *(str(form[name].errors) for name in form.fields)]
        outputs.append([str(form.render(template_name=template_name)), *errors])
    assert outputs[0] == outputs[1]
    assert 'value="Dupont &amp; &quot;Fils&quot;' in outputs[0][0] or data


def test_the_form_and_error_list_templates_are_written_directly():
    assert FormRenderer().direct_forms == frozenset([FORM_DIV, FORM_P, ERROR_LIST])


def test_the_wizard_management_form_is_written_directly(monkeypatch):
    """formtools renders it with p.html, on every page of the wizard."""
    from formtools.wizard.forms import ManagementForm

    html = []
    for renderer in (FormRenderer(), TemplatesSetting()):
        html.append(
            str(ManagementForm(prefix="enrolment_wizard", initial={"current_step": "applicant"}, renderer=renderer))
        )
    assert (
        html[0]
        == html[1]
        == (
            '<input type="hidden" name="enrolment_wizard-current_step" value="applicant" '
            'id="id_enrolment_wizard-current_step">'
        )
    )
    monkeypatch.setattr(TemplatesSetting, "render", lambda *args, **kwargs: pytest.fail("rendu par les gabarits"))
    assert str(ManagementForm(prefix="enrolment_wizard", initial={"current_step": "bank"}, renderer=FormRenderer()))


def test_an_overridden_template_goes_through_the_templates(settings, tmp_path):
    (tmp_path / "django" / "forms" / "widgets").mkdir(parents=True)
    (tmp_path / "django" / "forms" / "widgets" / "radio_option.html").write_text("<b>{{ widget.label }}</b>")
    (tmp_path / "django" / "forms" / "widgets" / "select_option.html").write_text("<option>{{ widget.label }}</option>")
    (tmp_path / "django" / "forms" / "div.html").write_text(
        "<p>{% for field in hidden_fields %}{{ field }}{% endfor %}</p>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    renderer = FormRenderer()
    assert renderer.direct_options == frozenset(["django/forms/widgets/checkbox_option.html"])
    assert renderer.direct_forms == frozenset([FORM_P, ERROR_LIST])
    assert renderer.direct_select is False
    assert str(Lists(renderer=renderer)["rate"]).count("<option>") == 3
    assert str(Groups(renderer=renderer)["no_id"]).count("<b>") == 2
    assert str(Management(renderer=renderer)).startswith("<p><input")
