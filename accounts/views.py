"""Sign-in, first connection, recovery (R-ACC-1..5)."""

import logging

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import get_default_password_validators
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import forms, services
from accounts.models import RecoveryRequest, User
from accounts.vendor_space import render_portal
from segurnum.middleware import no_store
from segurnum.text import client_ip

logger = logging.getLogger(__name__)

THROTTLED = "Trop de demandes ont été faites en une heure. Réessayez plus tard ou contactez l'assistance."
SESSION_RESET_TOKEN = "accounts:reset_token"
SESSION_RESET_ANSWERED = "accounts:reset_answered"
RECOVERY_SENT = {
    RecoveryRequest.Kind.IDENTIFIANT: (
        "Si un compte correspond à l'adresse électronique indiquée, un courriel contenant votre identifiant "
        "vient de lui être envoyé."
    ),
    RecoveryRequest.Kind.PASSWORD: (
        "Si un compte correspond à l'identifiant indiqué, un courriel contenant un lien de réinitialisation, "
        "valable une heure, vient d'être envoyé à l'adresse électronique de ce compte."
    ),
}


def attempted_identifiant(request, credentials) -> str:
    """The identifiant django-axes counts failures on: the one typed, as the login form reads it."""
    return (credentials or {}).get("username", "").strip().lower()


def lockout_response(request, original_response, credentials):
    """A locked identifiant gets exactly the page of a wrong password (SECURITY A2, A3): the
    form has already been rendered with « Identifiant ou mot de passe incorrect. »."""
    logger.warning("Connexion refusée à un identifiant verrouillé depuis %s", client_ip(request))
    return original_response


class PortalLoginView(LoginView):
    """« Accéder à mon espace personnel »."""

    form_class = forms.LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        user = self.request.user
        if user.is_staff:
            return reverse("admin:index")
        return reverse("portal:home")

    def get_success_url(self):
        next_url = self.get_redirect_url()
        if next_url and not self.request.user.is_staff:
            return next_url
        return self.get_default_redirect_url()


login_view = sensitive_post_parameters("password")(PortalLoginView.as_view())


@require_POST
def logout_view(request):
    """« Se déconnecter »: the session is deleted on the server, not only the cookie (S1)."""
    was_signed_in = request.user.is_authenticated
    logout(request)
    if was_signed_in:
        messages.info(request, "Vous êtes déconnecté.")
    return redirect("public:home")


def _forced_step_done(request) -> str:
    """Where to go once a step of the first connection is done."""
    if not request.user.has_secret_question:
        return reverse("accounts:secret_question")
    next_url = request.GET.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return next_url
    return reverse("portal:home")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@no_store
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    """« Changement du mot de passe pour <identifiant> » (R-ACC-2): forced at first connection,
    also reached from « Mon compte »."""
    user = request.user
    if request.method == "POST":
        form = forms.PasswordChangeForm(user, request.POST)
        if form.is_valid():
            services.change_password(user=user, password=form.cleaned_data["new_password1"])
            update_session_auth_hash(request, user)  # this session stays, the others end
            messages.success(request, "Votre mot de passe a été modifié.")
            return redirect(_forced_step_done(request))
    else:
        form = forms.PasswordChangeForm(user)
    return _account_page(request, "accounts/password_change.html", {"form": form, "rules": _password_rules()})


def _account_page(request, template: str, context: dict):
    """During the first connection the page stands alone; afterwards it is a page of « Mon
    compte », inside the private portal's layout and menu."""
    user = request.user
    if user.must_change_password or not user.has_secret_question:
        return render(request, template, {**context, "layout": "base.html"})
    return render_portal(request, template, nav="account", context={**context, "layout": "portal/base.html"})


# What the guide's paragraph (templates/accounts/_password_rules.html) already says; the other
# rules are listed under it, so that no rule is stated twice (RGAA 11.10).
RULES_IN_THE_GUIDE = (
    "MinimumLengthValidator",
    "DigitValidator",
    "SpecialCharacterValidator",
    "AsciiOnlyValidator",
    "IdentifiantValidator",
)


def _password_rules() -> list[str]:
    return [
        validator.get_help_text()
        for validator in get_default_password_validators()
        if type(validator).__name__ not in RULES_IN_THE_GUIDE
    ]


@sensitive_post_parameters("answer", "password")
@no_store
@login_required
@require_http_methods(["GET", "POST"])
def secret_question(request):
    """« Positionnement de la question secrète pour <identifiant> » (R-ACC-3)."""
    user = request.user
    first_time = not user.has_secret_question
    if request.method == "POST":
        form = forms.SecretQuestionForm(user, request.POST)
        if form.is_valid():
            services.set_secret_question(
                user=user, question=form.cleaned_data["question"], answer=form.cleaned_data["answer"]
            )
            messages.success(request, "Votre question secrète est enregistrée.")
            return redirect("portal:home" if first_time else "portal:account")
    else:
        form = forms.SecretQuestionForm(user)
    return _account_page(request, "accounts/secret_question.html", {"form": form, "first_time": first_time})


# The two « J'ai oublié… » forms: (form, the field naming the target, template, heading).
RECOVERY_FORMS = {
    RecoveryRequest.Kind.IDENTIFIANT: (
        forms.ForgotIdentifiantForm,
        "email",
        "accounts/forgot_identifiant.html",
        "J'ai oublié mon identifiant",
    ),
    RecoveryRequest.Kind.PASSWORD: (
        forms.ForgotPasswordForm,
        "identifiant",
        "accounts/forgot_password.html",
        "J'ai oublié mon mot de passe",
    ),
}


