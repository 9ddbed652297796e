"""What the browser scenarios share, and what scripts/screenshots.py walks: fields found by their
French labels, the captcha read from its store, the accessibility checks, and scenario 1 of the
guide (home → five steps → ENR number) with a hook on every page it shows.
"""

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from captcha.models import CaptchaStore
from django.conf import settings
from playwright.sync_api import Browser, Locator, Page, expect

from tests import files

STEP_COUNT = 5
DESKTOP, MOBILE = 1280, 375
ARCAD = "tndSAS0031"  # the guide's number, edited by the guide's SIRET
GUIDE_SIRET = "47992882200069"
WRONG_KEY_SIRET = GUIDE_SIRET[:-1] + "8"  # 14 digits, Luhn key wrong
REPRESENTATIVE_ID = "CNI, passeport ou titre de séjour *"  # the depositor's is « … du demandeur »
GUIDE_IBAN = "FR7630056009271234567890182"

AXE = Axe()

CHROMIUM = Path(os.environ.get("SEGURNUM_CHROMIUM", "/usr/lib/chromium/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]


def launch(playwright) -> Browser:
    """Debian's Chromium, headless, in French: its own words too (« Choisir un fichier »), which
    need LANGUAGE and the chromium-l10n package."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[*LAUNCH_ARGS, "--lang=fr"],
        env={**os.environ, "LANGUAGE": "fr"},
        headless=True,
    )


def open_page(browser: Browser, base_url: str, *, width: int = DESKTOP, javascript: bool = True) -> Page:
    """A fresh French-speaking visitor (own cookies); ``page.javascript`` tells the checks below
    whether the page's scripts run."""
    context = browser.new_context(
        base_url=base_url,
        locale="fr-FR",
        viewport={"width": width, "height": 900},
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.javascript = javascript
    return page


# --- finding and filling fields as a person does ---------------------------------------------------


def mails(mailoutbox: list, at_least: int, timeout: float = 10.0) -> list:
    """The mails sent so far, once there are ``at_least``: a request hands its mails to the
    queue after its response has left (R-PERF-1), so they may come just after the next page."""
    deadline = time.monotonic() + timeout
    while len(mailoutbox) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    return list(mailoutbox)


def mailed(mailoutbox: list, subject: str, timeout: float = 10.0):
    """The mail whose subject starts with ``subject``, once a worker (eager here) has sent it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in mailoutbox:
            if message.subject.startswith(subject):
                return message
        time.sleep(0.1)
    raise AssertionError(f"Aucun courriel « {subject}… » parmi {[m.subject for m in mailoutbox]}")


def label(text: str) -> re.Pattern:
    """A field's accessible name starts with its French label (then « * », hints, errors…)."""
    return re.compile("^" + re.escape(text))


def field(page: Page, text: str) -> Locator:
    return page.get_by_label(label(text))


def fill(page: Page, values: dict[str, str]) -> None:
    """Type into each field found by the start of its French label."""
    for text, value in values.items():
        field(page, text).fill(value)


def assert_filled(page: Page, values: dict[str, str]) -> None:
    """What the vendor typed is still in the fields (R-WIZ-10)."""
    assert {text: field(page, text).input_value() for text in values} == values


def choose(page: Page, input_id: str) -> None:
    """DSFR radios and checkboxes draw their box on the <label>: click it, as a person does."""
    page.locator(f"label[for={input_id}]").click()


def attach(page: Page, text: str, name: str, content: bytes | None = None) -> None:
    """Choose a file for the field labelled ``text`` (a small valid PDF unless ``content``)."""
    kind = "image/png" if name.endswith(".png") else "application/pdf"
    payload = {"name": name, "mimeType": kind, "buffer": files.pdf_bytes() if content is None else content}
    field(page, text).set_input_files(payload)


def assert_received(page: Page, names: dict[str, str]) -> None:
    """Each file already sent is listed under its field: « Fichier reçu : <name> (…) »."""
    for text, name in names.items():
        kept = page.locator(f"#{field(page, text).get_attribute('id')}-kept")
        expect(kept).to_contain_text(f"Fichier reçu : {name} (")


def captcha(page: Page, prefix: str) -> str:
    """The answer of the captcha shown (read from its store, as the test cannot read images)."""
    key = page.locator(f'input[name="{prefix}-captcha_0"]').get_attribute("value")
    return CaptchaStore.objects.get(hashkey=key).response


def press(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def next_step(page: Page) -> None:
    press(page, "Étape suivante")


# --- what the vendor must see ----------------------------------------------------------------------


def assert_step(page: Page, number: int, title: str) -> None:
    """The stepper says « Étape n sur 5 » and the sidebar marks the same step as current."""
    expect(page.locator(".fr-stepper__state")).to_have_text(f"Étape {number} sur {STEP_COUNT}")
    expect(page.locator(".fr-stepper__title")).to_contain_text(title)
    expect(page.locator('.segurnum-steps [aria-current="step"]')).to_have_text(f"{number} - {title}")
    expect(page).to_have_title(re.compile(f"Étape {number} sur {STEP_COUNT} : {re.escape(title)}"))


def arrive(page: Page, number: int, title: str) -> None:
    """A step just shown: announced as such, and accessible."""
    assert_step(page, number, title)
    assert_accessible(page)


def assert_field_error(page: Page, field_id: str, message: str) -> None:
    """The French message is next to the field and tied to it, and announced: the summary at
    the top of the step links to the field and receives the focus (focus needs JavaScript)."""
    error = page.locator(f"#{field_id}-error")
    expect(error).to_contain_text(message)
    described_by = page.locator(f"#{field_id}").get_attribute("aria-describedby") or ""
    assert f"{field_id}-error" in described_by.split()
    summary = page.locator("#error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary.locator(f'a[href="#{field_id}"]')).to_contain_text(message)
    if page.javascript:
        expect(summary).to_be_focused()


# The design system sets the header's ARIA up after it marks the page (data-fr-js): above 992 px
# the menu, shown in the header, loses its aria-labelledby; below, it stays hidden until opened as
# a dialog. A check run in between sees a half-built header (axe: aria-prohibited-attr on
# #header-navigation), more often on a busy machine.
HEADER_SETTLED = """() => {
  const menu = document.getElementById('header-navigation');
  return !menu || !menu.checkVisibility({ visibilityProperty: true }) || menu.getAttribute('role') === 'dialog'
    || !menu.hasAttribute('aria-labelledby');
}"""


def wait_for_design_system(page: Page) -> None:
    page.wait_for_selector('html[data-fr-js="true"]', state="attached")
    page.wait_for_function(HEADER_SETTLED)


def assert_no_horizontal_scroll(page: Page) -> None:
    page.wait_for_load_state()  # not while the next page replaces the document
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"défilement horizontal : {scroll_width} px de contenu pour {width} px d'écran"


def assert_accessible(page: Page) -> None:
    """No horizontal scroll at the page's width (WCAG 1.4.10 reflow, checked at 375 px too) and
    no axe-core (bundled, offline) violation of any impact, minor included, once the design
    system's script has set the page up (it adapts the header's ARIA to the screen width).
    axe runs inside the page: without JavaScript only the layout is checked."""
    assert_no_horizontal_scroll(page)
    if not page.javascript:
        return
    wait_for_design_system(page)
    violations = AXE.run(page).response["violations"]
    assert violations == [], [(v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in violations]


def assert_shown_without_javascript_only(block: Locator) -> None:
    """A block that does not apply yet: hidden by the script, shown when it does not run (the
    server then decides what is required)."""
    if block.page.javascript:
        expect(block).to_be_hidden()
    else:
        expect(block).to_be_visible()


def assert_captcha_alternatives(page: Page) -> None:
    """The captcha image has a French text alternative, a new code can be asked for, and where
    a speech synthesiser is installed (CI) the code can be heard in French."""
    expect(page.locator("img.captcha")).to_have_attribute("alt", re.compile("^Code de sécurité à recopier"))
    expect(page.get_by_role("button", name="Afficher un nouveau code")).to_be_visible()
    audio = page.get_by_role("link", name=re.compile("^Écouter le code"))
    if not settings.CAPTCHA_AUDIO_COMMAND:
        expect(audio).to_have_count(0)
        return
    response = page.request.get(audio.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "audio/wav"


# --- scenario 1 of the guide -------------------------------------------------------------------------

Visit = Callable[[Page, str], None]


def check_accessible(page: Page, name: str) -> None:
    """The scenarios' visit: every page and error state shown must be accessible."""
    assert_accessible(page)


REPRESENTATIVE = {
    "Nom du représentant": "Oda",
    "Prénom du représentant": "Eishiro",
    "Email du représentant": "eishiro.oda@example.fr",
    "Confirmation email du représentant": "eishiro.oda@example.fr",
    "Téléphone du représentant": "0668561565",
}
DEPOSITOR = {
    "Nom du dépositaire": "Martin",
    "Prénom du dépositaire": "Claire",
    "Email du dépositaire": "claire.martin@cabinet.example.fr",
    "Confirmation email du dépositaire": "claire.martin@cabinet.example.fr",
    "Téléphone du dépositaire": "0145678910",
}
BANK = {"IBAN": GUIDE_IBAN, "BIC": "CCFRFRPP", "Titulaire": "ODA"}


def start(page: Page, visit: Visit = check_accessible) -> None:
    page.goto("/")
    visit(page, "accueil")
    page.get_by_role("link", name="Effectuer ma demande d'enrôlement").click()


def referencing_step(page: Page, visit: Visit = check_accessible, number: str = ARCAD) -> None:
    assert_step(page, 1, "Référencement")
    visit(page, "referencement")
    field(page, "N° unique de référencement (ANS)").fill(number)
    press(page, "Rechercher")
    expect(page.get_by_text("ARCAD SAAD")).to_be_visible()
    visit(page, "referencement-trouve")
    attach(page, "Certificat de référencement", "certificat ANS.pdf")
    next_step(page)


def search_siret(page: Page, siret: str) -> None:
    field(page, "Numéro de SIRET").fill(siret)
    field(page, "Code captcha").fill(captcha(page, "applicant"))
    press(page, "Rechercher")


def legal_representative_step(page: Page, visit: Visit = check_accessible) -> None:
    """Step 2 as in the guide: a wrong SIRET key first (an error state), then the right one."""
    assert_step(page, 2, "Demandeur")
    assert_captcha_alternatives(page)
    visit(page, "demandeur-siret")
    search_siret(page, WRONG_KEY_SIRET)
    assert_field_error(page, "id_applicant-siret", "Ce numéro de SIRET n'est pas valide")
    visit(page, "demandeur-erreur")
    search_siret(page, GUIDE_SIRET)
    assert field(page, "Dénomination sociale").input_value() == "ASSOCIATION SERVICES MEDIATION"
    assert_shown_without_javascript_only(page.locator("#id_applicant-kbis-group"))  # same dénomination
    assert_shown_without_javascript_only(page.locator("#third-party"))  # « Oui » / « Non » not chosen yet
    field(page, "Nom commercial").fill("ASM Logiciels")
    choose(page, "id_applicant-is_legal_representative_0")
    fill(page, REPRESENTATIVE)
    attach(page, REPRESENTATIVE_ID, "cni representant.pdf")
    visit(page, "demandeur")
    next_step(page)


def bank_step(page: Page, visit: Visit = check_accessible) -> None:
    assert_step(page, 3, "Coordonnées bancaires")
    fill(page, BANK)
    attach(page, "RIB", "RIB.pdf")
    visit(page, "coordonnees-bancaires")
    next_step(page)


def vat_step(page: Page, visit: Visit = check_accessible) -> None:
    assert_step(page, 4, "Taux TVA")
    field(page, "Taux TVA").select_option(label="HT - 0%")
    attach(page, "Preuve de régime hors TVA", "attestation non assujettissement.pdf")
    visit(page, "taux-tva")
    next_step(page)


CONFIRMATION = re.compile(
    r"^\s*Demande d'enrôlement validée\. Le numéro de votre demande est le ENR\d{4,}M0\. Merci de le conserver"
    r" et le communiquer en cas d'échange avec notre plateforme de support\.\s*$"
)


def confirm(page: Page, expected: tuple[str, ...], visit: Visit = check_accessible) -> str:
    """Step 5: the recap lists ``expected`` values; captcha, the three boxes, « Terminer »;
    returns the ENR number of the confirmation."""
    assert_step(page, 5, "Confirmation")
    recap = page.locator(".segurnum-recap")
    for value in expected:
        expect(recap.get_by_text(value, exact=True)).to_have_count(1)
    assert_captcha_alternatives(page)
    field(page, "Captcha").fill(captcha(page, "confirmation"))
    for name in ("accept_terms", "accept_penal_code", "accept_sincerity"):
        choose(page, f"id_confirmation-{name}")
    visit(page, "confirmation")
    press(page, "Terminer")
    expect(page.get_by_role("status")).to_have_text(CONFIRMATION)
    visit(page, "demande-validee")
    return page.locator(".segurnum-enr").inner_text()


GUIDE_RECAP = (
    ARCAD,
    "ARCAD SAAD",
    "certificat ANS.pdf",
    GUIDE_SIRET,
    "ASM Logiciels",
    "Oui",
    "eishiro.oda@example.fr",
    "cni representant.pdf",
    GUIDE_IBAN,
    "HSBC FRANCE",
    "RIB.pdf",
    "HT - 0%",
    "attestation non assujettissement.pdf",
)


def guide_enrolment(page: Page, visit: Visit = check_accessible) -> str:
    """Scenario 1 of the guide, typing and clicking; ``visit(page, name)`` is called on every page
    and error state shown. Returns the ENR number of the confirmation."""
    start(page, visit)
    referencing_step(page, visit)
    legal_representative_step(page, visit)
    bank_step(page, visit)
    vat_step(page, visit)
    return confirm(page, GUIDE_RECAP, visit)
