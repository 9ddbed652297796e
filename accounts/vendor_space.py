"""The frame of the vendor's private space (R-PRIV-1): who may enter it and its navigation.

Shared by the pages of the portal, the funding request and the account, which is why it lives
here, below them: ``portal`` and ``funding`` import it, it imports neither (no cycle between apps).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from segurnum.middleware import no_store

# (key, label, URL name) of the main navigation (R-PRIV-1), in the guide's order.
NAV_ITEMS = [
    ("home", "Accueil", "portal:home"),
    ("enrolments", "Enrôlement", "portal:enrolments"),
    ("funding", "Demande de financement", "portal:funding"),
    ("account", "Mon compte", "portal:account"),
    ("help", "Besoin d'aide?", "portal:help"),
]


def vendor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in vendors only: anonymous visitors go to the login page, staff to the back office.

    Every answer, redirections and 404 included, carries ``Cache-Control: no-store``.
    """
    protected = login_required(view, login_url="accounts:login")

    @no_store
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not request.user.is_vendor:
            return redirect("admin:index")
        return protected(request, *args, **kwargs)

    return wrapper


def render_portal(request: HttpRequest, template: str, *, nav: str, context: dict | None = None) -> HttpResponse:
    nav_items = [
        {"label": label, "url": reverse(url_name), "current": key == nav} for key, label, url_name in NAV_ITEMS
    ]
    return render(request, template, {"nav_items": nav_items, "portal_home": reverse("portal:home"), **(context or {})})
