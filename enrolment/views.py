"""The enrolment wizard (R-WIZ-1..10): five named steps in the session, no JavaScript needed.

The « Rechercher » look-ups, « Réinitialiser », « Nouveau code » and « Etape précédente » are
plain form submissions handled here before formtools' own processing. Files are judged and
kept as soon as they arrive (see ``enrolment.drafts``); the registry look-ups are made once and
their result is kept with the wizard's data (``lookups``).
"""

import json
import logging
import subprocess
import uuid
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

from captcha import views as captcha_views
from captcha.models import CaptchaStore
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.http import require_POST
from formtools.wizard.views import NamedUrlSessionWizardView

from accounts.views import client_ip
from enrolment import drafts
from enrolment.forms import (
    ApplicantForm,
    BankForm,
    ConfirmationForm,
    ReferencingForm,
    SiretLookupForm,
    VatForm,
)
from enrolment.models import EnrolmentRequest
from enrolment.registries import referencing as referencing_registry
from enrolment.registries.companies import RegistryUnavailable, get_company_registry
from enrolment.services import (
    ALREADY_ENROLLED_NUMBER,
    ALREADY_ENROLLED_SIRET,
    EnrolmentRefused,
    EnrolmentSubmission,
    active_request_exists,
    submission_lock,
    submit_enrolment,
)
from flags.services import keep_registry_answer
from segurnum import ratelimit
from segurnum.storage import document_storage_errors

logger = logging.getLogger(__name__)

STEPS = [
    ("referencing", ReferencingForm, "Référencement"),
    ("applicant", ApplicantForm, "Demandeur"),
    ("bank", BankForm, "Coordonnées bancaires"),
    ("vat", VatForm, "Taux TVA"),
    ("confirmation", ConfirmationForm, "Confirmation"),
]
STEP_TITLES = {slug: title for slug, _, title in STEPS}
WIZARD_SESSION_KEY = "wizard_enrolment_wizard"
DONE_SESSION_KEY = "enrolment_done"

UNKNOWN_NUMBER = "Ce numéro de référencement est inconnu du registre de l'ANS : vérifiez votre saisie."
UNKNOWN_SIRET = "Aucun établissement ne correspond à ce numéro de SIRET dans le répertoire des entreprises."
# Rate limits per client address (segurnum.ratelimit, SECURITY A12).
SUBMISSIONS, CAPTCHA_REFRESH, CAPTCHA_AUDIO = "enrolment-submissions", "captcha-refresh", "captcha-audio"
SUBMISSIONS_THROTTLED = (
    "Trop de demandes d'enrôlement ont été envoyées depuis votre connexion en une heure. Votre saisie est "
    "conservée : réessayez plus tard, ou contactez l'assistance."
)
CAPTCHA_REFRESH_THROTTLED = (
    "Trop de nouveaux codes ont été demandés depuis votre connexion : recopiez le code affiché, ou "
    "réessayez dans quelques minutes."
)
CAPTCHA_AUDIO_THROTTLED = (
    "La version audio du code a été demandée trop souvent depuis votre connexion. Réessayez dans quelques "
    "minutes, ou recopiez le code affiché dans l'image."
)
RECAP_DIGEST_FIELD = "recap_digest"
DATA_CHANGED = (
    "Les informations de votre demande ont été modifiées depuis l'affichage de ce récapitulatif "
    "(par exemple dans un autre onglet). Vérifiez le récapitulatif ci-dessous, puis validez de "
    "nouveau votre demande avec « Terminer »."
)
SUBMIT_STORAGE_ERROR = (
    "Votre demande n'a pas pu être enregistrée : ses pièces n'ont pas pu être conservées. "
    "Veuillez réessayer dans quelques instants."
)

MODEL_DOCUMENTS = {
    "contrat-de-prestation": ("modele-contrat-de-prestation.pdf", "Modèle contrat de prestation"),
    "mandat": ("modele-mandat.pdf", "Modèle de mandat"),
}


