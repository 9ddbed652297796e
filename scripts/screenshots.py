"""Screenshots of the enrolment with the guide's data, for the README: `make screenshots`.

Starts the portal on its own (a throw-away SQLite database, documents and mail in a temporary
folder, the registries' fixtures loaded, `runserver` on a free port), walks scenario 1 of the
guide in Debian's Chromium — the very walk the browser tests check (tests/browser/helpers.py) —
and writes a full-page PNG of each page it shows, at 1280 and 375 px wide, into docs/screenshots/
(``NN-page-WIDTH.png``), then the public simulator and the filing of the funding example by
make run's demonstration vendor, that vendor's private space, and the back office as make run's
demonstration agent sees it. Nothing of the developer's own database or files is touched.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshots"
WIDTHS = (1280, 375)


def portal_environment(folder: Path) -> dict[str, str]:
    """The embedded default, pointed at ``folder`` whatever the developer's shell exports."""
    return {
        "DJANGO_SETTINGS_MODULE": "segurnum.settings",
        "DJANGO_ENV": "development",
        "DJANGO_DEBUG": "1",  # runserver serves the static files
        "SEGURNUM_VAR_DIR": str(folder),
        "SEGURNUM_PRIVATE_STORAGE_ROOT": str(folder / "private"),
        "DATABASE_URL": f"sqlite:///{folder / 'segurnum.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "COMPANY_REGISTRY_BACKEND": "enrolment.registries.companies.FixtureCompanyRegistry",
        # Playwright's sync API runs an event loop in this thread; the captcha is read from the
        # database between two of its calls.
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args: str, **kwargs) -> subprocess.Popen | subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    if kwargs.pop("background", False):
        return subprocess.Popen(command, cwd=ROOT, **kwargs)  # noqa: S603
    return subprocess.run(command, cwd=ROOT, check=True, **kwargs)  # noqa: S603


