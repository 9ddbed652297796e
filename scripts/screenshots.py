"""Screenshots of the enrolment with the guide's data, for the README: `make screenshots`.

Starts the portal on its own (a throw-away SQLite database, documents and mail in a temporary
folder, the registries' fixtures loaded, `runserver` on a free port), walks scenario 1 of the
guide in Debian's Chromium — the very walk the browser tests check (tests/browser/helpers.py) —
and writes a full-page PNG of each page it shows, at 1280 and 375 px wide, into docs/screenshots/
(``NN-page-WIDTH.png``). Nothing of the developer's own database or files is touched.
"""

import os
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
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    total = sum(path.stat().st_size for path in shots)
    print(f"{len(shots)} captures ({total / 1024 / 1024:.1f} Mo) dans {OUTPUT.relative_to(ROOT)}/, demande {number}")


if __name__ == "__main__":
    main()
