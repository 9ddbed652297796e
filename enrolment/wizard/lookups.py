"""« Rechercher » and « Réinitialiser » (R-WIZ-1, R-WIZ-2): the registry look-ups, made once and
kept with the draft. Each function reads what it needs and writes the draft; the view then
redirects to the step, which shows the result or the message at its field."""

from dataclasses import asdict

from django.conf import settings
from django.http import QueryDict
from formtools.wizard.storage.base import BaseStorage

from enrolment.field_groups import COMPANY_TYPED_FIELDS
from enrolment.forms import SiretLookupForm
from enrolment.models import ALREADY_ENROLLED_NUMBER, ALREADY_ENROLLED_SIRET
from enrolment.registries import referencing as referencing_registry
from enrolment.registries.companies import RegistryUnavailable, get_company_registry
from enrolment.services import active_request_exists
from enrolment.signals import company_looked_up
from enrolment.wizard.draft import Draft
from enrolment.wizard.steps import Step
from segurnum import ratelimit
from segurnum.text import compact

UNKNOWN_NUMBER = "Ce numéro de référencement est inconnu du registre de l'ANS : vérifiez votre saisie."
UNKNOWN_SIRET = "Aucun établissement ne correspond à ce numéro de SIRET dans le répertoire des entreprises."
NUMBER_MISSING = "Saisissez votre numéro unique de référencement."


def typed_number(data: QueryDict) -> str:
    return compact(data.get(f"{Step.REFERENCING}-referencing_number", ""))


def find_software(draft: Draft, number: str) -> bool:
    """R-WIZ-1: known, active and not already enrolled (R-BIZ-1); the result is kept."""
    draft.set_bound(Step.REFERENCING, False)
    draft.forget("referencing")
    info = referencing_registry.lookup(number)
    if info is None:
        draft.add_flash(Step.REFERENCING, "referencing_number", UNKNOWN_NUMBER)
        return False
    if active_request_exists(referencing_number=info.referencing_number):
        draft.add_flash(Step.REFERENCING, "referencing_number", ALREADY_ENROLLED_NUMBER)
        return False
    draft.lookups["referencing"] = asdict(info)
    return True


def forget_software(draft: Draft, storage: BaseStorage) -> None:
    """« Réinitialiser » the number: the look-up and what was typed on the step go."""
    draft.forget("referencing")
    storage.set_step_data(Step.REFERENCING, {})
    draft.set_bound(Step.REFERENCING, False)


def search_company(draft: Draft, storage: BaseStorage, data: QueryDict) -> None:
    """« Rechercher » the SIRET: the step keeps only the SIRET typed until the look-up answers."""
    storage.set_step_data(Step.APPLICANT, {f"{Step.APPLICANT}-siret": [data.get(f"{Step.APPLICANT}-siret", "")]})
    find_company(draft, data)


def forget_company(draft: Draft, storage: BaseStorage) -> None:
    """Another SIRET: the company block goes, what was typed about the applicant stays."""
    draft.forget("company")
    data = storage.get_step_data(Step.APPLICANT) or {}
    dropped = {f"{Step.APPLICANT}-{name}" for name in ("siret", *COMPANY_TYPED_FIELDS)}
    storage.set_step_data(Step.APPLICANT, {key: data.getlist(key) for key in data if key not in dropped})
    draft.set_bound(Step.APPLICANT, False)


def find_company(draft: Draft, data: QueryDict) -> None:
    """R-WIZ-2: a valid SIRET not already enrolled (R-BIZ-2), then the company registry; when the
    registry does not answer, the vendor types the company's details (``manual``)."""
    lookup = SiretLookupForm(data, prefix=Step.APPLICANT)
    draft.set_bound(Step.APPLICANT, False)
    if not lookup.is_valid():
        for field, errors in lookup.errors.items():
            draft.add_flash(Step.APPLICANT, field, errors[0])
        return
    siret = lookup.cleaned_data["siret"]
    if active_request_exists(siret=siret):
        draft.add_flash(Step.APPLICANT, "siret", ALREADY_ENROLLED_SIRET)
        return
    try:
        company = get_company_registry().lookup(siret)
    except RegistryUnavailable:
        draft.lookups["company"] = {"siret": siret, "denomination": "", "manual": True}
        return
    if company is None:
        draft.add_flash(Step.APPLICANT, "siret", UNKNOWN_SIRET)
        return
    draft.lookups["company"] = asdict(company)
    # Kept to compare with the address finally given (R-OPS-3).
    company_looked_up.send(sender=find_company, company=company)


# Rate limits per client address (segurnum.ratelimit, SECURITY A12).
CAPTCHA_REFRESH = "captcha-refresh"
CAPTCHA_REFRESH_THROTTLED = (
    "Trop de nouveaux codes ont été demandés depuis votre connexion : recopiez le code affiché, ou "
    "réessayez dans quelques minutes."
)


def new_captcha(draft: Draft, step: str, data: QueryDict, *, address: str) -> None:
    """« Afficher un nouveau code »: a new captcha, unless this address asked for too many
    (SECURITY A12): then the code on the screen stays; the vendor can still type it or listen to it."""
    draft.set_bound(step, False)
    if not ratelimit.hit(CAPTCHA_REFRESH, address, limit=settings.CAPTCHA_REFRESH_RATE_LIMIT):
        draft.keep_captcha(step, data.get(f"{step}-captcha_0", ""))
        draft.add_flash(step, "captcha", CAPTCHA_REFRESH_THROTTLED)
