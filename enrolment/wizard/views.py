"""The enrolment wizard's view (R-WIZ-1..10): five named steps in the session, no JavaScript needed.

The « Rechercher » look-ups, « Réinitialiser », « Nouveau code » and « Etape précédente » are
plain form submissions routed here before formtools' own processing (``enrolment.wizard.lookups``).
Files are judged and kept as soon as they arrive (``enrolment.drafts``); the look-up results,
kept files and messages live in a typed ``Draft``; the summary and the submission are built by
``enrolment.wizard.recap``.
"""

import json
import logging
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import connection
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.loader import get_template
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.datastructures import MultiValueDict
from django.utils.decorators import method_decorator
from formtools.wizard.views import NamedUrlSessionWizardView

from enrolment.field_groups import COMPANY_TYPED_FIELDS
from enrolment.forms import (
    ApplicantForm,
    BankForm,
    ConfirmationForm,
    ReferencingForm,
    VatForm,
    number_changed_since_lookup,
)
from enrolment.models import EnrolmentRequest
from enrolment.services import EnrolmentRefused, submission_transaction, submit_enrolment
from enrolment.wizard import lookups
from enrolment.wizard.draft import Draft, keep_uploads
from enrolment.wizard.recap import build_recap, build_submission, recap_digest
from enrolment.wizard.steps import TITLES, Step
from enrolment.wizard.storage import snapshot
from segurnum import ratelimit
from segurnum.middleware import no_store
from segurnum.storage import document_storage_errors
from segurnum.text import client_ip

logger = logging.getLogger(__name__)

WIZARD_SESSION_KEY = "wizard_enrolment_wizard"
DONE_SESSION_KEY = "enrolment_done"
SUBMITTED_KEYS = "enrolment_submitted_keys"
RECAP_DIGEST_FIELD = "recap_digest"
# Rate limit per client address (segurnum.ratelimit, SECURITY A12).
SUBMISSIONS = "enrolment-submissions"
SUBMISSIONS_THROTTLED = (
    "Trop de demandes d'enrôlement ont été envoyées depuis votre connexion en une heure. Votre saisie est "
    "conservée : réessayez plus tard, ou contactez l'assistance."
)
DATA_CHANGED = (
    "Les informations de votre demande ont été modifiées depuis l'affichage de ce récapitulatif "
    "(par exemple dans un autre onglet). Vérifiez le récapitulatif ci-dessous, puis validez de "
    "nouveau votre demande avec « Terminer »."
)
SUBMIT_STORAGE_ERROR = (
    "Votre demande n'a pas pu être enregistrée : ses pièces n'ont pas pu être conservées. "
    "Veuillez réessayer dans quelques instants."
)


FORMS = {
    Step.REFERENCING: ReferencingForm,
    Step.APPLICANT: ApplicantForm,
    Step.BANK: BankForm,
    Step.VAT: VatForm,
    Step.CONFIRMATION: ConfirmationForm,
}


