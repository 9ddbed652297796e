"""Settings of the speed benchmark (benchmarks/bench_speed.py): the portal's own settings, plus
what only the benchmark needs. Never used by the portal itself.

- a floor view (benchmarks/urls.py): a bare Django view in the same gunicorn, rendering a small
  template and reading and writing the session, against which every page is compared;
- a middleware that reports, in response headers, the SQL statements of the request (and how
  many ran outside a transaction), the worker's CPU time, its process id and the growth of its
  peak resident memory during the request;
- the captcha in test mode (« PASSED » is accepted) and abuse limits out of the way, since one
  client address sends every enrolment of the run.
"""

from segurnum.settings import *  # noqa: F403
from segurnum.settings import BASE_DIR, MIDDLEWARE, TEMPLATES

ROOT_URLCONF = "benchmarks.urls"
MIDDLEWARE = ["benchmarks.middleware.BenchMetricsMiddleware", *MIDDLEWARE]
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "benchmarks" / "templates"]
CAPTCHA_TEST_MODE = True
