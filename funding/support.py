"""« Rechercher une demande de financement »: the support desk finds a request by its FIN number
(or the vendor's SIRET, or its ENR number) and sees its status and history, never its pieces
nor its lines (R-FIN-7, R-BO-3). Each look-up is recorded."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from enrolment.audit_mirror import mirror_access_records
from enrolment.models import AccessRecord
from funding.models import FundingRequest
from funding.selectors import exact_condition
from segurnum.middleware import no_store

LOOKUP_PERMISSION = "funding.lookup_fundingrequest"
HOW_TO_SEARCH = "Saisissez un numéro de demande de financement (ex. FIN0001), un numéro ENR ou un SIRET."


@no_store
def lookup(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(LOOKUP_PERMISSION):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "Rechercher une demande de financement"}
    query = " ".join(request.GET.get("q", "").split())
    if "q" in request.GET:
        context["query"] = query
        condition = exact_condition(query) if query else None
        if condition is None:
            context["error"] = f"« {query} » n'est ni un numéro FIN, ni un numéro ENR, ni un SIRET. {HOW_TO_SEARCH}"
        else:
            found = list(
                FundingRequest.objects.filter(condition)
                .distinct()
                .select_related("enrolment")
                .prefetch_related("status_changes__by")
                .order_by("-submitted_at")
            )
            context["found"] = found
            records = AccessRecord.objects.bulk_create(
                AccessRecord(
                    user=request.user,
                    action=AccessRecord.Action.SUPPORT_FUNDING_LOOKUP,
                    funding_request=funding,
                    target=f"{funding.number} (recherche « {query} »)"[:300],
                )
                for funding in found
            )
            mirror_access_records(records)  # R-OPS-4
    return TemplateResponse(request, "funding/support_lookup.html", context)


lookup_view = admin.site.admin_view(lookup)
