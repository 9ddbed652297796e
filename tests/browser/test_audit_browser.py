"""The accessibility audit of every page and state a person can reach (RGAA 4.1), back office
included, in Chromium: axe-core at every impact level (minor to critical), at 1280 and 320 px;
reflow at 320 px, with and without the text spacing of WCAG 1.4.12; and a keyboard check at
1280 px (Tab reaches every visible control, in order, with a visible focus, and leaves no trap).

``STATES`` is the table: one row per page state, who sees it, and how to reach it. A page added to
the portal gets its row here (``SEGURNUM_AUDIT_ONLY=<part of a name>`` audits the matching rows
only, while fixing a page). Data are seeded once per test (one per width), the browser is the
session's.
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch
from urllib.parse import urlsplit

import pytest
from captcha.models import CaptchaStore
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from stdnum import luhn

from accounts import services as account_services
from enrolment import links, versions
from enrolment import services as enrolment_services
from enrolment.models import CorrectionRound, EnrolmentDocument, EnrolmentRequest
from flags import services as flag_services
from flags.models import ConsistencyFlag
from funding import format as funding_format
from tests.browser.helpers import (
    AXE,
    attach,
    captcha,
    choose,
    field,
    guide_enrolment,
    open_page,
    wait_for_design_system,
)
from tests.enrolment.test_versions import NEW_IBAN, bank_amendment
from tests.enrolment.wizard import load_registries
from tests.factories import (
    EnrolmentDocumentFactory,
    EnrolmentRequestFactory,
    NewsFactory,
    UserFactory,
    agent,
    support_user,
)
from tests.factories import _siret as factory_siret
from tests.flags.helpers import enrolment as flag_enrolment
from tests.flags.helpers import iban as flag_iban
from tests.funding.factories import EXAMPLE_SIRET, filed_request, open_window, validated_vendor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP, NARROW = 1280, 320
PASSWORD = "Mot2passe!Solide"  # the factories'
CONTACT = "/aide/contacter-assistance/"
FORGOT_ID = "/connexion/identifiant-oublie/"
SIMULATOR = "/simuler-fichier-json/"
FILER = ("ENR0901M0", "39431067600017", "tndSAS0034")  # a second enrolled vendor, filing during the audit
CONTACT_VALUES = {
    "Nom et prénom": "Marie Curie",
    "Adresse électronique": "marie@editeur.fr",
    "Objet de votre demande": "Enrôlement",
    "Votre message": "Bonjour, j'ai perdu mon numéro ENR.",
}

# WCAG 1.4.12: what a person's style sheet may impose; nothing may be cut off or overflow.
TEXT_SPACING = """
* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""

# Each visible control a keyboard user must reach with Tab (one radio button per group).
TABBABLES = """() => {
  const seen = new Set();
  return Array.from(document.querySelectorAll(
    'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])'
  )).filter(e => {
    if (e.disabled || e.tabIndex < 0 || e.type === 'hidden') return false;
    if (!e.getClientRects().length || getComputedStyle(e).visibility === 'hidden') return false;
    if (e.closest('[inert], [aria-hidden="true"]')) return false;
    if (e.type === 'radio') {  // Tab stops on the group's checked button, or its first
      const checked = e.form && Array.from(e.form.elements).find(r => r.name === e.name && r.checked);
      if (checked ? checked !== e : seen.has(e.name)) return false;
      seen.add(e.name);
    }
    return true;
  }).map((e, index) => { e.dataset.audit = index; return index; });
}"""

