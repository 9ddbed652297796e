"""Speed at scale: the production shape on this machine, every page against the floor.

Run from the repository root (about 5 to 10 minutes on 2 cores):

    make bench
    .venv/bin/python benchmarks/bench_speed.py [--levels 100,10000,100000] [--repeats 15]
                                               [--enrolments 160] [--concurrency 8] [--explain-only]

What it starts, all throw-away and removed at the end:
- a PostgreSQL database ``segurnum_bench_speed`` (BENCH_DATABASE_ADMIN_URL, default
  postgres://postgres@127.0.0.1:5432/postgres, says where to create it; BENCH_DATABASE_NAME names it);
- Redis database 14 (BENCH_REDIS_URL) as cache, rate-limit store and Celery broker (no worker
  runs: the mails stay queued, which is not what is measured);
- Debian's clamd with the tests' signature (or BENCH_CLAMD_ADDRESS, a running clamd);
- gunicorn with 4 workers (BENCH_WORKERS), DJANGO_ENV=production with keys generated for the run,
  and ``benchmarks.settings``: the portal's settings plus a floor view and a middleware that
  reports each request's SQL statements, CPU time and peak memory in response headers.

Behind nginx the portal sees HTTPS: the client sends ``X-Forwarded-Proto: https`` and an
``Origin`` as a browser would, over plain HTTP to gunicorn.

For each number of existing requests (bulk-loaded with COPY, then ANALYZE):
1. the guide's enrolment over HTTP, every GET and POST of the five steps up to « Terminer » (its
   captcha in test mode), REPEATS times with a new vendor each time; each request is followed by a
   floor request, so that the floor is measured in the same moments; p50 of each request ÷ p50
   of the floor; SQL statements per request (total / outside a transaction);
2. the agents' list (all, filtered by status) and its searches (ENR, SIRET, dénomination,
   e-mail, referencing number), and the support look-up (ENR, e-mail);
3. EXPLAIN (ANALYZE) of the queries that grow with the table.
Then, on the largest table: a 4 MiB certificate upload (step 1) against the floor writing the
same multipart body raw (time and peak memory growth of the worker), and the throughput:
complete enrolments per second at concurrency 8, with the CPU used per enrolment.

The machine may be shared: absolute times are noisy; the ratios within one run are what count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cryptography.fernet import Fernet  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "segurnum_bench_speed")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
WORKDIR = Path(tempfile.mkdtemp(prefix="segurnum-bench-speed-"))
MIB = 1024 * 1024
MANAGEMENT = "enrolment_wizard-current_step"
GUIDE_IBAN = "FR7630056009271234567890182"

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME,
        "CACHE_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "SEGURNUM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SEGURNUM_SEARCH_HASH_KEY": Fernet.generate_key().decode(),
        "SEGURNUM_VAR_DIR": str(WORKDIR / "var"),
        "SEGURNUM_PRIVATE_STORAGE_ROOT": str(WORKDIR / "private"),
        "DJANGO_STATIC_ROOT": str(WORKDIR / "static"),
        "COMPANY_REGISTRY_FIXTURE": str(WORKDIR / "companies.json"),
        # One client address sends every enrolment of the run.
        "SEGURNUM_ENROLMENT_RATE_LIMIT": "1000000",
        "SEGURNUM_DRAFT_RATE_LIMIT": "1000000",
        "SEGURNUM_DRAFT_ADDRESS_MAX_MIB": "1000000",
        "SEGURNUM_CAPTCHA_REFRESH_RATE_LIMIT": "1000000",
        "SEGURNUM_LOGIN_FAILURE_LIMIT": "1000000",
    }
)
# Placeholder until clamd answers (production refuses to start without an address).
os.environ.setdefault("SEGURNUM_CLAMD_ADDRESS", os.environ.get("BENCH_CLAMD_ADDRESS", "unix:///nonexistent"))


# ------------------------------------------------------------------------------------------------
# Throw-away services
# ------------------------------------------------------------------------------------------------


def _admin_connection():
    import psycopg2

    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    return connection


def create_database() -> None:
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{DB_NAME}"')
    connection.close()


def drop_database() -> None:
    try:
        connection = _admin_connection()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        connection.close()
    except Exception as error:  # noqa: BLE001 - cleaning up: report, never mask the run's outcome
        print(f"(base {DB_NAME} non supprimée : {error})")


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def start_clamd():
    if os.environ.get("BENCH_CLAMD_ADDRESS"):
        return None
    from tests.antivirus import ClamdServer

    server = ClamdServer(stream_max_length="30M").start(timeout=120)
    os.environ["SEGURNUM_CLAMD_ADDRESS"] = server.address
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.log = open(WORKDIR / "gunicorn.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - fixed command
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "segurnum.wsgi",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if Client(port).get("/__bench__/floor/").status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn ne répond pas (journal : {WORKDIR / 'gunicorn.log'})")
        # Every worker imports the portal on its first request: warm them all up.
        for _ in range(WORKERS * 8):
            Client(port).get("/__bench__/floor/")

    def cpu_seconds(self) -> float:
        """CPU time of the master and its workers (user + system), from /proc."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(pid) for pid in children.read_text().split()]
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def postgres_cpu() -> dict[int, float]:
    """CPU time (user + system, seconds) of each PostgreSQL backend of the benchmark's database."""
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB_NAME])
        pids = [row[0] for row in cursor.fetchall()]
    connection.close()
    tick = os.sysconf("SC_CLK_TCK")
    times = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    return times


