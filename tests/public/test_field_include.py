"""{% dsfr_field %} (public.templatetags.segurnum_forms) and error_summary.html, with every kind of widget."""

import re
from html import unescape

from django import forms
from django.template import Context, Template

FILE_HINT = "Fichier de type .png, .jpg, .jpeg ou .pdf. Taille maximum : 4 Mo"


class SampleForm(forms.Form):
    siret = forms.CharField(label="Numéro de SIRET", help_text="14 chiffres")
    email = forms.EmailField(label="Email du représentant")
    phone = forms.CharField(label="Téléphone du représentant", widget=forms.TextInput(attrs={"type": "tel"}))
    vat = forms.ChoiceField(label="Taux TVA", choices=[("", "—"), ("ttc20", "TTC - 20%"), ("ht0", "HT - 0%")])
    note = forms.CharField(label="Commentaire", required=False, widget=forms.Textarea)
    kbis = forms.FileField(
        label="kbis",
        required=False,
        help_text=FILE_HINT,
        widget=forms.ClearableFileInput(attrs={"data_required": True}),
    )
    legal = forms.ChoiceField(
        label="Je suis le représentant légal du fournisseur",
        choices=[("oui", "Oui"), ("non", "Non")],
        widget=forms.RadioSelect,
    )
    cgu = forms.BooleanField(label="J'ai lu et j'accepte les CGU")


def render(form, field_name, **extra) -> str:
    template = Template("{% load segurnum_forms %}{% dsfr_field field inline=inline %}")
    return template.render(Context({"field": form[field_name], **extra}))


def test_text_field_with_hint_required_star_and_dsfr_classes():
    html = render(SampleForm(), "siret")
    assert '<div class="fr-input-group segurnum-field">' in html
    assert '<label class="fr-label" for="id_siret">Numéro de SIRET *</label>' in html
    assert '<p class="fr-hint-text" id="id_siret-hint">14 chiffres</p>' in html
    assert re.search(r'<input type="text" name="siret"[^>]*aria-describedby="id_siret-hint"[^>]*class="fr-input"', html)
    assert "aria-invalid" not in html


def test_errors_are_linked_and_flagged():
    form = SampleForm(data={"siret": "", "email": "x"})
    assert not form.is_valid()
    html = render(form, "email")
    assert "fr-input-group--error" in html
    assert 'aria-describedby="id_email-error"' in html
    assert 'aria-invalid="true"' in html
    assert re.search(r'<p class="fr-error-text" id="id_email-error">[^<]+</p>', html)
    assert 'value="x"' in html


def test_tel_select_and_textarea():
    form = SampleForm()
    assert re.search(r'<input type="tel"[^>]*class="fr-input"', render(form, "phone"))
    select = render(form, "vat")
    assert '<div class="fr-select-group segurnum-field">' in select
    assert re.search(r'<select name="vat"[^>]*class="fr-select"', select)
    assert re.search(r'<textarea[^>]*class="fr-input"', render(form, "note"))
    assert "Commentaire *" not in render(form, "note")


def test_file_field_conditionally_required_gets_the_star_but_not_the_marker_attribute():
    html = render(SampleForm(), "kbis")
    assert '<div class="fr-upload-group segurnum-field">' in html
    assert '<label class="fr-label" for="id_kbis">kbis *</label>' in html
    assert re.search(r'<input type="file" name="kbis"[^>]*class="fr-upload"', html)
    assert f'id="id_kbis-hint">{FILE_HINT}' in html
    assert "data_required" not in html
    assert " required" not in html


def test_radio_group_is_a_fieldset_with_legend():
    form = SampleForm(data={})
    form.is_valid()
    html = render(form, "legal", inline=True)
    assert 'class="fr-fieldset fr-fieldset--error"' in html
    assert re.search(r'<legend[^>]*id="id_legal-legend">Je suis le représentant légal du fournisseur \*', html)
    assert html.count('class="fr-radio-group"') == 2
    assert "fr-fieldset__element--inline" in html
    assert re.search(r'<input type="radio" name="legal" value="oui"[^>]*id="id_legal_0"', html)
    assert '<label class="fr-label" for="id_legal_0">Oui</label>' in html
    assert 'aria-describedby="id_legal-error"' in html
    assert 'id="id_legal-error"' in html


def test_radio_keeps_the_choice():
    html = render(SampleForm(data={"legal": "non"}), "legal")
    assert re.search(r'value="non"[^>]*checked', html)


def test_checkbox():
    html = unescape(render(SampleForm(), "cgu"))
    assert '<div class="fr-checkbox-group">' in html
    assert re.search(r'<input type="checkbox" name="cgu"[^>]*id="id_cgu"', html)
    assert '<label class="fr-label" for="id_cgu">J\'ai lu et j\'accepte les CGU *</label>' in html


def test_error_summary_links_each_error_to_its_field():
    form = SampleForm(data={"email": "x"})
    form.is_valid()
    form.add_error(None, "Erreur générale.")
    html = Template('{% include "includes/error_summary.html" with form=form %}').render(Context({"form": form}))
    assert 'id="error-summary" tabindex="-1"' in html and 'role="alert"' in html
    assert "Le formulaire contient des erreurs" in html
    assert "<li>Erreur générale.</li>" in html
    assert '<a href="#id_siret">Numéro de SIRET : ' in html
    assert '<a href="#id_legal_0">Je suis le représentant légal du fournisseur : ' in html


def test_error_summary_of_several_forms_and_of_a_valid_form():
    bad = SampleForm(data={})
    template = Template('{% include "includes/error_summary.html" with forms=forms %}')
    assert "#id_siret" in template.render(Context({"forms": [SampleForm(), bad]}))
    assert template.render(Context({"forms": [SampleForm()]})).strip() == ""
    unbound = Template('{% include "includes/error_summary.html" with form=form %}')
    assert unbound.render(Context({"form": SampleForm()})).strip() == ""