# The focused control, and whether its focus shows: an outline or a shadow on the control, on
# one of its pseudo-elements, or on the ancestor that draws it (DSFR's « enlarge link » blocks).
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const drawn = style => (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== 'none';
  let visible = e.matches(':focus-visible') && (
    drawn(getComputedStyle(e)) || drawn(getComputedStyle(e, '::before')) || drawn(getComputedStyle(e, '::after'))
  );
  let parent = e.parentElement;
  for (let depth = 0; !visible && parent && depth < 4; depth++, parent = parent.parentElement) {
    visible = parent.matches(':focus-within') && (
      drawn(getComputedStyle(parent)) || drawn(getComputedStyle(parent, '::before'))
    );
  }
  const box = e.getBoundingClientRect();
  return {id: e.dataset.audit === undefined ? null : Number(e.dataset.audit),
          html: e.outerHTML.slice(0, 120), visible, shown: box.width > 0 && box.height > 0};
}"""

NAMED = "ids => ids.map(id => document.querySelector(`[data-audit='${id}']`).outerHTML.slice(0, 120))"


@dataclass
class Seed:
    vendor: object  # a vendor whose first connection is done
    newcomer: object  # a vendor just validated: first connection to do
    newcomer_password: str
    agent: object
    support: object
    pending: EnrolmentRequest  # submitted, to be decided
    validated: EnrolmentRequest
    news_pk: int
    funding_number: str
    funding_vendor: object  # enrolled, funding request filed
    locked: object  # a vendor whose recovery is locked (five wrong answers)
    filer: object  # enrolled, about to file its funding request
    tracked: dict  # « Suivre ma demande »: status → ENR number (SIRET: its establishment())
    to_correct: EnrolmentRequest  # submitted, for the agent's « Demander des compléments »
    correction_link: str  # path of the mailed link of an « A compléter » round
    expired_link: str  # path of a link whose round expired
    modification_pk: int  # a pending modification ENR…M1 (bank details)
    flag_pk: int  # a consistency flag to verify


def seed() -> Seed:
    load_registries()
    desk = agent(username="camille.roux", first_name="Camille", last_name="Roux")
    helpdesk = support_user(username="sam.support")
    vendor = UserFactory(username="marie.curie", first_name="Marie", last_name="Curie", email="marie@editeur.fr")
    validated = EnrolmentRequestFactory(account=vendor, status=EnrolmentRequest.Status.VALIDATED)
    EnrolmentDocumentFactory(enrolment=validated, kind=EnrolmentDocument.Kind.RIB, original_name="ancien RIB.pdf")
    news = NewsFactory(title="TEST SAS", body="Le portail évolue. " * 20)
    # Validated by the agent through the service: account, mails (the support's « Courriels envoyés »).
    to_validate = EnrolmentRequestFactory(representative_email="eishiro.oda@example.fr")
    enrolment_services.validate_enrolment(enrolment=to_validate, by=desk)
    newcomer = EnrolmentRequest.objects.get(pk=to_validate.pk).account
    newcomer_password = account_services.set_temporary_password(user=newcomer)
    pending = EnrolmentRequestFactory()
    open_window()
    # The published example names ENR0001M0, the number the wizard's walk gets.
    example = example_of("ENR0900M0")
    funding_enrolment = validated_vendor(username="demo.financement", number="ENR0900M0")
    funding = filed_request(funding_enrolment, json_content=example)
    locked = UserFactory(username="paul.bloque", recovery_locked_until=timezone.now() + timedelta(hours=1))
    filer = validated_vendor(username="demo.depot", number=FILER[0], siret=FILER[1], referencing=FILER[2]).account
    tracked = tracked_requests(desk)
    correction = EnrolmentRequestFactory(number="ENR0930M0", sequence=930)
    round_ = versions.request_corrections(
        enrolment=correction, by=desk, items=["iban", "rib"], message="L'IBAN ne correspond pas au RIB joint."
    )
    expired = versions.request_corrections(
        enrolment=EnrolmentRequestFactory(number="ENR0931M0", sequence=931),
        by=desk,
        items=["iban"],
        message="L'IBAN ne correspond pas au RIB joint.",
    )
    CorrectionRound.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    modified = validated_vendor(
        username="demo.modification", number="ENR0940M0", siret=factory_siret(940), referencing="tndSAS0040"
    )
    EnrolmentDocumentFactory(enrolment=modified, kind=EnrolmentDocument.Kind.RIB, original_name="ancien RIB.pdf")
    modification = versions.request_modification(
        enrolment=modified, by=modified.account, amendment=bank_amendment(modified)
    )
    flagged = (flag_enrolment(iban=flag_iban(900)), flag_enrolment(iban=flag_iban(900)))
    flag_services.refresh_enrolment_flags(enrolment_id=flagged[1].pk)
    return Seed(
        vendor,
        newcomer,
        newcomer_password,
        desk,
        helpdesk,
        pending,
        validated,
        news.pk,
        funding.number,
        funding_enrolment.account,
        locked,
        filer,
        tracked,
        EnrolmentRequestFactory(number="ENR0932M0", sequence=932),
        urlsplit(versions.correction_url(round_)).path,
        urlsplit(versions.correction_url(expired)).path,
        modification.pk,
        ConsistencyFlag.objects.filter(enrolment=flagged[1]).first().pk,
    )


def establishment(n: int) -> str:
    """A valid SIRET of the guide's company (SIREN 479928822), establishment ``n``."""
    body = f"479928822{100 + n:04d}"
    return body + luhn.calc_check_digit(body)


def tracked_requests(desk) -> dict:
    """One request per status « Suivre ma demande » tells, each with its own SIRET."""
    Status = EnrolmentRequest.Status
    tracked = {}
    for n, status in enumerate(Status, start=920):
        number = f"ENR0{n}M0"
        enrolment = EnrolmentRequestFactory(number=number, sequence=n, siret=establishment(n))
        if status == Status.IN_REVIEW:
            EnrolmentRequest.objects.filter(pk=enrolment.pk).update(status=status)
        elif status == Status.VALIDATED:
            enrolment_services.validate_enrolment(enrolment=enrolment, by=desk)
        elif status == Status.REJECTED:
            enrolment_services.reject_enrolment(
                enrolment=enrolment, by=desk, reason="Le RIB ne correspond pas au titulaire déclaré."
            )
        elif status == Status.TO_COMPLETE:
            versions.request_corrections(
                enrolment=enrolment, by=desk, items=["iban", "rib"], message="Le RIB joint est illisible."
            )
        tracked[status] = number
    return tracked


# --- reaching each state -------------------------------------------------------------------------

Reach = Callable[[Page, Seed], None]


def go(url: str) -> Reach:
    return lambda page, seed: page.goto(url)


def submit(url: str, values: dict[str, str], button: str) -> Reach:
    """Open ``url``, type ``values`` into the fields found by their labels (or choose them in a
    list), press ``button``."""

    def reach(page: Page, seed: Seed) -> None:
        page.goto(url)
        for text, value in values.items():
            if field(page, text).evaluate("element => element.tagName") == "SELECT":
                field(page, text).select_option(label=value)
            else:
                field(page, text).fill(value)
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state()

    return reach


def throttled(reach: Reach, limit) -> Reach:
    """``reach`` with a rate limit already spent (``limit``: a context that sets it to 0): the
    « trop de demandes » state."""

    def reach_throttled(page: Page, seed: Seed) -> None:
        with limit():
            reach(page, seed)

    return reach_throttled


