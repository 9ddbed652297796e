import re

from django import forms

from public.models import ENR_NUMBER_PATTERN, SupportRequest

MESSAGE_MAX_LENGTH = 5000


class SupportRequestForm(forms.ModelForm):
    """« Contacter l'assistance ». ``site_web`` is a honeypot: hidden from people (CSS class and
    aria-hidden), a bot that fills it is silently ignored by the view."""

    site_web = forms.CharField(
        label="Ne pas remplir ce champ",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    class Meta:
        model = SupportRequest
        fields = ["name", "email", "enr_number", "subject", "message"]
        labels = {
            "name": "Nom et prénom",
            "email": "Adresse électronique",
            "enr_number": "Numéro de demande d'enrôlement",
            "subject": "Objet de votre demande",
            "message": "Votre message",
        }
        help_texts = {
            "email": "Format attendu : nom@domaine.fr. La réponse de l'assistance vous sera envoyée à cette adresse.",
            "enr_number": "Facultatif. Par exemple : ENR0011M0. Il vous a été communiqué à la fin de "
            "votre demande d'enrôlement.",
            "message": f"{MESSAGE_MAX_LENGTH} caractères maximum.",
        }
        error_messages = {
            "name": {"required": "Indiquez votre nom et votre prénom."},
            "email": {
                "required": "Indiquez votre adresse électronique.",
                "invalid": "Saisissez une adresse électronique valide, par exemple nom@domaine.fr.",
            },
            "subject": {
                "required": "Choisissez l'objet de votre demande.",
                "invalid_choice": "Choisissez l'objet de votre demande dans la liste.",
            },
            "message": {"required": "Écrivez votre message."},
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "enr_number": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "message": forms.Textarea(attrs={"rows": 8, "maxlength": MESSAGE_MAX_LENGTH}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = [("", "Sélectionnez une option"), *SupportRequest.Subject.choices]
        self.fields["name"].error_messages["max_length"] = "Le nom ne doit pas dépasser 150 caractères."

    def clean_enr_number(self) -> str:
        value = "".join(self.cleaned_data.get("enr_number", "").split()).upper()
        if value and not re.fullmatch(ENR_NUMBER_PATTERN, value):
            raise forms.ValidationError(
                "Le numéro de demande doit être de la forme ENR0011M0 (ENR, des chiffres, M, des chiffres).",
                code="invalid",
            )
        return value

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if len(message) > MESSAGE_MAX_LENGTH:
            raise forms.ValidationError(
                f"Votre message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.", code="max_length"
            )
        return message

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("site_web"))