@require_http_methods(["GET", "POST"])
def recovery_form(request, *, kind: str):
    """Both « J'ai oublié… » forms: same page, same wording, same redirect whatever was typed
    (R-ACC-4, SECURITY A3); rate-limited per target and per address (A10)."""
    form_class, field, template, heading = RECOVERY_FORMS[kind]
    status = 200
    form = form_class(request.POST) if request.method == "POST" else form_class()
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data[field]
        address = client_ip(request) or None
        if not services.recovery_throttled(kind=kind, target=target, client_ip=address):
            services.request_recovery(kind=kind, target=target, client_ip=address)
            return redirect(f"{reverse('accounts:recovery_sent')}?demande={kind}")
        form.add_error(None, THROTTLED)
        status = 429
    return render(request, template, {"form": form, "heading": heading}, status=status)


def forgot_identifiant(request):
    return recovery_form(request, kind=RecoveryRequest.Kind.IDENTIFIANT)


def forgot_password(request):
    return recovery_form(request, kind=RecoveryRequest.Kind.PASSWORD)


def recovery_sent(request):
    kind = request.GET.get("demande", RecoveryRequest.Kind.PASSWORD)
    message = RECOVERY_SENT.get(kind, RECOVERY_SENT[RecoveryRequest.Kind.PASSWORD])
    return render(request, "accounts/recovery_sent.html", {"message": message, "kind": kind})


# --- The emailed link (SECURITY A5, A6, A8) --------------------------------------------------


def _user_from_uid(uidb64: str) -> User | None:
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    return User.objects.filter(pk=pk, is_active=True, is_staff=False).first()


def _recovery_page(response, *, policy: str = "same-origin"):
    """No address of these pages reaches another site through the Referer header (A6), and no
    cache keeps them. ``same-origin``, not ``no-referrer``, on pages that carry a form: under
    ``no-referrer`` Chromium posts the form with ``Origin: null``, which the CSRF check refuses
    (A11). Only the mailed link itself, whose address holds the token, sends no Referer at all."""
    response["Referrer-Policy"] = policy
    return response


def _invalid_link(request):
    return _recovery_page(render(request, "accounts/reset_invalid.html", status=400))


def _recovery_locked(request, user: User):
    return _recovery_page(render(request, "accounts/reset_locked.html", {"locked_until": user.recovery_locked_until}))


def _session_token_valid(request, user: User | None, uidb64: str) -> bool:
    stored = request.session.get(SESSION_RESET_TOKEN) or {}
    return bool(
        user is not None
        and stored.get("uid") == uidb64
        and default_token_generator.check_token(user, stored.get("token", ""))
    )


@no_store
def reset_link(request, uidb64: str, token: str):
    """The link of the mail: the token moves to the session and leaves the address bar at once,
    as Django's own PasswordResetConfirmView does."""
    user = _user_from_uid(uidb64)
    if user is None or not default_token_generator.check_token(user, token):
        return _invalid_link(request)
    request.session[SESSION_RESET_TOKEN] = {"uid": uidb64, "token": token}
    request.session.pop(SESSION_RESET_ANSWERED, None)
    return _recovery_page(redirect("accounts:reset_question", uidb64=uidb64), policy="no-referrer")


@sensitive_post_parameters("answer")
@no_store
@require_http_methods(["GET", "POST"])
def reset_question(request, uidb64: str):
    """The secret question, asked only once the emailed token is proven (A8). An account that
    never set one (a first connection not finished) goes straight to the new password."""
    user = _user_from_uid(uidb64)
    if not _session_token_valid(request, user, uidb64):
        return _invalid_link(request)
    if not user.has_secret_question:
        request.session[SESSION_RESET_ANSWERED] = uidb64
        return _recovery_page(redirect("accounts:reset_password", uidb64=uidb64))
    if services.recovery_locked(user):
        return _recovery_locked(request, user)
    if request.method == "POST":
        form = forms.SecretAnswerForm(request.POST)
        if form.is_valid():
            if services.check_secret_answer(user=user, answer=form.cleaned_data["answer"]):
                request.session[SESSION_RESET_ANSWERED] = uidb64
                return _recovery_page(redirect("accounts:reset_password", uidb64=uidb64))
            if services.recovery_locked(user):
                return _recovery_locked(request, user)
            form.add_error("answer", "La réponse ne correspond pas à celle enregistrée.")
    else:
        form = forms.SecretAnswerForm()
    form.fields["answer"].help_text = f"Votre question secrète : {user.secret_question}"
    return _recovery_page(render(request, "accounts/reset_question.html", {"form": form, "account": user}))


@sensitive_post_parameters("new_password1", "new_password2")
@no_store
@require_http_methods(["GET", "POST"])
def reset_password(request, uidb64: str):
    user = _user_from_uid(uidb64)
    if not _session_token_valid(request, user, uidb64) or request.session.get(SESSION_RESET_ANSWERED) != uidb64:
        return _invalid_link(request)
    if request.method == "POST":
        form = forms.SetPasswordForm(user, request.POST)
        if form.is_valid():
            services.change_password(user=user, password=form.cleaned_data["new_password1"])
            # The token is spent: it was derived from the old password's hash.
            request.session.pop(SESSION_RESET_TOKEN, None)
            request.session.pop(SESSION_RESET_ANSWERED, None)
            messages.success(
                request, "Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe."
            )
            return _recovery_page(redirect("accounts:login"))
    else:
        form = forms.SetPasswordForm(user)
    context = {"form": form, "account": user, "rules": _password_rules()}
    return _recovery_page(render(request, "accounts/reset_password.html", context))