def example_of(number: str, siret: str = EXAMPLE_SIRET, referencing: str = "tndSAS0033") -> bytes:
    """The published example, as the seeded vendor ``number`` would send it."""
    example = funding_format.example_bytes().replace(b"ENR0001M0", number.encode())
    return example.replace(EXAMPLE_SIRET.encode(), siret.encode()).replace(b"tndSAS0033", referencing.encode())


def example_report(url: str, button: str, example: bytes | None = None) -> Reach:
    """A simulator's (or the filing's) report on the published example: the seeded vendor's."""

    def reach(page: Page, seed: Seed) -> None:
        page.goto(url)
        for label, name, content, kind in (
            ("Fichier json", "demande.json", example or example_of("ENR0900M0"), "application/json"),
            ("Fichier zip des pièces", "pieces.zip", funding_format.example_zip_bytes(), "application/zip"),
        ):
            field(page, label).set_input_files({"name": name, "mimeType": kind, "buffer": content})
        page.get_by_role("button", name=button).click()
        # The check page refreshes itself until the check is done.
        expect(page.get_by_text("Fichier conforme", exact=False).first).to_be_visible(timeout=20_000)
        expect(page.get_by_text("Fichier non conforme")).to_have_count(0)

    return reach


def funding_recap(page: Page, seed: Seed, *, refused: bool = False, filed: bool = False) -> None:
    """The filer's checked files → « Continuer vers le récapitulatif » (then « Terminer » without
    the two statements, or with them)."""
    example_report("/espace/demande-de-financement/deposer/", "Contrôler mes fichiers", example_of(*FILER))(page, seed)
    page.get_by_role("link", name="Continuer vers le récapitulatif").click()
    expect(page.get_by_role("heading", name="Récapitulatif de ma demande de financement")).to_be_visible()
    if refused:
        page.get_by_role("button", name="Terminer").click()
        expect(page.locator("#error-summary")).to_be_visible()
    if filed:
        choose(page, "id_accept_penal_code")
        choose(page, "id_accept_sincerity")
        page.get_by_role("button", name="Terminer").click()
        expect(page.get_by_role("status").filter(has_text="Demande de financement déposée.")).to_be_visible()


def csrf_refused(page: Page, seed: Seed) -> None:
    page.goto("/connexion/identifiant-oublie/")
    page.context.clear_cookies()
    field(page, "Votre adresse électronique").fill("marie@editeur.fr")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()