def postgres_cpu_since(before: dict[int, float]) -> float:
    """CPU used since ``before`` by the backends alive now (a backend that ended is not counted:
    the gunicorn workers keep theirs for DATABASE_CONN_MAX_AGE seconds)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in postgres_cpu().items())


# ------------------------------------------------------------------------------------------------
# A small HTTP client: cookies (also the Secure ones a browser keeps behind HTTPS), redirects,
# multipart, and the benchmark's response headers.
# ------------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def metric(self, name: str) -> int:
        return int(self.headers.get(name.lower(), "0"))


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = "", memory: bool = False
    ) -> Response:
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "User-Agent": "segurnum-bench",
            "Connection": "close",
        }
        if memory:
            headers["X-Bench-Memory"] = "1"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if method == "POST":
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
            headers["Referer"] = f"https://127.0.0.1:{self.port}{path}"
            headers["Content-Type"] = content_type
            headers["Content-Length"] = str(len(body))
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        finally:
            connection.close()
        seconds = time.perf_counter() - started
        for name, value in answer.getheaders():
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name.strip()] = rest.split(";", 1)[0]
        headers_out = {name.lower(): value for name, value in answer.getheaders()}
        return Response(answer.status, headers_out, data, seconds)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, fields: dict, files: dict | None = None) -> Response:
        body, content_type = multipart(fields, files or {})
        return self.request("POST", path, body, content_type)

    def post_form(self, path: str, fields: dict) -> Response:
        return self.request("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def csrf(self) -> str:
        return next(value for name, value in self.cookies.items() if name.endswith("csrftoken"))


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ------------------------------------------------------------------------------------------------
# Data: the guide's referenced software and companies, one new vendor per walk, bulk-loaded requests
# ------------------------------------------------------------------------------------------------

WORDS = [
    "ALPHA",
    "BETA",
    "SANTE",
    "MEDICAL",
    "LOGICIEL",
    "SOINS",
    "NUMERIQUE",
    "CONSEIL",
    "SERVICES",
    "GESTION",
    "AGENDA",
    "CABINET",
    "PHARMA",
    "DATA",
    "RESEAU",
    "SYSTEMES",
    "INFORMATIQUE",
    "CENTRE",
    "ATLANTIQUE",
    "PROVENCE",
    "NORD",
    "SUD",
    "EST",
    "OUEST",
    "GROUPE",
]


def siret(prefix: str, index: int) -> str:
    from stdnum import luhn

    siren = f"{prefix}{index:0{8 - len(prefix)}d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + "0001"
    return base + luhn.calc_check_digit(base)


def vendor_number(index: int) -> str:
    return f"tndBNC{index:06d}"


def vendor_siret(index: int) -> str:
    return siret("8", index)


VENDORS = 2000  # distinct vendors available to the walks and the throughput run


def prepare_registries() -> None:
    """Referenced software and companies of the walks: one per vendor, the editor itself enrols."""
    companies = json.loads((ROOT / "fixtures" / "companies.json").read_text())
    for index in range(VENDORS):
        companies.append(
            {
                "siret": vendor_siret(index),
                "denomination": f"MEDIATION BANC {index}",
                "building": "",
                "street_number": "12",
                "street_extension": "",
                "street_type": "RUE",
                "street_name": "DE LA REPUBLIQUE",
                "address_complement": "",
                "postal_code": "69002",
                "city": "LYON",
            }
        )
    Path(os.environ["COMPANY_REGISTRY_FIXTURE"]).write_text(json.dumps(companies))


def load_software() -> None:
    from django.core.management import call_command

    from enrolment.models import ReferencedSoftware

    call_command("loaddata", "referenced_software", verbosity=0)
    ReferencedSoftware.objects.bulk_create(
        ReferencedSoftware(
            referencing_number=vendor_number(index),
            software_name=f"LOGICIEL BANC {index}",
            version="1",
            dsr_label="SAS / Logiciel de gestion / Vague 2",
            editor_siret=vendor_siret(index),
            editor_name=f"MEDIATION BANC {index}",
        )
        for index in range(VENDORS)
    )


# The dénomination searched in the back office: one loaded request has it (bulk_load). Searching
# the walks' own « MEDIATION BANC » would find as many requests as walks done so far in the run.
SEARCHED_DENOMINATION = "CABINET DURAND"
SEARCHED_TERM = "cabinet durand"


def bulk_load(target: int) -> float:
    """Bring the requests table to ``target`` rows with COPY (plus one status change each)."""
    import random

    from django.db import connection

    from enrolment.models import EnrolmentCounter, EnrolmentRequest, ReferencedSoftware
    from segurnum import encryption

    existing = EnrolmentRequest.objects.count()
    missing = target - existing
    if missing <= 0:
        return 0.0
    started = time.perf_counter()
    start = (EnrolmentCounter.objects.filter(name="enr").values_list("value", flat=True).first() or 0) + 1
    software_id = ReferencedSoftware.objects.order_by("id").values_list("id", flat=True).first()
    iban = encryption.encrypt_text(GUIDE_IBAN)
    iban_hash = encryption.search_hash(GUIDE_IBAN)
    rng = random.Random(target)
    statuses = ["submitted", "submitted", "in_review", "validated", "rejected"]
    rates = ["ttc_20", "ttc_8_5", "ttc_0", "ht_0"]
    columns = [
        "number",
        "sequence",
        "submission_key",
        "status",
        "submitted_at",
        "software_id",
        "referencing_number",
        "software_name",
        "software_version",
        "dsr_label",
        "siret",
        "registry_denomination",
        "denomination",
        "trade_name",
        "recipient",
        "building",
        "street_number",
        "street_extension",
        "street_type",
        "street_name",
        "address_complement",
        "postal_code",
        "city",
        "is_distributor",
        "is_legal_representative",
        "representative_last_name",
        "representative_first_name",
        "representative_email",
        "representative_phone",
        "depositor_last_name",
        "depositor_first_name",
        "depositor_email",
        "depositor_phone",
        "third_party_quality",
        "iban",
        "iban_hash",
        "bic",
        "account_holder",
        "bank_domiciliation",
        "vat_rate",
    ]
    buffer = StringIO()
    # One loaded request carries the name an agent searches (« Recherche dénomination »): the same
    # single match at every level, as a company has its one request.
    named = start if not EnrolmentRequest.objects.filter(denomination=SEARCHED_DENOMINATION).exists() else None
    for sequence in range(start, start + missing):
        words = " ".join(rng.sample(WORDS, 3))
        legal = rng.random() < 0.7
        row = [
            f"ENR{sequence:04d}M0",
            str(sequence),
            str(uuid.uuid4()),
            rng.choice(statuses),
            f"2025-{1 + sequence % 12:02d}-{1 + sequence % 28:02d} 10:00:00+00",
            str(software_id),
            f"tndLOAD{sequence:07d}",
            f"LOGICIEL {sequence}",
            "1",
            "SAS / Logiciel de gestion / Vague 1",
            siret("7", sequence),
            f"{words} {sequence}",
            SEARCHED_DENOMINATION if sequence == named else f"{words} {sequence}",
            f"{words[:20]} {sequence}",
            "",
            "",
            str(sequence % 200),
            "",
            "RUE",
            "DES LILAS",
            "",
            f"{10000 + sequence % 80000:05d}",
            "PARIS",
            "f",
            "t" if legal else "f",
            f"NOM{sequence}",
            "Prénom",
            f"representant{sequence}@exemple{sequence % 97}.fr",
            "0102030405",
            "" if legal else f"DEPOSANT{sequence}",
            "" if legal else "Claire",
            "" if legal else f"depositaire{sequence}@cabinet{sequence % 89}.fr",
            "" if legal else "0102030406",
            "" if legal else "management_centre",
            iban,
            iban_hash,
            "CCFRFRPP",
            f"TITULAIRE {sequence}",
            "",
            rng.choice(rates),
        ]
        buffer.write("\t".join(row) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        table = EnrolmentRequest._meta.db_table
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
        cursor.execute(
            "INSERT INTO enrolment_statuschange (enrolment_id, from_status, to_status, at, comment) "
            "SELECT id, '', 'submitted', submitted_at, '' FROM enrolment_enrolmentrequest r "
            "WHERE NOT EXISTS (SELECT 1 FROM enrolment_statuschange s WHERE s.enrolment_id = r.id)"
        )
        cursor.execute("UPDATE enrolment_enrolmentcounter SET value = %s WHERE name = 'enr'", [start + missing - 1])
        if cursor.rowcount == 0:
            cursor.execute(
                "INSERT INTO enrolment_enrolmentcounter (name, value) VALUES ('enr', %s)", [start + missing - 1]
            )
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------------------
# The guide's enrolment over HTTP
# ------------------------------------------------------------------------------------------------


def small_pdf(text: str) -> tuple[str, bytes, str]:
    from tests.files import pdf_bytes

    return (f"{text}.pdf", pdf_bytes(text), "application/pdf")


def step_path(step: str) -> str:
    return f"/enrolement/demande/{step}/"


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    if not match:
        raise AssertionError(f"champ caché {name} absent de la page")
    return match.group(1)


def expect(response: Response, status: int, what: str, location: str | None = None) -> Response:
    if response.status != status or (location and location not in response.headers.get("location", "")):
        snippet = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))
        errors = re.findall(r'class="fr-error-text"[^>]*>([^<]+)<', response.text)
        raise AssertionError(
            f"{what} : {response.status} {response.headers.get('location', '')} attendu {status} {location or ''} "
            f"{errors[:3]} {snippet[:300]}"
        )
    return response


WALK = [
    "Accueil du parcours (GET)",
    "Étape 1 GET",
    "Étape 1 « Rechercher » (POST)",
    "Étape 1 GET après recherche",
    "Étape 1 « Suivant » + certificat (POST)",
    "Étape 2 GET",
    "Étape 2 « Rechercher » SIRET (POST)",
    "Étape 2 GET, formulaire complet",
    "Étape 2 « Suivant » (POST)",
    "Étape 3 GET",
    "Étape 3 « Suivant » (POST)",
    "Étape 4 GET",
    "Étape 4 « Suivant » (POST)",
    "Étape 5 GET (récapitulatif + captcha)",
    "« Terminer » (POST)",
    "Page de confirmation (GET)",
]


def walk(port: int, index: int, floor: bool, certificate: tuple[str, bytes, str] | None = None):
    """The guide's enrolment for vendor ``index``; yields (label, response) of each request, and a
    floor request after each one when ``floor``."""
    client = Client(port)
    floor_client = Client(port)
    number, company_siret = vendor_number(index), vendor_siret(index)
    results: list[tuple[str, Response]] = []
    floors: list[Response] = []

    def record(label: str, response: Response) -> Response:
        results.append((label, response))
        if floor:
            floors.append(expect(floor_client.get("/__bench__/floor/"), 200, "plancher"))
        return response

    def post_step(label: str, step: str, data: dict, files: dict | None = None, action: str = "", expected=None):
        fields = {"csrfmiddlewaretoken": client.csrf(), MANAGEMENT: step}
        fields.update({f"{step}-{key}": value for key, value in data.items()})
        if action:
            fields["action"] = action
        prefixed_files = {f"{step}-{key}": value for key, value in (files or {}).items()}
        response = record(label, client.post(step_path(step), fields, prefixed_files))
        return expect(response, 302, label, expected)

    labels = iter(WALK)
    expect(record(next(labels), client.get("/enrolement/")), 302, "accueil")
    expect(record(next(labels), client.get(step_path("referencing"))), 200, "étape 1")
    post_step(next(labels), "referencing", {"referencing_number": number}, action="search_referencing")
    expect(record(next(labels), client.get(step_path("referencing"))), 200, "étape 1 après recherche")
    post_step(
        next(labels),
        "referencing",
        {"referencing_number": number},
        {"certificate": certificate or small_pdf("certificat ANS")},
        expected="applicant",
    )
    page = expect(record(next(labels), client.get(step_path("applicant"))), 200, "étape 2").text
    captcha = {"captcha_0": hidden(page, "applicant-captcha_0"), "captcha_1": "PASSED"}
    post_step(next(labels), "applicant", {"siret": company_siret, **captcha}, action="search_siret")
    page = expect(record(next(labels), client.get(step_path("applicant"))), 200, "étape 2 complète").text
    if 'name="applicant-denomination"' not in page:
        errors = re.findall(r'class="fr-error-text"[^>]*>([^<]+)<', page)
        raise AssertionError(f"la recherche du SIRET {company_siret} n'a rien trouvé : {errors}")
    applicant = {
        "denomination": f"MEDIATION BANC {index}",
        "trade_name": "Banc d'essai",
        "recipient": "",
        "building": "",
        "street_number": "12",
        "street_extension": "",
        "street_type": "RUE",
        "street_name": "DE LA REPUBLIQUE",
        "address_complement": "",
        "postal_code": "69002",
        "city": "LYON",
        "is_legal_representative": "oui",
        "representative_last_name": "Oda",
        "representative_first_name": "Eishiro",
        "representative_email": f"eishiro.oda{index}@example.fr",
        "representative_email_confirmation": f"eishiro.oda{index}@example.fr",
        "representative_phone": "06 68 56 15 65",
    }
    post_step(
        next(labels), "applicant", applicant, {"representative_id": small_pdf("cni representant")}, expected="bank"
    )
    expect(record(next(labels), client.get(step_path("bank"))), 200, "étape 3")
    bank = {"iban": GUIDE_IBAN, "bic": "CCFRFRPP", "account_holder": "ODA", "bank_domiciliation": ""}
    post_step(next(labels), "bank", bank, {"rib": small_pdf("RIB")}, expected="vat")
    expect(record(next(labels), client.get(step_path("vat"))), 200, "étape 4")
    post_step(
        next(labels),
        "vat",
        {"vat_rate": "ht_0"},
        {"vat_exemption_proof": small_pdf("attestation")},
        expected="confirmation",
    )
    page = expect(record(next(labels), client.get(step_path("confirmation"))), 200, "étape 5").text
    final = {
        "captcha_0": hidden(page, "confirmation-captcha_0"),
        "captcha_1": "PASSED",
        "accept_terms": "on",
        "accept_penal_code": "on",
        "accept_sincerity": "on",
    }
    fields = {
        "csrfmiddlewaretoken": client.csrf(),
        MANAGEMENT: "confirmation",
        "submission_key": hidden(page, "submission_key"),
        "recap_digest": hidden(page, "recap_digest"),
        **{f"confirmation-{key}": value for key, value in final.items()},
    }
    label = next(labels)
    # The confirmation form has no file field: a browser sends it URL-encoded (enrolment/wizard.html).
    expect(record(label, client.post_form(step_path("confirmation"), fields)), 302, label, "confirmation")
    # The confirmation lives at its own address (tracking): /enrolement/confirmation/ sends there.
    moved = expect(client.get("/enrolement/confirmation/"), 302, "confirmation", "/enrolement/demande-enregistree/")
    location = urllib.parse.urlsplit(moved.headers["location"]).path
    done = expect(record(next(labels), client.get(location)), 200, "confirmation")
    if "ENR" not in done.text:
        raise AssertionError("pas de numéro ENR sur la page de confirmation")
    return results, floors


# ------------------------------------------------------------------------------------------------
# Back office
# ------------------------------------------------------------------------------------------------

AGENT_PASSWORD = "Banc-essai-2026!"  # noqa: S105 - a throw-away account of a throw-away database


def create_agent() -> None:
    from django.contrib.auth.models import Group

    from accounts.groups import AGENT, SUPPORT
    from accounts.models import User

    user = User.objects.create_user(username="agent.banc", password=AGENT_PASSWORD, is_staff=True)
    for name in (AGENT, SUPPORT):
        group = Group.objects.filter(name=name).first()
        if group is not None:
            user.groups.add(group)


def agent_client(port: int) -> Client:
    client = Client(port)
    expect(client.get("/admin/login/"), 200, "connexion admin")
    response = client.post_form(
        "/admin/login/?next=/admin/",
        {"csrfmiddlewaretoken": client.csrf(), "username": "agent.banc", "password": AGENT_PASSWORD},
    )
    expect(response, 302, "connexion de l'agent")
    return client


def backoffice_queries() -> list[tuple[str, str]]:
    from enrolment.models import EnrolmentRequest

    target = EnrolmentRequest.objects.filter(number__startswith="ENR").order_by("sequence").first()
    last = EnrolmentRequest.objects.order_by("-sequence").first()
    admin = "/admin/enrolment/enrolmentrequest/"
    return [
        ("Liste des demandes", admin),
        ("Liste filtrée « Soumise »", admin + "?status__exact=submitted"),
        ("Recherche ENR", admin + "?" + urlencode({"q": last.number})),
        ("Recherche SIRET", admin + "?" + urlencode({"q": last.siret})),
        ("Recherche dénomination", admin + "?" + urlencode({"q": SEARCHED_TERM})),
        ("Recherche e-mail", admin + "?" + urlencode({"q": target.representative_email.upper()})),
        ("Recherche n° de référencement", admin + "?" + urlencode({"q": last.referencing_number.lower()})),
        ("Support : recherche ENR", "/admin/recherche-demande/?" + urlencode({"q": last.number.lower()})),
        ("Support : recherche e-mail", "/admin/recherche-demande/?" + urlencode({"q": target.representative_email})),
    ]


# ------------------------------------------------------------------------------------------------
# EXPLAIN of the queries that grow with the table
# ------------------------------------------------------------------------------------------------


def explain_queries() -> list[tuple[str, str, list]]:
    """The statements the portal sends, as its ORM writes them (not rewritten by hand)."""
    from django.contrib import admin

    from enrolment.models import EnrolmentRequest, ReferencedSoftware
    from support.lookup import find_requests

    last = EnrolmentRequest.objects.order_by("-sequence").first()
    model_admin = admin.site._registry[EnrolmentRequest]
    requests = EnrolmentRequest.objects.all()
    ordering = ("-submitted_at", "-id")

    def admin_search(term: str):
        found, _ = model_admin.get_search_results(None, requests, term)
        return found.order_by(*ordering)[:51]

    statements = [
        (
            "active_request_exists (n° de référencement, « Rechercher » de l'étape 1)",
            EnrolmentRequest.objects.exclude(status=EnrolmentRequest.Status.REJECTED)
            .filter(referencing_number__iexact=last.referencing_number.lower())
            .order_by()
            .values("id")[:1],
        ),
        (
            "logiciel référencé (« Terminer »)",
            ReferencedSoftware.objects.filter(referencing_number__iexact="TNDBNC000001", active=True).order_by(
                "referencing_number"
            )[:1],
        ),
        ("recherche admin : dénomination", admin_search(SEARCHED_TERM)),
        ("recherche admin : n° de référencement", admin_search(last.referencing_number.lower())),
        ("recherche admin : e-mail", admin_search(last.representative_email.upper())),
        ("support : e-mail", find_requests(last.representative_email).requests.values("id")),
    ]
    out = []
    for label, queryset in statements:
        sql, params = queryset.query.sql_with_params()
        out.append((label, sql, list(params)))
    # The changelist's paginator: Django's count() of the filtered list, as it writes it.
    out.append(
        (
            "liste filtrée « Soumise » : COUNT du paginateur",
            'SELECT COUNT(*) AS "__count" FROM "enrolment_enrolmentrequest" WHERE "status" = %s',
            ["submitted"],
        )
    )
    out.append(
        (
            "captcha : purge des codes expirés (20 000 codes en cours)",
            "DELETE FROM captcha_captchastore WHERE expiration <= now()",
            [],
        )
    )
    return out


def fill_captcha_store(rows: int = 20_000) -> None:
    """Codes being typed, as under load (each lives CAPTCHA_TIMEOUT minutes)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO captcha_captchastore (challenge, response, hashkey, expiration) "
            "SELECT 'ABCDE', 'abcde', md5(g::text || random()::text), now() + interval '20 minutes' "
            "FROM generate_series(1, %s) g",
            [rows],
        )
        cursor.execute("ANALYZE captcha_captchastore")


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
        cursor.execute("ROLLBACK")
    return "\n".join("      " + line for line in plan)


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------


