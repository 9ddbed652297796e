"""The form renderer writes the one-tag ``<input>`` widgets itself (R-PERF-5): the HTML must be,
byte for byte, what Django's templates render."""

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.safestring import mark_safe

from enrolment.forms import ApplicantForm, BankForm, ConfirmationForm, ReferencingForm, VatForm
from public.templatetags.segurnum_forms import dsfr_widget
from segurnum.renderers import INPUT_WIDGETS, FormRenderer

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
