"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Without Chromium (a newcomer's machine) they are skipped; CI installs Chromium and sets
SEGURNUM_REQUIRE_BROWSER=1, where a missing browser fails the run instead.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("SEGURNUM_CHROMIUM", "/usr/lib/chromium/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--lang=fr"]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    if os.environ.get("SEGURNUM_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"Chromium absent ({CHROMIUM}) alors que les tests navigateur sont exigés.")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"Chromium absent ({CHROMIUM})"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    yield page
    context.close()
