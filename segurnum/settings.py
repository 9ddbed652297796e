"""Settings of the Ségur Numérique portal.

One module, driven by environment variables. Without any variable set, the portal runs on an
embedded default that needs nothing installed: SQLite, Celery in eager mode, mail written to
files under ``var/mail``. Production sets ``DJANGO_ENV=production`` plus the variables listed
in the README (DATABASE_URL, CELERY_BROKER_URL, EMAIL_*, DJANGO_SECRET_KEY…).
"""

import os
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from segurnum.encryption import EncryptionConfigurationError, check_keys, local_keys

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


PRODUCTION = env("DJANGO_ENV", "development") == "production"
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY doit être défini en production.")
    # Development only: never used when DJANGO_ENV=production (checked above).
    SECRET_KEY = "dev-only-not-secret-segurnum-" + "x" * 32

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# Absolute address of the portal, used in emails (never taken from the Host header).
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "formtools",
    "captcha",
    "dsfr",
    "accounts",
    "notifications",
    "enrolment",
    "public",
    "support",
    "portal",
    "funding",
    "tracking",
    "audit",
    "flags",
    "exports",
    "axes",
    # Project-wide checks (antivirus).
    "operations",
    "segurnum",
]

# The load balancer's health endpoint (segurnum/health.py) answers first: before the HTTPS
# redirect and before the ALLOWED_HOSTS check, since it probes each web server by IP over HTTP.
# The security headers (CSP, Permissions-Policy) wrap even the probe's answers; the client address
# is taken from the trusted reverse proxy before anything reads it (README « Le relais nginx »).
MIDDLEWARE = [
    "segurnum.middleware.SecurityHeadersMiddleware",
    "segurnum.health.HealthCheckMiddleware",
    "segurnum.middleware.ClientAddressMiddleware",
    "segurnum.after_response.AfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "segurnum.middleware.ServiceUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.FirstConnectionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "segurnum.urls"
WSGI_APPLICATION = "segurnum.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # {% url %} keeping the addresses of its literal tags (public.templatetags.segurnum_urls).
            "builtins": ["public.templatetags.segurnum_urls"],
        },
    },
]

# Widgets render through the project's templates, so templates/captcha/ can override the
# captcha's markup (French text alternative, audio link).
FORM_RENDERER = "segurnum.renderers.FormRenderer"

VAR_DIR = Path(env("SEGURNUM_VAR_DIR", str(BASE_DIR / "var")))

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'segurnum.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default keeps its database under var/, created on first use.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Several requests of the dev server may write at once (a double click on « Terminer »):
    # wait for the lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# The guide's rule (R-ACC-2, SECURITY A1), each broken rule named in French: at least
