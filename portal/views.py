"""The vendor's private portal (R-PRIV-1..3): only the signed-in vendor's own data, never cached."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from accounts.vendor_space import render_portal, vendor_required
from enrolment.models import EnrolmentRequest
from funding.selectors import incomplete_requests
from portal.models import News

NEWS_ON_HOME = 10


def own_requests(request: HttpRequest):
    return EnrolmentRequest.objects.owned_by(request.user)


@vendor_required
def home(request: HttpRequest) -> HttpResponse:
    news = News.objects.visible()[:NEWS_ON_HOME]
    context = {"news_list": news, "incomplete_funding": incomplete_requests(request.user).exists()}
    return render_portal(request, "portal/home.html", nav="home", context=context)


@vendor_required
def news_detail(request: HttpRequest, pk: int) -> HttpResponse:
    news = get_object_or_404(News.objects.visible(), pk=pk)
    return render_portal(request, "portal/news_detail.html", nav="home", context={"news": news})


@vendor_required
def enrolments(request: HttpRequest) -> HttpResponse:
    requests = own_requests(request).only(
        "number", "status", "submitted_at", "decided_at", "software_name", "software_version"
    )
    return render_portal(request, "portal/enrolments.html", nav="enrolments", context={"enrolments": requests})


@vendor_required
def enrolment_detail(request: HttpRequest, enr_number: str) -> HttpResponse:
    # Looked up with the owner: another vendor's number answers 404, as an unknown one (R-PRIV-3).
    enrolment = get_object_or_404(own_requests(request).prefetch_related("status_changes"), number=enr_number)
    changes = list(enrolment.status_changes.all())
    # R-AFT-1, R-AFT-2: each « A compléter » round and each modification ENR…Mn in the timeline.
    rounds = list(enrolment.correction_rounds.all())
    modifications = list(enrolment.versions.filter(index__gt=0).order_by("index"))
    rejection_reason = next(
        (change.comment for change in reversed(changes) if change.to_status == EnrolmentRequest.Status.REJECTED), ""
    )
    return render_portal(
        request,
        "portal/enrolment_detail.html",
        nav="enrolments",
        context={
            "enrolment": enrolment,
            "changes": changes,
            "rejection_reason": rejection_reason,
            "rounds": rounds,
            "modifications": modifications,
            "can_modify": enrolment.status == EnrolmentRequest.Status.VALIDATED,
        },
    )


@vendor_required
def account(request: HttpRequest) -> HttpResponse:
    return render_portal(request, "portal/account.html", nav="account")


@vendor_required
def help_page(request: HttpRequest) -> HttpResponse:
    return render_portal(request, "portal/help.html", nav="help")
