"""« Suivre ma demande » (R-AFT-3), the confirmation page kept at its own address and the deposit
receipts (R-AFT-4)."""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.vendor_space import vendor_required
from enrolment import links
from enrolment.models import CorrectionRound, EnrolmentRequest, format_enr
from segurnum import ratelimit
from segurnum.middleware import no_store
from segurnum.text import client_ip
from tracking import receipts
from tracking.forms import StatusCheckForm
from tracking.status import find_status

logger = logging.getLogger(__name__)

STATUS_CHECKS = "status-checks"
CAPTCHA_REFRESH = "captcha-refresh"  # the scope of the wizard's « Afficher un nouveau code »
THROTTLED = (
    "Trop de demandes de suivi ont été faites depuis votre connexion en une heure. Votre saisie est conservée : "
    "réessayez plus tard, ou contactez l'assistance."
)
CAPTCHA_REFRESH_THROTTLED = (
    "Trop de nouveaux codes ont été demandés depuis votre connexion : recopiez le code affiché, ou réessayez dans "
    "quelques minutes."
)


@require_http_methods(["GET", "POST"])
def status_check(request: HttpRequest) -> HttpResponse:
    """ENR number + SIRET + captcha → the status. A pair that matches nothing gets the same page
    as one that matches, with « aucune demande » in place of the status: the number alone never
    tells whether it exists."""
    request.no_store = True
    context: dict = {"searched": False}
    status = 200
    if request.method == "POST":
        form = StatusCheckForm(request.POST)
        address = client_ip(request)
        if request.POST.get("action") == "new_captcha":
            # « Afficher un nouveau code » keeps what was typed and shows a new code.
            form = StatusCheckForm(initial={k: request.POST.get(k, "") for k in ("number", "siret")})
            if not ratelimit.hit(CAPTCHA_REFRESH, address, limit=settings.CAPTCHA_REFRESH_RATE_LIMIT):
                form = StatusCheckForm(request.POST)
                form.is_valid()
                form.add_error(None, CAPTCHA_REFRESH_THROTTLED)
                status = 429
        elif ratelimit.exceeded(STATUS_CHECKS, address, limit=settings.TRACKING_RATE_LIMIT):
            logger.warning("Suivi de demande refusé : limite horaire atteinte depuis %s", address)
            form.is_valid()  # the typed values and their own errors stay on the page
            form.add_error(None, THROTTLED)
            status = 429
        elif form.is_valid():
            ratelimit.record(STATUS_CHECKS, address)
            data = form.cleaned_data
            context.update(searched=True, answer=find_status(number=data["number"], siret=data["siret"]))
            # A new look-up starts from a new captcha; the number and SIRET stay in the fields.
            form = StatusCheckForm(initial={"number": data["number"], "siret": data["siret"]})
    else:
        form = StatusCheckForm(initial={"number": request.GET.get("numero", "")[:30]})
    context["form"] = form
    return render(request, "tracking/status.html", context, status=status)


# --- the confirmation page (its own address) -------------------------------------------------------


def _submitted_in_this_session(request: HttpRequest, enrolment: EnrolmentRequest) -> bool:
    # The wizard keeps the submission keys of the requests this session stored (SECURITY R5).
    return str(enrolment.submission_key) in request.session.get("enrolment_submitted_keys", [])


def _may_download(request: HttpRequest, enrolment: EnrolmentRequest) -> bool:
    own = request.user.is_authenticated and enrolment.account_id == request.user.pk
    return own or _submitted_in_this_session(request, enrolment)


@require_GET
def confirmation(request: HttpRequest, token: str) -> HttpResponse:
    """The guide's sentence with the ENR number, at an address that can be bookmarked (R-AFT-5). Reopened
    later, it leads to « Suivre ma demande »; the receipt stays with the session that submitted
    the request (or the vendor's account)."""
    number = links.number_from_token(token)
    if number is None:
        raise Http404
    enrolment = get_object_or_404(EnrolmentRequest, number=number)
    request.no_store = True
    return render(
        request,
        "enrolment/done.html",
        {
            "number": enrolment.number,
            "just_submitted": _submitted_in_this_session(request, enrolment),
            "receipt_url": links.confirmation_receipt_url(enrolment) if _may_download(request, enrolment) else "",
        },
    )


def pdf_response(receipt: receipts.Receipt) -> HttpResponse:
    """A download (SECURITY F11): attachment, nosniff, sandboxed; its views are marked no_store."""
    response = HttpResponse(receipts.render_pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@no_store
@require_GET
def confirmation_receipt(request: HttpRequest, token: str) -> HttpResponse:
    """« Télécharger l'accusé de dépôt » of the confirmation page: the submitting session or the
    vendor's account only; anyone else holding the address gets 404."""
    number = links.number_from_token(token)
    enrolment = EnrolmentRequest.objects.filter(number=number).first() if number else None
    if enrolment is None or not _may_download(request, enrolment):
        raise Http404
    return pdf_response(receipts.enrolment_receipt(enrolment))


@vendor_required
@no_store
@require_GET
def enrolment_receipt(request: HttpRequest, enr_number: str) -> HttpResponse:
    enrolment = get_object_or_404(EnrolmentRequest.objects.filter(account=request.user), number=enr_number)
    return pdf_response(receipts.enrolment_receipt(enrolment))


@vendor_required
@no_store
@require_GET
def funding_receipt(request: HttpRequest, number: str, version: int) -> HttpResponse:
    from funding.selectors import requests_of

    funding = get_object_or_404(requests_of(request.user).select_related("enrolment"), number=number)
    filed = get_object_or_404(funding.versions.all(), number=version)
    return pdf_response(receipts.funding_receipt(funding, filed))


@vendor_required
@no_store
@require_GET
def modification_receipt(request: HttpRequest, enr_number: str, number: str) -> HttpResponse:
    """The receipt of a modification ENR…Mn of one of the account's enrolments; another vendor's,
    or a number that is not one of this enrolment's modifications, answers 404."""
    enrolment = get_object_or_404(
        EnrolmentRequest.objects.filter(account=request.user).select_related("software"), number=enr_number
    )
    version = next(
        (v for v in enrolment.versions.filter(index__gt=0) if format_enr(enrolment.sequence, v.index) == number), None
    )
    if version is None:
        raise Http404
    version.enrolment = enrolment
    return pdf_response(receipts.modification_receipt(version))


COMPLETED_ROUNDS = "enrolment_completed_rounds"  # set by enrolment.amendment_views.complete


@no_store
@require_GET
def correction_receipt(request: HttpRequest, enr_number: str, round_number: int) -> HttpResponse:
    """The receipt of the compléments of an « A compléter » round: for the session that sent them
    (the request may have no account yet) or the vendor's account; anyone else gets 404."""
    round_ = (
        CorrectionRound.objects.select_related("enrolment", "enrolment__software")
        .filter(enrolment__number=enr_number, number=round_number, answered_at__isnull=False)
        .first()
    )
    if round_ is None:
        raise Http404
    own = request.user.is_authenticated and round_.enrolment.account_id == request.user.pk
    if not own and round_.pk not in request.session.get(COMPLETED_ROUNDS, []):
        raise Http404
    return pdf_response(receipts.correction_receipt(round_))
