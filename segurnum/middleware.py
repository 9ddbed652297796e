import ipaddress
import logging
from functools import wraps

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
# Pages that carry a vendor's data or a sign-in: never kept by a browser or a proxy (D3).
NO_STORE_PREFIXES = ("/enrolement/", "/admin/", "/espace/", "/connexion/")


def no_store(view):
    """Keeps a view's answers out of every cache: the one way a view asks for it. Besides the views
    marked so, SecurityHeadersMiddleware answers « Cache-Control: no-store » under the private
    prefixes (NO_STORE_PREFIXES) and to a signed-in user (SECURITY D3); only the answers made by a
    middleware itself, without a view (the health probe, the 503), set the header directly."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.no_store = True
        return view(request, *args, **kwargs)

    return wrapper


def database_unavailable(exception: BaseException | None) -> bool:
    """The error says the database cannot be reached (down, restarting, connection cut)."""
    return isinstance(exception, UNAVAILABLE_ERRORS) or (
        isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
    )


def service_unavailable_response() -> HttpResponse:
    # Rendered without a request context: nothing here may touch the database.
    body = render_to_string("503.html")
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "60"
    response["Cache-Control"] = "no-store"
    return response


class ServiceUnavailableMiddleware:
    """A database that is down gives a clean French page (503), never a traceback.

    It sits outside the session middleware; the user's earlier steps stay in the session store
    for when the database comes back. An error raised by a middleware (the session loaded for
    ``request.user``) never reaches it: Django turns it into a 500 at that middleware, and the
    500 handler (``public.views.server_error``) answers 503 for these errors too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except UNAVAILABLE_ERRORS:
            logger.exception("Base de données indisponible pendant %s %s", request.method, request.path)
            return service_unavailable_response()

    def process_exception(self, request, exception):
        if database_unavailable(exception):
            logger.exception("Base de données indisponible pendant %s %s", request.method, request.path)
            return service_unavailable_response()
        return None


class SecurityHeadersMiddleware:
    """Content-Security-Policy (SECURITY D3) and Permissions-Policy (D5) on every response, and no
    caching of pages that carry a vendor's data.

    It is the outermost middleware: the health probe's answers, the HTTPS redirect, the 503 of a
    database that is down and the error pages all pass through it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if (
            getattr(request, "no_store", False)
            or request.path.startswith(NO_STORE_PREFIXES)
            or _maybe_signed_in(request)
        ):
            response["Cache-Control"] = "no-store"
        return response


def _maybe_signed_in(request) -> bool:
    """Whether the response may belong to a signed-in user. Outside every other middleware, the
    session is read here for the first time on some pages: a database that is down must not turn
    the clean 503 into an error, and an unknown answer is never cached."""
    user = getattr(request, "user", None)
    try:
        return user is not None and user.is_authenticated
    except DatabaseError:
        return True


def _networks(entries) -> list:
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


class ClientAddressMiddleware:
    """Behind the reverse proxy (SECURITY F3), REMOTE_ADDR is the proxy's own address: every
    vendor would share one rate limit. When, and only when, the request comes from a trusted proxy
    (SEGURNUM_TRUSTED_PROXIES), REMOTE_ADDR becomes the client's address taken from
    X-Forwarded-For: its right-most entry that is not itself a trusted proxy. The left part of that
    header is whatever the client sent and is never believed. Everything that reads the client
    address (rate limits, django-axes, the logs) then reads REMOTE_ADDR.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted = _networks(settings.TRUSTED_PROXIES)

    def _is_trusted(self, value: str) -> bool:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def __call__(self, request):
        if self.trusted and self._is_trusted(request.META.get("REMOTE_ADDR", "")):
            forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            for entry in reversed(forwarded):
                if not self._is_trusted(entry):
                    try:
                        request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(entry))
                    except ValueError:
                        logger.warning("X-Forwarded-For illisible venant du relais : %r", entry)
                    break
        return self.get_response(request)
