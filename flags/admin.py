"""Consistency flags in the back office (R-OPS-3): badges in the lists and details of the requests,
a changelist filter, the list of every flag, and « Marquer vérifié » with a comment."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from flags import services
from flags.models import ConsistencyFlag
from segurnum.admin import ReadOnlyAdminMixin

VERIFY_PERMISSION = "flags.verify_consistencyflag"
TO_VERIFY, NONE = "a_verifier", "aucun"


def with_flags(queryset):
    """One query for the flags of a whole page of requests."""
    return queryset.prefetch_related(Prefetch("flags", queryset=ConsistencyFlag.objects.order_by("rule")))


def badges(obj) -> str:
    flags = list(obj.flags.all())
    if not flags:
        return "—"
    return format_html_join(
        " ",
        '<span class="flag-badge {}" title="{}">{}{}</span>',
        (
            (
                "flag-verified" if flag.is_verified else "flag-open",
                flag.message,
                flag.get_rule_display(),
                " (vérifié)" if flag.is_verified else "",
            )
            for flag in flags
        ),
    )


class FlagFilter(SimpleListFilter):
    """« Signalement »: the requests with a flag to verify, with a given rule, or with none."""

    title = "signalement"
    parameter_name = "signalement"
    subject_field = "enrolment"
    rules = [rule for rule in ConsistencyFlag.Rule if rule != ConsistencyFlag.Rule.BENEFICIARY_TWICE]

    def lookups(self, request, model_admin):
        return [(TO_VERIFY, "À vérifier"), *[(rule.value, rule.label) for rule in self.rules], (NONE, "Aucun")]

    def queryset(self, request, queryset):
        flags = ConsistencyFlag.objects.filter(**{self.subject_field: OuterRef("pk")})
        value = self.value()
        if value == TO_VERIFY:
            return queryset.filter(Exists(flags.filter(verified_at__isnull=True)))
        if value == NONE:
            return queryset.filter(~Exists(flags))
        if value in ConsistencyFlag.Rule.values:
            return queryset.filter(Exists(flags.filter(rule=value)))
        return queryset


class FundingFlagFilter(FlagFilter):
    subject_field = "funding_request"
    rules = [ConsistencyFlag.Rule.BENEFICIARY_TWICE]


class VerifyForm(forms.Form):
    comment = forms.CharField(
        label="Commentaire (obligatoire)",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": services.COMMENT_REQUIRED},
        help_text="Ce que vous avez vérifié : il est conservé dans le journal d'audit.",
    )


def subject_url(flag: ConsistencyFlag) -> str:
    if flag.enrolment_id:
        return reverse("admin:enrolment_enrolmentrequest_change", args=[flag.enrolment_id])
    return reverse("admin:funding_fundingrequest_change", args=[flag.funding_request_id])


@admin.register(ConsistencyFlag)
class ConsistencyFlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subject", "rule", "message", "detected_at", "verification")
    # The subject is a link of its own (the request): the flag's page opens from its rule, not from
    # a link around another link (an empty link for assistive technologies).
    list_display_links = ("rule",)
    list_filter = ("rule", ("verified_at", admin.EmptyFieldListFilter))
    list_select_related = ("enrolment", "funding_request", "verified_by")
    search_fields = ("=enrolment__number", "=funding_request__number")
    show_full_result_count = False
    fields = (
        "subject",
        "rule",
        "message",
        "detected_at",
        "updated_at",
        "verified_at",
        "verified_by",
        "verified_comment",
    )
    readonly_fields = fields

    @admin.display(description="demande")
    def subject(self, obj: ConsistencyFlag) -> str:
        return format_html('<a href="{}">{}</a>', subject_url(obj), obj.subject_number)

    @admin.display(description="vérification")
    def verification(self, obj: ConsistencyFlag) -> str:
        if not obj.is_verified:
            return "À vérifier"
        return f"Vérifié par {obj.verified_by} : {obj.verified_comment}"

    def get_urls(self):
        own = [path("<int:pk>/verifier/", self.admin_site.admin_view(self.verify_view), name="flags_verify")]
        return own + super().get_urls()

    def verify_view(self, request, pk: int):
        if not request.user.has_perm(VERIFY_PERMISSION):
            raise PermissionDenied
        flag = ConsistencyFlag.objects.select_related("enrolment", "funding_request").filter(pk=pk).first()
        if flag is None:
            raise Http404
        form = VerifyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.verify_flag(flag=flag, by=request.user, comment=form.cleaned_data["comment"])
            except services.FlagRefused as refusal:
                form.add_error("comment", refusal.message)
            else:
                self.message_user(
                    request,
                    f"Signalement « {flag.get_rule_display()} » de la demande {flag.subject_number} marqué vérifié.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(subject_url(flag))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Marquer vérifié : {flag.get_rule_display()} ({flag.subject_number})",
            "flag": flag,
            "form": form,
            "subject_url": subject_url(flag),
            "opts": self.model._meta,
        }
        return render(request, "admin/flags/verify.html", context, status=400 if form.errors else 200)