def p50(values) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class LevelResult:
    rows: int
    load_seconds: float
    floor_ms: float
    requests: dict[str, list[Response]] = field(default_factory=lambda: defaultdict(list))
    backoffice: dict[str, list[Response]] = field(default_factory=lambda: defaultdict(list))
    backoffice_floor_ms: float = 0.0
    plans: list[tuple[str, str]] = field(default_factory=list)


def ms(response_list: list[Response]) -> float:
    return p50([r.seconds for r in response_list]) * 1000


def measure_level(port: int, rows: int, repeats: int, next_vendor, explain_on: bool) -> LevelResult:
    load_seconds = bulk_load(rows)
    requests: dict[str, list[Response]] = defaultdict(list)
    floors: list[Response] = []
    # Not measured: every worker's caches, connections and planner statistics at this size.
    for _ in range(WORKERS):
        walk(port, next_vendor(), floor=False)
    for _ in range(repeats):
        results, floor_responses = walk(port, next_vendor(), floor=True)
        for label, response in results:
            requests[label].append(response)
        floors += floor_responses
    result = LevelResult(rows, load_seconds, ms(floors), requests)
    agent = agent_client(port)
    floor_client = Client(port)
    backoffice_floors = []
    queries = backoffice_queries()
    for label, path in queries:
        expect(agent.get(path), 200, label)  # warm-up
    for _ in range(max(11, repeats)):
        for label, path in queries:
            result.backoffice[label].append(expect(agent.get(path), 200, label))
            backoffice_floors.append(floor_client.get("/__bench__/floor/"))
    result.backoffice_floor_ms = ms(backoffice_floors)
    if explain_on:
        fill_captcha_store()
        result.plans = [(label, explain(sql, params)) for label, sql, params in explain_queries()]
    return result


