"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Without Chromium (a newcomer's machine) they are skipped; CI installs Chromium and sets
SEGURNUM_REQUIRE_BROWSER=1, where a missing browser fails the run instead, and so does any
browser test that ends up skipped for whatever reason.
"""

import os

import pytest

from tests.browser.helpers import CHROMIUM, DESKTOP, launch, open_page

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def browser_required() -> bool:
    return os.environ.get("SEGURNUM_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    if browser_required():
        raise pytest.UsageError(f"Chromium absent ({CHROMIUM}) alors que les tests navigateur sont exigés.")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"Chromium absent ({CHROMIUM})"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Where browser tests are required (CI), a skipped one is a failure, not a silent pass."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and "browser" in item.keywords and browser_required() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"Test navigateur ignoré alors que SEGURNUM_REQUIRE_BROWSER=1 : {reason}"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def viewport_width():
    """Overridden with ``@pytest.mark.parametrize("viewport_width", …)`` to test another width."""
    return DESKTOP


@pytest.fixture
def page(browser, live_server, viewport_width):
    page = open_page(browser, live_server.url, width=viewport_width)
    yield page
    page.context.close()


@pytest.fixture
def page_without_javascript(browser, live_server):
    page = open_page(browser, live_server.url, javascript=False)
    yield page
    page.context.close()
