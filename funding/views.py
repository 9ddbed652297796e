"""Funding pages (R-FIN-1, R-FIN-3..6): the published format, the public simulator and its JSON
twin, and the vendor's private pages. Views parse, call a service or a selector, render."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.vendor_space import render_portal, vendor_required
from funding import format as funding_format
from funding import selectors, services
from funding.anomalies import CODES
from funding.engine import check_files
from funding.forms import FundingFilesForm, StatementsForm, ZipForm
from funding.models import FundingCheck, FundingRequest
from funding.reports import Report, euros
from funding.services import FundingRefused
from segurnum import ratelimit
from segurnum.middleware import no_store
from segurnum.text import client_ip

Purpose = FundingCheck.Purpose
SESSION_CHECKS = "funding:public_checks"
THROTTLED = "Trop de fichiers contrôlés depuis votre connexion. Réessayez dans une heure."
LINES_PER_PAGE = 50


# --- the published format ----------------------------------------------------------------------------


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def format_documentation(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "funding/format.html",
        {
            "fields": funding_format.documentation(),
            "codes": sorted(CODES.items(), key=lambda item: (item[1].scope, item[0])),
            "format_name": funding_format.FORMAT_NAME,
            "format_version": funding_format.FORMAT_VERSION,
            "limits": _limits(),
        },
    )


def _limits() -> dict:
    return {
        "json_mo": settings.FUNDING_JSON_MAX_BYTES // (1024 * 1024),
        "zip_mo": settings.FUNDING_ZIP_MAX_BYTES // (1024 * 1024),
        "members": settings.FUNDING_ZIP_MAX_MEMBERS,
        "total_mo": settings.FUNDING_ZIP_MAX_TOTAL_BYTES // (1024 * 1024),
        "ratio": settings.FUNDING_ZIP_MAX_RATIO,
        "beneficiaries": funding_format.schema()["properties"]["beneficiaires"]["maxItems"],
        "per_hour": settings.FUNDING_SIMULATOR_RATE_LIMIT,
    }


@require_GET
def format_schema(request: HttpRequest) -> HttpResponse:
    return _download(
        funding_format.schema_bytes(), "segurnum-financement-sas-1.0.schema.json", "application/schema+json"
    )


@require_GET
def format_blank_model(request: HttpRequest) -> HttpResponse:
    return _download(funding_format.blank_model_bytes(), "modele-vierge-financement-sas-1.0.json", "application/json")


@require_GET
def format_example(request: HttpRequest) -> HttpResponse:
    return _download(funding_format.example_bytes(), "exemple-financement-sas-1.0.json", "application/json")


@require_GET
def format_example_zip(request: HttpRequest) -> HttpResponse:
    return _download(funding_format.example_zip_bytes(), "exemple-pieces-financement-sas-1.0.zip", "application/zip")


# --- the public simulator (R-FIN-3) -----------------------------------------------------------------


def _throttled(request: HttpRequest) -> bool:
    """One more simulation from this address; True once past the hourly limit (R-FIN-3)."""
    return not ratelimit.hit("funding-simulator", client_ip(request), limit=settings.FUNDING_SIMULATOR_RATE_LIMIT)


@require_http_methods(["GET", "POST"])
def public_simulator(request: HttpRequest) -> HttpResponse:
    status = 200
    form = FundingFilesForm(*_posted(request))
    if request.method == "POST":
        if _throttled(request):
            form.is_valid()
            form.add_error(None, THROTTLED)
            status = 429
        elif form.is_valid():
            try:
                check = services.start_check(
                    purpose=Purpose.PUBLIC_SIMULATION,
                    json_upload=form.cleaned_data["fichier_json"],
                    zip_upload=form.cleaned_data["fichier_zip"],
                )
            except FundingRefused as refusal:
                form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
            else:
                request.session[SESSION_CHECKS] = [*request.session.get(SESSION_CHECKS, [])[-9:], str(check.pk)]
                return redirect("funding:public_report", check_id=check.pk)
    api_url = request.build_absolute_uri(reverse("funding:api_check"))
    context = {"form": form, "api_url": api_url, "rate_limit": settings.FUNDING_SIMULATOR_RATE_LIMIT}
    return render(request, "public/json_simulator.html", context, status=status)


def _public_check(request: HttpRequest, check_id) -> FundingCheck:
    check = selectors.check_for(check_id, session_checks=request.session.get(SESSION_CHECKS, []))
    if check is None or check.purpose != Purpose.PUBLIC_SIMULATION:
        raise Http404
    return check


@no_store
@require_GET
def public_report(request: HttpRequest, check_id) -> HttpResponse:
    check = _public_check(request, check_id)
    return render(request, "funding/public_report.html", _check_context(check, "funding:public_report_csv"))


@no_store
@require_GET
def public_report_csv(request: HttpRequest, check_id) -> HttpResponse:
    return _csv(_public_check(request, check_id))


def _csv(check: FundingCheck) -> HttpResponse:
    if check.state != FundingCheck.State.DONE:
        raise Http404
    return _download(Report(check.report).as_csv(), f"rapport-{check.pk}.csv", "text/csv; charset=utf-8")


def _check_context(check: FundingCheck, csv_url_name: str) -> dict:
    return {
        "check": check,
        "report": Report(check.report) if check.state == FundingCheck.State.DONE else None,
        "csv_url": reverse(csv_url_name, kwargs={"check_id": check.pk}),
    }


@csrf_exempt
@require_POST
def api_check(request: HttpRequest) -> JsonResponse:
    """The JSON twin of the public simulator, for vendors' own tooling: the same engine, the same
    report, answered once the check is done; nothing is kept (the uploads are temporary files)."""
    if _throttled(request):
        return JsonResponse({"erreur": THROTTLED}, status=429, json_dumps_params={"ensure_ascii": False})
    json_upload, zip_upload = request.FILES.get("json"), request.FILES.get("zip")
    if json_upload is None:
        return JsonResponse(
            {"erreur": "Envoyez le fichier json dans le champ « json » (multipart/form-data)."},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    result = check_files(json_file=json_upload, zip_file=zip_upload, period=selectors.scheme_period())
    report = Report(services.report_as_json(result))
    return JsonResponse(report.as_api(), json_dumps_params={"ensure_ascii": False, "indent": 2})


# --- the vendor's pages (R-FIN-4..6) -------------------------------------------------------------------


def _window_context() -> dict:
    window = selectors.open_window()
    return {
        "window": window,
        "next_window": None if window else selectors.next_window(),
        "window_closed": services.window_closed_message(),
    }


@vendor_required
def funding_home(request: HttpRequest) -> HttpResponse:
    """« Demande de financement » and « Suivi de ma demande de financement »."""
    enrolment = selectors.validated_enrolment(request.user)
    funding = selectors.current_request(request.user)
    context = {"enrolment": enrolment, "funding": funding, **_window_context()}
    if funding is not None:
        context.update(
            changes=funding.status_changes.select_related("version"),
            versions=funding.versions.all(),
            reason=_last_reason(funding),
            version_form=FundingFilesForm(json_required=False),
        )
    context["can_file"] = bool(enrolment and context["window"] and (funding is None or not funding.is_open))
    if context["can_file"]:
        context["filing_form"] = FundingFilesForm()
    return render_portal(request, "portal/funding.html", nav="funding", context=context)


def _last_reason(funding: FundingRequest) -> str:
    if funding.status not in (FundingRequest.Status.TO_MODIFY, FundingRequest.Status.REJECTED):
        return ""
    change = funding.status_changes.filter(to_status=funding.status).order_by("-at", "-id").first()
    return change.comment if change else ""


def _start(request: HttpRequest, form, purpose: str, funding: FundingRequest | None = None, reuse=None):
    try:
        return services.start_check(
            purpose=purpose,
            json_upload=form.cleaned_data.get("fichier_json"),
            zip_upload=form.cleaned_data.get("fichier_zip"),
            account=request.user,
            request=funding,
            reuse=reuse,
        )
    except FundingRefused as refusal:
        form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        return None


@vendor_required
@require_http_methods(["GET", "POST"])
def private_simulator(request: HttpRequest) -> HttpResponse:
    """R-FIN-4: the public simulator plus the checks against the vendor's enrolment; nothing kept."""
    if selectors.validated_enrolment(request.user) is None:
        return redirect("portal:funding")
    form = FundingFilesForm(*_posted(request))
    if request.method == "POST" and form.is_valid():
        check = _start(request, form, Purpose.PRIVATE_SIMULATION)
        if check:
            return redirect("funding:check", check_id=check.pk)
    return render_portal(request, "funding/private_simulator.html", nav="funding", context={"form": form})


