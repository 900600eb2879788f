"""Site settings. Every deployment knob is read from the environment here, once.

Embedded default (nothing set): SQLite under ``<repo>/var/``, files under
``<repo>/media/``, Celery over kombu's filesystem transport under
``<repo>/var/broker/``. Scale-out: set ``DATABASE_URL`` (PostgreSQL),
``TOONBENCH_BROKER_URL`` (``redis://...``) and shared storage. See
``platform/DEPLOY.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from toonbench_site.secret_key import read_or_create_secret_key

PLATFORM_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = PLATFORM_DIR.parent
VAR_DIR = Path(os.environ.get("TOONBENCH_VAR_DIR", REPO_ROOT / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"environment variable {name}={value!r}: expected 1/0, true/false, yes/no or on/off")


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    return [part.strip() for part in value.split(",") if part.strip()] or default


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        return float(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"environment variable {name}={value!r}: expected a number") from None


# Off unless asked for: the debug pages show settings and tracebacks to anyone.
DEBUG = _env_bool("DEBUG", False)
# Without SECRET_KEY, a key generated on first start is kept in TOONBENCH_SECRET_KEY_FILE (mode 0600).
SECRET_KEY_FILE = Path(os.environ.get("TOONBENCH_SECRET_KEY_FILE", VAR_DIR / "secret_key"))
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "django-insecure-toonbench-development-key-only-for-debug" if DEBUG else read_or_create_secret_key(SECRET_KEY_FILE)
)
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "accounts",
    "benchmarks",
    "uploads",
    "submissions",
    "results",
    "jobs",
    "seeding",
    "leaderboards",
    "maintenance",
    "api",
    "registry",
    "teams",
    "organisers",
    "hostdesk",
    "notifications",
    "profiles",
]

MIDDLEWARE = [
    "toonbench_site.request_limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "toonbench_site.urls"
WSGI_APPLICATION = "toonbench_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'toonbench.sqlite3'}",
        conn_max_age=int(_env_number("DATABASE_CONN_MAX_AGE", 0)),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and workers write to one file: wait for locks instead of failing,
    # and take the write lock at BEGIN so read-then-write transactions never deadlock.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("TOONBENCH_STATIC_ROOT", REPO_ROOT / "staticfiles"))
STATICFILES_DIRS = [path for path in [PLATFORM_DIR / "static"] if path.is_dir()]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("TOONBENCH_MEDIA_ROOT", REPO_ROOT / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Uploads bigger than this stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Request bodies over this many bytes are refused (413) before they are read, on every route but the
# upload routes named below, which cap their own uploads (uploads/size_cap.py, chunked uploads).
TOONBENCH_MAX_REQUEST_BYTES = int(_env_number("TOONBENCH_MAX_REQUEST_MB", 10) * 1024 * 1024)
TOONBENCH_UPLOAD_URL_NAMES = ("submit", "api-submissions", "api-upload")
# A host's data archive for an uploaded benchmark: at most this many members and unpacked megabytes.
TOONBENCH_DATA_ARCHIVE_MAX_FILES = int(_env_number("TOONBENCH_DATA_ARCHIVE_MAX_FILES", 200_000))
TOONBENCH_DATA_ARCHIVE_MAX_MB = _env_number("TOONBENCH_DATA_ARCHIVE_MAX_MB", 20 * 1024)

# Production hardening: on unless DEBUG, each switchable for a TLS-terminating proxy setup.
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(_env_number("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Every API error is {"error": "<one line>", "field": name | null} (api/errors.py).
    "EXCEPTION_HANDLER": "api.errors.one_line_errors",
    # Sign-in routes (API token, login form, registry token): requests per client address.
    "DEFAULT_THROTTLE_RATES": {"auth": os.environ.get("TOONBENCH_AUTH_RATE", "30/min")},
    # Proxies in front of the site that append to X-Forwarded-For (0: the client is REMOTE_ADDR,
    # so a forged header cannot dodge throttling).
    "NUM_PROXIES": int(_env_number("TOONBENCH_NUM_PROXIES", 0)),
}
# Failed sign-ins counted per (client address, username) pair and per client address over a sliding
# window; past either limit, that address answers 429 with Retry-After until the window has passed, and
# never another address's sign-in (accounts/throttle.py).
TOONBENCH_AUTH_FAILURES_PER_USERNAME = int(_env_number("TOONBENCH_AUTH_FAILURES_PER_USERNAME", 10))
TOONBENCH_AUTH_FAILURES_PER_ADDRESS = int(_env_number("TOONBENCH_AUTH_FAILURES_PER_ADDRESS", 30))
TOONBENCH_AUTH_FAILURE_WINDOW_S = int(_env_number("TOONBENCH_AUTH_FAILURE_WINDOW_S", 900))
# Throttle counters live where every web process sees them: files under var/ (embedded default),
# or Redis when TOONBENCH_THROTTLE_CACHE_URL is a redis:// URL (several web hosts).
TOONBENCH_THROTTLE_CACHE_URL = os.environ.get("TOONBENCH_THROTTLE_CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": TOONBENCH_THROTTLE_CACHE_URL}
    if TOONBENCH_THROTTLE_CACHE_URL.startswith(("redis://", "rediss://"))
    else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "throttle")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ToonBench API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # API docs assets are served from this server (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema lists /api/v1/ paths; /api/ serves the same views as aliases (api/schema.py).
    "PREPROCESSING_HOOKS": ["api.schema.versioned_paths_only"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TOONBENCH_LOG_LEVEL", "INFO")},
}

# ToonBench: benchmarks, evaluation and jobs.
TOONBENCH_DATA_ROOT = Path(os.environ.get("TOONBENCH_DATA_ROOT", REPO_ROOT / "data"))
TOONBENCH_WORK_ROOT = Path(os.environ.get("TOONBENCH_WORK_ROOT", VAR_DIR / "jobs"))
TOONBENCH_RUNNER = os.environ.get("TOONBENCH_RUNNER", "docker")
if TOONBENCH_RUNNER not in ("docker", "local"):
    raise ImproperlyConfigured(
        f"environment variable TOONBENCH_RUNNER={TOONBENCH_RUNNER!r}: expected 'docker' or 'local'"
    )
TOONBENCH_FID_EXTRACTOR = os.environ.get("TOONBENCH_FID_EXTRACTOR", "")
TOONBENCH_DEVICE = os.environ.get("TOONBENCH_DEVICE", "")
TOONBENCH_HEARTBEAT_INTERVAL_S = _env_number("TOONBENCH_HEARTBEAT_INTERVAL_S", 10)
TOONBENCH_HEARTBEAT_STALE_S = _env_number("TOONBENCH_HEARTBEAT_STALE_S", 120)
TOONBENCH_MAX_ATTEMPTS = int(_env_number("TOONBENCH_MAX_ATTEMPTS", 3))
TOONBENCH_SWEEP_INTERVAL_S = _env_number("TOONBENCH_SWEEP_INTERVAL_S", 60)
TOONBENCH_LOG_TAIL_CHARS = int(_env_number("TOONBENCH_LOG_TAIL_CHARS", 20000))
# GPU device ids this worker hands to containers ("0,1"); empty: any the host has (platform/DEPLOY.md).
TOONBENCH_GPUS = tuple(_env_list("TOONBENCH_GPUS", []))
# Largest size a `docker save` tarball may unpack to on a worker (gzip included), and the most it may
# inflate relative to the uploaded file.
TOONBENCH_MAX_IMAGE_MB = _env_number("TOONBENCH_MAX_IMAGE_MB", 20 * 1024)
TOONBENCH_MAX_IMAGE_RATIO = _env_number("TOONBENCH_MAX_IMAGE_RATIO", 100)
# Anonymous benchmark pages are served from memory while the leaderboard version, re-read
# at most this often per process, is unchanged (leaderboards/pagecache.py).
TOONBENCH_PAGE_CACHE_RECHECK_S = _env_number("TOONBENCH_PAGE_CACHE_RECHECK_S", 2)
# Resumable chunked uploads (uploads/chunked.py): where unfinished uploads grow, how long one
# may wait for its next chunk before the sweep removes it, the largest chunk one request may carry,
# and how many unfinished uploads one user may hold at once.
TOONBENCH_UPLOAD_DIR = Path(os.environ.get("TOONBENCH_UPLOAD_DIR", VAR_DIR / "uploads"))
TOONBENCH_UPLOAD_EXPIRY_S = _env_number("TOONBENCH_UPLOAD_EXPIRY_S", 24 * 3600)
TOONBENCH_UPLOAD_CHUNK_MB = _env_number("TOONBENCH_UPLOAD_CHUNK_MB", 64)
TOONBENCH_UPLOAD_MAX_OPEN = int(_env_number("TOONBENCH_UPLOAD_MAX_OPEN", 3))
# Disk budget of uploads (uploads/ledger.py): an upload reserves its declared size when it
# is opened, until it completes, is deleted or is swept; 507 past one user's budget (default: two
# uploads of the default limits.upload_mb), past the budget of all open uploads, or past the free
# space of the upload disk less the reserve always kept free there for the database and results.
TOONBENCH_UPLOAD_USER_BUDGET_MB = _env_number("TOONBENCH_UPLOAD_USER_BUDGET_MB", 4096)
TOONBENCH_UPLOAD_TOTAL_BUDGET_MB = _env_number("TOONBENCH_UPLOAD_TOTAL_BUDGET_MB", 20 * 1024)
TOONBENCH_UPLOAD_DISK_RESERVE_MB = _env_number("TOONBENCH_UPLOAD_DISK_RESERVE_MB", 2048)

# E-mail: notifications, address confirmation and password reset (platform/DEPLOY.md, "E-mail").
# TOONBENCH_EMAIL_BACKEND is "console" (the embedded default: mails are printed by the worker), "smtp"
# (the TOONBENCH_EMAIL_* server below) or the dotted path of any Django e-mail backend.
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_EMAIL_BACKEND_NAME = os.environ.get("TOONBENCH_EMAIL_BACKEND", "console")
EMAIL_BACKEND = _EMAIL_BACKENDS.get(_EMAIL_BACKEND_NAME, _EMAIL_BACKEND_NAME)
EMAIL_HOST = os.environ.get("TOONBENCH_EMAIL_HOST", "localhost")
EMAIL_PORT = int(_env_number("TOONBENCH_EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("TOONBENCH_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("TOONBENCH_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("TOONBENCH_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = _env_number("TOONBENCH_EMAIL_TIMEOUT_S", 30)
DEFAULT_FROM_EMAIL = os.environ.get("TOONBENCH_EMAIL_FROM", "ToonBench <noreply@localhost>")
# The site's address as participants reach it: the start of every link in a mail.
TOONBENCH_SITE_URL = os.environ.get("TOONBENCH_SITE_URL", "http://localhost:8000").rstrip("/")
# Phase mails: an opening is announced up to this many hours after it, a close this many hours before it.
TOONBENCH_PHASE_NOTICE_H = _env_number("TOONBENCH_PHASE_NOTICE_H", 24)

# The platform's image registry (scripts/services/registry.sh) and pulling images (platform/DEPLOY.md,
# "Registry"). The site signs the registry's bearer tokens with TOONBENCH_REGISTRY_KEY; workers pull
# with the service credential below (default: a random password generated once per installation into
# TOONBENCH_REGISTRY_WORKER_PASSWORD_FILE, mode 0600; workers on other hosts set the same value).
TOONBENCH_REGISTRY_ADDR = os.environ.get("TOONBENCH_REGISTRY_ADDR", "127.0.0.1:5000")
TOONBENCH_REGISTRY_DIR = Path(os.environ.get("TOONBENCH_REGISTRY_DIR", VAR_DIR / "registry"))
TOONBENCH_REGISTRY_KEY = Path(os.environ.get("TOONBENCH_REGISTRY_KEY", TOONBENCH_REGISTRY_DIR / "token.key"))
TOONBENCH_REGISTRY_SERVICE = os.environ.get("TOONBENCH_REGISTRY_SERVICE", "toonbench-registry")
TOONBENCH_REGISTRY_ISSUER = os.environ.get("TOONBENCH_REGISTRY_ISSUER", "toonbench")
TOONBENCH_REGISTRY_TOKEN_TTL_S = _env_number("TOONBENCH_REGISTRY_TOKEN_TTL_S", 300)
TOONBENCH_REGISTRY_WORKER_USER = os.environ.get("TOONBENCH_REGISTRY_WORKER_USER", "toonbench-worker")
TOONBENCH_REGISTRY_WORKER_PASSWORD_FILE = Path(
    os.environ.get("TOONBENCH_REGISTRY_WORKER_PASSWORD_FILE", VAR_DIR / "registry_worker_password")
)
TOONBENCH_REGISTRY_WORKER_PASSWORD = os.environ.get("TOONBENCH_REGISTRY_WORKER_PASSWORD") or read_or_create_secret_key(
    TOONBENCH_REGISTRY_WORKER_PASSWORD_FILE, "TOONBENCH_REGISTRY_WORKER_PASSWORD"
)
# A docker config.json with `docker login` credentials for registries outside the platform.
TOONBENCH_REGISTRY_CREDENTIALS = os.environ.get("TOONBENCH_REGISTRY_CREDENTIALS", "")
# Registries spoken to over plain HTTP besides loopback ones (comma-separated host:port).
TOONBENCH_INSECURE_REGISTRIES = tuple(_env_list("TOONBENCH_INSECURE_REGISTRIES", []))
# Registries on loopback or private addresses (besides the platform's own) that submissions may name.
TOONBENCH_PRIVATE_REGISTRIES = tuple(_env_list("TOONBENCH_PRIVATE_REGISTRIES", []))
TOONBENCH_REGISTRY_TIMEOUT_S = _env_number("TOONBENCH_REGISTRY_TIMEOUT_S", 20)
# Image references that fail to resolve count per user: this many failures in a window of this many
# seconds, then 429 until the window ends (registry/attempts.py).
TOONBENCH_IMAGE_PIN_FAILURES = int(_env_number("TOONBENCH_IMAGE_PIN_FAILURES", 10))
TOONBENCH_IMAGE_PIN_FAILURE_WINDOW_S = int(_env_number("TOONBENCH_IMAGE_PIN_FAILURE_WINDOW_S", 3600))
TOONBENCH_PULL_TIMEOUT_S = _env_number("TOONBENCH_PULL_TIMEOUT_S", 1800)
TOONBENCH_IMAGE_CACHE_GB = _env_number("TOONBENCH_IMAGE_CACHE_GB", 50)

# Celery. The embedded default needs no server: kombu's filesystem transport.
TOONBENCH_BROKER_URL = os.environ.get("TOONBENCH_BROKER_URL", "filesystem://localhost/")
TOONBENCH_BROKER_DIR = Path(os.environ.get("TOONBENCH_BROKER_DIR", VAR_DIR / "broker"))
CELERY_BROKER_URL = TOONBENCH_BROKER_URL
if TOONBENCH_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(TOONBENCH_BROKER_DIR / "queue"),
        "data_folder_out": str(TOONBENCH_BROKER_DIR / "queue"),
        "control_folder": str(TOONBENCH_BROKER_DIR / "control"),
    }
else:
    # A delivered but unacknowledged message (its worker died) goes back to the queue
    # after visibility_timeout; a redelivery of a job that is still alive is refused
    # by the job's heartbeat check, so a short timeout only costs a cheap no-op.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _env_number("TOONBENCH_BROKER_VISIBILITY_TIMEOUT_S", 600),
        "unacked_restore_interval": _env_number("TOONBENCH_BROKER_RESTORE_INTERVAL_S", 10),
        "unacked_restore_throttle": 1,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "evaluate"
# Task names are what queued messages carry: they keep the names first deployed
# (jobs.queueing's evaluate task, maintenance.tasks' sweep), so an upgrade loses no queued job.
CELERY_TASK_ROUTES = {
    "submissions.tasks.evaluate_submission": {"queue": "evaluate"},
    "submissions.tasks.sweep_stale_jobs": {"queue": "maintenance"},
    "leaderboards.tasks.compare_neighbours": {"queue": "maintenance"},
    "notifications.tasks.send_mail": {"queue": "maintenance"},
}
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {
        "task": "submissions.tasks.sweep_stale_jobs",
        "schedule": TOONBENCH_SWEEP_INTERVAL_S,
        # A sweep that waited behind a long job is superseded by the next one.
        "options": {"expires": TOONBENCH_SWEEP_INTERVAL_S},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = _env_bool("TOONBENCH_EAGER_JOBS", False)
