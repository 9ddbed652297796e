"""Back office of the ASP agents (R-BO-1, R-BO-2): the requests, their documents, the decisions."""

import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter, SimpleListFilter
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from enrolment import admin_amendments, services
from enrolment.field_groups import GROUPS, Applicant, Bank, Company
from enrolment.models import AccessRecord, EnrolmentDocument, EnrolmentRequest, ReferencedSoftware
from enrolment.search import exact_condition, iban_condition
from exports.admin import ExportMixin
from flags.admin import VERIFY_PERMISSION as VERIFY_FLAG_PERMISSION
from flags.admin import FlagFilter, with_flags
from flags.admin import badges as flag_badges
from segurnum.admin import CappedCountPaginator, ReadOnlyAdminMixin
from segurnum.middleware import no_store
from segurnum.storage import storage_errors

logger = logging.getLogger(__name__)

DOWNLOAD_PERMISSION = "enrolment.download_enrolmentdocument"
VALIDATE_PERMISSION = "enrolment.validate_enrolmentrequest"
REJECT_PERMISSION = "enrolment.reject_enrolmentrequest"
UNREADABLE_DOCUMENT = (
    "La pièce « {name} » ne peut pas être ouverte : elle est illisible (fichier altéré, ou clé de chiffrement "
    "retirée). L'incident est journalisé ; contactez l'équipe technique."
)


