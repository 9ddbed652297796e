"""Health endpoint for the load balancer: ``GET /sante/``.

It answers from a middleware placed first in MIDDLEWARE, before SecurityMiddleware's HTTPS
redirect and before any ALLOWED_HOSTS check: a load balancer probes each web server by its IP
address, over plain HTTP. Nothing on this path calls ``request.get_host()``.

Four checks, each bounded in time:

- database: ``SELECT 1`` (PostgreSQL: 2 s statement timeout; the connection itself is bounded
  by ``connect_timeout``, see settings);
- broker: a connection to CELERY_BROKER_URL, one quick retry, 2 s; "eager" without a broker
  (the embedded default, where tasks run in the web process);
- storage: a small file written then deleted in the private document storage (encrypted, as
  every document: the keys are checked too);
- antivirus: clamd's PING, then a scan of a few clean bytes by the route uploads take
  (segurnum/antivirus.py); "disabled" in the embedded default.

503 when the database, the broker or the storage fails: this web server cannot serve. The
antivirus does not take a server out of the load balancer (clamd is shared: every server would go
at once, and only uploads need it, which are refused meanwhile with « réessayez »): it makes the
status "degraded" with a 200, for the monitoring to alert on. The body is JSON and never carries
an exception's text: the details go to the log.
"""

import logging
import time
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connections, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import path

from segurnum import antivirus

logger = logging.getLogger(__name__)

HEALTH_PATHS = frozenset({"/sante/", "/sante"})
TIMEOUT_SECONDS = 2
OK, ERROR, EAGER, DISABLED = "ok", "error", "eager", "disabled"
# A failure of these takes this web server out of the load balancer's rotation.
CRITICAL = ("database", "broker", "storage")


def check_database() -> str:
    connection = connections["default"]
    try:
        if connection.vendor == "postgresql":
            # SET LOCAL lasts until the end of this transaction only.
            with transaction.atomic(using="default"), connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [TIMEOUT_SECONDS * 1000])
                cursor.execute("SELECT 1")
                cursor.fetchone()
        else:
            # No transaction here: the embedded SQLite begins them IMMEDIATE (a write lock).
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except Exception:
        logger.exception("Santé : base de données indisponible")
        return ERROR
    return OK


def check_broker() -> str:
    broker_url = getattr(settings, "CELERY_BROKER_URL", "")
    if not broker_url:
        return EAGER
    from kombu import Connection

    try:
        with Connection(broker_url, connect_timeout=TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=TIMEOUT_SECONDS)
    except Exception:
        logger.exception("Santé : courtier Celery injoignable")
        return ERROR
    return OK


def check_storage() -> str:
    from django.core.files.storage import storages

    storage = storages["private"]
    name = f"sante/sonde-{uuid.uuid4().hex}.txt"
    saved = None
    try:
        saved = storage.save(name, ContentFile(b"ok"))
        storage.delete(saved)
    except Exception:
        logger.exception("Santé : stockage privé inutilisable")
        if saved:
            try:
                storage.delete(saved)
            except Exception:
                logger.warning("Santé : sonde %s non supprimée", saved, exc_info=True)
        return ERROR
    return OK


def run_checks() -> dict[str, str]:
    checks = {}
    for name, check in (
        ("database", check_database),
        ("broker", check_broker),
        ("storage", check_storage),
        ("antivirus", antivirus.health),
    ):
        started = time.monotonic()
        checks[name] = check()
        logger.debug("Santé : %s → %s en %.3f s", name, checks[name], time.monotonic() - started)
    return checks


def health_response(request) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        response["Cache-Control"] = "no-store"
        return response
    checks = run_checks()
    serving = all(checks[name] in (OK, EAGER) for name in CRITICAL)
    healthy = all(value in (OK, EAGER, DISABLED) for value in checks.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if serving else 503
    )
    response["Cache-Control"] = "no-store"
    if request.method == "HEAD":
        response.content = b""
    return response


class HealthCheckMiddleware:
    """First in MIDDLEWARE: answers /sante/ before the HTTPS redirect and the host checks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in HEALTH_PATHS:
            return health_response(request)
        return self.get_response(request)


def health_view(request):
    return health_response(request)


# Included under "sante/" by segurnum.urls, so that reverse("health") gives the address (the
# middleware answers it first).
urlpatterns = [path("", health_view, name="health")]
