"""Session limits and the first connection's forced steps (R-ACC-2, R-ACC-3, SECURITY A7, S2)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_STARTED = "accounts:started_at"
SESSION_SEEN = "accounts:seen_at"
# Recording activity at most once a minute keeps session writes rare.
SEEN_RESOLUTION_SECONDS = 60


@receiver(user_logged_in, dispatch_uid="accounts.session_started")
def _session_started(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_STARTED] = now
        request.session[SESSION_SEEN] = now


def _login_redirect(request):
    login_url = reverse("admin:login") if request.path.startswith("/admin/") else reverse("accounts:login")
    if request.method == "GET":
        login_url += "?" + urlencode({"next": request.get_full_path()})
    return redirect(login_url)


class SessionTimeoutMiddleware:
    """A signed-in user is signed out after SESSION_IDLE_TIMEOUT without a request and
    SESSION_ABSOLUTE_TIMEOUT after signing in; the session is deleted on the server."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.get(SESSION_STARTED, now)
            seen = session.get(SESSION_SEEN, now)
            if now - seen > settings.SESSION_IDLE_TIMEOUT or now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(request, "Votre session a expiré. Reconnectez-vous pour continuer.")
                return _login_redirect(request)
            if SESSION_STARTED not in session:
                session[SESSION_STARTED] = started
            if now - seen >= SEEN_RESOLUTION_SECONDS or SESSION_SEEN not in session:
                session[SESSION_SEEN] = now
        return self.get_response(request)


# Reachable while the first connection is not finished: the forced pages themselves, signing
# out, and what those pages load.
ALWAYS_ALLOWED_PREFIXES = ("/static/", "/media/", "/captcha/", "/sante/", "/deconnexion/")


class FirstConnectionMiddleware:
    """Until a vendor has replaced the temporary password, every URL leads to « Changement du
    mot de passe »; then, until the secret question is set, to « Positionnement de la question
    secrète » (SECURITY A7)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.is_vendor and not request.path.startswith(ALWAYS_ALLOWED_PREFIXES):
            if user.must_change_password:
                target = reverse("accounts:password_change")
            elif not user.has_secret_question:
                target = reverse("accounts:secret_question")
            else:
                target = None
            if target and request.path != target:
                return redirect(target)
        return self.get_response(request)