def upload_comparison(port: int, repeats: int, next_vendor) -> list[str]:
    """Step 1 « Suivant » with a 4 MiB certificate against the floor writing the same body raw."""
    from bench_uploads import pdf_4mib_scan_like

    data = pdf_4mib_scan_like()

    def pair(index: int, memory: bool = False) -> tuple[Response, Response]:
        """The upload and the floor, one after the other. With ``memory``, each worker first
        collects its garbage and gives freed memory back (to read the peak's growth): that
        takes time of its own, so those requests are not the ones timed."""
        client = Client(port)
        expect(client.get(step_path("referencing")), 200, "étape 1")
        fields = {
            "csrfmiddlewaretoken": client.csrf(),
            MANAGEMENT: "referencing",
            "referencing-referencing_number": vendor_number(index),
            "action": "search_referencing",
        }
        expect(client.post(step_path("referencing"), fields), 302, "recherche")
        fields.pop("action")
        body, content_type = multipart(fields, {"referencing-certificate": ("certificat.pdf", data, "application/pdf")})
        response = client.request("POST", step_path("referencing"), body, content_type, memory=memory)
        expect(response, 302, "certificat de 4 Mio", "applicant")
        floor = client.request("POST", "/__bench__/floor-upload/", body, content_type, memory=memory)
        expect(floor, 200, "plancher")
        if floor.metric("X-Bench-Body-Bytes") != len(body):
            raise AssertionError(f"le plancher a reçu {floor.metric('X-Bench-Body-Bytes')} octets sur {len(body)}")
        return response, floor

    # Not measured: the first upload of each worker loads what an upload needs once per process
    # (libmagic's database, Pillow, the antivirus connection code…).
    seen: dict[str, int] = defaultdict(int)
    for _ in range(WORKERS * 6):
        for response in pair(next_vendor()):
            seen[response.headers["x-bench-pid"] + response.headers.get("x-bench-body-bytes", "-")] += 1
        if len(seen) >= 2 * WORKERS and min(seen.values()) >= 2:
            break
    uploads, floors, measured = [], [], []
    for _ in range(repeats):
        upload, floor = pair(next_vendor())
        uploads.append(upload)
        floors.append(floor)
        measured.append(pair(next_vendor(), memory=True))
    size_kib = len(data) / 1024
    up_ms, floor_ms = ms(uploads), ms(floors)
    up_rss = p50([upload.metric("X-Bench-Rss-Growth-Kib") for upload, _ in measured]) / size_kib
    floor_rss = p50([floor.metric("X-Bench-Rss-Growth-Kib") for _, floor in measured]) / size_kib
    return [
        "| requête | p50 (ms) | ÷ plancher | croissance du pic de RSS ÷ fichier | requêtes SQL |",
        "|---|---:|---:|---:|---:|",
        f"| plancher : corps brut écrit (4 Mio) | {floor_ms:.1f} | 1.00 | {floor_rss:.2f} | "
        f"{p50([r.metric('X-Bench-Queries') for r in floors]):.0f} |",
        f"| étape 1 « Suivant » + certificat PDF de 4 Mio | {up_ms:.1f} | {up_ms / floor_ms:.2f} | {up_rss:.2f} | "
        f"{p50([r.metric('X-Bench-Queries') for r in uploads]):.0f} |",
        "",
        f"Objectif 2 : ≤ 2.00 × le plancher ({'atteint' if up_ms / floor_ms <= 2 else 'non atteint'}), "
        f"croissance du pic ≤ 1.25 × le fichier ({'atteint' if up_rss <= 1.25 else 'non atteint'}).",
    ]