@vendor_required
@require_http_methods(["GET", "POST"])
def file_request(request: HttpRequest) -> HttpResponse:
    """« Déposer ma demande de financement »: the JSON and the zip, then the report."""
    enrolment = selectors.validated_enrolment(request.user)
    funding = selectors.current_request(request.user)
    if enrolment is None or (funding is not None and funding.is_open):
        return redirect("portal:funding")
    reuse = _reusable_check(request)
    form = FundingFilesForm(*_posted(request))
    if request.method == "POST" and form.is_valid():
        check = _start(request, form, Purpose.FILING, reuse=reuse)
        if check:
            return redirect("funding:check", check_id=check.pk)
    context = {"form": form, "reuse": reuse, **_window_context()}
    return render_portal(request, "funding/file.html", nav="funding", context=context)


@vendor_required
@require_POST
def send_version(request: HttpRequest) -> HttpResponse:
    funding = selectors.current_request(request.user)
    if funding is None or funding.status != FundingRequest.Status.TO_MODIFY:
        return redirect("portal:funding")
    form = FundingFilesForm(request.POST, request.FILES, json_required=False)
    if form.is_valid():
        check = _start(request, form, Purpose.NEW_VERSION, funding)
        if check:
            return redirect("funding:check", check_id=check.pk)
    messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
    return redirect("portal:funding")