# 8 characters, 1 digit, 1 special character (any printable ASCII punctuation), no accented or
# other non-ASCII character, neither equal to nor containing the identifiant, not a common password.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "accounts.validators.MaximumLengthValidator"},
    {"NAME": "accounts.validators.DigitValidator"},
    {"NAME": "accounts.validators.SpecialCharacterValidator"},
    {"NAME": "accounts.validators.AsciiOnlyValidator"},
    {"NAME": "accounts.validators.IdentifiantValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes sees every sign-in (portal and admin) before the password is checked (R-ACC-5,
# SECURITY A2): after 10 consecutive failures on an identifiant, it is locked for a cool-off
# period; the locked-out answer is the very page a wrong password gets.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env("SEGURNUM_LOGIN_FAILURE_LIMIT", "10"))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = timedelta(minutes=int(env("SEGURNUM_LOGIN_COOLOFF_MINUTES", "30")))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_USERNAME_CALLABLE = "accounts.views.attempted_identifiant"
AXES_CLIENT_IP_CALLABLE = "segurnum.text.client_ip"
AXES_VERBOSE = False
# Locking per address as well would lock out a whole office behind one NAT after ten typos of
# different people; the decision (SECURITY A2) is a lock per identifiant.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "public:home"
# Recovery links are valid one hour (SECURITY A5) and sent from SITE_URL, never from Host (A6).
PASSWORD_RESET_TIMEOUT = 3600
# At most this many recovery requests per hour, per target (email or identifiant) and per
# address (SECURITY A10); 5 wrong answers to the secret question lock the recovery (A8).
RECOVERY_RATE_LIMIT = int(env("SEGURNUM_RECOVERY_RATE_LIMIT", "5"))
SECRET_ANSWER_MAX_FAILURES = 5
RECOVERY_LOCK_HOURS = 24

# One language: LANGUAGE_CODE is the one every request is served in, whatever the browser asks.
# No LocaleMiddleware to choose among one (R-PERF-5: it read Accept-Language and added a Vary on
# every page for nothing).
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# Public media: nothing of the vendors' lives here. Their documents go to PRIVATE_STORAGE_ROOT,
# which no URL serves (SECURITY F10).
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
PRIVATE_STORAGE_ROOT = Path(env("SEGURNUM_PRIVATE_STORAGE_ROOT", str(VAR_DIR / "private")))
# "private" and "drafts" move to an S3-compatible bucket with SEGURNUM_STORAGE_BACKEND=s3 (see
# STORAGE_BACKEND below).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "segurnum.storage.PrivateFileSystemStorage",
        "OPTIONS": {"subdir": "documents"},
    },
    "drafts": {
        "BACKEND": "segurnum.storage.PrivateFileSystemStorage",
        "OPTIONS": {"subdir": "drafts"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads (R-WIZ-9, SECURITY F3/F4/F5).
UPLOAD_MAX_BYTES = 4 * 1024 * 1024
UPLOAD_MAX_PIXELS = 40_000_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 10
DRAFT_MAX_AGE_HOURS = int(env("SEGURNUM_DRAFT_MAX_AGE_HOURS", "24"))

# Sessions live in the database: the wizard's earlier steps survive a restart of the web
# servers, and several gunicorn processes share them. They are read from the shared cache when
# there is one (segurnum.sessions: no SELECT per page, R-PERF-3), which a cache that is down only
# slows; see SESSION_CACHE_ALIAS below.
SESSION_ENGINE = "segurnum.sessions"
SESSION_COOKIE_AGE = 12 * 3600
# A signed-in user is signed out after 30 minutes without a request and 12 hours after signing
# in (SECURITY S2), by accounts.middleware.SessionTimeoutMiddleware.
SESSION_IDLE_TIMEOUT = int(env("SEGURNUM_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_ABSOLUTE_TIMEOUT = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A refused form gets a French page in the portal's shell (SECURITY A11).
CSRF_FAILURE_VIEW = "public.views.csrf_failure"

# Registries (enrolment/registries/).
COMPANY_REGISTRY_BACKEND = env("COMPANY_REGISTRY_BACKEND", "enrolment.registries.companies.FixtureCompanyRegistry")
COMPANY_REGISTRY_FIXTURE = Path(env("COMPANY_REGISTRY_FIXTURE", str(BASE_DIR / "fixtures" / "companies.json")))
COMPANY_REGISTRY_API_URL = env("COMPANY_REGISTRY_API_URL", "https://recherche-entreprises.api.gouv.fr")
COMPANY_REGISTRY_TIMEOUT = float(env("COMPANY_REGISTRY_TIMEOUT", "5"))

# Captcha (R-WIZ-2, R-WIZ-7).
CAPTCHA_IMAGE_SIZE = (150, 50)
CAPTCHA_FONT_SIZE = 34
CAPTCHA_LENGTH = 5
CAPTCHA_TIMEOUT = 30
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.random_char_challenge"
# French audio version of the captcha, spelled by espeak-ng when it is installed (an empty value
# turns the « Écouter le code » link off).
CAPTCHA_AUDIO_COMMAND = env("CAPTCHA_AUDIO_COMMAND", shutil.which("espeak-ng") or "")

# Celery. Without a broker the tasks run eagerly, in the web process, after the commit.
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A plain redis:// broker goes through kombu's Redis transport keeping its clients (R-PERF-5).
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "segurnum.broker:Transport"
# Publishing from a web request must never hang on a broker that is down: one quick retry, a
# short connect timeout, then the outbox row stays pending for the periodic re-queue. A task taken
# by a worker that dies (kill -9, lost machine) goes back to the queue once visibility_timeout
# seconds have passed without acknowledgement (SECURITY G3); keep it above the longest retry wait.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(env("SEGURNUM_BROKER_VISIBILITY_TIMEOUT", "3600")),
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
    "socket_connect_timeout": 2,
}
CELERY_BEAT_SCHEDULE = {
    "requeue-pending-emails": {"task": "notifications.tasks.requeue_pending_emails", "schedule": 120.0},
    "purge-stale-drafts": {"task": "enrolment.tasks.purge_stale_drafts", "schedule": 3600.0},
    # Captcha codes past their expiration (R-PERF-3: the check itself no longer purges them).
    "purge-expired-captchas": {"task": "enrolment.tasks.purge_expired_captchas", "schedule": 900.0},
    "purge-old-access-records": {"task": "enrolment.tasks.purge_old_access_records", "schedule": 86400.0},
    "process-pending-recovery-requests": {
        "task": "accounts.tasks.process_pending_recovery_requests",
        "schedule": 120.0,
    },
    "purge-recovery-requests": {"task": "accounts.tasks.purge_recovery_requests", "schedule": 86400.0},
    # Expired sessions, and the wizards' data they hold (IBANs, names), are deleted every hour (P6).
    "clear-expired-sessions": {"task": "accounts.tasks.clear_expired_sessions", "schedule": 3600.0},
    "purge-funding-checks": {"task": "funding.tasks.purge_funding_checks", "schedule": 900.0},
    "requeue-funding-checks": {"task": "funding.tasks.requeue_funding_checks", "schedule": 120.0},
    # R-AFT-1: the day-7 reminder of a request « A compléter » (an interval, so the embedded
    # default's after-response housekeeping runs it too).
    "remind-corrections": {"task": "enrolment.tasks.remind_corrections", "schedule": 3600.0},
    # R-OPS-5: identity documents and RIBs deleted a while after the decision, every day.
    "purge-decided-documents": {"task": "operations.tasks.purge_decided_documents", "schedule": 86400.0},
    # R-OPS-3: consistency flags whose computation a broker that was down left pending.
    "requeue-flag-refreshes": {"task": "flags.tasks.requeue_flag_refreshes", "schedule": 120.0},
    # R-OPS-5: the company registry's answers kept for the flags, deleted once no longer needed.
    "purge-registry-answers": {"task": "operations.tasks.purge_registry_answers", "schedule": 86400.0},
    # R-OPS-1: XLSX exports waiting for a worker that a broker that was down left pending.
    "requeue-xlsx-exports": {"task": "exports.tasks.requeue_xlsx_exports", "schedule": 120.0},
    # R-OPS-5: the XLSX export files, deleted EXPORT_FILE_RETENTION_HOURS after they were asked for.
    "purge-xlsx-exports": {"task": "exports.tasks.purge_xlsx_exports", "schedule": 3600.0},
}
# R-AFT-1: a request « A compléter »: the vendor's link is valid 15 days, reminded at day 7.
CORRECTION_LINK_DAYS = int(env("SEGURNUM_CORRECTION_LINK_DAYS", "15"))
CORRECTION_REMINDER_DAYS = int(env("SEGURNUM_CORRECTION_REMINDER_DAYS", "7"))
# Retention (R-OPS-5): identity documents and RIBs are deleted this many days after the request's
# decision (validated or rejected); the « Données personnelles » page states it.
IDENTITY_DOCUMENT_RETENTION_DAYS = int(env("SEGURNUM_IDENTITY_DOCUMENT_RETENTION_DAYS", "180"))
RIB_RETENTION_DAYS = int(env("SEGURNUM_RIB_RETENTION_DAYS", "180"))
# How long the back office's consultation log is kept (SECURITY P3: 6 to 12 months).
ACCESS_LOG_RETENTION_DAYS = int(env("SEGURNUM_ACCESS_LOG_RETENTION_DAYS", "365"))
# The company registry's answers kept to compare addresses (R-OPS-3) may name a sole trader: they
# are deleted this many days after the decision on the requests that used them, and this many days
# after the look-up when no request used them (R-OPS-5).
REGISTRY_ANSWER_RETENTION_DAYS = int(env("SEGURNUM_REGISTRY_ANSWER_RETENTION_DAYS", "180"))
REGISTRY_ANSWER_UNUSED_DAYS = int(env("SEGURNUM_REGISTRY_ANSWER_UNUSED_DAYS", "30"))
CELERY_TIMEZONE = TIME_ZONE

# Mail. Default: one .log file per message under var/mail.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Portail Ségur Numérique <ne-pas-repondre@segurnum.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where the « Contacter l'assistance » messages are forwarded.
SUPPORT_EMAIL = env("SUPPORT_EMAIL", "support@segurnum.localhost")
# The temporary password mailed after validation (R-MAIL-3, SECURITY A7): at most 72 hours.
TEMPORARY_PASSWORD_VALIDITY_HOURS = min(72, int(env("SEGURNUM_TEMPORARY_PASSWORD_HOURS", "72")))

# Security headers (SECURITY D1–D3). Secure cookies and HSTS in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # __Host- prefix (SECURITY S4): browsers keep these cookies only if Secure, without Domain,
    # with Path=/ (the defaults here), so no sibling domain can set or overwrite them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# Secrets never reach the access logs (P4): the reset token of a recovery link is masked in the
# lines of runserver (« django.server ») and of Django's request log. gunicorn.conf.py does the
# same for gunicorn's access log, deploy/nginx for nginx's.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secrets": {"()": "segurnum.logmask.MaskSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets"]},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["mask_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
    },
}

# A PostgreSQL server that does not answer makes a request fail after a few seconds, not hang.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(env("DATABASE_CONNECT_TIMEOUT", "5"))
    )

