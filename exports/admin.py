"""Export buttons of the back office's lists (R-OPS-1): the list as filtered, searched and sorted
on screen, as CSV (streamed at once) or XLSX (prepared in the background, then downloaded from the
« Exports » page)."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from exports import columns, services
from exports.models import ExportRecord, XlsxExport
from segurnum.admin import ReadOnlyAdminMixin

EXPORT_PERMISSION = "exports.export_lists"
FULL_IBAN_PERMISSION = "exports.export_full_iban"
FORMATS = ("csv", "xlsx")


class ExportMixin:
    """Adds ``export/<liste>/<format>/`` to a ModelAdmin; ``export_datasets`` names its lists."""

    export_datasets: tuple[str, ...] = ()

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        own = [
            path(
                "export/<slug:slug>/<str:file_format>/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            )
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "export_datasets": [(slug, columns.dataset(slug, full_iban=False).label) for slug in self.export_datasets]
            if request.user.has_perm(EXPORT_PERMISSION)
            else [],
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request, slug: str, file_format: str):
        if slug not in self.export_datasets or file_format not in FORMATS:
            raise Http404
        if not (self.has_view_permission(request) and request.user.has_perm(EXPORT_PERMISSION)):
            raise PermissionDenied
        full_iban = request.user.has_perm(FULL_IBAN_PERMISSION)
        # Built here for both formats: a filter the list refuses fails now, on the agent's screen.
        queryset = self.get_changelist_instance(request).get_queryset(request)
        filters = {key: request.GET.getlist(key) for key in request.GET}
        if file_format == "csv":
            return services.csv_response(
                user=request.user,
                dataset=columns.dataset(slug, full_iban=full_iban),
                queryset=queryset,
                filters=filters,
                full_iban=full_iban,
            )
        info = self.model._meta.app_label, self.model._meta.model_name
        services.request_xlsx(
            user=request.user, slug=slug, source="{}.{}".format(*info), filters=filters, full_iban=full_iban
        )
        self.message_user(
            request,
            "Export XLSX en préparation : il sera téléchargeable sur cette page dès qu'il sera prêt.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:exports_xlsxexport_changelist"))


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "user", "dataset", "file_format", "rows", "full_iban", "filters")
    list_filter = ("dataset", "file_format", ("at", DateFieldListFilter))
    list_select_related = ("user",)
    show_full_result_count = False


@admin.register(XlsxExport)
class XlsxExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The « Exports » page: the agent's XLSX exports, with their status, downloaded here. Only
    the agent who asked (or a superuser) sees and downloads one; another gets a 404."""

    list_display = ("requested_at", "dataset_label", "status_display", "rows", "download")
    list_display_links = None
    list_filter = ("status",)
    show_full_result_count = False
    change_list_template = "admin/exports/xlsxexport/change_list.html"

    def has_module_permission(self, request):
        return request.user.has_perm(EXPORT_PERMISSION)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(EXPORT_PERMISSION)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user")
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    def get_list_display(self, request):
        display = super().get_list_display(request)
        return ("user", *display) if request.user.is_superuser else display

    def get_urls(self):
        own = [
            path(
                "<int:export_id>/telecharger/",
                self.admin_site.admin_view(self.download_view),
                name="exports_xlsxexport_download",
            )
        ]
        return own + super().get_urls()

    @admin.display(description="liste")
    def dataset_label(self, obj):
        return columns.dataset(obj.dataset, full_iban=False).label

    @admin.display(description="statut", ordering="status")
    def status_display(self, obj):
        return obj.get_status_display()

    @admin.display(description="fichier")
    def download(self, obj):
        if obj.status != XlsxExport.Status.READY:
            return "—"
        url = reverse("admin:exports_xlsxexport_download", args=[obj.pk])
        return format_html(
            '<a href="{}">Télécharger<span class="visually-hidden"> {} du {}</span></a>',
            url,
            self.dataset_label(obj),
            f"{obj.requested_at:%d/%m/%Y %H:%M}",
        )

    def changelist_view(self, request, extra_context=None):
        preparing = self.get_queryset(request).filter(status=XlsxExport.Status.PENDING).exists()
        extra_context = {
            "title": "Exports",
            "refresh_seconds": settings.EXPORT_REFRESH_SECONDS if preparing else None,
            "retention_hours": settings.EXPORT_FILE_RETENTION_HOURS,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def download_view(self, request, export_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        export = get_object_or_404(self.get_queryset(request), pk=export_id, status=XlsxExport.Status.READY)
        return services.xlsx_download(export=export, user=request.user)
