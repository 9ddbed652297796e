from django.contrib import admin

from enrolment.models import ReferencedSoftware


@admin.register(ReferencedSoftware)
class ReferencedSoftwareAdmin(admin.ModelAdmin):
    list_display = ("referencing_number", "software_name", "version", "dsr_label", "editor_siret", "active")
    list_filter = ("active", "dsr_label")
    search_fields = ("referencing_number", "software_name", "editor_siret", "editor_name")
    list_editable = ("active",)