# The cache holds the rate limits (contact form, recovery). The embedded default keeps it in each
# process's memory; with several gunicorn processes or machines, CACHE_URL (a Redis database,
# e.g. redis://redis:6379/1) makes them share it.
CACHE_URL = env("CACHE_URL")
CACHES = {
    "default": (
        {
            # Django's, with one Redis client kept per connection pool (segurnum.cache).
            "BACKEND": "segurnum.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "segurnum",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # Sessions are read from the cache only when every process shares it (segurnum.sessions): a
    # process's own memory would give another process's older copy of a session. Without
    # CACHE_URL they are read from the database, through this cache that keeps nothing.
    "sessions": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
SESSION_CACHE_ALIAS = "default" if CACHE_URL else "sessions"

# Private documents and drafts (README « Stockage des pièces »). "filesystem", the default, keeps
# them under PRIVATE_STORAGE_ROOT: several web servers then share it as a volume (NFS…). "s3"
# puts them in a private bucket of an S3-compatible object store (AWS, OVH, Scaleway, MinIO), in
# two prefixes, documents/ and drafts/. The keys are never in this module: django-storages and
# boto3 read AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment. No URL is ever
# given out (PrivateS3Storage.url() refuses), so querystring_auth only guards against a leak.
STORAGE_BACKEND = env("SEGURNUM_STORAGE_BACKEND", "filesystem").strip().lower()
if STORAGE_BACKEND == "s3":
    S3_BUCKET = env("SEGURNUM_S3_BUCKET")
    if not S3_BUCKET:
        raise ImproperlyConfigured("SEGURNUM_S3_BUCKET doit être défini avec SEGURNUM_STORAGE_BACKEND=s3.")
    # Server-side encryption of every object written (SECURITY P5): AES256 (SSE-S3) by default in
    # production, "aws:kms" for a KMS key, "bucket" to rely on the bucket's own default encryption
    # (providers that refuse the header).
    S3_SSE = env("SEGURNUM_S3_SSE") or ("AES256" if PRODUCTION else "")
    if S3_SSE.lower() == "bucket":
        S3_SSE = ""
    S3_OPTIONS = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": env("SEGURNUM_S3_ENDPOINT_URL") or None,
        "region_name": env("SEGURNUM_S3_REGION") or None,
        # "path" for MinIO and other providers without per-bucket host names.
        "addressing_style": env("SEGURNUM_S3_ADDRESSING_STYLE") or None,
        # None: the objects follow the bucket's own (private) policy; "private" for providers that
        # want an explicit ACL.
        "default_acl": env("SEGURNUM_S3_DEFAULT_ACL") or None,
        "querystring_auth": True,
        "file_overwrite": False,
        # Server-side encryption of every object written, e.g. "AES256" (SSE-S3) or "aws:kms".
        "object_parameters": {"ServerSideEncryption": S3_SSE} if S3_SSE else {},
    }
    for alias, location in (("private", "documents"), ("drafts", "drafts")):
        STORAGES[alias] = {
            "BACKEND": "segurnum.storage.PrivateS3Storage",
            "OPTIONS": {**S3_OPTIONS, "location": location},
        }
elif STORAGE_BACKEND != "filesystem":
    raise ImproperlyConfigured("SEGURNUM_STORAGE_BACKEND vaut « filesystem » (par défaut) ou « s3 ».")

# Retries of the outbox's mail (SECURITY G2): the n-th retry waits BACKOFF × 2ⁿ seconds (at most
# 10 minutes); after MAX_RETRIES the row is « Échec » until an agent clicks « Renvoyer ».
EMAIL_RETRY_BACKOFF = float(env("SEGURNUM_EMAIL_RETRY_BACKOFF", "4"))
EMAIL_MAX_RETRIES = int(env("SEGURNUM_EMAIL_MAX_RETRIES", "10"))

# Antivirus (SECURITY F12, F12b, G6): every upload is scanned by a ClamAV daemon
# (segurnum/antivirus.py) at unix:///path or tcp://host:port. Production fails closed: by default
# Debian's clamav-daemon socket, and an empty address refuses to start; an unreachable daemon
# refuses uploads (« réessayez »). The embedded default scans nothing unless an address is given,
# and says so (manage.py check, and the log at every file).
CLAMD_ADDRESS = env("SEGURNUM_CLAMD_ADDRESS", "unix:///run/clamav/clamd.ctl" if PRODUCTION else "").strip()
if CLAMD_ADDRESS and not re.fullmatch(r"(unix://)?/\S+|(tcp://)?\S+:\d+", CLAMD_ADDRESS):
    raise ImproperlyConfigured("SEGURNUM_CLAMD_ADDRESS : unix:///chemin/du/socket ou tcp://hôte:port attendu.")
if PRODUCTION and not CLAMD_ADDRESS:
    raise ImproperlyConfigured(
        "SEGURNUM_CLAMD_ADDRESS ne peut pas être vide en production : les pièces seraient acceptées sans analyse."
    )
CLAMD_CONNECT_TIMEOUT = float(env("SEGURNUM_CLAMD_CONNECT_TIMEOUT", "2"))
CLAMD_TIMEOUT = float(env("SEGURNUM_CLAMD_TIMEOUT", "15"))

# Encryption at rest (SECURITY P2, P5; segurnum/encryption.py): keys outside the database. The
# first of ENCRYPTION_KEYS encrypts (IBANs, documents' data keys), all of them decrypt; the
# search hash key makes an exact IBAN findable. Production refuses to start without them; the
# embedded default generates its own under var/keys/ on first use (never committed).
ENCRYPTION_KEYS = env_list("SEGURNUM_ENCRYPTION_KEYS")
SEARCH_HASH_KEY = env("SEGURNUM_SEARCH_HASH_KEY").strip()
if not ENCRYPTION_KEYS or not SEARCH_HASH_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SEGURNUM_ENCRYPTION_KEYS et SEGURNUM_SEARCH_HASH_KEY doivent être définis en production "
            "(README, « Clés de chiffrement »)."
        )
    _local_encryption_keys, _local_search_key = local_keys(VAR_DIR / "keys")
    ENCRYPTION_KEYS = ENCRYPTION_KEYS or _local_encryption_keys
    SEARCH_HASH_KEY = SEARCH_HASH_KEY or _local_search_key
_key_variables = {"SEGURNUM_ENCRYPTION_KEYS": ENCRYPTION_KEYS, "SEGURNUM_SEARCH_HASH_KEY": [SEARCH_HASH_KEY]}
for _variable, _keys in _key_variables.items():
    try:
        check_keys(_keys)
    except EncryptionConfigurationError as error:
        raise ImproperlyConfigured(f"{_variable} : {error}") from error
if SEARCH_HASH_KEY in ENCRYPTION_KEYS:
    raise ImproperlyConfigured("SEGURNUM_SEARCH_HASH_KEY doit être une clé distincte des clés de chiffrement.")
# Funding requests (R-FIN-1..8). The format is a JSON Schema file that ASP may swap; the caps bound
# what one check reads (SECURITY F15): a JSON of 10 MiB, a zip of 500 MiB holding at most 2 000
# files, 500 MiB once decompressed, no member compressed more than 100 times (each member is then
# an enrolment document: 4 MiB at most). Dates of the lines fall inside the scheme's period.
FUNDING_SCHEMA_FILE = BASE_DIR / "funding" / "format" / "segurnum-financement-sas-1.0.schema.json"
FUNDING_EXAMPLE_FILE = BASE_DIR / "funding" / "format" / "exemple-financement-sas-1.0.json"
FUNDING_JSON_MAX_BYTES = 10 * 1024 * 1024
FUNDING_ZIP_MAX_BYTES = 500 * 1024 * 1024
FUNDING_ZIP_MAX_MEMBERS = 2000
FUNDING_ZIP_MAX_TOTAL_BYTES = 500 * 1024 * 1024
FUNDING_ZIP_MAX_RATIO = 100
FUNDING_PERIOD_START = date.fromisoformat(env("SEGURNUM_FUNDING_PERIOD_START", "2023-01-01"))
FUNDING_PERIOD_END = date.fromisoformat(env("SEGURNUM_FUNDING_PERIOD_END", "2027-12-31"))
# Public simulator and its JSON twin: checks per hour and per client address.
FUNDING_SIMULATOR_RATE_LIMIT = int(env("SEGURNUM_FUNDING_SIMULATOR_RATE_LIMIT", "20"))
# Files of an unfinished filing, and the reports of the simulators, are removed after this long.
FUNDING_CHECK_MAX_AGE_HOURS = 24
FUNDING_SIMULATION_REPORT_MINUTES = 60
# Abuse limits and integrity (SECURITY section H)
# Browser features no page of the portal uses, denied on every response (D5).
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)
# Addresses (or networks) of the reverse proxies whose X-Forwarded-For is believed (F3): nginx in
# docker-compose.yml. Empty in the embedded default: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env_list("SEGURNUM_TRUSTED_PROXIES")

