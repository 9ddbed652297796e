"""Pages after submission: completing a request « A compléter » from the mailed link (R-AFT-1),
and a modification ENR…Mn from the private space (R-AFT-2). They route between the forms of
``enrolment.amendments`` and the services of ``enrolment.versions``."""

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from accounts.vendor_space import render_portal, vendor_required
from enrolment import drafts, selectors, versions
from enrolment.amendments import BLOCKS, BLOCKS_BY_SLUG, Amendment, display, item_label, step_of
from enrolment.forms import ConfirmationForm
from enrolment.models import EnrolmentRequest
from enrolment.services import DecisionRefused
from segurnum.middleware import no_store
from segurnum.text import client_ip

COMPLETED_KEY = "enrolment_completed"
COMPLETED_ROUNDS = "enrolment_completed_rounds"  # read by tracking.views.correction_receipt


def _state(request: HttpRequest, key: str) -> dict[str, Any]:
    """What the page keeps between two POSTs: the new files already judged, and typed values."""
    state = request.session.setdefault(key, {})
    state.setdefault("draft_key", str(uuid.uuid4()))
    state.setdefault("uploads", {})
    return state


def _keep_uploads(request: HttpRequest, state: dict[str, Any], items: tuple[str, ...]) -> dict[str, str]:
    """Judge each file of the POST at once and keep the good ones (R-WIZ-9, R-WIZ-10)."""
    errors: dict[str, str] = {}
    uploads = state["uploads"]
    for name in items:
        uploaded = request.FILES.get(f"{step_of(name)}-{name}")
        if uploaded is None:
            continue
        try:
            meta = drafts.save_draft_file(
                state["draft_key"],
                uploaded,
                client_ip=client_ip(request),
                kept=list(uploads.values()),
                replacing=uploads.get(name),
            )
        except ValidationError as error:
            errors[name] = error.messages[0]
            continue
        drafts.delete_draft_file(uploads.get(name))
        uploads[name] = meta
    request.session.modified = True
    return errors


# --- « A compléter » (R-AFT-1) -------------------------------------------------------------------


@no_store
def complete(request: HttpRequest, token: str) -> HttpResponse:
    """The page of the mailed link: only the items the agent asked for, « Renvoyer ma demande »."""
    request.no_store = True
    try:
        round_ = versions.round_for_token(token)
    except versions.LinkRefused as refusal:
        return render(request, "enrolment/complete_refused.html", {"message": refusal.message}, status=410)
    state = _state(request, f"correction:{round_.pk}")
    upload_errors = _keep_uploads(request, state, tuple(round_.items)) if request.method == "POST" else {}
    amendment = versions.correction_amendment(
        round_,
        data=request.POST if request.method == "POST" else None,
        uploads=state["uploads"],
        upload_errors=upload_errors,
    )
    if request.method == "POST" and amendment.is_valid():
        try:
            enrolment = versions.resubmit_corrections(token=token, amendment=amendment)
        except versions.LinkRefused as refusal:
            return render(request, "enrolment/complete_refused.html", {"message": refusal.message}, status=410)
        drafts.delete_draft(state["draft_key"])
        request.session.pop(f"correction:{round_.pk}", None)
        request.session[COMPLETED_KEY] = enrolment.number
        # R-AFT-4: this session may download the receipt of the compléments it sent.
        request.session[COMPLETED_ROUNDS] = [*request.session.get(COMPLETED_ROUNDS, []), round_.pk][-20:]
        request.session["enrolment_completed_round"] = round_.number
        return redirect("enrolment:complete_done")
    context = {"round": round_, "enrolment": round_.enrolment, "amendment": amendment}
    return render(request, "enrolment/complete.html", context)


def complete_done(request: HttpRequest) -> HttpResponse:
    number = request.session.get(COMPLETED_KEY)
    if not number:
        return redirect("public:home")
    request.no_store = True
    context = {"number": number}
    round_number = request.session.get("enrolment_completed_round")
    if round_number:
        context["receipt_url"] = reverse("tracking:correction_receipt", args=[number, round_number])
    return render(request, "enrolment/complete_done.html", context)


# --- Modifications ENR…Mn (R-AFT-2) --------------------------------------------------------------


class StatementsForm(forms.Form):
    """The confirmation's two statements, the wizard's own fields."""

    accept_penal_code = ConfirmationForm.base_fields["accept_penal_code"]
    accept_sincerity = ConfirmationForm.base_fields["accept_sincerity"]
    required_css_class = "required"


def _validated_enrolment(request: HttpRequest, enr_number: str) -> EnrolmentRequest:
    # Looked up with the owner: another vendor's number answers 404, as an unknown one (R-PRIV-3).
    return get_object_or_404(
        EnrolmentRequest.objects.owned_by(request.user).select_related("software"),
        number=enr_number,
        status=EnrolmentRequest.Status.VALIDATED,
    )


def _modification_key(enrolment: EnrolmentRequest) -> str:
    return f"modification:{enrolment.pk}"


