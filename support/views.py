from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from enrolment.audit_mirror import mirror_access_records
from enrolment.models import AccessRecord
from segurnum.middleware import no_store
from support.lookup import find_requests

LOOKUP_PERMISSION = "enrolment.lookup_enrolmentrequest"


@no_store
def lookup(request: HttpRequest) -> HttpResponse:
    """« Rechercher une demande »: the support desk finds a request by its ENR number (or SIRET,
    or email) and sees its status, dates, software, company, history and mails; the IBAN is
    masked and the documents are not shown (R-BO-3)."""
    if not request.user.has_perm(LOOKUP_PERMISSION):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "Rechercher une demande d'enrôlement"}
    if "q" in request.GET:
        result = find_requests(request.GET["q"])
        context["lookup"] = result
        if result.requests is not None:
            found = list(result.requests)
            context["found"] = found
            records = AccessRecord.objects.bulk_create(
                AccessRecord(
                    user=request.user,
                    action=AccessRecord.Action.SUPPORT_LOOKUP,
                    enrolment=enrolment,
                    target=f"{enrolment.number} (recherche « {result.query} »)"[:300],
                )
                for enrolment in found
            )
            mirror_access_records(records)  # R-OPS-4
    return TemplateResponse(request, "support/lookup.html", context)


lookup_view = admin.site.admin_view(lookup)