def reset_question(page: Page, seed: Seed, *, answer: str | None = None, user=None) -> None:
    """The mailed link of « J'ai oublié mon mot de passe », then (``answer``) the answer."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = user or seed.vendor
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    page.goto(f"/connexion/reinitialisation/{uid}/{default_token_generator.make_token(user)}/")
    if answer is not None:
        field(page, "Entrez la réponse").fill(answer)
        page.get_by_role("button", name="Valider").click()
        page.wait_for_load_state()


def reset_password(page: Page, seed: Seed, *, weak: bool = False) -> None:
    reset_question(page, seed, answer="Jules Ferry")
    expect(page.get_by_role("heading", name="Nouveau mot de passe pour marie.curie")).to_be_visible()
    if weak:
        field(page, "Entrez le nouveau mot de passe").fill("court")
        field(page, "Confirmez le nouveau mot de passe").fill("court")
        page.get_by_role("button", name="Changement du mot de passe").click()
        expect(page.locator("#error-summary")).to_be_visible()


def first_connection(page: Page, seed: Seed, *, then: str = "") -> None:
    """The newcomer signs in with the temporary password: « Changement du mot de passe », then
    (``then="question"``) « Positionnement de la question secrète »."""
    page.goto("/connexion/")
    field(page, "Votre identifiant").fill(seed.newcomer.username)
    field(page, "Votre mot de passe").fill(seed.newcomer_password)
    page.get_by_role("button", name="Valider").click()
    expect(
        page.get_by_role("heading", name=f"Changement du mot de passe pour {seed.newcomer.username}")
    ).to_be_visible()
    if then == "erreur":
        page.get_by_role("button", name="Changement du mot de passe").click()
        expect(page.locator("#error-summary")).to_be_visible()
    if then == "question":
        field(page, "Entrez l'ancien mot de passe").fill(seed.newcomer_password)
        field(page, "Entrez le nouveau mot de passe").fill("Segur;2026ok")
        field(page, "Confirmez le nouveau mot de passe").fill("Segur;2026ok")
        page.get_by_role("button", name="Changement du mot de passe").click()
        expect(
            page.get_by_role("heading", name=f"Positionnement de la question secrète pour {seed.newcomer.username}")
        ).to_be_visible()


def enrolment_detail(page: Page, seed: Seed) -> None:
    page.goto(f"/espace/enrolement/{seed.validated.number}/")


def go_to(attribute: str) -> Reach:
    """The seeded address ``attribute`` (a mailed link)."""
    return lambda page, seed: page.goto(getattr(seed, attribute))


def news_detail(page: Page, seed: Seed) -> None:
    page.goto(f"/espace/actualites/{seed.news_pk}/")


def admin_search(page: Page, seed: Seed) -> None:
    page.goto(f"/admin/enrolment/enrolmentrequest/?q={seed.pending.number}")


def admin_change(page: Page, seed: Seed) -> None:
    page.goto(f"/admin/enrolment/enrolmentrequest/{seed.pending.pk}/change/")


def admin_refusal_without_reason(page: Page, seed: Seed) -> None:
    admin_change(page, seed)
    page.get_by_role("button", name="Rejeter").click()
    page.wait_for_load_state()


def support_result(page: Page, seed: Seed) -> None:
    page.goto(f"/admin/recherche-demande/?q={seed.newcomer.enrolment_requests.get().number}")
    expect(page.get_by_role("heading", name="Courriels envoyés")).to_be_visible()


def funding_result(page: Page, seed: Seed) -> None:
    page.goto(f"/admin/recherche-financement/?q={seed.funding_number}")


def admin_funding_detail(page: Page, seed: Seed) -> None:
    page.goto("/admin/funding/fundingrequest/")
    page.get_by_role("link", name=seed.funding_number).first.click()
    page.wait_for_load_state()


TRACKING = "/suivre-ma-demande/"


def tracking(status: str | None = None, *, siret: str = "", shows: str = "") -> Reach:
    """« Suivre ma demande »: the number of the request in ``status`` (with the SIRET of the one in
    another ``siret``: no match), the SIRET, the captcha, « Afficher l'état de ma demande »; nothing
    typed when ``status`` is None."""

    def reach(page: Page, seed: Seed) -> None:
        page.goto(TRACKING)
        if status is not None:
            number = seed.tracked[status]
            field(page, "Numéro de demande").fill(number)
            field(page, "Numéro de SIRET").fill(siret or establishment(int(number[3:7])))
            key = page.locator('input[name="captcha_0"]').get_attribute("value")
            field(page, "Code captcha").fill(CaptchaStore.objects.get(hashkey=key).response)
        page.get_by_role("button", name="Afficher l'état de ma demande", exact=True).last.click()
        page.wait_for_load_state()
        if shows:
            expect(page.locator("main")).to_contain_text(shows)

    return reach


def confirmation_reopened(page: Page, seed: Seed) -> None:
    page.goto(f"/enrolement/demande-enregistree/{links.confirmation_token(seed.pending.number)}/")
    expect(page.get_by_role("status")).to_contain_text(f"Le numéro de votre demande est le {seed.pending.number}.")


def corrections_asked(page: Page, seed: Seed, *, refused: bool = False) -> None:
    """The agent's « Demander des compléments » on the instruction page, with a message: nothing
    ticked (refused), or the IBAN."""
    page.goto(f"/admin/enrolment/enrolmentrequest/{seed.to_correct.pk}/change/")
    if not refused:
        page.get_by_label("IBAN", exact=True).check()
    page.get_by_label("Message au demandeur (obligatoire)").fill("L'IBAN ne correspond pas au RIB joint.")
    page.get_by_role("button", name="Demander des compléments").click()
    page.wait_for_load_state()
    expect(page.get_by_text(versions.NOTHING_TO_CORRECT if refused else "Tour 1")).to_be_visible()


def correction(page: Page, seed: Seed, *, then: str = "") -> None:
    """The mailed link of « A compléter », then a wrong IBAN (``then="erreur"``) or the right one
    (``then="envoi"``)."""
    page.goto(seed.correction_link)
    expect(page.get_by_role("heading", name=re.compile("^Compléter la demande d'enrôlement"))).to_be_visible()
    if then:
        field(page, "IBAN").fill("FR76 3000 4000 0312 3456 7890 144" if then == "erreur" else NEW_IBAN)
        field(page, "BIC").fill("BNPAFRPP")
        attach(page, "RIB", "RIB lisible.pdf")
        page.get_by_role("button", name="Renvoyer ma demande").click()
        if then == "erreur":
            expect(page.locator("#error-summary")).to_be_visible()
        else:
            expect(page.get_by_text(re.compile("Le numéro de votre demande reste le"))).to_be_visible()


def modification(page: Page, seed: Seed, *, upto: str = "") -> None:
    """« Demander une modification » of the vendor's validated request, step by step up to ``upto``:
    choix-erreur, banque, banque-erreur, recap, recap-erreur, enregistree."""
    steps = ["choix-erreur", "banque", "banque-erreur", "recap", "recap-erreur", "enregistree"]
    reached = steps.index(upto) + 1 if upto else 0
    page.goto(f"/espace/enrolement/{seed.validated.number}/modification/")
    if upto == "choix-erreur":
        page.get_by_role("button", name="Suivant").click()
        expect(page.locator("#blocs-error")).to_be_visible()
        return
    if reached < 2:
        return
    choose(page, "bloc-banque")
    page.get_by_role("button", name="Suivant").click()
    expect(field(page, "IBAN")).to_be_visible()
    if reached < 3:
        return
    field(page, "IBAN").fill(NEW_IBAN)
    field(page, "BIC").fill("BNPAFRPP")
    if upto == "banque-erreur":  # no new RIB
        page.get_by_role("button", name="Etape suivante").click()
        expect(page.locator("#error-summary")).to_be_visible()
        return
    attach(page, "RIB", "nouveau RIB.pdf")
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_role("heading", name=re.compile("^Récapitulatif de la modification"))).to_be_visible()
    if reached < 5:
        return
    page.get_by_role("button", name="Terminer").click()
    expect(page.get_by_role("heading", name="Le formulaire contient des erreurs")).to_be_visible()
    if reached < 6:
        return
    choose(page, "id_accept_penal_code")
    choose(page, "id_accept_sincerity")
    page.get_by_role("button", name="Terminer").click()
    expect(page.get_by_text(re.compile("Demande de modification enregistrée"))).to_be_visible()


def modification_detail(page: Page, seed: Seed) -> None:
    page.goto(f"/admin/enrolment/enrolmentversion/{seed.modification_pk}/change/")
    expect(page.locator("tr.changed mark").first).to_be_visible()


def flag_review(page: Page, seed: Seed, *, refused: bool = False) -> None:
    page.goto(f"/admin/flags/consistencyflag/{seed.flag_pk}/verifier/")
    if refused:
        page.get_by_role("button", name="Marquer vérifié").click()
        expect(page.get_by_text("Le commentaire est obligatoire : indiquez ce que vous avez vérifié.")).to_be_visible()


ERROR_PAGES = Path(settings.BASE_DIR) / "static" / "erreurs"


def standalone(name: str) -> Reach:
    """An error page shown without the portal behind it: Django's own 400/500 (rendered without a
    request), nginx's 413/503 (the files of static/erreurs)."""

    def reach(page: Page, seed: Seed) -> None:
        built = ERROR_PAGES / name
        body = built.read_text(encoding="utf-8") if built.exists() else render_to_string(name)
        address = f"/erreur-autonome/{name}"
        page.route(
            f"**{address}",
            lambda route: route.fulfill(status=int(name[:3]), content_type="text/html; charset=utf-8", body=body),
        )
        page.goto(address)

    return reach