@method_decorator(no_store, name="dispatch")
class EnrolmentWizard(NamedUrlSessionWizardView):
    form_list = list(FORMS.items())
    storage_name = "enrolment.wizard.storage.ChangedOnlySessionStorage"

    # --- the wizard's own data (kept in formtools' extra_data) ---------------------------------

    @property
    def draft(self) -> Draft:
        data = self.storage.extra_data
        if getattr(self, "_draft_data", None) is not data or not data.get("key"):
            started = not data.get("key")
            self._draft, self._draft_data = Draft.of(data), data
            if started:
                self.storage.extra_data = data
                self.save_draft()
        return self._draft

    def save_draft(self) -> None:
        self.request.session.modified = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.upload_errors: dict[str, str] = {}
        self.built_forms: dict[str, Any] = {}
        self.stored = False
        before = snapshot(request.session, WIZARD_SESSION_KEY)
        response = super().dispatch(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()  # the page may still use the draft (a flashed message taken)
        if snapshot(request.session, WIZARD_SESSION_KEY) != before:
            # The session is written only when the wizard changed (R-PERF-5): reading the steps
            # marks nothing (enrolment.wizard.storage).
            request.session.modified = True
        return response

    # --- forms ----------------------------------------------------------------------------------

    def get_form(self, step: str | None = None, data=None, files=None):
        """Each form is built, and validated, once per request (R-PERF-5): asked again for the same
        step with the same data and the same state of the draft, the same form is returned."""
        step = step or self.steps.current
        key = self.form_key(step, data, files)
        form = self.built_forms.get(key)
        if form is None:
            form = self.built_forms[key] = super().get_form(step, data, files)
        return form

    def form_key(self, step: str, data=None, files=None) -> str:
        """What a step's form is made of: its data, and what the view gives it from the draft."""
        if data is not None:
            data = sorted(data.lists() if hasattr(data, "lists") else data.items())
        return json.dumps(
            [step, data, sorted(files or ()), self.get_form_kwargs(step), self.get_form_initial(step)],
            sort_keys=True,
            default=str,
        )

    def forget_form(self, form) -> None:
        """A form about to be changed for its display (messages added) is not reused."""
        self.built_forms = {key: built for key, built in self.built_forms.items() if built is not form}

    def get_form_kwargs(self, step: str | None = None) -> dict[str, Any]:
        step = step or self.steps.current
        kwargs = {
            "kept_files": self.draft.files.get(step, {}),
            "lookups": self.draft.lookups,
            "upload_errors": self.upload_errors if step == self.steps.current else {},
        }
        if step == Step.APPLICANT:
            kwargs["captcha_required"] = not self.draft.company
        elif step == Step.CONFIRMATION:
            kwargs["captcha_required"] = not self.draft.certified
        return kwargs

    def get_form_initial(self, step: str) -> dict[str, Any]:
        company, referencing = self.draft.company, self.draft.referencing
        if step == Step.APPLICANT and company:
            return {name: company.get(name, "") for name in COMPANY_TYPED_FIELDS}
        if step == Step.REFERENCING and referencing:
            return {"referencing_number": referencing["referencing_number"]}
        return {}

    def process_step(self, form):
        if self.steps.current == Step.CONFIRMATION:
            self.draft.certify()
            self.save_draft()
        data = super().process_step(form)
        # Validated just now, and stored as it is: the next requests need not validate it again.
        self.remember_validity(self.steps.current, self.step_digest(self.steps.current, data), form)
        return data

    def process_step_files(self, form) -> dict:
        # Files never go through formtools' file storage: they are judged and kept as soon as
        # they arrive (enrolment.drafts), so a failing step does not lose them.
        return {}

    def render(self, form=None, **kwargs: Any) -> HttpResponse:
        step = self.steps.current
        form = form or self.get_form()
        kept_captcha = self.draft.take_kept_captcha(step)
        if kept_captcha and "captcha" in form.fields:
            form.fields["captcha"].widget.kept_key = kept_captcha
        flashed = self.draft.take_flash(step)
        if kept_captcha or flashed:
            self.save_draft()
        if flashed:
            self.forget_form(form)
            show_flash(form, flashed)
        return super().render(form, **kwargs)

    def get_context_data(self, form, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(form=form, **kwargs)
        current = self.steps.current
        context.update(
            steps=self.step_links(current),
            step_title=TITLES[current],
            step_number=self.steps.step1,
            step_count=self.steps.count,
            next_step_title=TITLES.get(self.get_next_step() or "", ""),
            lookups=self.draft.lookups,
            submission_key=self.draft.key,
            registry_down=self.draft.registry_down,
        )
        if current == Step.CONFIRMATION:
            context["recap"] = self.build_recap()
            context["recap_digest"] = recap_digest(context["recap"])
        return context

    def get_template_names(self) -> list[str]:
        return [f"enrolment/step_{self.steps.current}.html"]

    # --- navigation ------------------------------------------------------------------------------

    def step_links(self, current: str) -> list[dict[str, Any]]:
        reached = self.reached_steps()
        return [
            {
                "slug": step,
                "number": index + 1,
                "title": TITLES[step],
                "current": step == current,
                "reachable": step in reached and step != current,
            }
            for index, step in enumerate(Step)
        ]

    def reached_steps(self) -> set[str]:
        """Steps the vendor may jump to: those already submitted and the first one not yet valid."""
        reached = set()
        for step in Step:
            reached.add(step)
            if not self.draft.is_bound(step) or not self.step_is_valid(step):
                break
        return reached

    def step_is_valid(self, step: str) -> bool:
        """Whether the step's stored data is valid. A step found valid is remembered in the draft
        with a digest of what its form is made of (R-PERF-5): while neither its data nor the draft
        it depends on change, later requests do not validate it again. A step asking a captcha is
        never remembered (a captcha is answered once). « Terminer » validates every step itself."""
        data = self.storage.get_step_data(step)
        if data is None:
            return False
        digest = self.step_digest(step, data)
        if self.draft.valid.get(step) == digest:
            return True
        form = self.get_form(step, data=data)
        self.remember_validity(step, digest, form)
        return form.is_valid()

    def step_digest(self, step: str, data) -> str:
        return salted_hmac("enrolment.valid-step", self.form_key(step, data), algorithm="sha256").hexdigest()

    def remember_validity(self, step: str, digest: str, form) -> None:
        remembered = digest if form.is_valid() and "captcha" not in form.fields else None
        if self.draft.valid.get(step) != remembered:
            self.draft.remember_valid(step, remembered)
            self.save_draft()

    def first_invalid_step(self, until: str) -> str | None:
        for step in Step:
            if step == until:
                return None
            if not self.step_is_valid(step):
                return step
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
            done = self.request.session.get(DONE_SESSION_KEY)
            return redirect("enrolment:done") if done else redirect(self.get_step_url(self.steps.current))
        if step in self.get_form_list():
            # SECURITY D4: no jumping over a step that is not filled in.
            blocking = self.first_invalid_step(until=step)
            if blocking:
                self.storage.current_step = blocking
                return redirect(self.get_step_url(blocking))
            self.storage.current_step = step
            return self.render(self.form_to_show(step), **kwargs)
        return super().get(*args, **kwargs)

    def form_to_show(self, step: str):
        """The step's form as a GET shows it: bound to what was submitted, or, for a draft saved by
        « Rechercher » or « Etape précédente », unbound with its values, so that the fields not
        filled in yet are not flagged. One form built, not a bound one then an unbound one."""
        data = self.storage.get_step_data(step)
        if data is None or self.draft.is_bound(step):
            return self.get_form(step, data=data, files=self.storage.get_step_files(step))
        form = self.get_form(step)
        no_files = MultiValueDict()
        for name, field in form.fields.items():
            value = field.widget.value_from_datadict(data, no_files, form.add_prefix(name))
            if value not in (None, "", []):
                form.initial[name] = value
        return form

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
        # confirmation. The database is only asked when the final POST did not store the request
        # itself (the captcha the first one used up is refused): a request stored under the same
        # key makes the INSERT fail and is returned by submit_enrolment (R-PERF-3: no look-up of
        # the key on the way to a new request).
        with submission_transaction() if posted_key and final else nullcontext():
            if posted_key and posted_key in self.request.session.get(SUBMITTED_KEYS, []):
                return redirect("enrolment:done")
            if posted_key and not final and self.already_submitted(posted_key):
                return redirect("enrolment:done")
            response = self.post_step(*args, **kwargs)
            if posted_key and final and not self.stored and self.already_submitted(posted_key):
                return redirect("enrolment:done")
            return response

    def post_step(self, *args: Any, **kwargs: Any) -> HttpResponse:
        self.storage.current_step = self.request.POST[f"{self.prefix}-current_step"]
        step = self.steps.current
        self.keep_uploads(step)
        goto = self.request.POST.get("wizard_goto_step")
        if goto in self.get_form_list():
            self.keep_values(step)
            self.storage.current_step = goto
            return redirect(self.get_step_url(goto))
        blocking = self.first_invalid_step(until=step)
        if blocking:
            # SECURITY D4: a step is only processed once the ones before it are complete.
            self.storage.current_step = blocking
            return self.redirect_to_step(blocking)
        if self.run_action(step):
            return self.redirect_to_step(step)
        self.draft.set_bound(step, True)
        self.save_draft()
        return super().post(*args, **kwargs)

    def run_action(self, step: str) -> bool:
        """« Rechercher », « Réinitialiser », « Afficher un nouveau code », or the look-up that
        « Suivant » implies (a SIRET not looked up, a number changed since its look-up). True when
        the step is to be shown again rather than validated."""
        action = self.request.POST.get("action", "")
        handler = {
            "search_referencing": self.search_referencing,
            "reset_referencing": self.reset_referencing,
            "search_siret": self.search_siret,
            "reset_siret": self.reset_siret,
            "new_captcha": self.new_captcha,
        }.get(action)
        if handler is None and step == Step.APPLICANT and not self.draft.company:
            handler = self.search_siret
        if handler is None and step == Step.REFERENCING:
            number = lookups.typed_number(self.request.POST)
            if number and number_changed_since_lookup(number, self.draft.referencing):
                return not self.lookup_referencing(number)
        if handler is not None:
            handler()
        return handler is not None

    def redirect_to_step(self, step: str) -> HttpResponse:
        self.save_draft()
        return redirect(self.get_step_url(step))

    def keep_values(self, step: str) -> None:
        """Save what the vendor typed on this step, valid or not (R-WIZ-10)."""
        form = self.get_form(step, data=self.request.POST)
        self.storage.set_step_data(step, self.get_form_step_data(form))
        self.draft.set_bound(step, form.is_valid())
        self.save_draft()

    def keep_uploads(self, step: str) -> None:
        """Judge every file of this POST and keep the good ones at once (R-WIZ-9, R-WIZ-10)."""
        if self.request.FILES:
            # Only while the database answers (the session is read from the cache): a file kept
            # by a request that then fails would be kept for nothing (the 503 page instead).
            connection.close_if_health_check_failed()
            connection.ensure_connection()
        fields_of_step = self.get_form_list()[step].base_fields
        address = client_ip(self.request)
        self.upload_errors = keep_uploads(self.draft, step, fields_of_step, self.request.FILES, address=address)
        self.save_draft()

    # --- « Rechercher » and friends (enrolment.wizard.lookups) -----------------------------------

    def flash(self, step: str, field: str, message: str) -> None:
        self.draft.add_flash(step, field, message)
        self.save_draft()

    def lookup_referencing(self, number: str) -> bool:
        self.keep_values(Step.REFERENCING)
        found = lookups.find_software(self.draft, number)
        self.save_draft()
        return found

    def search_referencing(self) -> None:
        number = lookups.typed_number(self.request.POST)
        if number:
            self.lookup_referencing(number)
            return
        self.keep_values(Step.REFERENCING)
        self.draft.set_bound(Step.REFERENCING, False)
        self.flash(Step.REFERENCING, "referencing_number", lookups.NUMBER_MISSING)

    def reset_referencing(self) -> None:
        lookups.forget_software(self.draft, self.storage)

    def search_siret(self) -> None:
        lookups.search_company(self.draft, self.storage, self.request.POST)

    def reset_siret(self) -> None:
        lookups.forget_company(self.draft, self.storage)

    def new_captcha(self) -> None:
        step = self.steps.current
        self.keep_values(step)
        lookups.new_captcha(self.draft, step, self.request.POST, address=client_ip(self.request))

    # --- the end -----------------------------------------------------------------------------------

    def already_submitted(self, key: str) -> bool:
        if key in self.request.session.get(SUBMITTED_KEYS, []):
            return True
        if key != self.draft.key:
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
        session[SUBMITTED_KEYS] = [*session.get(SUBMITTED_KEYS, [])[-4:], str(enrolment.submission_key)]
        return True

    def render_done(self, form, **kwargs: Any) -> HttpResponse:
        # Runs on the final POST itself (no GET with side effects): every step is validated once
        # more from the stored data, then the request is stored.
        final_forms = {}
        for step in self.get_form_list():
            step_form = self.get_form(step, data=self.storage.get_step_data(step))
            if not step_form.is_valid():
                self.draft.set_bound(step, True)
                self.draft.uncertify()
                return self.render_revalidation_failure(step, step_form, **kwargs)
            final_forms[step] = step_form
        outcome = self.submit(final_forms)
        if not isinstance(outcome, EnrolmentRequest):
            return self.back_to_step(*outcome)
        self.stored = True
        self.storage.reset()
        self.remember_done(outcome)
        return redirect("enrolment:done")

    def submit(self, final_forms: dict) -> EnrolmentRequest | tuple[str, str, str]:
        """The stored request; or (step, field, message) to show where the vendor corrects it."""
        if not constant_time_compare(self.request.POST.get(RECAP_DIGEST_FIELD, ""), recap_digest(self.build_recap())):
            # SECURITY W1: the data changed since this summary was shown (another tab, another
            # window): what the vendor certified is not what would be stored. The boxes they ticked
            # are unticked: they certify the fresh summary, or nothing.
            self.storage.set_step_data(Step.CONFIRMATION, None)
            self.draft.set_bound(Step.CONFIRMATION, False)
            return Step.CONFIRMATION, "", DATA_CHANGED
        address = client_ip(self.request)
        # SECURITY A12: at most 5 requests stored per hour from one address; the draft stays. The
        # request is counted as it starts, in the round trip that reads the count (R-PERF-5), and
        # given back when it is not stored after all.
        if ratelimit.record(SUBMISSIONS, address) > settings.ENROLMENT_SUBMIT_RATE_LIMIT:
            ratelimit.record(SUBMISSIONS, address, amount=-1)
            logger.warning("Demande d'enrôlement refusée : limite horaire atteinte depuis %s", address)
            return Step.CONFIRMATION, "", SUBMISSIONS_THROTTLED
        outcome = None
        try:
            outcome = self.store(final_forms)
        finally:
            if not isinstance(outcome, EnrolmentRequest):
                ratelimit.record(SUBMISSIONS, address, amount=-1)
        return outcome

    def store(self, final_forms: dict) -> EnrolmentRequest | tuple[str, str, str]:
        try:
            return submit_enrolment(submission=build_submission(final_forms, key=self.draft.key))
        except EnrolmentRefused as refusal:
            self.draft.forget_for(refusal.step)
            return refusal.step, refusal.field, refusal.message
        except document_storage_errors():
            # SECURITY G5: the documents could not be kept (disk full or unwritable, object
            # store unreachable). Nothing was stored and the draft is intact: the vendor tries
            # again from this page.
            logger.exception("Demande non enregistrée : écriture des pièces impossible")
            return Step.CONFIRMATION, "", SUBMIT_STORAGE_ERROR

    def back_to_step(self, step: str, field: str, message: str) -> HttpResponse:
        """A refused « Terminer »: the captcha is asked again, the message shown at its field."""
        self.draft.uncertify()
        self.flash(step, field, message)
        self.storage.current_step = step
        return self.redirect_to_step(step)

    def build_recap(self) -> list[dict[str, Any]]:
        """The guide's recap groups (R-WIZ-7), once every step before the confirmation is valid."""
        forms = {}
        for step in list(Step)[:-1]:
            data = self.storage.get_step_data(step)
            form = self.get_form(step, data=data)
            if data is None or not form.is_valid():
                return []
            forms[step] = form
        return build_recap(forms)


def show_flash(form, flashed: dict[str, str]) -> None:
    """The messages kept for this display, at their field (or above the form)."""
    if not form.is_bound:
        # add_error() on an unbound form needs the containers a validation would create.
        form._errors, form.cleaned_data = ErrorDict(), {}
    for field, message in flashed.items():
        form.add_error(field if field in form.fields else None, message)
