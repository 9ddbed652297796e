"""Where the CPU of an enrolment goes: the benchmark's walk (benchmarks/bench_speed.py), in process,
under cProfile, with the production settings on a throw-away PostgreSQL database.

    .venv/bin/python benchmarks/profile_enrolment.py [--walks 20] [--top 40] [--sort tottime]
                                                     [--sampling] [--times-only]

Prints the CPU and wall time of each request of the walk (p50 over the walks, without the
profiler), then the profile of the same walks: the functions that cost most, and the time spent under a few
known suspects (templates, forms, widgets, session, SQL). No gunicorn: the Django test client
sends the same requests to the same middlewares, so what differs from the benchmark is the WSGI
server alone.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from io import StringIO
from pathlib import Path

os.environ.setdefault("BENCH_DATABASE_NAME", "segurnum_profile_enrolment")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_speed  # noqa: E402  (sets the environment of the production shape)

SUSPECTS = {
    "templates (render)": "django/template/base.py:.*\\(render\\)",
    "form validation (full_clean)": "django/forms/forms.py:.*\\(full_clean\\)",
    "fields and widgets (segurnum_forms)": "segurnum_forms.py",
    "session load": "segurnum/sessions.py:.*\\(load\\)",
    "session save": "segurnum/sessions.py:.*\\(save\\)",
    "SQL (execute)": "django/db/backends/utils.py:.*\\(_execute\\)",
    "middlewares (process_request/response)": "middleware",
}


# Where a sample's own time is counted: the innermost frame of its stack whose file matches, in
# this order of rules (the first rule that matches a frame wins for that frame).
CATEGORIES = (
    ("client de test (hors gunicorn)", ("django/test/", "bench_speed.py", "profile_enrolment.py")),
    (
        "gabarits et widgets",
        (
            "django/template/",
            "templatetags/",
            "segurnum/renderers.py",
            "forms/boundfield.py",
            "forms/widgets.py",
            "forms/renderers.py",
            "forms/utils.py",
            "captcha/fields.py",
        ),
    ),
    ("session", ("contrib/sessions/", "segurnum/sessions.py")),
    ("base de données (ORM, pilote)", ("django/db/", "psycopg2")),
    ("cache et Redis", ("redis/", "django/core/cache/", "segurnum/ratelimit.py")),
    (
        "pièces (antivirus, chiffrement, fichiers)",
        (
            "enrolment/drafts.py",
            "segurnum/antivirus",
            "cryptography/",
            "segurnum/encryption",
            "segurnum/storage",
            "core/files/",
        ),
    ),
    ("validation des formulaires", ("django/forms/", "enrolment/forms.py", "stdnum/", "schwifty/", "core/validators")),
    ("analyse de la requête (multipart, cookies)", ("django/http/",)),
    ("parcours (formtools, vues)", ("formtools/", "enrolment/wizard/", "enrolment/services.py")),
    ("middlewares et reste de Django", ("django/", "segurnum/", "accounts/", "axes/")),
)


def _category(file_path: str) -> str | None:
    for name, patterns in CATEGORIES:
        if any(pattern in file_path for pattern in patterns):
            return name
    return None


def by_category(root) -> str:
    """Self time of every sampled frame, counted under the category of its innermost frame that
    has one (a C call under a template tag counts as templates)."""
    totals: dict[str, float] = defaultdict(float)

    def visit(frame, inherited: str) -> None:
        category = _category(frame.file_path or "") or inherited
        own = frame.time - sum(child.time for child in frame.children)
        totals[category] += own
        for child in frame.children:
            visit(child, category)

    visit(root, "autre")
    server = sum(value for name, value in totals.items() if name != CATEGORIES[0][0])
    lines = ["| catégorie | part du temps serveur | s |", "|---|---:|---:|"]
    for name, value in sorted(totals.items(), key=lambda item: -item[1]):
        share = "" if name == CATEGORIES[0][0] else f"{value / server:.0%}"
        lines.append(f"| {name} | {share} | {value:.2f} |")
    return "\n".join(lines) + "\n"


class InProcessClient:
    """bench_speed.Client's interface over django.test.Client (cookies kept by the test client)."""

    def __init__(self, port: int = 0) -> None:
        from django.test import Client

        self.client = Client(HTTP_HOST="127.0.0.1", HTTP_USER_AGENT="segurnum-bench")
        self.cookies = self.client.cookies

    def request(self, method, path, body=b"", content_type="", memory=False):
        headers = {"Origin": "https://127.0.0.1", "Referer": f"https://127.0.0.1{path}"} if method == "POST" else {}
        started = time.perf_counter()
        cpu = time.process_time()
        response = self.client.generic(method, path, data=body, content_type=content_type, secure=True, headers=headers)
        cpu = time.process_time() - cpu
        seconds = time.perf_counter() - started
        body_out = b"".join(response) if response.streaming else response.content
        headers_out = {name.lower(): value for name, value in response.items()}
        headers_out["x-bench-cpu-us"] = str(int(cpu * 1_000_000))
        return bench_speed.Response(response.status_code, headers_out, body_out, seconds)

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields, files=None):
        body, content_type = bench_speed.multipart(fields, files or {})
        return self.request("POST", path, body, content_type)

    def post_form(self, path, fields):
        from urllib.parse import urlencode

        return self.request("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def csrf(self) -> str:
        return next(morsel.value for name, morsel in self.cookies.items() if name.endswith("csrftoken"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--walks", type=int, default=20)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--dump", help="also write the raw profile (pstats) to this file")
    parser.add_argument(
        "--sampling",
        action="store_true",
        help="profile with pyinstrument (pip install pyinstrument): a sampling profiler, which does not "
        "inflate many small calls as cProfile does",
    )
    parser.add_argument(
        "--times-only",
        action="store_true",
        help="print the table of times and stop: compares two commits in process, with no profiler, "
        "less noisy than gunicorn on a shared machine (run each one twice, alternately)",
    )
    args = parser.parse_args()

    bench_speed.create_database()
    bench_speed.flush_redis()
    clamd = None
    try:
        clamd = bench_speed.start_clamd()
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        bench_speed.prepare_registries()
        bench_speed.load_software()
        bench_speed.Client = InProcessClient
        vendors = iter(range(bench_speed.VENDORS))
        for _ in range(3):  # warm-up: imports, template loaders, connections
            bench_speed.walk(0, next(vendors), floor=False)

        cpu_by_label, wall_by_label = defaultdict(list), defaultdict(list)
        for _ in range(args.walks):
            results, _ = bench_speed.walk(0, next(vendors), floor=False)
            for label, response in results:
                cpu_by_label[label].append(response.metric("X-Bench-Cpu-Us") / 1000)
                wall_by_label[label].append(response.seconds * 1000)
        print("| requête | CPU p50 (ms) | temps réel p50 (ms) |")
        print("|---|---:|---:|")
        total = wall = 0.0
        for label in bench_speed.WALK:
            value = statistics.median(cpu_by_label[label])
            elapsed = statistics.median(wall_by_label[label])
            total, wall = total + value, wall + elapsed
            print(f"| {label} | {value:.1f} | {elapsed:.1f} |")
        print(f"| **enrôlement complet** | **{total:.0f}** | **{wall:.0f}** |\n")
        if args.times_only:
            return

        if args.sampling:
            from pyinstrument import Profiler
            from pyinstrument.stack_sampler import get_stack_sampler

            # Samples in CPU time: the waits (PostgreSQL, Redis, clamd answering) are not counted.
            get_stack_sampler().timer_func = time.process_time
            sampler = Profiler(interval=0.0005)
            with sampler:
                for _ in range(args.walks):
                    bench_speed.walk(0, next(vendors), floor=False)
            print(by_category(sampler.last_session.root_frame()))
            print(sampler.output_text(unicode=True, show_all=False, color=False, flat=True)[:6000])
            return
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.walks):
            bench_speed.walk(0, next(vendors), floor=False)
        profiler.disable()
        if args.dump:
            profiler.dump_stats(args.dump)
        out = StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
        for title, pattern in SUSPECTS.items():
            out = StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(pattern, 5)
            print(f"### {title}\n" + "\n".join(out.getvalue().splitlines()[-9:]))
    finally:
        from django.db import connections

        connections.close_all()
        bench_speed.drop_database()
        bench_speed.flush_redis()
        if clamd is not None:
            clamd.remove()


if __name__ == "__main__":
    main()
