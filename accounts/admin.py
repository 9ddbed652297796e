from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from accounts import services
from accounts.models import RecoveryRequest, User
from segurnum.admin import FrenchTitlesMixin


@admin.register(User)
class PortalUserAdmin(FrenchTitlesMixin, UserAdmin):
    """Agents and support staff are put in their group here; vendors' accounts come from the
    validation of their request. Agents and support see the vendors' accounts only and may
    unlock one (R-ACC-5); superusers manage every account."""

    title_noun = "un utilisateur"

    list_display = (
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "must_change_password",
        "recovery_locked_until",
        "last_login",
    )
    list_filter = ("is_staff", "is_active", "groups", "must_change_password")
    readonly_fields = (
        "temporary_password_expires_at",
        "secret_question",
        "secret_answer_failures",
        "recovery_locked_until",
        "last_login",
        "date_joined",
    )
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Mot de passe provisoire", {"fields": ("must_change_password", "temporary_password_expires_at")}),
        (
            "Question secrète et récupération",
            {"fields": ("secret_question", "secret_answer_failures", "recovery_locked_until")},
        ),
    )
    actions = ["unlock_accounts"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(is_staff=False, is_superuser=False)

    def has_unlock_permission(self, request) -> bool:
        return request.user.has_perm("accounts.unlock_user")

    @admin.action(description="Débloquer la connexion des comptes sélectionnés", permissions=["unlock"])
    def unlock_accounts(self, request, queryset):
        for user in queryset:
            services.unlock_login(user=user)
        self.message_user(request, f"{queryset.count()} compte(s) débloqué(s).", messages.SUCCESS)


@admin.register(RecoveryRequest)
class RecoveryRequestAdmin(admin.ModelAdmin):
    """Read-only trace of the « J'ai oublié… » forms, for support and for the rate limit."""

    list_display = ("created_at", "kind", "target", "client_ip", "processed_at")
    list_filter = ("kind",)
    search_fields = ("=target", "=client_ip")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