def throughput(port: int, gunicorn: Gunicorn, enrolments: int, concurrency: int, next_vendor) -> list[str]:
    lock = threading.Lock()
    vendors = [next_vendor() for _ in range(enrolments)]
    server_cpu = []

    def one(index: int) -> None:
        results, _ = walk(port, index, floor=False)
        with lock:
            server_cpu.append(sum(r.metric("X-Bench-Cpu-Us") for _, r in results) / 1000)

    cpu_before, pg_before = gunicorn.cpu_seconds(), postgres_cpu()
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, vendors))
    elapsed = time.perf_counter() - started
    cpu = gunicorn.cpu_seconds() - cpu_before
    pg_cpu = postgres_cpu_since(pg_before)
    rate = enrolments / elapsed
    per_request = p50(server_cpu) / len(WALK)
    return [
        "| mesure | valeur |",
        "|---|---:|",
        f"| enrôlements complets ({len(WALK)} requêtes chacun) | {enrolments} en {elapsed:.1f} s |",
        f"| débit à la concurrence {concurrency} | **{rate:.1f} / s** |",
        f"| CPU gunicorn par enrôlement (processus, /proc) | {cpu / enrolments * 1000:.0f} ms |",
        f"| CPU Django par enrôlement (middleware, p50) | {p50(server_cpu):.0f} ms ({per_request:.1f} ms / requête) |",
        f"| CPU PostgreSQL par enrôlement (connexions de la base, au mieux) | {pg_cpu / enrolments * 1000:.0f} ms |",
        f"| plafond ≈ 2 cœurs ÷ CPU par enrôlement | {2 / max((cpu + pg_cpu) / enrolments, 1e-9):.1f} / s |",
        "",
        f"Objectif 5 : ≥ 20 / s ({'atteint' if rate >= 20 else 'non atteint'}).",
    ]