@dataclass(frozen=True)
class State:
    name: str
    who: str  # visiteur, fournisseur, financement (request filed), dépôt (filing one), agent, support
    reach: Reach
    admin: bool = False  # Django's admin: no design-system script to wait for
    standalone: bool = False  # an error page without the portal (and its script) behind it


STATES = [
    # Public site
    State("Accueil", "visiteur", go("/")),
    State("Questions fréquentes", "visiteur", go("/aide/questions-frequentes/")),
    State("Contacter l'assistance", "visiteur", go("/aide/contacter-assistance/")),
    State("Contacter l'assistance — erreurs", "visiteur", submit(CONTACT, {}, "Envoyer ma demande")),
    State("Votre demande a bien été envoyée", "visiteur", submit(CONTACT, CONTACT_VALUES, "Envoyer ma demande")),
    State(
        "Contacter l'assistance — trop de demandes",
        "visiteur",
        throttled(
            submit(CONTACT, CONTACT_VALUES, "Envoyer ma demande"),
            lambda: patch("public.services.CONTACT_RATE_LIMIT", 0),
        ),
    ),
    State("Mentions légales", "visiteur", go("/mentions-legales/")),
    State("Déclaration d'accessibilité", "visiteur", go("/accessibilite/")),
    State("Conditions générales d'utilisation", "visiteur", go("/conditions-generales-utilisation/")),
    State("Plan du site", "visiteur", go("/plan-du-site/")),
    State("Simuler mon fichier json", "visiteur", go("/simuler-fichier-json/")),
    State(
        "Simuler mon fichier json — erreur", "visiteur", submit("/simuler-fichier-json/", {}, "Contrôler mon fichier")
    ),
    State("Simuler mon fichier json — rapport", "visiteur", example_report(SIMULATOR, "Contrôler mon fichier")),
    State("Documentation du format", "visiteur", go("/format/segurnum-financement-sas/1.0/")),
    State("Page non trouvée (404)", "visiteur", go("/nulle-part/")),
    State("Accès refusé (403, formulaire expiré)", "visiteur", csrf_refused),
    State("Demande incorrecte (400)", "visiteur", standalone("400.html"), standalone=True),
    State("Fichier trop volumineux (413)", "visiteur", standalone("413.html"), standalone=True),
    State("Erreur inattendue (500)", "visiteur", standalone("500.html"), standalone=True),
    State("Service indisponible (503)", "visiteur", standalone("503.html"), standalone=True),
    # After submission: « Suivre ma demande », the confirmation page, « A compléter »
    State("Suivre ma demande", "visiteur", go(TRACKING)),
    State("Suivre ma demande — erreurs", "visiteur", tracking()),
    State("Suivre ma demande — Soumise", "visiteur", tracking("submitted", shows="Soumise")),
    State("Suivre ma demande — En cours d'instruction", "visiteur", tracking("in_review", shows="En cours")),
    State("Suivre ma demande — A compléter", "visiteur", tracking("to_complete", shows="Éléments à compléter")),
    State("Suivre ma demande — Validée", "visiteur", tracking("validated", shows="Validée")),
    State("Suivre ma demande — Rejetée", "visiteur", tracking("rejected", shows="Le RIB ne correspond pas")),
    State(
        "Suivre ma demande — aucune demande",
        "visiteur",
        tracking("submitted", siret=FILER[1], shows="Aucune demande ne correspond"),
    ),
    State(
        "Suivre ma demande — trop de demandes (429)",
        "visiteur",
        throttled(
            tracking("submitted", shows="Trop de demandes de suivi"),
            lambda: override_settings(TRACKING_RATE_LIMIT=0),
        ),
    ),
    State("Demande enregistrée (rouverte sans session)", "visiteur", confirmation_reopened),
    State("Compléter la demande (lien du courriel)", "visiteur", correction),
    State("Compléter la demande — erreur", "visiteur", lambda p, s: correction(p, s, then="erreur")),
    State("Compléments envoyés", "visiteur", lambda p, s: correction(p, s, then="envoi")),
    State("Lien de compléments expiré (410)", "visiteur", go_to("expired_link")),
    # Sign-in and recovery
    State("Se connecter", "visiteur", go("/connexion/")),
    State(
        "Se connecter — erreur",
        "visiteur",
        submit("/connexion/", {"Votre identifiant": "x", "Votre mot de passe": "y"}, "Valider"),
    ),
    State("J'ai oublié mon identifiant", "visiteur", go("/connexion/identifiant-oublie/")),
    State(
        "J'ai oublié mon identifiant — erreur",
        "visiteur",
        submit("/connexion/identifiant-oublie/", {"Votre adresse électronique": "pas une adresse"}, "Valider"),
    ),
    State("J'ai oublié mon mot de passe", "visiteur", go("/connexion/mot-de-passe-oublie/")),
    State(
        "J'ai oublié mon mot de passe — erreur", "visiteur", submit("/connexion/mot-de-passe-oublie/", {}, "Valider")
    ),
    State(
        "J'ai oublié mon identifiant — trop de demandes",
        "visiteur",
        throttled(
            submit(FORGOT_ID, {"Votre adresse électronique": "marie@editeur.fr"}, "Valider"),
            lambda: override_settings(RECOVERY_RATE_LIMIT=0),
        ),
    ),
    State(
        "Demande envoyée",
        "visiteur",
        submit("/connexion/mot-de-passe-oublie/", {"Votre identifiant": "inconnu"}, "Valider"),
    ),
    State("Réinitialisation : question secrète", "visiteur", reset_question),
    State(
        "Réinitialisation : question secrète — erreur",
        "visiteur",
        lambda p, s: reset_question(p, s, answer="Victor Hugo"),
    ),
    State("Nouveau mot de passe", "visiteur", reset_password),
    State("Nouveau mot de passe — erreur", "visiteur", lambda p, s: reset_password(p, s, weak=True)),
    State("Récupération bloquée", "visiteur", lambda p, s: reset_question(p, s, user=s.locked)),
    State("Lien expiré ou déjà utilisé", "visiteur", go("/connexion/reinitialisation/MQ/mauvais-jeton/")),
    # First connection
    State("Changement du mot de passe (1re connexion)", "visiteur", first_connection),
    State("Changement du mot de passe — erreur", "visiteur", lambda p, s: first_connection(p, s, then="erreur")),
    State("Positionnement de la question secrète", "visiteur", lambda p, s: first_connection(p, s, then="question")),
    # Private space
    State("Accueil fournisseur SAS", "fournisseur", go("/espace/")),
    State("Actualité", "fournisseur", news_detail),
    State("Suivi des demandes d'enrôlement", "fournisseur", go("/espace/enrolement/")),
    State("Demande d'enrôlement (détail)", "fournisseur", enrolment_detail),
    State("Demande de financement", "fournisseur", go("/espace/demande-de-financement/")),
    State("Simuler mon fichier json (espace)", "fournisseur", go("/espace/demande-de-financement/simuler/")),
    State("Déposer ma demande de financement", "fournisseur", go("/espace/demande-de-financement/deposer/")),
    State(
        "Déposer ma demande de financement — erreur",
        "fournisseur",
        submit("/espace/demande-de-financement/deposer/", {}, "Contrôler mes fichiers"),
    ),
    State("Mon compte", "fournisseur", go("/espace/mon-compte/")),
    State("Changement du mot de passe (Mon compte)", "fournisseur", go("/espace/changement-mot-de-passe/")),
    State("Question secrète (Mon compte)", "fournisseur", go("/espace/question-secrete/")),
    State("Besoin d'aide?", "fournisseur", go("/espace/aide/")),
    State("Plan du site (connecté)", "fournisseur", go("/plan-du-site/")),
    State("Demander une modification (choix des blocs)", "fournisseur", modification),
    State(
        "Demander une modification — erreur",
        "fournisseur",
        lambda p, s: modification(p, s, upto="choix-erreur"),
    ),
    State("Modification : coordonnées bancaires", "fournisseur", lambda p, s: modification(p, s, upto="banque")),
    State(
        "Modification : coordonnées bancaires — erreur",
        "fournisseur",
        lambda p, s: modification(p, s, upto="banque-erreur"),
    ),
    State("Récapitulatif de la modification", "fournisseur", lambda p, s: modification(p, s, upto="recap")),
    State(
        "Récapitulatif de la modification — erreur",
        "fournisseur",
        lambda p, s: modification(p, s, upto="recap-erreur"),
    ),
    State("Demande de modification enregistrée", "fournisseur", lambda p, s: modification(p, s, upto="enregistree")),
    State("Suivi de ma demande de financement", "financement", go("/espace/demande-de-financement/")),
    State(
        "Contrôle de vos fichiers (dépôt)",
        "dépôt",
        example_report("/espace/demande-de-financement/deposer/", "Contrôler mes fichiers", example_of(*FILER)),
    ),
    State("Récapitulatif de ma demande de financement", "dépôt", funding_recap),
    State("Récapitulatif — erreur", "dépôt", lambda p, s: funding_recap(p, s, refused=True)),
    State("Demande de financement déposée", "dépôt", lambda p, s: funding_recap(p, s, filed=True)),
    State(
        "Simuler mon fichier json (espace) — rapport",
        "financement",
        example_report("/espace/demande-de-financement/simuler/", "Contrôler mon fichier"),
    ),
    # Back office
    State("Back office — connexion", "visiteur", go("/admin/login/"), admin=True),
    State("Back office — connexion, erreur", "visiteur", submit("/admin/login/", {}, "Connexion"), admin=True),
    State("Back office — accueil", "agent", go("/admin/"), admin=True),
    State("Demandes d'enrôlement (liste)", "agent", go("/admin/enrolment/enrolmentrequest/"), admin=True),
    State("Demandes d'enrôlement (recherche)", "agent", admin_search, admin=True),
    State("Demande d'enrôlement (instruction)", "agent", admin_change, admin=True),
    State("Demande d'enrôlement — rejet sans motif", "agent", admin_refusal_without_reason, admin=True),
    State("Logiciels référencés", "agent", go("/admin/enrolment/referencedsoftware/"), admin=True),
    State("Courriels (boîte d'envoi)", "agent", go("/admin/notifications/outboundemail/"), admin=True),
    State("Actualités", "agent", go("/admin/portal/news/"), admin=True),
    State("Ajout d'une actualité", "agent", go("/admin/portal/news/add/"), admin=True),
    State("Ajout d'une actualité — erreurs", "agent", submit("/admin/portal/news/add/", {}, "Enregistrer"), admin=True),
    State("Utilisateurs", "agent", go("/admin/accounts/user/"), admin=True),
    State("Demandes de financement (liste)", "agent", go("/admin/funding/fundingrequest/"), admin=True),
    State("Demande de financement (instruction)", "agent", admin_funding_detail, admin=True),
    State("Guichets de dépôt", "agent", go("/admin/funding/fundingwindow/"), admin=True),
    State("Demander des compléments — erreur", "agent", lambda p, s: corrections_asked(p, s, refused=True), admin=True),
    State("Demander des compléments — A compléter", "agent", corrections_asked, admin=True),
    State("Demandes de modification (liste)", "agent", go("/admin/enrolment/enrolmentversion/"), admin=True),
    State("Demande de modification (différences)", "agent", modification_detail, admin=True),
    State("Tableau de bord", "agent", go("/admin/tableau-de-bord/"), admin=True),
    State("Signalements de cohérence (liste)", "agent", go("/admin/flags/consistencyflag/"), admin=True),
    State("Marquer vérifié", "agent", flag_review, admin=True),
    State("Marquer vérifié — erreur", "agent", lambda p, s: flag_review(p, s, refused=True), admin=True),
    State("Journal d'audit", "agent", go("/admin/audit/auditentry/"), admin=True),
    State("Exports", "agent", go("/admin/exports/exportrecord/"), admin=True),
    State(
        "Demandes d'enrôlement (filtre signalement)",
        "agent",
        go("/admin/enrolment/enrolmentrequest/?signalement=a_verifier"),
        admin=True,
    ),
    State(
        "Demandes de financement (filtre signalement)",
        "agent",
        go("/admin/funding/fundingrequest/?signalement=a_verifier"),
        admin=True,
    ),
    State("Support — accueil", "support", go("/admin/"), admin=True),
    State("Support — rechercher une demande", "support", go("/admin/recherche-demande/"), admin=True),
    State("Support — demande trouvée", "support", support_result, admin=True),
    State("Support — aucune demande", "support", go("/admin/recherche-demande/?q=ENR9999M0"), admin=True),
    State("Support — rechercher un financement", "support", funding_result, admin=True),
    State("Back office — accès refusé (403)", "support", go("/admin/portal/news/add/")),
]


