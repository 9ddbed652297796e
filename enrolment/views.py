"""The enrolment pages around the wizard (``enrolment.wizard``): quitting, the confirmation,
the captcha's audio version and refresh, the model documents."""

import logging
import subprocess
from pathlib import Path

from captcha import views as captcha_views
from captcha.models import CaptchaStore
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from enrolment import drafts
from enrolment.links import confirmation_url
from enrolment.models import EnrolmentRequest
from enrolment.wizard.lookups import CAPTCHA_REFRESH, CAPTCHA_REFRESH_THROTTLED
from enrolment.wizard.views import (  # noqa: F401 (the wizard's names, where the URLs and tests read them)
    DONE_SESSION_KEY,
    SUBMIT_STORAGE_ERROR,
    WIZARD_SESSION_KEY,
    EnrolmentWizard,
)
from segurnum import ratelimit
from segurnum.middleware import no_store
from segurnum.text import client_ip

logger = logging.getLogger(__name__)


CAPTCHA_AUDIO = "captcha-audio"
CAPTCHA_AUDIO_THROTTLED = (
    "La version audio du code a été demandée trop souvent depuis votre connexion. Réessayez dans quelques "
    "minutes, ou recopiez le code affiché dans l'image."
)

MODEL_DOCUMENTS = {
    "contrat-de-prestation": ("modele-contrat-de-prestation.pdf", "Modèle contrat de prestation"),
    "mandat": ("modele-mandat.pdf", "Modèle de mandat"),
}


@require_POST
def quit_wizard(request: HttpRequest) -> HttpResponse:
    """« Quitter sans enregistrer »: the draft and its files are removed at once."""
    state = request.session.pop(WIZARD_SESSION_KEY, None) or {}
    drafts.delete_draft((state.get("extra_data") or {}).get("key", ""))
    messages.info(request, "Votre demande d'enrôlement a été abandonnée : aucune information n'a été conservée.")
    return redirect("public:home")


@no_store
def confirmation(request: HttpRequest) -> HttpResponse:
    """The confirmation page has its own address, which can be bookmarked (enrolment.links)."""
    enrolment = EnrolmentRequest.objects.filter(number=request.session.get(DONE_SESSION_KEY) or "").first()
    if enrolment is None:
        return redirect("enrolment:start")
    return redirect(confirmation_url(enrolment))


def too_many_requests(request: HttpRequest, message: str) -> HttpResponse:
    response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = "600"
    return response


@no_store
def captcha_audio(request: HttpRequest, key: str) -> HttpResponse:
    """The captcha's characters spelled in French (WAV), for people who cannot read the image."""
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).first()
    if store is None or not settings.CAPTCHA_AUDIO_COMMAND:
        raise Http404
    # SECURITY A12: each audio version starts a speech synthesiser process.
    if not ratelimit.hit(CAPTCHA_AUDIO, client_ip(request), limit=settings.CAPTCHA_AUDIO_RATE_LIMIT):
        return too_many_requests(request, CAPTCHA_AUDIO_THROTTLED)
    spelled = ". ".join(store.challenge.upper()) + "."
    command = [settings.CAPTCHA_AUDIO_COMMAND, "-v", "fr", "-s", "110", "-g", "8", "--stdout", spelled]
    try:
        result = subprocess.run(command, capture_output=True, timeout=10, check=True)  # noqa: S603
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("Captcha audio indisponible : %s", error)
        raise Http404 from error
    response = HttpResponse(result.stdout, content_type="audio/wav")
    response["Content-Disposition"] = 'inline; filename="code-captcha.wav"'
    return response


def captcha_refresh(request: HttpRequest) -> HttpResponse:
    """django-simple-captcha's refresh (a new code for a script), under the limit of « Afficher un
    nouveau code » (SECURITY A12)."""
    if request.headers.get("x-requested-with") == "XMLHttpRequest" and not ratelimit.hit(
        CAPTCHA_REFRESH, client_ip(request), limit=settings.CAPTCHA_REFRESH_RATE_LIMIT
    ):
        response = JsonResponse({"erreur": CAPTCHA_REFRESH_THROTTLED}, status=429)
        response["Retry-After"] = "600"
        return response
    return captcha_views.captcha_refresh(request)


def model_document(request: HttpRequest, name: str) -> FileResponse:
    """« Modèle contrat de prestation » and « Modèle de mandat » (R-WIZ-4)."""
    if name not in MODEL_DOCUMENTS:
        raise Http404
    filename, _ = MODEL_DOCUMENTS[name]
    path = Path(settings.BASE_DIR) / "static" / "docs" / filename
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf")
