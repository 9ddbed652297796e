import re

from django import forms

from enrolment.forms import SecurityCodeField, clean_siret_value, compact

ENR_NUMBER = re.compile(r"^ENR\d{4,}M\d+$")


class StatusCheckForm(forms.Form):
    """« Suivre ma demande » (R-AFT-3): the ENR number, the SIRET and the captcha."""

    required_css_class = "required"

    number = forms.CharField(
        label="Numéro de demande",
        max_length=30,
        help_text="Par exemple : ENR0011M0. Il vous a été communiqué à la fin de votre demande d'enrôlement "
        "et dans l'accusé de réception.",
        error_messages={"required": "Indiquez le numéro de votre demande (par exemple ENR0011M0)."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )
    siret = forms.CharField(
        label="Numéro de SIRET",
        max_length=20,
        help_text="Le numéro de SIRET du fournisseur indiqué dans la demande : 14 chiffres.",
        error_messages={"required": "Indiquez le numéro de SIRET du fournisseur."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    captcha = SecurityCodeField()

    def clean_number(self) -> str:
        number = compact(self.cleaned_data["number"]).upper()
        if not ENR_NUMBER.fullmatch(number):
            raise forms.ValidationError(
                "Le numéro de demande doit être de la forme ENR0011M0 (ENR, des chiffres, M, des chiffres).",
                code="format",
            )
        return number

    def clean_siret(self) -> str:
        return clean_siret_value(self.cleaned_data["siret"])