# Per client address and per hour, in the shared cache (A12, F14): enrolment requests stored,
# « Afficher un nouveau code » of the captcha, audio versions of the captcha (each one starts an
# espeak-ng process), new drafts (a first file kept by a wizard, on step 1 without any captcha) and
# bytes of draft files.
ENROLMENT_SUBMIT_RATE_LIMIT = int(env("SEGURNUM_ENROLMENT_RATE_LIMIT", "5"))
# « Suivre ma demande » (R-AFT-3): look-ups per address and per hour, known and unknown pairs alike.
TRACKING_RATE_LIMIT = int(env("SEGURNUM_TRACKING_RATE_LIMIT", "20"))
CAPTCHA_REFRESH_RATE_LIMIT = int(env("SEGURNUM_CAPTCHA_REFRESH_RATE_LIMIT", "30"))
CAPTCHA_AUDIO_RATE_LIMIT = int(env("SEGURNUM_CAPTCHA_AUDIO_RATE_LIMIT", "20"))
DRAFT_RATE_LIMIT = int(env("SEGURNUM_DRAFT_RATE_LIMIT", "15"))
DRAFT_ADDRESS_MAX_BYTES = int(env("SEGURNUM_DRAFT_ADDRESS_MAX_MIB", "200")) * 1024 * 1024
# One wizard's files (the session's draft): at most this many, this many bytes in all.
DRAFT_MAX_FILES = int(env("SEGURNUM_DRAFT_MAX_FILES", "10"))
DRAFT_MAX_BYTES = int(env("SEGURNUM_DRAFT_MAX_MIB", "40")) * 1024 * 1024

# Exports of the back office (R-OPS-1): an XLSX is written by a Celery task into the private
# storage (encrypted), then downloaded from the « Exports » page; the CSV streams row by row. A file
# is deleted this many hours after it was asked for (R-OPS-5).
EXPORT_FILE_RETENTION_HOURS = int(env("SEGURNUM_EXPORT_FILE_RETENTION_HOURS", "48"))
# While an export is « en préparation », the « Exports » page reloads itself every this many seconds.
EXPORT_REFRESH_SECONDS = int(env("SEGURNUM_EXPORT_REFRESH_SECONDS", "5"))
# Without a broker there is no beat: the web process runs the periodic tasks itself, after the
# responses it sends, each at most as often as beat would (segurnum.housekeeping).
HOUSEKEEPING_IN_WEB = env_bool("SEGURNUM_HOUSEKEEPING_IN_WEB", CELERY_TASK_ALWAYS_EAGER)
