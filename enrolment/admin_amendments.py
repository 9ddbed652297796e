"""Back office after submission: « Demander des compléments » (R-AFT-1) and the modifications
ENR…Mn with their differences highlighted (R-AFT-2). Buttons that call ``enrolment.versions``;
kept apart from ``enrolment.admin`` so that each concern's admin code stays in its own functions."""

import logging

from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from enrolment import versions
from enrolment.amendments import BLOCKS_BY_SLUG, CORRECTABLE_GROUPS, display, item_label, step_of
from enrolment.models import AccessRecord, EnrolmentDocument, EnrolmentRequest, EnrolmentVersion
from enrolment.services import DecisionRefused
from segurnum.admin import ReadOnlyAdminMixin
from segurnum.middleware import no_store
from segurnum.storage import private_storage, storage_errors

logger = logging.getLogger(__name__)

VALIDATE_PERMISSION = "enrolment.validate_enrolmentrequest"
REJECT_PERMISSION = "enrolment.reject_enrolmentrequest"
DOWNLOAD_PERMISSION = "enrolment.download_enrolmentdocument"
Status = EnrolmentRequest.Status


def amendment_context(request: HttpRequest, enrolment: EnrolmentRequest) -> dict:
    """What the request's page shows about corrections and modifications."""
    user = request.user
    may_decide = user.has_perm(VALIDATE_PERMISSION) or user.has_perm(REJECT_PERMISSION)
    return {
        "can_request_corrections": may_decide and enrolment.status in (Status.SUBMITTED, Status.IN_REVIEW),
        "correction_groups": [
            {"title": title, "items": [(name, item_label(name)) for name in names]}
            for title, names in CORRECTABLE_GROUPS
        ],
        "correction_rounds": enrolment.correction_rounds.select_related("requested_by"),
        "modifications": enrolment.versions.filter(index__gt=0).order_by("index"),
    }


def amendment_urls(model_admin) -> list:
    return [
        path(
            "<int:pk>/demander-des-complements/",
            model_admin.admin_site.admin_view(
                require_POST(lambda request, pk: corrections_view(model_admin, request, pk))
            ),
            name="enrolment_request_corrections",
        )
    ]


