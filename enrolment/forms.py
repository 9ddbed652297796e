"""Forms of the enrolment wizard (R-WIZ-1..7).

Forms check formats only. Registry look-ups are made once by the wizard view and handed to the
forms (``lookups``); files are checked and kept by the view as soon as they arrive (R-WIZ-10)
and handed to the forms as ``kept_files`` metadata, so the forms only decide which files are
required.
"""

import re
from typing import Any

from captcha.conf import settings as captcha_settings
from captcha.fields import CaptchaField, CaptchaTextInput
from captcha.models import CaptchaStore
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.deletion import Collector
from django.urls import reverse
from django.utils import timezone

from enrolment.field_groups import COMPANY_TYPED_FIELDS
from enrolment.models import EnrolmentDocument, EnrolmentRequest, is_distributor
from enrolment.registries.banks import BankDetailsError, check_bank_details
from enrolment.registries.companies import is_valid_siret
from enrolment.uploads import ALLOWED_HINT
from segurnum.fieldcopy import FieldsCopiedDirectlyMetaclass
from segurnum.text import compact, fold, squash

Kind = EnrolmentDocument.Kind

REQUIRED_MESSAGE = "Ce champ est obligatoire."
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '’\-][^\W\d_]+)*$")
PHONE_RE = re.compile(r"^(?:0[1-9]\d{8}|\+33[1-9]\d{8}|\+262\d{9}|\+590\d{9}|\+594\d{9}|\+596\d{9})$")
POSTAL_CODE_RE = re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-8])\d{3}$")
STREET_NUMBER_RE = re.compile(r"^\d{1,5}$")


def number_changed_since_lookup(number: str, found: dict[str, Any] | None) -> bool:
    """R-WIZ-1: the number typed is not the one the look-up found (case does not matter)."""
    return not found or found["referencing_number"].lower() != number.lower()


def same_text(a: str, b: str) -> bool:
    """Registry denominations are compared without case, accents or extra spaces."""

    return fold(squash(a)).upper() == fold(squash(b)).upper()


