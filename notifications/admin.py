"""The outbox as agents see it (R-MAIL-5): state, attempts, last error, and « Renvoyer »."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from notifications import services
from notifications.models import OutboundEmail
from segurnum.admin import CappedCountPaginator, ReadOnlyAdminMixin


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    paginator = CappedCountPaginator  # R-PERF-4
    list_display = ("created_at", "subject", "recipients", "status", "attempts", "last_error_short", "sent_at")
    list_filter = ("status", "kind", "created_at")
    list_select_related = ("enrolment",)
    search_fields = ("=enrolment__number", "subject", "to")
    search_help_text = "Numéro ENR, objet ou adresse du destinataire."
    show_full_result_count = False
    ordering = ("-created_at", "-id")
    actions = ("resend_selected",)
    change_form_template = "admin/notifications/outboundemail/change_form.html"
    fields = (
        "enrolment",
        "kind",
        "subject",
        "to",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "after",
        "body_text",
    )
    readonly_fields = fields

    @admin.display(description="destinataires")
    def recipients(self, obj: OutboundEmail) -> str:
        return ", ".join(obj.to)

    @admin.display(description="dernière erreur")
    def last_error_short(self, obj: OutboundEmail) -> str:
        return obj.last_error[:80]

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("notifications.resend_outboundemail")

    @admin.action(description="Renvoyer les courriels sélectionnés (en échec ou en attente)", permissions=["resend"])
    def resend_selected(self, request, queryset):
        resent = sum(services.resend(email_id=pk) for pk in queryset.values_list("pk", flat=True))
        skipped = queryset.count() - resent
        self.message_user(request, f"{resent} courriel(s) remis en file d'envoi.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} courriel(s) déjà envoyé(s) : pas de second envoi.", messages.WARNING)

    def get_urls(self):
        resend_url = path(
            "<int:pk>/renvoyer/", self.admin_site.admin_view(self.resend_view), name="notifications_resend"
        )
        return [resend_url, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_resend": self.has_resend_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @method_decorator(require_POST)
    def resend_view(self, request, pk):
        if not self.has_resend_permission(request):
            raise PermissionDenied
        if not OutboundEmail.objects.filter(pk=pk).exists():
            raise Http404
        if services.resend(email_id=pk):
            self.message_user(request, "Le courriel est remis en file d'envoi.", messages.SUCCESS)
        else:
            self.message_user(request, "Ce courriel est déjà envoyé : il n'est pas renvoyé.", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:notifications_outboundemail_change", args=[pk]))
