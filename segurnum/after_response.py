"""Work that a web request hands over to run once its response has left (SECURITY A13, F14, P6).

``defer()`` called while a request is being handled keeps the function; it runs when the server
has written the whole response and closes it (Django's ``request_finished``): the client already
has its answer, so neither its timing nor its outcome depends on that work. Outside a request (a
Celery task, a management command, a test calling a service) the function runs at once.

``after_commit()`` is the same once the caller's transaction has committed: queueing a task or
removing a draft costs the client no wait (R-PERF-1). For work that a periodic task does again
when it is lost (the re-queues of pending rows, the purge of stale drafts): a worker that dies
between the response and that work leaves it to them.

The embedded default (Celery eager, no beat) relies on it twice: the recovery look-up, which must
not make the answer slower for an existing account, and the periodic housekeeping
(``segurnum.housekeeping``), which then runs after responses instead of in beat.
"""

import logging
import threading
from collections.abc import Callable

from django.core.signals import request_finished
from django.db import transaction

from segurnum import housekeeping

logger = logging.getLogger(__name__)

_state = threading.local()


def defer(function: Callable[..., object], *args: object, **kwargs: object) -> None:
    jobs = getattr(_state, "jobs", None)
    if jobs is None:
        function(*args, **kwargs)
    else:
        jobs.append((function, args, kwargs))


def after_commit(function: Callable[..., object], *args: object) -> None:
    """``defer(function, *args)`` once the caller's transaction commits (at once without one)."""
    transaction.on_commit(lambda: defer(function, *args))


def run_deferred(**signal_kwargs: object) -> None:
    jobs, _state.jobs = getattr(_state, "jobs", None), None
    for function, args, kwargs in jobs or ():
        try:
            function(*args, **kwargs)
        except Exception:
            logger.exception("Tâche différée en échec : %s", getattr(function, "__qualname__", function))
    housekeeping.run_if_due()


request_finished.connect(run_deferred, dispatch_uid="segurnum.after_response")


class AfterResponseMiddleware:
    """Opens the list of the request's deferred work (run by ``run_deferred``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _state.jobs = []
        return self.get_response(request)
