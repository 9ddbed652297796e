from django.contrib import admin

from public.models import FaqEntry, SupportRequest


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "position", "published", "updated_at"]
    list_display_links = ["question"]
    list_editable = ["position", "published"]
    list_filter = ["published"]
    search_fields = ["question", "answer"]
    ordering = ["position", "id"]
    readonly_fields = ["updated_at"]


@admin.register(SupportRequest)
class SupportRequestAdmin(admin.ModelAdmin):
    list_display = ["reference_display", "created_at", "subject", "name", "email", "enr_number", "handled"]
    list_filter = ["handled", "subject", "created_at"]
    search_fields = ["name", "email", "enr_number", "message"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fields = [
        "reference_display",
        "created_at",
        "name",
        "email",
        "enr_number",
        "subject",
        "message",
        "handled",
    ]
    readonly_fields = ["reference_display", "created_at", "name", "email", "enr_number", "subject", "message"]
    actions = ["mark_handled"]

    @admin.display(description="référence", ordering="id")
    def reference_display(self, obj: SupportRequest) -> str:
        return obj.reference if obj.pk else "—"

    def get_search_results(self, request, queryset, search_term):
        # « ASSIST-42 » finds request 42.
        term = search_term.strip()
        if term.upper().startswith("ASSIST-") and term[7:].isdigit():
            return queryset.filter(pk=int(term[7:])), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request) -> bool:
        # Messages come from the public form only.
        return False

    @admin.action(description="Marquer comme traitées")
    def mark_handled(self, request, queryset):
        updated = queryset.update(handled=True)
        self.message_user(request, f"{updated} demande(s) marquée(s) comme traitée(s).")