def report(levels: list[LevelResult], extra: dict[str, list[str]]) -> str:
    out: list[str] = []
    first, last = levels[0], levels[-1]
    out.append("## Objectif 1 — chaque requête du parcours ÷ le plancher (p50, même exécution)")
    out.append("")
    header = "| requête | " + " | ".join(f"{lv.rows:,} demandes : ms (÷ plancher)".replace(",", " ") for lv in levels)
    out.append(header + " | objectif |")
    out.append("|---|" + "---:|" * len(levels) + "---|")
    for label in WALK:
        cells = []
        for lv in levels:
            value = ms(lv.requests[label])
            cells.append(f"{value:.1f} ({value / lv.floor_ms:.2f})")
        goal = "≤ 3" if label.startswith("« Terminer »") else "≤ 2"
        out.append(f"| {label} | " + " | ".join(cells) + f" | {goal} |")
    out.append("| plancher | " + " | ".join(f"{lv.floor_ms:.1f} (1.00)" for lv in levels) + " | |")
    out.append("")
    out.append(
        "## Objectif 3 — requêtes SQL par requête HTTP "
        "(requêtes / dont hors transaction / contrôle de transaction : SAVEPOINT, RELEASE)"
    )
    out.append("")
    out.append("| requête | " + " | ".join(f"{lv.rows:,}".replace(",", " ") for lv in levels) + " | objectif |")
    out.append("|---|" + "---:|" * len(levels) + "---|")
    for label in WALK:
        cells = []
        for lv in levels:
            total = max(r.metric("X-Bench-Queries") for r in lv.requests[label])
            outside = max(r.metric("X-Bench-Queries-Autocommit") for r in lv.requests[label])
            control = max(r.metric("X-Bench-Queries-Control") for r in lv.requests[label])
            cells.append(f"{total} / {outside} / {control}")
        out.append(f"| {label} | " + " | ".join(cells) + " | ≤ 10 |")
    out.append("")
    title = f"## Objectif 4 — croissance : temps à {last.rows:,} ÷ temps à {first.rows:,} demandes"
    out.append(title.replace(",", " "))
    out.append("")
    out.append(
        "Le temps brut suit aussi la charge de la machine (partagée) : la colonne « corrigée » divise "
        "d'abord chaque temps par le plancher mesuré aux mêmes moments."
    )
    out.append("")
    out.append(
        "| requête | "
        + " | ".join(f"{lv.rows:,} : ms".replace(",", " ") for lv in levels)
        + f" | {last.rows:,} ÷ {first.rows:,} brut".replace(",", " ")
        + " | corrigée du plancher | SQL | objectif |"
    )
    out.append("|---|" + "---:|" * (len(levels) + 3) + "---|")

    def growth_row(label: str, values: list[float], floors: list[float], sql: int) -> str:
        raw = values[-1] / values[0]
        corrected = (values[-1] / floors[-1]) / (values[0] / floors[0])
        cells = " | ".join(f"{v:.1f}" for v in values)
        return f"| {label} | {cells} | {raw:.2f} | **{corrected:.2f}** | {sql} | ≤ 1.30 |"

    for label in WALK:
        values = [ms(lv.requests[label]) for lv in levels]
        sql = max(r.metric("X-Bench-Queries") for r in last.requests[label])
        out.append(growth_row(label, values, [lv.floor_ms for lv in levels], sql))
    for label in last.backoffice:
        values = [ms(lv.backoffice[label]) for lv in levels]
        sql = max(r.metric("X-Bench-Queries") for r in last.backoffice[label])
        out.append(growth_row(label, values, [lv.backoffice_floor_ms for lv in levels], sql))
    out.append(
        "| plancher (pendant le back-office) | "
        + " | ".join(f"{lv.backoffice_floor_ms:.1f}" for lv in levels)
        + f" | {last.backoffice_floor_ms / first.backoffice_floor_ms:.2f} | | | |"
    )
    out.append("")
    out.append(
        "Chargement (COPY + VACUUM ANALYZE) : "
        + ", ".join(f"{lv.rows:,} en {lv.load_seconds:.1f} s".replace(",", " ") for lv in levels)
    )
    for title, lines in extra.items():
        out.append("")
        out.append(title)
        out.append("")
        out.extend(lines)
    if last.plans:
        out.append("")
        out.append(f"## EXPLAIN ANALYZE à {last.rows:,} demandes".replace(",", " "))
        for label, plan in last.plans:
            out.append("")
            out.append(f"- {label}")
            out.append("")
            out.append(plan)
    return "\n".join(out)


