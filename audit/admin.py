"""The audit trail in the back office (R-OPS-4): read-only, filterable, exportable as CSV; the
export is itself appended to the trail."""

import csv
import json

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone

from audit import services
from audit.models import AuditEntry
from segurnum.admin import ReadOnlyAdminMixin

EXPORT_PERMISSION = "audit.export_auditentry"
CSV_HEADERS = [
    "N°",
    "Date et heure",
    "Auteur",
    "Action",
    "Type d'objet",
    "Identifiant de l'objet",
    "Objet",
    "Détails",
    "Empreinte précédente",
    "Empreinte",
]


class _Echo:
    """csv.writer writes to it; each row comes back as the next chunk of the response."""

    def write(self, value: str) -> str:
        return value


def audit_csv_rows(entries):
    writer = csv.writer(_Echo(), delimiter=";")
    # A BOM so that a spreadsheet opens the accents as UTF-8.
    yield "\ufeff" + writer.writerow(CSV_HEADERS)
    actions = dict(AuditEntry.Action.choices)
    for entry in entries.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                entry.position,
                timezone.localtime(entry.at).strftime("%d/%m/%Y %H:%M:%S"),
                entry.actor_label,
                actions.get(entry.action, entry.action),
                entry.object_type,
                entry.object_id,
                entry.object_label,
                json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
                entry.prev_hash,
                entry.hash,
            ]
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("position", "at", "actor_label", "action", "object_label", "short_hash")
    # No filter on a free column: its DISTINCT would read the whole log on every page.
    list_filter = ("action", ("at", DateFieldListFilter))
    search_fields = ("=object_id", "object_label", "actor_label")
    search_help_text = "Objet (numéro ENR, FIN…), identifiant de l'objet ou auteur."
    show_full_result_count = False
    list_per_page = 100
    ordering = ("-position",)
    fields = (
        "position",
        "at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_label",
        "details",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields
    change_list_template = "admin/audit/auditentry/change_list.html"

    @admin.display(description="empreinte")
    def short_hash(self, obj: AuditEntry) -> str:
        return f"{obj.hash[:12]}…"

    def get_urls(self):
        own = [path("export/", self.admin_site.admin_view(self.export_view), name="audit_auditentry_export")]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_export": request.user.has_perm(EXPORT_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        if not (self.has_view_permission(request) and request.user.has_perm(EXPORT_PERMISSION)):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        entries = changelist.get_queryset(request).order_by("position")
        head = AuditEntry.objects.order_by("-position").values_list("position", flat=True).first() or 0
        # The export's own entry comes after the rows it exports.
        entries = entries.filter(position__lte=head)
        rows = entries.count()
        filters = {key: request.GET.getlist(key) for key in request.GET}
        services.record_export(by=request.user, what="Journal d'audit", filters=filters, rows=rows, file_format="csv")
        response = StreamingHttpResponse(audit_csv_rows(entries), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="journal-audit-{stamp}.csv"'
        return response
