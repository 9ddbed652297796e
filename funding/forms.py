"""Forms of the funding pages: files in, statements ticked. The files are judged by the check
engine, not here: the form only says which one is missing."""

from django import forms
from django.conf import settings

from enrolment.forms import PENAL_CODE_STATEMENT
from enrolment.uploads import format_limit

MEMBERS = f"{settings.FUNDING_ZIP_MAX_MEMBERS:_}".replace("_", " ")
JSON_HINT = (
    "Fichier .json encodé en UTF-8, au format segurnum-financement-sas 1.0. "
    f"Taille maximum : {format_limit(settings.FUNDING_JSON_MAX_BYTES)}"
)
ZIP_HINT = (
    "Fichier .zip des pièces citées par les lignes (bons de commande, procès-verbaux de raccordement) : "
    f"fichiers .png, .jpg, .jpeg ou .pdf de {format_limit(settings.UPLOAD_MAX_BYTES)} au plus, "
    f"{MEMBERS} fichiers au plus."
)


class FundingFilesForm(forms.Form):
    fichier_json = forms.FileField(
        label="Fichier json",
        help_text=JSON_HINT,
        error_messages={"required": "Joignez le fichier json de votre demande."},
    )
    fichier_zip = forms.FileField(label="Fichier zip des pièces", help_text=ZIP_HINT, required=False)

    def __init__(self, *args, json_required: bool = True, zip_required: bool = False, zip_help: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fichier_json"].required = json_required
        self.fields["fichier_zip"].required = zip_required
        if zip_help:
            self.fields["fichier_zip"].help_text = zip_help
        self.fields["fichier_zip"].error_messages["required"] = "Joignez le fichier zip des pièces."


class ZipForm(forms.Form):
    fichier_zip = forms.FileField(
        label="Fichier zip des pièces",
        help_text=ZIP_HINT,
        error_messages={"required": "Joignez le fichier zip des pièces."},
    )


class StatementsForm(forms.Form):
    """The two statements of the filing (R-FIN-5), worded as on the enrolment's last step."""

    accept_penal_code = forms.BooleanField(
        label=PENAL_CODE_STATEMENT,
        error_messages={"required": "Vous devez reconnaître les dispositions de l'article 441-7 du code pénal."},
    )
    accept_sincerity = forms.BooleanField(
        label="L'ensemble des éléments saisis dans ce formulaire de demande sont sincères et véritables",
        error_messages={"required": "Vous devez certifier que les éléments saisis sont sincères et véritables."},
    )