# --- the checks ----------------------------------------------------------------------------------


def axe_violations(page: Page, state: State) -> list[str]:
    if not state.admin and not state.standalone:
        wait_for_design_system(page)
    return [
        f"axe {v['id']} ({v['impact']}) : {[n['target'] for n in v['nodes']][:5]}"
        for v in AXE.run(page).response["violations"]
    ]


# The innermost elements that stick out on the right: where an overflow comes from.
STICKING_OUT = """width => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > width + 1)
  .filter(e => !Array.from(e.children).some(c => c.getBoundingClientRect().right > width + 1))
  .slice(0, 3)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().replace(/ +/g, '.') : ''))"""


def overflow(page: Page) -> int:
    page.wait_for_load_state()
    return page.evaluate("document.documentElement.scrollWidth") - page.viewport_size["width"]


def sticking_out(page: Page) -> str:
    return ", ".join(page.evaluate(STICKING_OUT, page.viewport_size["width"]))


def reflow_problems(page: Page) -> list[str]:
    problems = []
    if (extra := overflow(page)) > 0:
        problems.append(f"reflow : {extra} px de trop à {page.viewport_size['width']} px ({sticking_out(page)})")
    # A constructed style sheet, as a person's extension would add it (the CSP refuses <style>).
    page.evaluate(
        "css => { const sheet = new CSSStyleSheet(); sheet.replaceSync(css);"
        " document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet]; }",
        TEXT_SPACING,
    )
    if (extra := overflow(page)) > 0:
        problems.append(f"espacement du texte : {extra} px de trop ({sticking_out(page)})")
    page.evaluate("() => { document.adoptedStyleSheets = document.adoptedStyleSheets.slice(0, -1); }")
    return problems