@vendor_required
@no_store
def modification(request: HttpRequest, enr_number: str) -> HttpResponse:
    """« Demander une modification »: the blocks chosen, with the wizard's forms and rules."""
    enrolment = _validated_enrolment(request, enr_number)
    pending = selectors.pending_modification(enrolment)
    chosen = set(request.GET.getlist("blocs"))
    slugs = [block.slug for block in BLOCKS if block.slug in chosen]
    context: dict[str, Any] = {"enrolment": enrolment, "blocks": BLOCKS, "chosen": slugs, "pending": pending}
    if pending or not slugs:
        if request.GET.get("choisir") and not slugs:
            context["choice_error"] = versions.NO_BLOCK
        return render_portal(request, "portal/modification_blocks.html", nav="enrolments", context=context)
    key = _modification_key(enrolment)
    state = _state(request, key)
    if state.get("blocks") != slugs:
        # Other blocks: what was typed for the previous choice does not apply.
        drafts.delete_draft(state["draft_key"])
        request.session[key] = state = {"draft_key": str(uuid.uuid4()), "uploads": {}, "blocks": slugs}
    items = tuple(name for slug in slugs for name in BLOCKS_BY_SLUG[slug].items)
    posted = request.method == "POST"
    upload_errors = _keep_uploads(request, state, items) if posted else {}
    data = request.POST if posted else _stored_data(state)
    amendment = versions.modification_amendment(
        enrolment, slugs, data=data, uploads=state["uploads"], upload_errors=upload_errors
    )
    if posted and amendment.is_valid():
        state["data"] = {
            key: request.POST.getlist(key) for key in request.POST if key not in ("csrfmiddlewaretoken", "blocs")
        }
        request.session.modified = True
        return redirect("portal:modification_recap", enr_number=enrolment.number)
    context["amendment"] = amendment
    return render_portal(request, "portal/modification.html", nav="enrolments", context=context)


def _stored_data(state: dict[str, Any]) -> QueryDict | None:
    if not state.get("data"):
        return None
    data = QueryDict(mutable=True)
    for key, values in state["data"].items():
        data.setlist(key, values)
    return data


@vendor_required
@no_store
def modification_recap(request: HttpRequest, enr_number: str) -> HttpResponse:
    """The recap old → new, the two statements, « Terminer »."""
    enrolment = _validated_enrolment(request, enr_number)
    state = request.session.get(_modification_key(enrolment)) or {}
    data = _stored_data(state)
    if data is None:
        return redirect("portal:modification", enr_number=enrolment.number)
    amendment = versions.modification_amendment(enrolment, state["blocks"], data=data, uploads=state["uploads"])
    if not amendment.is_valid():
        return redirect(_modification_url(enrolment, state["blocks"]))
    statements = StatementsForm(request.POST or None)
    if request.method == "POST" and statements.is_valid():
        try:
            version = versions.request_modification(enrolment=enrolment, by=request.user, amendment=amendment)
        except DecisionRefused as refusal:
            statements.add_error(None, refusal.message)
        else:
            drafts.delete_draft(state["draft_key"])
            request.session.pop(_modification_key(enrolment), None)
            request.session["modification_done"] = version.number
            return redirect("portal:modification_done", enr_number=enrolment.number)
    context = {
        "enrolment": enrolment,
        "rows": recap_rows(amendment),
        "statements": statements,
        "change_url": _modification_url(enrolment, state["blocks"]),
    }
    return render_portal(request, "portal/modification_recap.html", nav="enrolments", context=context)


def _modification_url(enrolment: EnrolmentRequest, slugs: list[str]) -> str:
    return reverse("portal:modification", args=[enrolment.number]) + "?" + urlencode({"blocs": slugs}, doseq=True)


def recap_rows(amendment: Amendment) -> list[dict[str, Any]]:
    """Old → new, per block, with the labels of the wizard; masked IBANs in the private space."""
    previous, values = amendment.changes()
    rows = []
    for block in amendment.blocks:
        lines = []
        for name in block.fields:
            if name in values:
                lines.append(
                    {
                        "label": item_label(name),
                        "old": display(name, previous[name], masked=True),
                        "new": display(name, values[name], masked=True),
                    }
                )
        for name in block.documents:
            meta = amendment.uploads.get(name)
            if meta:
                lines.append({"label": item_label(name), "old": "", "new": meta["name"]})
        rows.append({"title": block.title, "lines": lines})
    return rows


@vendor_required
def modification_done(request: HttpRequest, enr_number: str) -> HttpResponse:
    number = request.session.get("modification_done")
    if not number:
        return redirect("portal:enrolment_detail", enr_number=enr_number)
    # R-AFT-4: the modification's receipt, served to the owning account only.
    receipt_url = reverse("tracking:modification_receipt", args=[enr_number, number])
    return render_portal(
        request,
        "portal/modification_done.html",
        nav="enrolments",
        context={"number": number, "receipt_url": receipt_url},
    )