class ReferencedSoftwareRowForm(forms.ModelForm):
    """A row of the list: its « actif » box is named after its software (RGAA 11.1), where
    Django's list leaves it without a label."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "active" in self.fields and self.instance.pk:
            widget = self.fields["active"].widget
            widget.attrs = {**widget.attrs, "aria-label": f"Actif : {self.instance.referencing_number}"}


@admin.register(ReferencedSoftware)
class ReferencedSoftwareAdmin(admin.ModelAdmin):
    list_display = ("referencing_number", "software_name", "version", "dsr_label", "editor_siret", "active")
    list_filter = ("active", "dsr_label")
    search_fields = ("referencing_number", "software_name", "editor_siret", "editor_name")
    list_editable = ("active",)

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, **{"form": ReferencedSoftwareRowForm, **kwargs})


class DsrFilter(SimpleListFilter):
    """The DSR values come from the registry (a few rows), not from a DISTINCT over the requests."""

    title = "DSR concerné"
    parameter_name = "dsr"

    def lookups(self, request, model_admin):
        labels = ReferencedSoftware.objects.order_by("dsr_label").values_list("dsr_label", flat=True).distinct()
        return [(label, label) for label in labels]

    def queryset(self, request, queryset):
        return queryset.filter(dsr_label=self.value()) if self.value() else queryset


class ThirdPartyFilter(SimpleListFilter):
    title = "tiers déclarant"
    parameter_name = "tiers_declarant"

    def lookups(self, request, model_admin):
        return [("oui", "Oui"), ("non", "Non")]

    def queryset(self, request, queryset):
        if self.value() in ("oui", "non"):
            return queryset.filter(is_legal_representative=self.value() == "non")
        return queryset


# Shown side by side on the agent's page; every other field of a group on a line of its own.
SIDE_BY_SIDE = (
    ("street_number", "street_extension"),
    ("street_type", "street_name"),
    ("postal_code", "city"),
    ("representative_last_name", "representative_first_name"),
    ("representative_email", "representative_phone"),
    ("depositor_last_name", "depositor_first_name"),
    ("depositor_email", "depositor_phone"),
)


def admin_layout(names: tuple[str, ...]) -> tuple:
    """The names of a group as admin fieldset lines, the pairs of SIDE_BY_SIDE on one line."""
    lines: list = []
    for name in names:
        pair = next((pair for pair in SIDE_BY_SIDE if pair[0] == name), None)
        if pair and pair[1] in names:
            lines.append(pair)
        elif not any(pair[1] == name and pair[0] in names for pair in SIDE_BY_SIDE):
            lines.append(name)
    return tuple(lines)


# The agent's page, grouped like the vendor's recap (enrolment.field_groups).
GROUP_FIELDS = {
    "Personne morale": (*Company.names(), "is_distributor"),
    "Demandeur": Applicant.names(),
    "Coordonnées bancaires": Bank.names(),
}
RECAP_FIELDSETS = (
    ("Demande", {"fields": ("number", "status", "submitted_at", "decided_at", "account_display")}),
    ("Référencement", {"fields": ("referencing_number", "software_name", "software_version", "dsr_label")}),
    *((group.title, {"fields": admin_layout(GROUP_FIELDS.get(group.title, group.fields))}) for group in GROUPS),
)


@admin.register(EnrolmentRequest)
class EnrolmentRequestAdmin(ExportMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only detail grouped like the vendor's recap; decisions are buttons that call services."""

    paginator = CappedCountPaginator  # R-PERF-4

    export_datasets = ("demandes-enrolement",)  # R-OPS-1

    list_display = (
        "number",
        "status",
        "flags_display",
        "siret",
        "denomination",
        "software_display",
        "submitted_at",
        "account",
    )
    list_select_related = ("account",)
    list_filter = (
        "status",
        "vat_rate",
        DsrFilter,
        ThirdPartyFilter,
        "is_distributor",
        ("submitted_at", DateFieldListFilter),
        FlagFilter,
    )
    # Exact numbers through their indexes (R-PERF-4): an ENR number or a SIRET is exact whatever
    # its case; the referencing number is compared without case (UPPER index).
    search_fields = (
        "number__exact",
        "siret__exact",
        "=referencing_number",
        "denomination",
        "trade_name",
        "representative_email",
        "depositor_email",
    )
    search_help_text = (
        "Numéro ENR, SIRET, n° de référencement ANS, dénomination, nom commercial ou adresse électronique."
    )
    # One COUNT(*) instead of two on a table of 100 000 requests.
    show_full_result_count = False
    list_per_page = 50
    ordering = ("-submitted_at", "-id")
    fieldsets = RECAP_FIELDSETS
    change_form_template = "admin/enrolment/enrolmentrequest/change_form.html"

    @admin.display(description="logiciel", ordering="software_name")
    def software_display(self, obj: EnrolmentRequest) -> str:
        return f"{obj.referencing_number} — {obj.software_name} {obj.software_version}"

    @admin.display(description="signalements")
    def flags_display(self, obj: EnrolmentRequest) -> str:
        return flag_badges(obj)  # R-OPS-3, computed when the request was stored

    def get_queryset(self, request):
        return with_flags(super().get_queryset(request))

    @admin.display(description="compte du fournisseur")
    def account_display(self, obj: EnrolmentRequest) -> str:
        return obj.account.username if obj.account else "— (créé à la validation)"

    def get_search_results(self, request, queryset, search_term):
        # An ENR number, a SIRET or a whole address is looked up exactly, through the indexes,
        # instead of a « contains » over every searched column of 100 000 rows.
        # A whole IBAN is found through its keyed hash: the column itself is encrypted.
        condition = exact_condition(search_term) or iban_condition(search_term)
        if condition is not None:
            return queryset.filter(condition), False
        return super().get_search_results(request, queryset, search_term)

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.fieldsets for row in options["fields"] for name in _names(row)]

    def get_urls(self):
        own = [
            path("<int:pk>/prendre-en-charge/", self.admin_site.admin_view(self.review_view), name="enrolment_review"),
            path("<int:pk>/valider/", self.admin_site.admin_view(self.validate_view), name="enrolment_validate"),
            path("<int:pk>/rejeter/", self.admin_site.admin_view(self.reject_view), name="enrolment_reject"),
            path("<int:pk>/pieces/<int:document_pk>/", document_view, name="enrolment_document"),
            *admin_amendments.amendment_urls(self),
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Reached once the view permission is checked, with the request already fetched.
        if obj is not None:
            if request.method == "GET":
                AccessRecord.objects.create(
                    user=request.user, action=AccessRecord.Action.VIEW_REQUEST, enrolment=obj, target=obj.number
                )
            context.update(
                self._decision_context(request, obj),
                documents=obj.documents.all(),
                status_changes=obj.status_changes.select_related("by"),
                emails=obj.emails.order_by("created_at", "id"),
                **admin_amendments.amendment_context(request, obj),
                flags=obj.flags.select_related("verified_by"),
                can_verify_flags=request.user.has_perm(VERIFY_FLAG_PERMISSION),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _decision_context(self, request, obj) -> dict:
        next_statuses = services.NEXT_STATUSES[obj.status]
        can_validate = request.user.has_perm(VALIDATE_PERMISSION)
        can_reject = request.user.has_perm(REJECT_PERMISSION)
        return {
            "can_review": (can_validate or can_reject) and EnrolmentRequest.Status.IN_REVIEW in next_statuses,
            "can_validate": can_validate and EnrolmentRequest.Status.VALIDATED in next_statuses,
            "can_reject": can_reject and EnrolmentRequest.Status.REJECTED in next_statuses,
        }

    def _decide(self, request: HttpRequest, pk: int, permission: str, decide) -> HttpResponse:
        if not request.user.has_perm(permission):
            raise PermissionDenied
        enrolment = self.get_object(request, str(pk))
        if enrolment is None:
            raise Http404
        try:
            message = decide(enrolment)
        except services.DecisionRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        else:
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:enrolment_enrolmentrequest_change", args=[pk]))

    @method_decorator(require_POST)
    def review_view(self, request, pk):
        def review(enrolment):
            services.start_review(enrolment=enrolment, by=request.user)
            return f"La demande {enrolment.number} est en cours d'instruction."

        permission = VALIDATE_PERMISSION if request.user.has_perm(VALIDATE_PERMISSION) else REJECT_PERMISSION
        return self._decide(request, pk, permission, review)

    @method_decorator(require_POST)
    def validate_view(self, request, pk):
        def validate(enrolment):
            enrolment = services.validate_enrolment(
                enrolment=enrolment, by=request.user, comment=request.POST.get("comment", "")
            )
            return (
                f"La demande {enrolment.number} est validée. Le compte « {enrolment.account.username} » est créé : "
                "le courriel de validation, puis l'identifiant, puis le mot de passe provisoire partent dans "
                "trois courriels séparés."
            )

        return self._decide(request, pk, VALIDATE_PERMISSION, validate)

    @method_decorator(require_POST)
    def reject_view(self, request, pk):
        def reject(enrolment):
            enrolment = services.reject_enrolment(
                enrolment=enrolment, by=request.user, reason=request.POST.get("reason", "")
            )
            return f"La demande {enrolment.number} est rejetée. Le motif est envoyé au demandeur."

        return self._decide(request, pk, REJECT_PERMISSION, reject)


def _names(row):
    return row if isinstance(row, tuple) else (row,)


@no_store
def document_view(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """A document, for the agents allowed to open it, and recorded (SECURITY P3).

    Anyone else gets a 404 (anonymous visitor, vendor) or a 403 (staff without the permission):
    never the file, which has no public URL at all.
    """
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        raise Http404
    if not user.has_perm(DOWNLOAD_PERMISSION):
        raise PermissionDenied
    try:
        document = EnrolmentDocument.objects.select_related("enrolment").get(pk=document_pk, enrolment_id=pk)
    except EnrolmentDocument.DoesNotExist as missing:
        raise Http404 from missing
    AccessRecord.objects.create(
        user=user,
        action=AccessRecord.Action.OPEN_DOCUMENT,
        enrolment=document.enrolment,
        document=document,
        target=f"{document.enrolment.number} — {document.get_kind_display()} ({document.original_name})",
    )
    # Every byte is authenticated before the first one leaves (SECURITY P5): an altered file gets
    # a message, never a download cut short.
    try:
        handle = document.file.open("rb")
        if hasattr(handle.file, "verify"):
            handle.file.verify()
    except storage_errors(document.file.storage):
        logger.exception("Pièce %s de la demande %s illisible", document.pk, document.enrolment.number)
        document.file.close()
        messages.error(request, UNREADABLE_DOCUMENT.format(name=document.original_name))
        return HttpResponseRedirect(reverse("admin:enrolment_enrolmentrequest_change", args=[pk]))
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The consultation log, read-only (SECURITY P3)."""

    paginator = CappedCountPaginator  # R-PERF-4

    list_display = ("at", "user", "action", "target")
    list_filter = ("action", ("at", DateFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("target", "user__username")
    show_full_result_count = False