def wait_until_served(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"Le portail s'est arrêté au démarrage :\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (http://127.0.0.1 only)
                return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"Le portail ne répond pas sur {url} :\n{log.read_text()}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="segurnum-captures-") as folder:
        os.environ.update(portal_environment(Path(folder)))
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from playwright.sync_api import sync_playwright

        from tests.browser.helpers import CHROMIUM, guide_enrolment, launch, open_page

        if not CHROMIUM.exists():
            sys.exit(f"Chromium absent ({CHROMIUM}) : apt-get install chromium chromium-l10n")
        if not (CHROMIUM.parent / "locales" / "fr.pak").exists():
            print("Attention : sans chromium-l10n, Chromium écrit « Choose File » en anglais.", file=sys.stderr)
        manage("migrate", "--noinput", stdout=subprocess.DEVNULL)
        manage("loaddata", "referenced_software", "faq", stdout=subprocess.DEVNULL)
        demo = manage("load_funding_demo", capture_output=True, text=True).stdout
        funding_password = re.search(r"demo\.financement : mot de passe (\S+)", demo).group(1)
        agent_password = re.search(r"agent\.demo : mot de passe (\S+)", demo).group(1)
        port = free_port()
        log = Path(folder) / "runserver.log"
        with log.open("w") as output:
            server = manage(
                "runserver", "--noreload", f"127.0.0.1:{port}", background=True, stdout=output, stderr=output
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_served(url + "/", server, log)
            OUTPUT.mkdir(parents=True, exist_ok=True)
            for old in OUTPUT.glob("*.png"):
                old.unlink()
            shots: list[Path] = []

            def shoot(page, name: str) -> None:
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    path = OUTPUT / f"{len(shots) // len(WIDTHS) + 1:02d}-{name}-{width}.png"
                    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
                    shots.append(path)
                page.set_viewport_size({"width": WIDTHS[0], "height": 900})

            with sync_playwright() as playwright:
                browser = launch(playwright)
                page = open_page(browser, url)
                number = guide_enrolment(page, visit=shoot)
                vendor_page = open_page(browser, url)
                funding_number = funding_walk(vendor_page, shoot, funding_password)
                private_space_walk(vendor_page, shoot)
                back_office_walk(open_page(browser, url), shoot, agent_password, funding_number)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    total = sum(path.stat().st_size for path in shots)
    print(
        f"{len(shots)} captures ({total / 1024 / 1024:.1f} Mo) dans {OUTPUT.relative_to(ROOT)}/, "
        f"demandes {number} et {funding_number}"
    )


def funding_walk(page, shoot, password: str) -> str:
    """The public simulator's report on the published example, then the example's vendor
    (make run's demonstration) filing it: report, recap, FIN number, its tracking page."""
    from playwright.sync_api import expect

    from funding import format as funding_format
    from tests.browser.helpers import choose, field

    def attach(label: str, name: str, content: bytes, kind: str) -> None:
        field(page, label).set_input_files({"name": name, "mimeType": kind, "buffer": content})

    def example_files() -> None:
        attach("Fichier json", "exemple-financement-sas-1.0.json", funding_format.example_bytes(), "application/json")
        attach("Fichier zip des pièces", "pieces.zip", funding_format.example_zip_bytes(), "application/zip")

    page.goto("/simuler-fichier-json/")
    example_files()
    page.get_by_role("button", name="Contrôler mon fichier").click()
    expect(page.get_by_text("Fichier conforme")).to_be_visible()
    shoot(page, "simulateur-rapport")
    page.goto("/format/segurnum-financement-sas/1.0/")
    shoot(page, "format-documentation")
    page.goto("/connexion/")
    field(page, "Votre identifiant").fill("demo.financement")
    field(page, "Votre mot de passe").fill(password)
    page.get_by_role("button", name="Valider").click()
    page.goto("/espace/demande-de-financement/")
    shoot(page, "demande-de-financement")
    page.get_by_role("link", name="Déposer ma demande de financement").click()
    example_files()
    page.get_by_role("button", name="Contrôler mes fichiers").click()
    expect(page.get_by_text("Fichier conforme")).to_be_visible()
    shoot(page, "financement-rapport")
    page.get_by_role("link", name="Continuer vers le récapitulatif").click()
    choose(page, "id_accept_penal_code")
    choose(page, "id_accept_sincerity")
    shoot(page, "financement-recapitulatif")
    page.get_by_role("button", name="Terminer").click()
    status = page.get_by_role("status").filter(has_text="Demande de financement déposée.")
    expect(status).to_be_visible()
    shoot(page, "financement-depose")
    number = re.search(r"FIN\d{4}", status.inner_text()).group(0)
    page.get_by_role("link", name="OK").click()
    shoot(page, "suivi-demande-de-financement")
    return number


def private_space_walk(page, shoot) -> None:
    """The demonstration vendor's private space, page by page from its menu."""
    from playwright.sync_api import expect

    page.goto("/espace/")
    expect(page.get_by_role("heading", name="Accueil fournisseur SAS")).to_be_visible()
    shoot(page, "espace-accueil")
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name="Enrôlement").click()
    shoot(page, "espace-suivi-enrolement")
    page.locator("tbody a").first.click()
    shoot(page, "espace-demande-enrolement")
    for name, label in (("espace-mon-compte", "Mon compte"), ("espace-aide", "Besoin d'aide?")):
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name=label).click()
        shoot(page, name)


def back_office_walk(page, shoot, password: str, funding_number: str) -> None:
    """The back office as make run's demonstration agent (agent.demo) sees it: sign-in, home,
    the requests, one request, the funding request just filed, the mails, a news item."""
    from playwright.sync_api import expect

    page.goto("/admin/login/")
    shoot(page, "back-office-connexion")
    page.get_by_label("Nom d’utilisateur").fill("agent.demo")
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_role("heading", name="Instruction des demandes d'enrôlement")).to_be_visible()
    shoot(page, "back-office-accueil")
    page.goto("/admin/enrolment/enrolmentrequest/")
    shoot(page, "back-office-demandes-enrolement")
    page.locator("#result_list tbody a").first.click()
    shoot(page, "back-office-demande-enrolement")
    page.goto("/admin/funding/fundingrequest/")
    shoot(page, "back-office-demandes-financement")
    page.get_by_role("link", name=funding_number).first.click()
    shoot(page, "back-office-demande-financement")
    page.goto("/admin/notifications/outboundemail/")
    shoot(page, "back-office-courriels")
    page.goto("/admin/portal/news/add/")
    shoot(page, "back-office-ajout-actualite")


if __name__ == "__main__":
    main()
