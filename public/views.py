import logging
import sys

from django.http import HttpResponseServerError
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.views.decorators.http import require_http_methods

from public import services
from public.forms import SupportRequestForm
from public.models import FaqEntry
from segurnum.middleware import database_unavailable, service_unavailable_response
from segurnum.text import client_ip

logger = logging.getLogger(__name__)

SESSION_SUPPORT_REFERENCE = "public:support_reference"
THROTTLED_MESSAGE = "Trop de demandes envoyées depuis votre connexion. Réessayez plus tard."


def home(request):
    return render(request, "public/home.html")


def faq(request):
    entries = FaqEntry.objects.filter(published=True).order_by("position", "id")
    return render(request, "public/faq.html", {"entries": entries})


@require_http_methods(["GET", "POST"])
def contact(request):
    status = 200
    if request.method == "POST":
        form = SupportRequestForm(request.POST)
        address = client_ip(request)
        if services.contact_rate_exceeded(client_ip=address):
            form.is_valid()  # keep the typed values and show their own errors too
            form.add_error(None, THROTTLED_MESSAGE)
            status = 429
        elif form.is_valid():
            services.record_contact_attempt(client_ip=address)
            if form.is_spam:
                logger.info("Message d'assistance ignoré (champ piège rempli) depuis %s", address)
                request.session.pop(SESSION_SUPPORT_REFERENCE, None)
            else:
                support_request = services.submit_support_request(
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    enr_number=form.cleaned_data["enr_number"],
                    subject=form.cleaned_data["subject"],
                    message=form.cleaned_data["message"],
                )
                request.session[SESSION_SUPPORT_REFERENCE] = support_request.reference
            return redirect("public:contact_done")
    else:
        form = SupportRequestForm(initial=_vendor_initial(request.user))
    return render(request, "public/contact.html", {"form": form}, status=status)


def _vendor_initial(user) -> dict[str, str]:
    """A signed-in vendor writes with its name, email and latest ENR number already filled in."""
    if not user.is_authenticated or not user.is_vendor:
        return {}
    latest_number = user.enrolment_requests.order_by("-submitted_at", "-id").values_list("number", flat=True).first()
    return {"name": user.get_full_name(), "email": user.email, "enr_number": latest_number or ""}


def contact_done(request):
    reference = request.session.get(SESSION_SUPPORT_REFERENCE, "")
    return render(request, "public/contact_done.html", {"reference": reference})


def legal(request):
    # The durations come from the settings the purges read (R-OPS-5): the page cannot drift.
    from operations.retention import durations

    return render(request, "public/legal.html", {"retention_durations": durations()})


def accessibility(request):
    return render(request, "public/accessibility.html")


def terms(request):
    """CGU the vendor accepts on the last step of the enrolment (R-WIZ-7)."""
    return render(request, "public/terms.html")


def sitemap(request):
    """« Plan du site »: a second way to reach every page (RGAA 12.1)."""
    return render(request, "public/sitemap.html")


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def permission_denied(request, exception):
    return render(request, "403.html", status=403)


def csrf_failure(request, reason: str = ""):
    """A form refused by the CSRF check (expired page, cookies blocked, another site): a French
    page in the portal's shell instead of Django's English one (SECURITY A11)."""
    logger.warning("Formulaire refusé (CSRF) sur %s : %s", request.path, reason)
    return render(request, "403.html", {"csrf_failure": True}, status=403)


def server_error(request):
    # A database that is down, met by a middleware (the session loaded for request.user) rather
    # than by the view, arrives here: it is a 503 too, with its French page (SECURITY G4).
    if database_unavailable(sys.exc_info()[1]):
        return service_unavailable_response()
    # No request context: the context processors may be what failed (database, session…).
    return HttpResponseServerError(get_template("500.html").render())
