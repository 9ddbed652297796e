from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """Agents and support staff are put in their group here; vendors' accounts come from the
    validation of their request."""

    list_display = ("username", "first_name", "last_name", "email", "is_staff", "must_change_password", "last_login")
    list_filter = ("is_staff", "is_active", "groups", "must_change_password")
    readonly_fields = ("temporary_password_expires_at", "last_login", "date_joined")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Mot de passe provisoire", {"fields": ("must_change_password", "temporary_password_expires_at")}),
    )