def corrections_view(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    """« Demander des compléments »: the fields and documents ticked, and the message."""
    if not (request.user.has_perm(VALIDATE_PERMISSION) or request.user.has_perm(REJECT_PERMISSION)):
        raise PermissionDenied
    enrolment = model_admin.get_object(request, str(pk))
    if enrolment is None:
        raise Http404
    try:
        round_ = versions.request_corrections(
            enrolment=enrolment,
            by=request.user,
            items=request.POST.getlist("items"),
            message=request.POST.get("message", ""),
        )
    except DecisionRefused as refusal:
        model_admin.message_user(request, refusal.message, messages.ERROR)
    else:
        model_admin.message_user(
            request,
            f"La demande {enrolment.number} est « A compléter ». Le demandeur reçoit un lien valable jusqu'au "
            f"{round_.expires_at:%d/%m/%Y} pour compléter : {', '.join(round_.item_labels)}.",
            messages.SUCCESS,
        )
    return HttpResponseRedirect(reverse("admin:enrolment_enrolmentrequest_change", args=[pk]))


# --- Modifications ENR…Mn ------------------------------------------------------------------------


def differences(version: EnrolmentVersion) -> list[dict]:
    """Each value the modification changes: before → after, by block, with the wizard's labels."""
    rows = []
    for slug in version.blocks:
        block = BLOCKS_BY_SLUG[slug]
        for name in block.fields:
            if name in version.values:
                rows.append(
                    {
                        "block": block.title,
                        "label": item_label(name),
                        "old": display(name, version.previous_values.get(name, ""), masked=False),
                        "new": display(name, version.values[name], masked=False),
                    }
                )
        for name in block.documents:
            kind = _kind(name)
            if kind in version.documents:
                rows.append(
                    {
                        "block": block.title,
                        "label": item_label(name),
                        "old": (version.previous_documents.get(kind) or {}).get("name", "")
                        or ("(pièce en vigueur)" if version.status == EnrolmentVersion.Status.PENDING else ""),
                        "new": version.documents[kind]["name"],
                        "kind": kind,
                    }
                )
    return rows


def _kind(name: str) -> str:
    from enrolment.amendments import FORMS

    return FORMS[step_of(name)].base_fields[name].kind


@admin.register(EnrolmentVersion)
class EnrolmentVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The modifications: list, differences highlighted, « Valider » / « Rejeter »."""

    list_display = ("number_display", "enrolment", "status", "blocks_display", "submitted_at", "decided_at")
    list_filter = ("status", ("submitted_at", DateFieldListFilter))
    list_select_related = ("enrolment",)
    search_fields = ("=enrolment__number", "=enrolment__siret")
    fields = ("number_display", "enrolment", "status", "blocks_display", "submitted_at", "decided_at", "decided_by")
    readonly_fields = fields
    change_form_template = "admin/enrolment/enrolmentversion/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(index__gt=0)

    @admin.display(description="numéro", ordering="index")
    def number_display(self, obj: EnrolmentVersion) -> str:
        return obj.number

    @admin.display(description="blocs")
    def blocks_display(self, obj: EnrolmentVersion) -> str:
        return ", ".join(BLOCKS_BY_SLUG[slug].title for slug in obj.blocks if slug in BLOCKS_BY_SLUG)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/valider/", self.admin_site.admin_view(self.validate_view), name="enrolment_version_validate"
            ),
            path("<int:pk>/rejeter/", self.admin_site.admin_view(self.reject_view), name="enrolment_version_reject"),
            path(
                "<int:pk>/pieces/<str:kind>/",
                self.admin_site.admin_view(version_document_view),
                name="enrolment_version_document",
            ),
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            pending = obj.status == EnrolmentVersion.Status.PENDING
            context.update(
                differences=differences(obj),
                can_validate=pending and request.user.has_perm(VALIDATE_PERMISSION),
                can_reject=pending and request.user.has_perm(REJECT_PERMISSION),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _decide(self, request, pk: int, permission: str, decide) -> HttpResponse:
        if not request.user.has_perm(permission):
            raise PermissionDenied
        version = get_object_or_404(EnrolmentVersion.objects.select_related("enrolment"), pk=pk, index__gt=0)
        try:
            message = decide(version)
        except DecisionRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        else:
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:enrolment_enrolmentversion_change", args=[pk]))

    @method_decorator(require_POST)
    def validate_view(self, request, pk):
        def validate(version):
            version = versions.validate_modification(
                version=version, by=request.user, comment=request.POST.get("comment", "")
            )
            return f"La modification {version.number} est validée : les nouvelles informations sont en vigueur."

        return self._decide(request, pk, VALIDATE_PERMISSION, validate)

    @method_decorator(require_POST)
    def reject_view(self, request, pk):
        def reject(version):
            version = versions.reject_modification(
                version=version, by=request.user, reason=request.POST.get("reason", "")
            )
            return f"La modification {version.number} est rejetée. Le motif est envoyé au demandeur."

        return self._decide(request, pk, REJECT_PERMISSION, reject)


@no_store
def version_document_view(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """A document of a modification, for the agents allowed to open documents, and recorded (SECURITY P3)."""
    if not request.user.has_perm(DOWNLOAD_PERMISSION):
        raise PermissionDenied
    version = get_object_or_404(EnrolmentVersion.objects.select_related("enrolment"), pk=pk)
    meta = version.documents.get(kind)
    if not meta:
        raise Http404
    AccessRecord.objects.create(
        user=request.user,
        action=AccessRecord.Action.OPEN_DOCUMENT,
        enrolment=version.enrolment,
        target=f"{version.number} — {EnrolmentDocument.Kind(kind).label} ({meta['name']})",
    )
    storage = private_storage()
    try:
        handle = storage.open(meta["file"], "rb")
        if hasattr(getattr(handle, "file", None), "verify"):
            handle.file.verify()
    except storage_errors(storage) as error:
        logger.exception("Pièce %s de la modification %s illisible", kind, version.number)
        raise Http404 from error
    response = FileResponse(handle, as_attachment=True, filename=meta["name"], content_type=meta["content_type"])
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
