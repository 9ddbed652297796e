"""gunicorn's settings, read from the project root (scripts/start-web.sh names it too).

Its access log masks the token of recovery links (SECURITY P4, segurnum/logmask.py).

Once a worker has loaded the portal, what start-up made (modules, models, admin, URLs: about
170 000 objects) is moved out of the garbage collector's reach (``gc.freeze``): its collections
then look only at what requests create, which halves their CPU (R-PERF-5).
"""

import gc

logger_class = "segurnum.logmask.GunicornLogger"


def post_worker_init(worker):
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the URLs and views imported now, before the freeze
    gc.collect()
    gc.freeze()