class DocumentField(forms.Field):
    """A file input whose content is judged and kept by the wizard view.

    The field itself never validates the upload (the view did it when the file arrived); it
    is rendered as a file input with the guide's hint and the name of the file already kept.
    """

    widget = forms.ClearableFileInput

    def __init__(self, *, kind: str, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", ALLOWED_HINT)
        kwargs["required"] = False
        super().__init__(**kwargs)
        self.kind = kind
        self.widget = forms.FileInput(attrs={"accept": ".png,.jpg,.jpeg,.pdf,image/png,image/jpeg,application/pdf"})

    def clean(self, value: Any) -> None:
        return None

    def bound_data(self, data: Any, initial: Any) -> Any:
        return initial

    def has_changed(self, initial: Any, data: Any) -> bool:
        return False


EMAIL = forms.EmailInput(attrs={"autocomplete": "email"})
TEL = {"type": "tel", "autocomplete": "tel"}


class SecurityCodeInput(CaptchaTextInput):
    """The captcha image, its answer box and, where a speech synthesiser is installed, a French
    audio version (see ``enrolment.views.captcha_audio``)."""

    # A code to show again instead of a new one (« Afficher un nouveau code » over its limit).
    kept_key: str | None = None

    def fetch_captcha_store(self, name, value, attrs=None, generator=None):
        if self.kept_key and CaptchaStore.objects.filter(hashkey=self.kept_key, expiration__gt=timezone.now()).exists():
            self._key, self._value = self.kept_key, [self.kept_key, ""]
            self.id_ = self.build_attrs(attrs).get("id", None)
            return
        super().fetch_captcha_store(name, value, attrs, generator)

    def audio_url(self) -> str | None:
        if not settings.CAPTCHA_AUDIO_COMMAND:
            return None
        return reverse("enrolment:captcha_audio", kwargs={"key": self._key})


class SecurityCodeField(CaptchaField):
    """django-simple-captcha with French messages and an accessible widget (templates/captcha)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Code captcha")
        kwargs.setdefault(
            "help_text", "Recopiez les 5 caractères de l'image (majuscules ou minuscules indifféremment)."
        )
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": "Le code captcha est incorrect. Recopiez le nouveau code affiché.",
                "required": "Recopiez le code captcha affiché.",
                "incomplete": "Recopiez le code captcha affiché.",
            },
        )
        kwargs.setdefault("widget", SecurityCodeInput(attrs={"autocomplete": "off", "autocapitalize": "off"}))
        super().__init__(**kwargs)

    def clean(self, value):
        """django-simple-captcha's check in one statement when the code is right (R-PERF-3): the
        code is deleted, used, only if it matches and has not expired; a wrong code is deleted too
        (one try per code). Expired codes are purged by the periodic housekeeping
        (``enrolment.tasks.purge_expired_captchas``), not on every check."""
        forms.MultiValueField.clean(self, value)
        response, value[1] = (value[1] or "").strip().lower(), ""
        codes = CaptchaStore.objects.filter(hashkey=value[0])
        if captcha_settings.CAPTCHA_TEST_MODE and response == "passed":
            delete_in_one_statement(codes)
        elif self.required or response:
            used = delete_in_one_statement(codes.filter(expiration__gt=timezone.now(), response=response))
            if not used:
                delete_in_one_statement(codes)
                raise ValidationError(self.error_messages["invalid"])
        return value


def delete_in_one_statement(codes) -> int:
    """``codes.delete()``'s count, by its one DELETE alone (R-PERF-3, R-PERF-5). A captcha code has
    no relation and no deletion signal, so Django's collector runs that same single DELETE, but
    inside ``atomic``: outside a transaction (the « Rechercher » of step 2), a BEGIN and a COMMIT,
    two more round trips to the database. Anything the collector would have more to do (a signal
    receiver added one day) goes its way."""
    if not Collector(using=codes.db).can_fast_delete(codes):
        return codes.delete()[0]
    return codes._raw_delete(codes.db)


class WizardStepForm(forms.Form, metaclass=FieldsCopiedDirectlyMetaclass):
    """Base of the step forms: kept files, upload errors and registry look-ups come from the view.
    Each form built copies its fields directly (``segurnum.fieldcopy``, R-PERF-5)."""

    required_css_class = "required"

    def __init__(
        self,
        *args: Any,
        kept_files: dict[str, dict] | None = None,
        upload_errors: dict[str, str] | None = None,
        lookups: dict[str, dict] | None = None,
        captcha_required: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kept_files = kept_files or {}
        self.upload_errors = upload_errors or {}
        self.lookups = lookups or {}
        if not captcha_required:
            self.fields.pop("captcha", None)
        for name, field in self.fields.items():
            if isinstance(field, DocumentField):
                field.kept = self.kept_files.get(name)

    def document_fields(self) -> list[str]:
        return [name for name, field in self.fields.items() if isinstance(field, DocumentField)]

    def required_documents(self, data: dict[str, Any]) -> list[str]:
        """Names of the document fields required given the cleaned values."""
        return []

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        required = set(self.required_documents(data))
        for name in self.document_fields():
            if name in self.upload_errors:
                self.add_error(name, self.upload_errors[name])
            elif name in required and name not in self.kept_files:
                label = self.fields[name].label
                self.add_error(name, f"Joignez le fichier « {label} ».")
        data["documents"] = {
            self.fields[name].kind: self.kept_files[name]
            for name in self.document_fields()
            if name in required and name in self.kept_files
        }
        return data


class ReferencingForm(WizardStepForm):
    referencing_number = forms.CharField(
        label="N° unique de référencement (ANS)",
        max_length=50,
        # A hint says what to type; a placeholder repeating the label said nothing (DSFR).
        help_text="Le numéro figurant sur le certificat de l'ANS, par exemple tndSAS0031.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    certificate = DocumentField(kind=Kind.REFERENCING_CERTIFICATE, label="Certificat de référencement")

    def clean_referencing_number(self) -> str:
        return compact(self.cleaned_data["referencing_number"])

    def required_documents(self, data: dict[str, Any]) -> list[str]:
        return ["certificate"] if self.lookups.get("referencing") else []

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        number = data.get("referencing_number")
        found = self.lookups.get("referencing")
        if number and not self.has_error("referencing_number"):
            if number_changed_since_lookup(number, found):
                self.add_error(
                    "referencing_number",
                    "Cliquez sur « Rechercher » pour vérifier ce numéro de référencement.",
                )
            else:
                data["referencing"] = found
        return data


class SiretLookupForm(forms.Form):
    """The « Rechercher » of the Demandeur step: SIRET format and the captcha, nothing else."""

    siret = forms.CharField(label="Numéro de SIRET", max_length=20)
    captcha = SecurityCodeField()

    def clean_siret(self) -> str:
        return clean_siret_value(self.cleaned_data["siret"])


def clean_siret_value(value: str) -> str:
    siret = compact(value)
    if not siret.isdigit() or len(siret) != 14:
        raise ValidationError("Le numéro de SIRET doit comporter 14 chiffres.", code="format")
    if not is_valid_siret(siret):
        raise ValidationError(
            "Ce numéro de SIRET n'est pas valide : vérifiez-le (sa clé de contrôle est incorrecte).",
            code="checksum",
        )
    return siret


YES_NO = [("oui", "Oui"), ("non", "Non")]


class ApplicantForm(WizardStepForm):
    siret = forms.CharField(
        label="Numéro de SIRET",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    captcha = SecurityCodeField()

    # Personne morale (R-WIZ-3)
    # autocomplete: what each field is for, so that a browser can fill it in (RGAA 11.13).
    denomination = forms.CharField(
        label="Dénomination sociale", max_length=250, widget=forms.TextInput(attrs={"autocomplete": "organization"})
    )
    trade_name = forms.CharField(label="Nom commercial", max_length=250)
    recipient = forms.CharField(label="Identité du destinataire / service", max_length=250, required=False)
    building = forms.CharField(
        label="Entrée / Bât / Immeuble",
        max_length=250,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    street_number = forms.CharField(label="N°", max_length=5, required=False)
    street_extension = forms.CharField(label="Extension", max_length=10, required=False)
    street_type = forms.CharField(label="Type de voie", max_length=50)
    street_name = forms.CharField(
        label="Nom de voie", max_length=250, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    address_complement = forms.CharField(
        label="Complément d'adresse",
        max_length=250,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line3"}),
    )
    postal_code = forms.CharField(
        label="Code postal",
        max_length=5,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    city = forms.CharField(
        label="Commune", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    kbis = DocumentField(
        kind=Kind.KBIS,
        label="kbis",
        help_text=f"Obligatoire si vous modifiez la dénomination sociale. {ALLOWED_HINT}",
    )
    editor_mandate = DocumentField(kind=Kind.EDITOR_MANDATE, label="Mandat de l'éditeur pour le distributeur")

    # Demandeur (R-WIZ-4)
    is_legal_representative = forms.ChoiceField(
        label="Je suis le représentant légal du fournisseur", choices=YES_NO, widget=forms.RadioSelect
    )
    representative_last_name = forms.CharField(
        label="Nom du représentant", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    representative_first_name = forms.CharField(
        label="Prénom du représentant", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    representative_email = forms.EmailField(label="Email du représentant", max_length=254, widget=EMAIL)
    representative_email_confirmation = forms.EmailField(
        label="Confirmation email du représentant", max_length=254, widget=EMAIL
    )
    representative_phone = forms.CharField(
        label="Téléphone du représentant", max_length=20, widget=forms.TextInput(attrs=TEL)
    )
    representative_id = DocumentField(kind=Kind.REPRESENTATIVE_ID, label="CNI, passeport ou titre de séjour")

    depositor_last_name = forms.CharField(
        label="Nom du dépositaire",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    depositor_first_name = forms.CharField(
        label="Prénom du dépositaire",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    depositor_email = forms.EmailField(label="Email du dépositaire", max_length=254, required=False, widget=EMAIL)
    depositor_email_confirmation = forms.EmailField(
        label="Confirmation email du dépositaire", max_length=254, required=False, widget=EMAIL
    )
    depositor_phone = forms.CharField(
        label="Téléphone du dépositaire",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs=TEL),
    )
    depositor_id = DocumentField(kind=Kind.DEPOSITOR_ID, label="CNI, passeport ou titre de séjour du demandeur")
    third_party_quality = forms.ChoiceField(
        label="Merci de préciser votre qualité en tant que tiers déclarant",
        choices=EnrolmentRequest.ThirdPartyQuality.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    service_contract = DocumentField(kind=Kind.SERVICE_CONTRACT, label="Contrat de prestation")
    legal_representative_mandate = DocumentField(
        kind=Kind.LEGAL_REPRESENTATIVE_MANDATE, label="Mandat du représentant légal"
    )

    COMPANY_FIELDS = COMPANY_TYPED_FIELDS
    DEPOSITOR_FIELDS = (
        "depositor_last_name",
        "depositor_first_name",
        "depositor_email",
        "depositor_email_confirmation",
        "depositor_phone",
        "third_party_quality",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        company = self.lookups.get("company")
        if not company:
            # Before the SIRET look-up only the SIRET and the captcha are asked (guide, step 3).
            for name in list(self.fields):
                if name not in ("siret", "captcha"):
                    del self.fields[name]
            return
        self.fields.pop("captcha", None)
        self.fields["siret"].disabled = True
        self.fields["siret"].initial = company["siret"]
        if not self.is_distributor:
            del self.fields["editor_mandate"]
        if company.get("manual"):
            self.fields["kbis"].help_text = (
                "Obligatoire : le répertoire des entreprises n'a pas pu confirmer la dénomination sociale. "
                + ALLOWED_HINT
            )
        for name in self.DEPOSITOR_FIELDS + (
            "depositor_id",
            "service_contract",
            "legal_representative_mandate",
        ):
            self.fields[name].widget.attrs["data_required"] = True

    @property
    def is_distributor(self) -> bool:
        company = self.lookups.get("company") or {}
        referencing = self.lookups.get("referencing") or {}
        editor_siret = referencing.get("editor_siret", "")
        return bool(referencing) and is_distributor(siret=company.get("siret", ""), editor_siret=editor_siret)

    def clean_siret(self) -> str:
        company = self.lookups.get("company")
        if company:
            return company["siret"]
        return clean_siret_value(self.cleaned_data["siret"])

    def clean_postal_code(self) -> str:
        value = compact(self.cleaned_data["postal_code"])
        if not POSTAL_CODE_RE.match(value):
            raise ValidationError("Le code postal doit comporter 5 chiffres (ex. 75012).")
        return value

    def clean_street_number(self) -> str:
        value = compact(self.cleaned_data["street_number"])
        if value and not STREET_NUMBER_RE.match(value):
            raise ValidationError("Le numéro de voie ne doit contenir que des chiffres (ex. 184).")
        return value

    def _clean_person_name(self, name: str) -> str:
        value = squash(self.cleaned_data.get(name, ""))
        if value and not NAME_RE.match(value):
            raise ValidationError("Seules les lettres, les espaces, les tirets et les apostrophes sont acceptés.")
        return value

    def clean_representative_last_name(self) -> str:
        return self._clean_person_name("representative_last_name")

    def clean_representative_first_name(self) -> str:
        return self._clean_person_name("representative_first_name")

    def clean_depositor_last_name(self) -> str:
        return self._clean_person_name("depositor_last_name")

    def clean_depositor_first_name(self) -> str:
        return self._clean_person_name("depositor_first_name")

    def _clean_phone(self, name: str) -> str:
        raw = self.cleaned_data.get(name, "")
        value = re.sub(r"[\s.\-()]", "", raw)
        if value and not PHONE_RE.match(value):
            raise ValidationError(
                "Numéro de téléphone invalide : saisissez 10 chiffres (ex. 06 12 34 56 78) "
                "ou le format international (ex. +33 6 12 34 56 78)."
            )
        return value

    def clean_representative_phone(self) -> str:
        return self._clean_phone("representative_phone")

    def clean_depositor_phone(self) -> str:
        return self._clean_phone("depositor_phone")

    def required_documents(self, data: dict[str, Any]) -> list[str]:
        if not self.lookups.get("company"):
            return []
        required = ["representative_id"]
        if self.is_distributor:
            required.append("editor_mandate")
        if self.denomination_changed(data):
            required.append("kbis")
        if data.get("is_legal_representative") == "non":
            required.append("depositor_id")
            quality = data.get("third_party_quality")
            if quality == EnrolmentRequest.ThirdPartyQuality.MANAGEMENT_CENTRE:
                required.append("service_contract")
            elif quality == EnrolmentRequest.ThirdPartyQuality.EMPLOYEE:
                required.append("legal_representative_mandate")
        return required

    def denomination_changed(self, data: dict[str, Any]) -> bool:
        company = self.lookups.get("company") or {}
        if company.get("manual"):
            return True
        denomination = data.get("denomination")
        return bool(denomination) and not same_text(denomination, company.get("denomination", ""))

    def clean(self) -> dict[str, Any]:
        if not self.lookups.get("company"):
            super().clean()
            if not self.has_error("siret") and not self.has_error("captcha"):
                self.add_error("siret", "Cliquez sur « Rechercher » pour retrouver votre entreprise.")
            return self.cleaned_data
        data = super().clean()
        for name in ("denomination", "trade_name", "street_type", "street_name", "city"):
            if data.get(name):
                data[name] = squash(data[name])
        self._check_confirmation(data, "representative_email", "representative_email_confirmation", "représentant")
        if data.get("is_legal_representative") == "non":
            for name in self.DEPOSITOR_FIELDS:
                if not data.get(name) and not self.has_error(name):
                    self.add_error(name, REQUIRED_MESSAGE)
            self._check_confirmation(data, "depositor_email", "depositor_email_confirmation", "dépositaire")
        else:
            # The tiers déclarant's values are not part of a legal representative's request.
            for name in self.DEPOSITOR_FIELDS:
                data[name] = ""
        data["is_distributor"] = self.is_distributor
        data["registry_denomination"] = (self.lookups.get("company") or {}).get("denomination", "")
        return data

    def _check_confirmation(self, data: dict[str, Any], name: str, confirmation: str, who: str) -> None:
        first, second = data.get(name), data.get(confirmation)
        if first and second and first.strip().lower() != second.strip().lower():
            self.add_error(confirmation, f"La confirmation ne correspond pas à l'email du {who}.")


class BankForm(WizardStepForm):
    iban = forms.CharField(
        label="IBAN",
        max_length=42,
        help_text="IBAN français requis",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bic = forms.CharField(
        label="BIC",
        max_length=14,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    account_holder = forms.CharField(label="Titulaire", max_length=250)
    bank_domiciliation = forms.CharField(
        label="Domiciliation",
        max_length=250,
        required=False,
        help_text="Renseignée automatiquement d'après la banque de l'IBAN, à saisir si la banque n'est pas connue.",
    )
    rib = DocumentField(kind=Kind.RIB, label="RIB")

    def show_domiciliation(self, bank_name: str) -> None:
        """The bank registry knows the bank: its name is the domiciliation, shown read-only."""
        if self.is_bound:
            self.data = self.data.copy()
            self.data[self.add_prefix("bank_domiciliation")] = bank_name
        self.fields["bank_domiciliation"].widget.attrs["readonly"] = True
        self.fields["bank_domiciliation"].help_text = "Renseignée automatiquement d'après la banque de l'IBAN."

    def required_documents(self, data: dict[str, Any]) -> list[str]:
        return ["rib"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["account_holder"] = squash(data.get("account_holder", ""))
        iban, bic = data.get("iban"), data.get("bic")
        if iban and bic:
            try:
                details = check_bank_details(iban, bic)
            except BankDetailsError as error:
                self.add_error(error.field, error.message)
            else:
                data["iban"], data["bic"] = details.iban, details.bic
                if details.bank_name:
                    self.show_domiciliation(details.bank_name)
                    data["bank_domiciliation"] = details.bank_name
        elif iban and not bic:
            try:
                check_bank_details(iban, "")
            except BankDetailsError as error:
                if error.field == "iban":
                    self.add_error("iban", error.message)
        if not data.get("bank_domiciliation") and not self.has_error("iban") and not self.has_error("bic"):
            self.add_error(
                "bank_domiciliation",
                "La banque de cet IBAN n'est pas connue du répertoire : saisissez la domiciliation.",
            )
        return data


class VatForm(WizardStepForm):
    vat_rate = forms.ChoiceField(
        label="Taux TVA",
        choices=[("", "Sélectionnez un taux")] + list(EnrolmentRequest.VatRate.choices),
    )
    vat_exemption_proof = DocumentField(
        kind=Kind.VAT_EXEMPTION_PROOF,
        label="Preuve de régime hors TVA",
        help_text=f"Obligatoire pour le taux « HT - 0% ». {ALLOWED_HINT}",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vat_exemption_proof"].widget.attrs["data_required"] = True

    def required_documents(self, data: dict[str, Any]) -> list[str]:
        return ["vat_exemption_proof"] if data.get("vat_rate") == EnrolmentRequest.VatRate.HT_0 else []


PENAL_CODE_STATEMENT = (
    "Je suis informé(e) des dispositions de l'article 441-7 du code pénal qui prévoit [...] qu'« est puni "
    "d'un an d'emprisonnement et de 15000 euros d'amende le fait : 1° D'établir une attestation ou un "
    "certificat faisant état de faits matériellement inexacts ; 2° De falsifier une attestation ou un "
    "certificat originairement sincère ; 3° De faire usage d'une attestation ou d'un certificat inexact ou "
    "falsifié. Les peines sont portées à trois ans d'emprisonnement et à 45 000 euros d'amende lorsque "
    "l'infraction est commise en vue de porter préjudice au Trésor public ou au patrimoine d'autrui »"
)


class ConfirmationForm(WizardStepForm):
    captcha = SecurityCodeField(label="Captcha")
    accept_terms = forms.BooleanField(
        label="J'ai lu et j'accepte les CGU",
        error_messages={"required": "Vous devez accepter les conditions générales d'utilisation (CGU)."},
    )
    accept_penal_code = forms.BooleanField(
        label=PENAL_CODE_STATEMENT,
        error_messages={"required": "Vous devez reconnaître les dispositions de l'article 441-7 du code pénal."},
    )
    accept_sincerity = forms.BooleanField(
        label="L'ensemble des éléments saisis dans ce formulaire de demande sont sincères et véritables",
        error_messages={"required": "Vous devez certifier que les éléments saisis sont sincères et véritables."},
    )
