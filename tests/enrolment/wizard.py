"""Drives the enrolment wizard through the Django test client, as a browser without JavaScript
would: real form posts, real files, the real captcha (its answer is read from the store)."""

import re
from pathlib import Path
from urllib.parse import urlencode

from captcha.models import CaptchaStore
from django.core.management import call_command
from django.urls import reverse

from tests import files

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MANAGEMENT = "enrolment_wizard-current_step"
# The step whose form has no file field: a browser sends it URL-encoded, not as multipart.
WITHOUT_FILES = {"confirmation"}

GUIDE_NUMBER = "tndSAS0031"
GUIDE_SIRET = "47992882200069"  # editor of tndSAS0031
DISTRIBUTOR_SIRET = "39431067600017"
GUIDE_IBAN = "FR7630056009271234567890182"
GUIDE_BIC = "CCFRFRPP"

REPRESENTATIVE = {
    "representative_last_name": "Oda",
    "representative_first_name": "Eishiro",
    "representative_email": "eishiro.oda@example.fr",
    "representative_email_confirmation": "eishiro.oda@example.fr",
    "representative_phone": "06 68 56 15 65",
}
DEPOSITOR = {
    "depositor_last_name": "Martin",
    "depositor_first_name": "Claire",
    "depositor_email": "claire.martin@cabinet.example.fr",
    "depositor_email_confirmation": "claire.martin@cabinet.example.fr",
    "depositor_phone": "01 45 67 89 10",
}


def load_registries() -> None:
    call_command("loaddata", str(FIXTURES / "referenced_software.json"), verbosity=0)


def step_url(step: str) -> str:
    return reverse("enrolment:step", kwargs={"step": step})


def prefixed(step: str, data: dict) -> dict:
    return {f"{step}-{key}": value for key, value in data.items()}


def captcha_answer(html: str, prefix: str, wrong: bool = False) -> dict:
    match = re.search(rf'name="{prefix}-captcha_0" value="([0-9a-f]+)"', html)
    assert match, "pas de captcha dans la page"
    key = match.group(1)
    answer = CaptchaStore.objects.get(hashkey=key).response
    return {f"{prefix}-captcha_0": key, f"{prefix}-captcha_1": "faux00" if wrong else answer.upper()}


def recap_digest(html: str) -> dict:
    """The digest of the summary the confirmation page shows, sent back with « Terminer »."""
    match = re.search(r'name="recap_digest" value="([0-9a-f]+)"', html)
    assert match, "pas d'empreinte du récapitulatif dans la page"
    return {"recap_digest": match.group(1)}


class Wizard:
    def __init__(self, client):
        self.client = client

    def get(self, step: str, follow: bool = True):
        return self.client.get(step_url(step), follow=follow)

    def post(
        self,
        step: str,
        data: dict | None = None,
        *,
        action: str | None = None,
        goto: str | None = None,
        follow: bool = True,
        extra: dict | None = None,
    ):
        payload = {MANAGEMENT: step, **prefixed(step, data or {}), **(extra or {})}
        if action:
            payload["action"] = action
        if goto:
            payload["wizard_goto_step"] = goto
        if step in WITHOUT_FILES:
            return self.client.post(
                step_url(step), urlencode(payload), content_type="application/x-www-form-urlencoded", follow=follow
            )
        return self.client.post(step_url(step), payload, follow=follow)

    # --- steps with the guide's data ----------------------------------------------------------

    def search_number(self, number: str = GUIDE_NUMBER):
        self.get("referencing")
        return self.post("referencing", {"referencing_number": number}, action="search_referencing")

    def referencing(self, number: str = GUIDE_NUMBER, certificate=None):
        self.search_number(number)
        return self.post(
            "referencing",
            {"referencing_number": number, "certificate": certificate or files.pdf("certificat ANS.pdf")},
        )

    def search_siret(self, siret: str = GUIDE_SIRET, wrong_captcha: bool = False):
        page = self.get("applicant")
        extra = captcha_answer(page.content.decode(), "applicant", wrong=wrong_captcha)
        return self.post("applicant", {"siret": siret}, action="search_siret", extra=extra)

    def applicant_data(self, *, legal: bool = True, quality: str = "", **overrides) -> dict:
        data = {
            "denomination": "ASSOCIATION SERVICES MEDIATION",
            "trade_name": "ASM Logiciels",
            "recipient": "",
            "building": "CENTRE CIAL LE SAINT PIERRE",
            "street_number": "",
            "street_extension": "",
            "street_type": "RUE",
            "street_name": "DE FIGUERAS",
            "address_complement": "",
            "postal_code": "13700",
            "city": "ST VICTORET",
            "is_legal_representative": "oui" if legal else "non",
            **REPRESENTATIVE,
            "representative_id": files.pdf("cni representant.pdf"),
        }
        if not legal:
            data.update(DEPOSITOR)
            data["third_party_quality"] = quality
            data["depositor_id"] = files.png("cni depositaire.png")
            if quality == "management_centre":
                data["service_contract"] = files.pdf("contrat de prestation.pdf")
            elif quality == "employee":
                data["legal_representative_mandate"] = files.pdf("mandat representant.pdf")
        data.update(overrides)
        return data

    def applicant(self, siret: str = GUIDE_SIRET, **kwargs):
        self.search_siret(siret)
        return self.post("applicant", self.applicant_data(**kwargs))

    def bank_data(self, **overrides) -> dict:
        return {
            "iban": GUIDE_IBAN,
            "bic": GUIDE_BIC,
            "account_holder": "ODA",
            "bank_domiciliation": "",
            "rib": files.pdf("RIB.pdf"),
            **overrides,
        }

    def bank(self, **overrides):
        return self.post("bank", self.bank_data(**overrides))

    def vat(self, rate: str = "ht_0", proof: bool = True):
        data = {"vat_rate": rate}
        if proof:
            data["vat_exemption_proof"] = files.pdf("attestation non assujettissement.pdf")
        return self.post("vat", data)

    def confirmation_data(self, *, wrong_captcha: bool = False, accept: bool = True) -> tuple[dict, dict]:
        """The final step's fields and its extra values (captcha answer, submission key), read
        from the page as a browser would see them."""
        page = self.get("confirmation")
        extra = captcha_answer(page.content.decode(), "confirmation", wrong=wrong_captcha)
        data = {"accept_terms": "on", "accept_penal_code": "on", "accept_sincerity": "on"} if accept else {}
        key = re.search(r'name="submission_key" value="([0-9a-f-]+)"', page.content.decode()).group(1)
        return data, {**extra, "submission_key": key, **recap_digest(page.content.decode())}

    def confirm(self, *, wrong_captcha: bool = False, accept: bool = True, follow: bool = True):
        data, extra = self.confirmation_data(wrong_captcha=wrong_captcha, accept=accept)
        return self.post("confirmation", data, extra=extra, follow=follow)

    def until_confirmation(
        self, number: str = GUIDE_NUMBER, siret: str = GUIDE_SIRET, *, vat: str = "ht_0", **applicant
    ) -> None:
        """Steps 1 to 4 with the guide's data: the wizard then stands on « Confirmation »."""
        self.referencing(number)
        self.applicant(siret, **applicant)
        self.bank()
        self.vat(vat, proof=vat == "ht_0")

    def complete(self, number: str = GUIDE_NUMBER, siret: str = GUIDE_SIRET, *, vat: str = "ht_0", **applicant):
        self.until_confirmation(number, siret, vat=vat, **applicant)
        return self.confirm()