def keyboard_problems(page: Page) -> list[str]:
    """Tab from where the page puts the focus until it comes back round: every visible control
    is reached, each one visibly, and the focus never stays stuck on one."""
    expected = page.evaluate(TABBABLES)
    reached, problems, first, outside = [], [], None, 0
    for _ in range(len(expected) * 2 + 10):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:  # the browser's own controls, between the end and the top
            outside += 1
            if outside > 3:
                problems.append("clavier : le focus ne revient pas dans la page")
                break
            continue
        key = focused["id"] if focused["id"] is not None else focused["html"]
        if key == first:
            break
        first = key if first is None else first
        if reached and key == reached[-1]:
            problems.append(f"clavier : focus bloqué sur {focused['html']}")
            break
        reached.append(key)
        if not focused["visible"] or not focused["shown"]:
            problems.append(f"clavier : focus invisible sur {focused['html']}")
    missing = [index for index in expected if index not in reached]
    if missing:
        problems.append(f"clavier : jamais atteints {page.evaluate(NAMED, missing[:5])}")
    # Leave the page as it was: a focused skip link shows, and moves the page under the mouse.
    page.evaluate(
        "() => { document.activeElement && document.activeElement.blur();"
        " document.querySelectorAll('[data-audit]').forEach(e => delete e.dataset.audit); }"
    )
    return problems


