"""Export buttons of the back office's lists (R-OPS-1): the list as filtered, searched and sorted
on screen, as CSV or XLSX."""

from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse

from exports import columns, services
from exports.models import ExportRecord
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
        queryset = self.get_changelist_instance(request).get_queryset(request)
        try:
            return services.response(
                user=request.user,
                dataset=columns.dataset(slug, full_iban=full_iban),
                queryset=queryset,
                file_format=file_format,
                filters={key: request.GET.getlist(key) for key in request.GET},
                full_iban=full_iban,
            )
        except services.ExportRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            info = self.model._meta.app_label, self.model._meta.model_name
            changelist = reverse("admin:{}_{}_changelist".format(*info))
            return HttpResponseRedirect(f"{changelist}?{request.GET.urlencode()}" if request.GET else changelist)


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "user", "dataset", "file_format", "rows", "full_iban", "filters")
    list_filter = ("dataset", "file_format", ("at", DateFieldListFilter))
    list_select_related = ("user",)
    show_full_result_count = False
