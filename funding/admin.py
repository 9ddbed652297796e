"""Back office « Demandes de financement » (R-FIN-7): list, filters, search, the detail with its
report, lines, pieces (opened through the recorded access), versions and history; decisions are
buttons that call the services. Agents also keep the filing windows (« guichets »)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from enrolment.models import AccessRecord
from exports.admin import ExportMixin
from flags.admin import VERIFY_PERMISSION as VERIFY_FLAG_PERMISSION
from flags.admin import FundingFlagFilter, with_flags
from flags.admin import badges as flag_badges
from funding import services
from funding.models import FundingDocument, FundingRequest, FundingWindow
from funding.reports import Report
from funding.selectors import exact_condition
from notifications.models import OutboundEmail
from segurnum.admin import CappedCountPaginator, ReadOnlyAdminMixin
from segurnum.middleware import no_store

DECIDE_PERMISSION = "funding.decide_fundingrequest"
DOWNLOAD_PERMISSION = "funding.download_fundingdocument"
LINES_PER_PAGE = 50
Status = FundingRequest.Status


@admin.register(FundingWindow)
class FundingWindowAdmin(admin.ModelAdmin):
    list_display = ("name", "opens_at", "closes_at", "period_start", "period_end")
    ordering = ("-opens_at",)
    fieldsets = (
        (None, {"fields": ("name",)}),
        ("Dépôt (heure de Paris)", {"fields": ("opens_at", "closes_at")}),
        (
            "Période du dispositif (dates des bons de commande et des raccordements)",
            {"fields": ("period_start", "period_end")},
        ),
    )


@admin.register(FundingRequest)
class FundingRequestAdmin(ExportMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    paginator = CappedCountPaginator  # R-PERF-4
    export_datasets = ("demandes-financement", "beneficiaires")  # R-OPS-1
    list_display = (
        "number",
        "status",
        "flags_display",
        "siret",
        "denomination",
        "beneficiary_count",
        "amount_ttc",
        "window",
        "submitted_at",
    )
    list_select_related = ("enrolment", "window")
    list_filter = ("status", "window", FundingFlagFilter)
    search_fields = ("=number", "=siret", "enrolment__denomination")
    search_help_text = (
        "Numéro FIN, numéro ENR, SIRET du fournisseur, identifiant d'un bénéficiaire (RPPS, FINESS, SIRET) "
        "ou dénomination."
    )
    show_full_result_count = False
    list_per_page = 50
    ordering = ("-submitted_at", "-id")
    change_form_template = "admin/funding/fundingrequest/change_form.html"
    fieldsets = (
        ("Demande", {"fields": ("number", "status", "submitted_at", "decided_at", "window")}),
        ("Fournisseur", {"fields": ("enrolment_display", "siret", "denomination")}),
        ("Montants", {"fields": ("beneficiary_count", "amount_ht", "amount_ttc")}),
        ("Paiement", {"fields": ("paid_amount", "paid_on", "payment_reference")}),
    )

    @admin.display(description="dénomination", ordering="enrolment__denomination")
    def denomination(self, obj: FundingRequest) -> str:
        return obj.enrolment.denomination

    @admin.display(description="signalements")
    def flags_display(self, obj: FundingRequest) -> str:
        return flag_badges(obj)  # R-OPS-3, computed when the request was filed

    def get_queryset(self, request):
        return with_flags(super().get_queryset(request))

    @admin.display(description="enrôlement")
    def enrolment_display(self, obj: FundingRequest) -> str:
        return f"{obj.enrolment.number} — {obj.enrolment.software_name} {obj.enrolment.software_version}"

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.fieldsets for name in options["fields"]]

    def get_search_results(self, request, queryset, search_term):
        condition = exact_condition(search_term)
        if condition is not None:
            return queryset.filter(condition).distinct(), True
        return super().get_search_results(request, queryset, search_term)

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [
            path("<int:pk>/decision/<str:action>/", view(self.decision_view), name="funding_decide"),
            path("<int:pk>/pieces/<int:document_pk>/", piece_view, name="funding_piece"),
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            if request.method == "GET":
                AccessRecord.objects.create(
                    user=request.user,
                    action=AccessRecord.Action.VIEW_FUNDING,
                    funding_request=obj,
                    target=obj.number,
                )
            version = obj.current_version
            lines = obj.lines.filter(version=version).order_by("position") if version else obj.lines.none()
            context.update(
                anomalies=Report({"anomalies": version.report}).anomalies if version else [],
                lines=Paginator(lines, LINES_PER_PAGE).get_page(request.GET.get("lignes")),
                documents=version.documents.all() if version else [],
                versions=obj.versions.all(),
                status_changes=obj.status_changes.select_related("by"),
                emails=OutboundEmail.objects.filter(key__startswith=f"funding:{obj.pk}:").order_by("created_at", "id"),
                can_decide=request.user.has_perm(DECIDE_PERMISSION),
                flags=obj.flags.select_related("verified_by"),
                can_verify_flags=request.user.has_perm(VERIFY_FLAG_PERMISSION),
                next_statuses=services.NEXT_STATUSES[obj.status],
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @method_decorator(require_POST)
    def decision_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        if not request.user.has_perm(DECIDE_PERMISSION):
            raise PermissionDenied
        funding = self.get_object(request, str(pk))
        if funding is None:
            raise Http404
        post, by = request.POST, request.user
        decisions = {
            "instruire": (
                lambda: services.start_review(request=funding, by=by),
                "La demande {number} est en cours d'instruction.",
            ),
            "modifier": (
                lambda: services.ask_modification(request=funding, by=by, reason=post.get("reason", "")),
                "La demande {number} est « A modifier » : le motif est envoyé au fournisseur.",
            ),
            "valider": (
                lambda: services.validate_request(request=funding, by=by, comment=post.get("comment", "")),
                "La demande {number} est validée.",
            ),
            "payer": (
                lambda: services.mark_paid(
                    request=funding,
                    by=by,
                    amount=post.get("amount", ""),
                    paid_on=post.get("paid_on", ""),
                    reference=post.get("reference", ""),
                ),
                "La demande {number} est décidée et payée.",
            ),
            "rejeter": (
                lambda: services.reject_request(request=funding, by=by, reason=post.get("reason", "")),
                "La demande {number} est rejetée : le motif est envoyé au fournisseur.",
            ),
        }
        if action not in decisions:
            raise Http404
        decide, message = decisions[action]
        try:
            decide()
        except services.FundingRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        else:
            self.message_user(request, message.format(number=funding.number), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:funding_fundingrequest_change", args=[pk]))


@no_store
def piece_view(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """A piece, for the agents allowed to open it, and recorded like an enrolment document (P3)."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        raise Http404
    if not user.has_perm(DOWNLOAD_PERMISSION):
        raise PermissionDenied
    try:
        document = FundingDocument.objects.select_related("request").get(pk=document_pk, request_id=pk)
    except FundingDocument.DoesNotExist as missing:
        raise Http404 from missing
    AccessRecord.objects.create(
        user=user,
        action=AccessRecord.Action.OPEN_FUNDING_PIECE,
        funding_request=document.request,
        funding_document=document,
        target=f"{document.request.number} — {document.name}"[:300],
    )
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.name.rsplit("/", 1)[-1],
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