def _reusable_check(request: HttpRequest) -> FundingCheck | None:
    """The earlier filing check whose accepted pieces the vendor keeps (« reprise »)."""
    check_id = request.POST.get("reprise") or request.GET.get("reprise")
    if not check_id:
        return None
    check = selectors.check_for(check_id, user=request.user)
    if check is None or check.purpose != Purpose.FILING or check.used or not check.pieces:
        return None
    return check


def _posted(request: HttpRequest) -> tuple:
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


def _own_check(request: HttpRequest, check_id) -> FundingCheck:
    check = selectors.check_for(check_id, user=request.user)
    if check is None:
        raise Http404
    return check


@vendor_required
@require_GET
def check_page(request: HttpRequest, check_id) -> HttpResponse:
    """The progress while the task runs (the page refreshes itself, no JavaScript), then the
    report and what may follow: the recap, or sending the pieces of an incomplete request."""
    check = _own_check(request, check_id)
    context = _check_context(check, "funding:check_csv")
    return render_portal(request, "funding/check.html", nav="funding", context=context)


@vendor_required
@require_GET
def check_csv(request: HttpRequest, check_id) -> HttpResponse:
    return _csv(_own_check(request, check_id))


@vendor_required
@require_http_methods(["GET", "POST"])
def recap(request: HttpRequest, check_id) -> HttpResponse:
    """Recap (beneficiaries, totals, files) → the two statements → « Terminer » (R-FIN-5)."""
    check = _own_check(request, check_id)
    if check.purpose not in (Purpose.FILING, Purpose.NEW_VERSION) or not check.report.get("json_accepted"):
        return redirect("funding:check", check_id=check.pk)
    if check.used:
        funding = FundingRequest.objects.filter(account=request.user, submission_key=check.pk).first()
        funding = funding or check.request
        return redirect("funding:filed", number=funding.number) if funding else redirect("portal:funding")
    form = StatementsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            if check.purpose == Purpose.FILING:
                funding = services.file_funding_request(check=check, account=request.user)
            else:
                funding = services.send_new_version(check=check, account=request.user)
        except FundingRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            return redirect("funding:filed", number=funding.number)
    lines = services.parsed_lines(check)
    page = Paginator(lines, LINES_PER_PAGE).get_page(request.GET.get("page"))
    report = Report(check.report)
    context = {
        "check": check,
        "form": form,
        "report": report,
        "page": page,
        "pieces": sorted(check.pieces) if check.pieces else [],
        "total_ht": euros(check.report.get("total_ht")),
        "total_ttc": euros(check.report.get("total_ttc")),
        "incomplete": not check.report.get("zip_accepted") and not _carries_pieces(check),
    }
    return render_portal(request, "funding/recap.html", nav="funding", context=context)


def _carries_pieces(check: FundingCheck) -> bool:
    version = check.request.current_version if check.request_id else None
    return bool(check.purpose == Purpose.NEW_VERSION and not check.zip_name and version and version.documents.exists())


@vendor_required
@require_GET
def filed(request: HttpRequest, number: str) -> HttpResponse:
    funding = get_object_or_404(selectors.requests_of(request.user), number=number)
    return render_portal(request, "funding/filed.html", nav="funding", context={"funding": funding})


@vendor_required
@require_http_methods(["GET", "POST"])
def incomplete(request: HttpRequest) -> HttpResponse:
    """« Suivi demandes incomplètes »: only the zip is sent again."""
    requests = list(selectors.incomplete_requests(request.user).select_related("current_version"))
    forms = {funding.pk: ZipForm(prefix=f"demande-{funding.pk}") for funding in requests}
    if request.method == "POST":
        funding = next((item for item in requests if str(item.pk) == request.POST.get("demande")), None)
        if funding is None:
            return redirect("funding:incomplete")
        form = forms[funding.pk] = ZipForm(request.POST, request.FILES, prefix=f"demande-{funding.pk}")
        if form.is_valid():
            check = _start(request, form, Purpose.ZIP_COMPLETION, funding)
            if check:
                return redirect("funding:check", check_id=check.pk)
    items = [{"funding": funding, "form": forms[funding.pk]} for funding in requests]
    return render_portal(request, "funding/incomplete.html", nav="funding", context={"items": items})


@vendor_required
@require_POST
def complete(request: HttpRequest, check_id) -> HttpResponse:
    check = _own_check(request, check_id)
    try:
        funding = services.complete_zip(check=check, account=request.user)
    except FundingRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("funding:check", check_id=check.pk)
    messages.success(request, f"Les pièces de votre demande {funding.number} sont enregistrées : elle est déposée.")
    return redirect("portal:funding")
