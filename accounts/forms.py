from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from accounts import services
from accounts.models import User

INVALID_LOGIN = "Identifiant ou mot de passe incorrect."
TEMPORARY_PASSWORD_EXPIRED = (
    "Votre mot de passe provisoire a expiré. Demandez-en un nouveau avec « J'ai oublié mon mot de passe »."
)
PASSWORD_MISMATCH = "Les deux mots de passe saisis ne sont pas identiques."
SAME_AS_OLD = "Le nouveau mot de passe doit être différent de l'ancien."
WRONG_OLD_PASSWORD = "L'ancien mot de passe est incorrect."
WRONG_CURRENT_PASSWORD = "Le mot de passe est incorrect."


def password_input(autocomplete: str) -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"autocomplete": autocomplete, "spellcheck": "false"})


class LoginForm(AuthenticationForm):
    """« Accéder à mon espace personnel » (R-ACC-1). One message for every failure: unknown
    identifiant, wrong password, inactive or locked account (SECURITY A2, A3)."""

    error_messages = {"invalid_login": INVALID_LOGIN, "inactive": INVALID_LOGIN}

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Votre identifiant"
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["username"].error_messages["required"] = "Saisissez votre identifiant."
        self.fields["password"].label = "Votre mot de passe"
        self.fields["password"].widget = password_input("current-password")
        self.fields["password"].error_messages["required"] = "Saisissez votre mot de passe."

    def clean_username(self) -> str:
        # Identifiants are lower-case; « Jean.Dupont » typed from a mail still signs in.
        return self.cleaned_data["username"].strip().lower()

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if user.temporary_password_expired:
            raise forms.ValidationError(TEMPORARY_PASSWORD_EXPIRED, code="temporary_password_expired")


class NewPasswordMixin:
    """« Entrez le nouveau mot de passe » + « Confirmez le nouveau mot de passe », checked
    against AUTH_PASSWORD_VALIDATORS (each broken rule named) and against the current password."""

    user: User

    def add_new_password_fields(self) -> None:
        self.fields["new_password1"] = forms.CharField(
            label="Entrez le nouveau mot de passe",
            strip=False,
            # Described by the rules box above the form (templates/accounts/_password_rules.html).
            widget=forms.PasswordInput(
                attrs={"autocomplete": "new-password", "spellcheck": "false", "aria-describedby": "password-rules"}
            ),
            error_messages={"required": "Saisissez le nouveau mot de passe."},
        )
        self.fields["new_password2"] = forms.CharField(
            label="Confirmez le nouveau mot de passe",
            strip=False,
            widget=password_input("new-password"),
            error_messages={"required": "Saisissez à nouveau le nouveau mot de passe."},
        )

    def clean_new_password1(self) -> str:
        password = self.cleaned_data["new_password1"]
        password_validation.validate_password(password, self.user)
        if self.user.check_password(password):
            raise forms.ValidationError(SAME_AS_OLD, code="password_unchanged")
        return password

    def clean_new_password2(self) -> str:
        first = self.cleaned_data.get("new_password1")
        second = self.cleaned_data["new_password2"]
        if first and first != second:
            raise forms.ValidationError(PASSWORD_MISMATCH, code="password_mismatch")
        return second


class PasswordChangeForm(NewPasswordMixin, forms.Form):
    """« Changement du mot de passe pour <identifiant> » (R-ACC-2): the current password is
    required (SECURITY A9), even for the temporary one."""

    old_password = forms.CharField(
        label="Entrez l'ancien mot de passe",
        strip=False,
        widget=password_input("current-password"),
        error_messages={"required": "Saisissez l'ancien mot de passe."},
    )
    field_order = ["old_password", "new_password1", "new_password2"]

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.add_new_password_fields()
        self.order_fields(self.field_order)

    def clean_old_password(self) -> str:
        password = self.cleaned_data["old_password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(WRONG_OLD_PASSWORD, code="password_incorrect")
        return password


class SetPasswordForm(NewPasswordMixin, forms.Form):
    """The new password at the end of a recovery."""

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.add_new_password_fields()


class SecretQuestionForm(forms.Form):
    """« Positionnement de la question secrète pour <identifiant> » (R-ACC-3). Changing an
    existing question from « Mon compte » asks for the password as well."""

    question = forms.CharField(
        label="Entrez la question secrète",
        max_length=200,
        help_text="Par exemple : « Quel est le nom de ma première école ? ». 200 caractères maximum.",
        error_messages={
            "required": "Saisissez la question secrète.",
            "max_length": "La question ne doit pas dépasser 200 caractères.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    answer = forms.CharField(
        label="Entrez la réponse",
        max_length=100,
        help_text="3 caractères au moins. Majuscules, accents et espaces ne comptent pas.",
        error_messages={
            "required": "Saisissez la réponse.",
            "max_length": "La réponse ne doit pas dépasser 100 caractères.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        if user.has_secret_question:
            self.fields["password"] = forms.CharField(
                label="Votre mot de passe actuel",
                strip=False,
                widget=password_input("current-password"),
                error_messages={"required": "Saisissez votre mot de passe actuel."},
            )

    def clean_question(self) -> str:
        question = " ".join(self.cleaned_data["question"].split())
        if len(question) < 5:
            raise forms.ValidationError("La question doit compter au moins 5 caractères.", code="too_short")
        return question

    def clean_answer(self) -> str:
        answer = self.cleaned_data["answer"]
        normalised = services.normalise_answer(answer)
        if len(normalised) < 3:
            raise forms.ValidationError("La réponse doit compter au moins 3 caractères.", code="too_short")
        if normalised in (self.user.username.lower(), services.normalise_answer(self.data.get("question", ""))):
            raise forms.ValidationError(
                "La réponse doit être différente de la question et de l'identifiant.", code="too_obvious"
            )
        return answer

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(WRONG_CURRENT_PASSWORD, code="password_incorrect")
        return password


class SecretAnswerForm(forms.Form):
    answer = forms.CharField(
        label="Entrez la réponse",
        max_length=100,
        error_messages={"required": "Saisissez la réponse à votre question secrète."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class ForgotIdentifiantForm(forms.Form):
    email = forms.EmailField(
        label="Votre adresse électronique",
        help_text="L'adresse du représentant légal indiquée dans la demande d'enrôlement. Format attendu : "
        "nom@domaine.fr.",
        max_length=254,
        error_messages={
            "required": "Saisissez votre adresse électronique.",
            "invalid": "Saisissez une adresse électronique valide, par exemple nom@domaine.fr.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ForgotPasswordForm(forms.Form):
    identifiant = forms.CharField(
        label="Votre identifiant",
        max_length=150,
        help_text="Il vous a été envoyé par courriel après la validation de votre demande d'enrôlement.",
        error_messages={"required": "Saisissez votre identifiant."},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