def report_extra(extra: dict[str, list[str]]) -> str:
    return "\n".join(line for title, lines in extra.items() for line in ("", title, "", *lines))


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    load = os.getloadavg()
    return (
        f"Machine : {os.cpu_count()} cœurs ({cpu}), charge moyenne au départ {load[0]:.1f} ; "
        f"gunicorn {WORKERS} workers (sync), PostgreSQL, Redis, DJANGO_ENV=production."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default=os.environ.get("BENCH_LEVELS", "100,10000,100000"))
    # 15 walks per level: with 5, a ratio close to its target moved by ±10 % from one run to the
    # next on a shared machine, as much as the changes being compared.
    parser.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", "15")))
    parser.add_argument("--upload-repeats", type=int, default=11)
    parser.add_argument("--enrolments", type=int, default=int(os.environ.get("BENCH_ENROLMENTS", "160")))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--output", help="also write the report to this file")
    parser.add_argument(
        "--only",
        choices=["upload", "growth", "throughput"],
        help="one part only (the upload or the throughput run on an empty table)",
    )
    args = parser.parse_args()
    levels = [int(value) for value in args.levels.split(",")]

    began = time.perf_counter()
    print(machine(), flush=True)
    create_database()
    flush_redis()
    clamd = gunicorn = None
    try:
        clamd = start_clamd()
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        prepare_registries()
        load_software()
        create_agent()
        gunicorn = Gunicorn(free_port())
        counter = iter(range(VENDORS))
        next_vendor = lambda: next(counter)  # noqa: E731
        results = []
        for rows in levels if args.only in (None, "growth") else []:
            print(f"… {rows:,} demandes".replace(",", " "), flush=True)
            results.append(measure_level(gunicorn.port, rows, args.repeats, next_vendor, rows == levels[-1]))
        extra = {}
        if args.only in (None, "upload"):
            print("… téléversement de 4 Mio", flush=True)
            extra["## Objectif 2 — téléversement d'un certificat de 4 Mio"] = upload_comparison(
                gunicorn.port, args.upload_repeats, next_vendor
            )
        if args.only in (None, "throughput"):
            print(f"… débit, concurrence {args.concurrency}", flush=True)
            extra[f"## Objectif 5 — débit à la concurrence {args.concurrency}"] = throughput(
                gunicorn.port, gunicorn, args.enrolments, args.concurrency, next_vendor
            )
        text = machine() + "\n\n" + (report(results, extra) if results else report_extra(extra))
        text += f"\n\nDurée du banc d'essai : {time.perf_counter() - began:.0f} s.\n"
        print()
        print(text)
        if args.output:
            Path(args.output).write_text(text)
    finally:
        if gunicorn is not None:
            gunicorn.stop()
        from django.db import connections

        connections.close_all()
        drop_database()
        flush_redis()
        if clamd is not None:
            clamd.remove()
        shutil.rmtree(WORKDIR, ignore_errors=True)


if __name__ == "__main__":
    main()