def audit(page: Page, state: State, *, keyboard: bool) -> list[str]:
    problems = axe_violations(page, state)
    if page.viewport_size["width"] == NARROW:
        problems += reflow_problems(page)
    if keyboard:
        problems += keyboard_problems(page)
    return problems


# --- the walks ---------------------------------------------------------------------------------


def signed_in(browser: Browser, base_url: str, width: int, user=None) -> Page:
    page = open_page(browser, base_url, width=width)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    return page


def wizard_states(browser: Browser, base_url: str, width: int, results: dict) -> None:
    """Scenario 1 of the guide, each page and error state it shows audited, plus the third-party
    branch of step 2 and a refused IBAN on step 3."""
    page = open_page(browser, base_url, width=width)

    def visit(page: Page, name: str) -> None:
        results[f"Enrôlement — {name}"] = audit(page, State(name, "visiteur", go("")), keyboard=width == DESKTOP)
        audio = page.get_by_role("link", name=re.compile("^Écouter le code"))
        if name == "demandeur-siret" and audio.count():  # where a speech synthesiser is installed
            # « Écouter le code » once too often: the French 429 page, in a tab of its own.
            tab = page.context.new_page()
            with override_settings(CAPTCHA_AUDIO_RATE_LIMIT=0):
                tab.goto(audio.get_attribute("href"))
            expect(tab.get_by_role("heading", name="Trop de demandes")).to_be_visible()
            results["Trop de demandes (429)"] = audit(tab, State(name, "visiteur", go("")), keyboard=width == DESKTOP)
            tab.close()
        if name == "demandeur":
            choose(page, "id_applicant-is_legal_representative_1")
            visit(page, "demandeur, tiers déclarant")
            choose(page, "id_applicant-is_legal_representative_0")
        if name == "coordonnees-bancaires":
            iban = field(page, "IBAN").input_value()
            field(page, "IBAN").fill("DE89370400440532013000")
            page.get_by_role("button", name="Étape suivante", exact=True).click()
            expect(page.locator("#error-summary")).to_be_visible()
            results["Enrôlement — coordonnees-bancaires, erreur"] = audit(
                page, State(name, "visiteur", go("")), keyboard=width == DESKTOP
            )
            field(page, "IBAN").fill(iban)
        if name == "confirmation":
            field(page, "Captcha").fill("faux00")
            page.get_by_role("button", name="Terminer", exact=True).click()
            expect(page.locator("#error-summary")).to_be_visible()
            results["Enrôlement — confirmation, erreur"] = audit(
                page, State(name, "visiteur", go("")), keyboard=width == DESKTOP
            )
            field(page, "Captcha").fill(captcha(page, "confirmation"))
            for box in ("accept_terms", "accept_penal_code", "accept_sincerity"):
                if not page.locator(f"#id_confirmation-{box}").is_checked():
                    choose(page, f"id_confirmation-{box}")

    try:
        guide_enrolment(page, visit=visit)
    except Exception as error:  # noqa: BLE001 - a state that cannot be reached is a finding
        results["Enrôlement — parcours"] = [f"état non atteint : {str(error).splitlines()[0]}"]
    page.context.close()


def run_audit(browser: Browser, base_url: str, width: int) -> dict[str, list[str]]:
    data = seed()
    users = {
        "visiteur": None,
        "fournisseur": data.vendor,
        "financement": data.funding_vendor,
        "dépôt": data.filer,
        "agent": data.agent,
        "support": data.support,
    }
    results: dict[str, list[str]] = {}
    pages: dict[str, Page] = {}
    only = os.environ.get("SEGURNUM_AUDIT_ONLY", "")  # while fixing a page: the states named so
    for state in [state for state in STATES if only.lower() in state.name.lower()]:
        if state.who not in pages or state.who == "visiteur":
            if state.who in pages:
                pages[state.who].context.close()
            pages[state.who] = signed_in(browser, base_url, width, users[state.who])
        page = pages[state.who]
        try:
            state.reach(page, data)
        except Exception as error:  # noqa: BLE001 - a state that cannot be reached is a finding
            results[state.name] = [f"état non atteint : {str(error).splitlines()[0]}"]
            continue
        results[state.name] = audit(page, state, keyboard=width == DESKTOP)
    for page in pages.values():
        page.context.close()
    if not only:
        wizard_states(browser, base_url, width, results)
    return results


def report(results: dict[str, list[str]]) -> str:
    return "\n".join(f"- {name} : {problems}" for name, problems in results.items() if problems)


@pytest.mark.parametrize("width", [DESKTOP, NARROW])
def test_every_page_and_state_passes_the_audit(browser, live_server, width, settings):
    settings.SITE_URL = live_server.url
    results = run_audit(browser, live_server.url, width)
    failing = {name: problems for name, problems in results.items() if problems}
    print(f"\n{width} px : {len(results)} états audités, {len(failing)} en défaut")
    if not os.environ.get("SEGURNUM_AUDIT_ONLY"):
        assert len(results) >= len(STATES) + 10, report(failing)
    assert not failing, f"{len(failing)} états sur {len(results)} en défaut à {width} px :\n{report(failing)}"


def test_the_table_covers_each_kind_of_page():
    """The table stays a table of the whole portal: public, recovery, private space, back office."""
    names = [state.name for state in STATES]
    assert len(names) == len(set(names))
    assert {state.who for state in STATES} == {"visiteur", "fournisseur", "financement", "dépôt", "agent", "support"}
    assert sum(state.admin for state in STATES) >= 15