def empty_draft() -> dict[str, Any]:
    return {"key": str(uuid.uuid4()), "lookups": {}, "files": {}, "bound": {}, "captcha_ok": {}, "flash": {}}


class EnrolmentWizard(NamedUrlSessionWizardView):
    form_list = [(slug, form) for slug, form, _ in STEPS]

    # --- the wizard's own data (kept in formtools' extra_data) ---------------------------------

    @property
    def draft(self) -> dict[str, Any]:
        data = self.storage.extra_data
        if not data.get("key"):
            data = empty_draft()
            self.storage.extra_data = data
        return data

    def save_draft(self) -> None:
        self.request.session.modified = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.upload_errors: dict[str, str] = {}
        request.no_store = True
        return super().dispatch(request, *args, **kwargs)

    # --- forms ----------------------------------------------------------------------------------

    def get_form_kwargs(self, step: str | None = None) -> dict[str, Any]:
        step = step or self.steps.current
        draft = self.draft
        kwargs = {
            "kept_files": draft["files"].get(step, {}),
            "lookups": draft["lookups"],
            "upload_errors": self.upload_errors if step == self.steps.current else {},
        }
        if step == "applicant":
            kwargs["captcha_required"] = not draft["lookups"].get("company")
        elif step == "confirmation":
            kwargs["captcha_required"] = not draft["captcha_ok"].get("confirmation")
        return kwargs

    def get_form_initial(self, step: str) -> dict[str, Any]:
        company = self.draft["lookups"].get("company")
        if step == "applicant" and company:
            return {name: company.get(name, "") for name in ApplicantForm.COMPANY_FIELDS}
        if step == "referencing" and self.draft["lookups"].get("referencing"):
            return {"referencing_number": self.draft["lookups"]["referencing"]["referencing_number"]}
        return {}

    def process_step(self, form):
        if self.steps.current == "confirmation":
            self.draft["captcha_ok"]["confirmation"] = True
            self.save_draft()
        return super().process_step(form)

    def process_step_files(self, form) -> dict:
        # Files never go through formtools' file storage: they are judged and kept as soon as
        # they arrive (enrolment.drafts), so a failing step does not lose them.
        return {}

    def render(self, form=None, **kwargs: Any) -> HttpResponse:
        step = self.steps.current
        form = form or self.get_form()
        if self.request.method == "GET" and form.is_bound and not self.draft["bound"].get(step):
            # A draft saved by « Rechercher » or « Etape précédente »: show its values without
            # flagging the fields not filled in yet.
            values = {name: form[name].data for name in form.fields}
            form = self.get_form(step)
            form.initial.update({k: v for k, v in values.items() if v not in (None, "", [])})
        kept_captcha = self.draft.get("captcha_kept", {}).pop(step, None)
        if kept_captcha and "captcha" in form.fields:
            form.fields["captcha"].widget.kept_key = kept_captcha
        flashed = self.draft["flash"].pop(step, None)
        if kept_captcha or flashed:
            self.save_draft()
        if flashed:
            if not form.is_bound:
                # add_error() on an unbound form needs the containers a validation would create.
                form._errors, form.cleaned_data = ErrorDict(), {}
            for field, message in flashed.items():
                form.add_error(field if field in form.fields else None, message)
        return super().render(form, **kwargs)

    def get_context_data(self, form, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(form=form, **kwargs)
        current = self.steps.current
        draft = self.draft
        reached = self.reached_steps()
        context.update(
            steps=[
                {
                    "slug": slug,
                    "number": index + 1,
                    "title": title,
                    "current": slug == current,
                    "reachable": slug in reached and slug != current,
                }
                for index, (slug, _, title) in enumerate(STEPS)
            ],
            step_title=STEP_TITLES[current],
            step_number=self.steps.step1,
            step_count=self.steps.count,
            next_step_title=STEP_TITLES.get(self.get_next_step() or "", ""),
            lookups=draft["lookups"],
            submission_key=draft["key"],
            registry_down=bool((draft["lookups"].get("company") or {}).get("manual")),
        )
        if current == "confirmation":
            context["recap"] = self.build_recap()
            context["recap_digest"] = recap_digest(context["recap"])
        return context

    def get_template_names(self) -> list[str]:
        return [f"enrolment/step_{self.steps.current}.html"]

    # --- navigation ------------------------------------------------------------------------------

    def reached_steps(self) -> set[str]:
        """Steps the vendor may jump to: those already submitted and the first one not yet valid."""
        reached = set()
        for slug, _, _ in STEPS:
            reached.add(slug)
            if not self.draft["bound"].get(slug) or not self.step_is_valid(slug):
                break
        return reached

    def step_is_valid(self, step: str) -> bool:
        data = self.storage.get_step_data(step)
        if data is None:
            return False
        return self.get_form(step, data=data).is_valid()

    def first_invalid_step(self, until: str) -> str | None:
        for slug, _, _ in STEPS:
            if slug == until:
                return None
            if not self.step_is_valid(slug):
                return slug
        return None

    def forget_unknown_step(self) -> None:
        """A session whose stored step is not one of ours (written before W1 was enforced) would
        fail on every page: it starts again from the first step, its data kept."""
        if self.storage.current_step not in (None, *self.get_form_list()):
            self.storage.current_step = self.steps.first

    def get(self, *args: Any, **kwargs: Any) -> HttpResponse:
        self.forget_unknown_step()
        step = kwargs.get("step")
        if step == self.done_step_name:
            return (
                redirect("enrolment:done")
                if self.request.session.get(DONE_SESSION_KEY)
                else redirect(self.get_step_url(self.steps.current))
            )
        if step in self.get_form_list():
            # SECURITY D4: no jumping over a step that is not filled in.
            blocking = self.first_invalid_step(until=step)
            if blocking:
                self.storage.current_step = blocking
                return redirect(self.get_step_url(blocking))
        return super().get(*args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        self.forget_unknown_step()
        posted_step = self.request.POST.get(f"{self.prefix}-current_step")
        if posted_step not in self.get_form_list():
            # SECURITY W1: formtools would store the forged step and fail on its form (KeyError, a
            # 500, on this page and every later one). Nothing is changed in the session.
            logger.warning("Étape d'enrôlement inconnue envoyée : %r", (posted_step or "")[:80])
            return HttpResponseBadRequest(get_template("400.html").render())
        posted_key = self.request.POST.get("submission_key")
        final = posted_step == self.steps.last
        # SECURITY R5: the final POST sent twice at once (a double click, a browser's retry) is
        # handled one after the other; the second one finds the stored request and goes to the
        # confirmation, before the captcha the first one used up is checked again.
        with submission_lock(posted_key) if posted_key and final else nullcontext():
            if posted_key and self.already_submitted(posted_key):
                return redirect("enrolment:done")
            return self.post_step(*args, **kwargs)

    def post_step(self, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.request
        self.storage.current_step = request.POST[f"{self.prefix}-current_step"]
        step = self.steps.current
        self.keep_uploads(step)

        action = request.POST.get("action", "")
        goto = request.POST.get("wizard_goto_step")
        if goto in self.get_form_list():
            self.keep_values(step)
            self.storage.current_step = goto
            return redirect(self.get_step_url(goto))
        blocking = self.first_invalid_step(until=step)
        if blocking:
            # SECURITY D4: a step is only processed once the ones before it are complete.
            self.storage.current_step = blocking
            return self.redirect_to_step(blocking)
        handler = {
            "search_referencing": self.search_referencing,
            "reset_referencing": self.reset_referencing,
            "search_siret": self.search_siret,
            "reset_siret": self.reset_siret,
            "new_captcha": self.new_captcha,
        }.get(action)
        if handler is None and step == "applicant" and not self.draft["lookups"].get("company"):
            handler = self.search_siret
        if handler is None and step == "referencing":
            number = "".join(request.POST.get("referencing-referencing_number", "").split())
            found = self.draft["lookups"].get("referencing")
            changed = number and (not found or found["referencing_number"].lower() != number.lower())
            if changed and not self.lookup_referencing(number):
                return self.redirect_to_step(step)
        if handler is not None:
            handler()
            return self.redirect_to_step(step)
        self.draft["bound"][step] = True
        self.save_draft()
        return super().post(*args, **kwargs)

    def redirect_to_step(self, step: str) -> HttpResponse:
        self.save_draft()
        return redirect(self.get_step_url(step))

    def keep_values(self, step: str) -> None:
        """Save what the vendor typed on this step, valid or not (R-WIZ-10)."""
        form = self.get_form(step, data=self.request.POST)
        self.storage.set_step_data(step, self.get_form_step_data(form))
        self.draft["bound"][step] = form.is_valid()
        self.save_draft()

    def keep_uploads(self, step: str) -> None:
        """Judge every file of this POST and keep the good ones at once (R-WIZ-9, R-WIZ-10)."""
        form_class = self.get_form_list()[step]
        kept = self.draft["files"].setdefault(step, {})
        for name, field in form_class.base_fields.items():
            uploaded = self.request.FILES.get(f"{step}-{name}")
            if not hasattr(field, "kind") or uploaded is None:
                continue
            try:
                meta = drafts.save_draft_file(
                    self.draft["key"],
                    uploaded,
                    client_ip=client_ip(self.request) or "",
                    kept=[meta for files in self.draft["files"].values() for meta in files.values()],
                    replacing=kept.get(name),
                )
            except ValidationError as error:
                self.upload_errors[name] = error.messages[0]
                continue
            drafts.delete_draft_file(kept.get(name))
            kept[name] = meta
        self.save_draft()

    # --- « Rechercher » and friends --------------------------------------------------------------

    def flash(self, step: str, field: str, message: str) -> None:
        self.draft["flash"].setdefault(step, {})[field] = message
        self.save_draft()

    def lookup_referencing(self, number: str) -> bool:
        """R-WIZ-1: known, active and not already enrolled; the result is kept with the draft."""
        self.keep_values("referencing")
        self.draft["bound"]["referencing"] = False
        self.draft["lookups"].pop("referencing", None)
        info = referencing_registry.lookup(number)
        if info is None:
            self.flash("referencing", "referencing_number", UNKNOWN_NUMBER)
            return False
        if active_request_exists(referencing_number=info.referencing_number):
            self.flash("referencing", "referencing_number", ALREADY_ENROLLED_NUMBER)
            return False
        self.draft["lookups"]["referencing"] = asdict(info)
        self.save_draft()
        return True

    def search_referencing(self) -> None:
        number = "".join(self.request.POST.get("referencing-referencing_number", "").split())
        if not number:
            self.keep_values("referencing")
            self.draft["bound"]["referencing"] = False
            self.flash("referencing", "referencing_number", "Saisissez votre numéro unique de référencement.")
            return
        self.lookup_referencing(number)

    def reset_referencing(self) -> None:
        self.draft["lookups"].pop("referencing", None)
        self.storage.set_step_data("referencing", {})
        self.draft["bound"]["referencing"] = False

    def search_siret(self) -> None:
        lookup = SiretLookupForm(self.request.POST, prefix="applicant")
        self.draft["bound"]["applicant"] = False
        self.storage.set_step_data("applicant", {"applicant-siret": [self.request.POST.get("applicant-siret", "")]})
        if not lookup.is_valid():
            for field, errors in lookup.errors.items():
                self.flash("applicant", field, errors[0])
            return
        siret = lookup.cleaned_data["siret"]
        if active_request_exists(siret=siret):
            self.flash("applicant", "siret", ALREADY_ENROLLED_SIRET)
            return
        try:
            company = get_company_registry().lookup(siret)
        except RegistryUnavailable:
            self.draft["lookups"]["company"] = {"siret": siret, "denomination": "", "manual": True}
            return
        if company is None:
            self.flash("applicant", "siret", UNKNOWN_SIRET)
            return
        self.draft["lookups"]["company"] = asdict(company)
        keep_registry_answer(company)  # compared with the address finally given (R-OPS-3)

    def reset_siret(self) -> None:
        """Another SIRET: the company block goes, what was typed about the applicant stays."""
        self.draft["lookups"].pop("company", None)
        data = self.storage.get_step_data("applicant") or {}
        dropped = {f"applicant-{name}" for name in ("siret", *ApplicantForm.COMPANY_FIELDS)}
        self.storage.set_step_data("applicant", {key: data.getlist(key) for key in data if key not in dropped})
        self.draft["bound"]["applicant"] = False

    def new_captcha(self) -> None:
        step = self.steps.current
        self.keep_values(step)
        self.draft["bound"][step] = False
        if not ratelimit.hit(CAPTCHA_REFRESH, client_ip(self.request), limit=settings.CAPTCHA_REFRESH_RATE_LIMIT):
            # SECURITY A12: the code on the screen stays; the vendor can still type it or listen to it.
            self.draft.setdefault("captcha_kept", {})[step] = self.request.POST.get(f"{step}-captcha_0", "")
            self.flash(step, "captcha", CAPTCHA_REFRESH_THROTTLED)

    # --- the end -----------------------------------------------------------------------------------

    def already_submitted(self, key: str) -> bool:
        if key in self.request.session.get("enrolment_submitted_keys", []):
            return True
        if key != self.draft.get("key"):
            return False
        enrolment = EnrolmentRequest.objects.filter(submission_key=key).first()
        if enrolment is None:
            return False
        # Stored by another request of this session (sent at the same time): this draft is done.
        self.storage.reset()
        return self.remember_done(enrolment)

    def remember_done(self, enrolment: EnrolmentRequest) -> bool:
        session = self.request.session
        session[DONE_SESSION_KEY] = enrolment.number
        session["enrolment_submitted_keys"] = [
            *session.get("enrolment_submitted_keys", [])[-4:],
            str(enrolment.submission_key),
        ]
        return True

    def render_done(self, form, **kwargs: Any) -> HttpResponse:
        # Runs on the final POST itself (no GET with side effects): every step is validated once
        # more from the stored data, then the request is stored.
        final_forms = {}
        for step in self.get_form_list():
            step_form = self.get_form(step, data=self.storage.get_step_data(step))
            if not step_form.is_valid():
                self.draft["bound"][step] = True
                self.draft["captcha_ok"].pop("confirmation", None)
                return self.render_revalidation_failure(step, step_form, **kwargs)
            final_forms[step] = step_form
        if not constant_time_compare(self.request.POST.get(RECAP_DIGEST_FIELD, ""), recap_digest(self.build_recap())):
            # SECURITY W1: the data changed since this summary was shown (another tab, another
            # window): what the vendor certified is not what would be stored. The boxes they ticked
            # are unticked: they certify the fresh summary, or nothing.
            self.draft["captcha_ok"].pop("confirmation", None)
            self.storage.set_step_data("confirmation", None)
            self.draft["bound"]["confirmation"] = False
            self.flash("confirmation", "", DATA_CHANGED)
            return self.redirect_to_step("confirmation")
        address = client_ip(self.request)
        if ratelimit.exceeded(SUBMISSIONS, address, limit=settings.ENROLMENT_SUBMIT_RATE_LIMIT):
            # SECURITY A12: at most 5 requests stored per hour from one address; the draft stays.
            logger.warning("Demande d'enrôlement refusée : limite horaire atteinte depuis %s", address)
            self.draft["captcha_ok"].pop("confirmation", None)
            self.flash("confirmation", "", SUBMISSIONS_THROTTLED)
            return self.redirect_to_step("confirmation")
        try:
            enrolment = submit_enrolment(submission=self.build_submission(final_forms))
        except EnrolmentRefused as refusal:
            self.draft["captcha_ok"].pop("confirmation", None)
            if refusal.step == "referencing":
                self.draft["lookups"].pop("referencing", None)
            else:
                self.draft["lookups"].pop("company", None)
            self.flash(refusal.step, refusal.field, refusal.message)
            self.storage.current_step = refusal.step
            return self.redirect_to_step(refusal.step)
        except document_storage_errors():
            # SECURITY G5: the documents could not be copied (disk full or unwritable, object
            # store unreachable). Nothing was stored and the draft is intact: the vendor tries
            # again from this page.
            logger.exception("Demande non enregistrée : écriture des pièces impossible")
            self.draft["captcha_ok"].pop("confirmation", None)
            self.flash("confirmation", "", SUBMIT_STORAGE_ERROR)
            return self.redirect_to_step("confirmation")
        ratelimit.record(SUBMISSIONS, address)
        self.storage.reset()
        self.remember_done(enrolment)
        return redirect("enrolment:done")

    def build_submission(self, forms: dict) -> EnrolmentSubmission:
        applicant = forms["applicant"].cleaned_data
        documents: dict[str, dict] = {}
        for form in forms.values():
            documents.update(form.cleaned_data["documents"])
        return EnrolmentSubmission(
            submission_key=uuid.UUID(self.draft["key"]),
            referencing_number=forms["referencing"].cleaned_data["referencing_number"],
            company={
                name: applicant[name] for name in ("siret", "registry_denomination", *ApplicantForm.COMPANY_FIELDS)
            },
            applicant={
                **{name: applicant[name] for name in applicant if name.startswith(("representative_", "depositor_"))},
                "is_legal_representative": applicant["is_legal_representative"] == "oui",
                "third_party_quality": applicant.get("third_party_quality") or "",
            },
            bank={
                name: forms["bank"].cleaned_data[name]
                for name in ("iban", "bic", "account_holder", "bank_domiciliation")
            },
            vat_rate=forms["vat"].cleaned_data["vat_rate"],
            documents=documents,
        )

    def build_recap(self) -> list[dict[str, Any]]:
        """The guide's recap groups (R-WIZ-7): every value and every file name."""
        forms = {}
        for slug, _, _ in STEPS[:-1]:
            data = self.storage.get_step_data(slug)
            form = self.get_form(slug, data=data)
            if data is None or not form.is_valid():
                return []
            forms[slug] = form
        referencing = forms["referencing"].cleaned_data["referencing"]
        groups = [
            {
                "title": "Référencement",
                "step": "referencing",
                "rows": [
                    {"label": "N° unique de référencement (ANS)", "value": referencing["referencing_number"]},
                    {"label": "Nom du logiciel", "value": referencing["software_name"]},
                    {"label": "Version du logiciel", "value": referencing["version"]},
                    {"label": "DSR concerné (couloir / type logiciel / vague)", "value": referencing["dsr_label"]},
                ]
                + recap_files(forms["referencing"], ("certificate",)),
            }
        ]
        third_party = forms["applicant"].cleaned_data["is_legal_representative"] == "non"
        for title, step, names, documents in RECAP_GROUPS:
            form = forms[step]
            if not third_party:
                names = [name for name in names if not name.startswith(("depositor_", "third_party"))]
            groups.append(
                {"title": title, "step": step, "rows": recap_values(form, names) + recap_files(form, documents)}
            )
        return groups


RECAP_GROUPS = [
    (
        "Personne morale",
        "applicant",
        ("siret", *ApplicantForm.COMPANY_FIELDS),
        ("kbis", "editor_mandate"),
    ),
    (
        "Demandeur",
        "applicant",
        (
            "is_legal_representative",
            "representative_last_name",
            "representative_first_name",
            "representative_email",
            "representative_phone",
            "depositor_last_name",
            "depositor_first_name",
            "depositor_email",
            "depositor_phone",
            "third_party_quality",
        ),
        ("representative_id", "depositor_id", "service_contract", "legal_representative_mandate"),
    ),
    ("Coordonnées bancaires", "bank", ("iban", "bic", "account_holder", "bank_domiciliation"), ("rib",)),
    ("Régime TVA", "vat", ("vat_rate",), ("vat_exemption_proof",)),
]


def recap_digest(recap: list[dict[str, Any]]) -> str:
    """A keyed digest of the summary the vendor is shown (values, file names and contents): the
    final POST carries it back (W1)."""
    payload = json.dumps(recap, sort_keys=True, ensure_ascii=False, default=str)
    return salted_hmac("enrolment.recap", payload, algorithm="sha256").hexdigest()


def recap_values(form, names) -> list[dict[str, str]]:
    rows = []
    for name in names:
        field, value = form.fields[name], form.cleaned_data.get(name)
        if value and hasattr(field, "choices"):
            value = dict(field.choices).get(value, value)
        rows.append({"label": field.label, "value": value or ""})
    return rows


def recap_files(form, names) -> list[dict[str, str]]:
    """The names of the files this request keeps (a file not required is not part of it)."""
    documents = form.cleaned_data["documents"]
    # The content's digest is not shown; it makes the summary's digest change with a file.
    return [
        {
            "label": form.fields[name].label,
            "value": documents[form.fields[name].kind]["name"],
            "sha256": documents[form.fields[name].kind]["sha256"],
        }
        for name in names
        if name in form.fields and form.fields[name].kind in documents
    ]


@require_POST
def quit_wizard(request: HttpRequest) -> HttpResponse:
    """« Quitter sans enregistrer »: the draft and its files are removed at once."""
    state = request.session.pop(WIZARD_SESSION_KEY, None) or {}
    drafts.delete_draft((state.get("extra_data") or {}).get("key", ""))
    messages.info(request, "Votre demande d'enrôlement a été abandonnée : aucune information n'a été conservée.")
    return redirect("public:home")


def confirmation(request: HttpRequest) -> HttpResponse:
    number = request.session.get(DONE_SESSION_KEY)
    if not number:
        return redirect("enrolment:start")
    request.no_store = True
    return render(request, "enrolment/done.html", {"number": number})


def too_many_requests(request: HttpRequest, message: str) -> HttpResponse:
    response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = "600"
    return response


def captcha_audio(request: HttpRequest, key: str) -> HttpResponse:
    """The captcha's characters spelled in French (WAV), for people who cannot read the image."""
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).first()
    if store is None or not settings.CAPTCHA_AUDIO_COMMAND:
        raise Http404
    # SECURITY A12: each audio version starts a speech synthesiser process.
    if not ratelimit.hit(CAPTCHA_AUDIO, client_ip(request), limit=settings.CAPTCHA_AUDIO_RATE_LIMIT):
        return too_many_requests(request, CAPTCHA_AUDIO_THROTTLED)
    spelled = ". ".join(store.challenge.upper()) + "."
    command = [settings.CAPTCHA_AUDIO_COMMAND, "-v", "fr", "-s", "110", "-g", "8", "--stdout", spelled]
    try:
        result = subprocess.run(command, capture_output=True, timeout=10, check=True)  # noqa: S603
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("Captcha audio indisponible : %s", error)
        raise Http404 from error
    response = HttpResponse(result.stdout, content_type="audio/wav")
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = 'inline; filename="code-captcha.wav"'
    return response


def captcha_refresh(request: HttpRequest) -> HttpResponse:
    """django-simple-captcha's refresh (a new code for a script), under the limit of « Afficher un
    nouveau code » (SECURITY A12)."""
    if request.headers.get("x-requested-with") == "XMLHttpRequest" and not ratelimit.hit(
        CAPTCHA_REFRESH, client_ip(request), limit=settings.CAPTCHA_REFRESH_RATE_LIMIT
    ):
        response = JsonResponse({"erreur": CAPTCHA_REFRESH_THROTTLED}, status=429)
        response["Retry-After"] = "600"
        return response
    return captcha_views.captcha_refresh(request)


def model_document(request: HttpRequest, name: str) -> FileResponse:
    """« Modèle contrat de prestation » and « Modèle de mandat » (R-WIZ-4)."""
    if name not in MODEL_DOCUMENTS:
        raise Http404
    filename, _ = MODEL_DOCUMENTS[name]
    path = Path(settings.BASE_DIR) / "static" / "docs" / filename
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf")
