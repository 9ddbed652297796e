"""One way to keep a page out of caches (SECURITY D3): a view is marked with
segurnum.middleware.no_store (or lives under a private prefix, or answers a signed-in user), and
SecurityHeadersMiddleware writes the header; no view spells it another way."""

import re
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory

from segurnum.middleware import SecurityHeadersMiddleware, no_store

OTHER_WAYS = re.compile(r"never_cache|\[\"Cache-Control\"\] = \"no-store\"")
# Answers made by a middleware itself, without a view.
ALLOWED = {"segurnum/middleware.py", "segurnum/health.py"}


def test_no_view_spells_no_store_another_way():
    base = Path(settings.BASE_DIR)
    apps = sorted(path.parent.name for path in base.glob("*/apps.py"))
    offenders = [
        str(path.relative_to(base))
        for app in apps
        for path in (base / app).rglob("*.py")
        if str(path.relative_to(base)) not in ALLOWED and OTHER_WAYS.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_a_marked_view_is_answered_no_store_on_a_public_path():
    view = SecurityHeadersMiddleware(no_store(lambda request: HttpResponse("rapport")))
    plain = SecurityHeadersMiddleware(lambda request: HttpResponse("accueil"))
    request = RequestFactory().get("/simulateur/rapport/")
    request.user = None
    assert view(request)["Cache-Control"] == "no-store"
    assert "Cache-Control" not in plain(RequestFactory().get("/simulateur/rapport/"))
