"""The audit trail in the back office (R-OPS-4): read-only, filterable, exportable as CSV; the
export is itself appended to the trail."""

import csv
import json

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone

from audit import services
from audit.models import AuditEntry
from audit.signals import mirror_log_entry
from segurnum.admin import CappedCountPaginator, ReadOnlyAdminMixin

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


@admin.action(permissions=["delete"], description=django_delete_selected.short_description)
def delete_selected(modeladmin, request, queryset):
    """Django's « Supprimer les … sélectionnés », whose deletions reach the audit trail too
    (R-OPS-4): Django logs several at once in one batch (bulk_create, no post_save), so the
    entries it has just written are mirrored here, in the same transaction as the deletion."""
    with transaction.atomic():
        last = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        pks = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        response = django_delete_selected(modeladmin, request, queryset)
        written = list(
            LogEntry.objects.filter(
                pk__gt=last,
                user_id=request.user.pk,
                action_flag=DELETION,
                content_type=ContentType.objects.get_for_model(queryset.model, for_concrete_model=False),
                object_id__in=pks,
            ).order_by("pk")
        )
        if len(written) > 1:  # a single one is saved on its own, and mirrored by post_save already
            for entry in written:
                mirror_log_entry(entry)
    return response


admin.site.add_action(delete_selected, "delete_selected")


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
    paginator = CappedCountPaginator  # R-PERF-4
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
