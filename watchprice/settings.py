"""WatchPrice settings, read from the environment.

With no environment at all the app runs on its embedded default: a SQLite file and a Celery
broker kept in files under ``var/``, so a fresh machine needs no server. Every variable is read
through a small typed reader that stops start-up with a message naming the variable and what it
expects.
"""

import base64
import binascii
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"{name} is required but not set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0), got {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from None


def env_list(name: str, default: list[str], sep: str = ",") -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(sep) if item.strip()]


def env_url(name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env_str(name, default)
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        expected = ", ".join(f"{s}://…" for s in schemes)
        raise ImproperlyConfigured(f"{name} must be a URL of the form {expected}, got {value!r}.")
    return value


DEBUG = env_bool("DEBUG", default=True)

VAR_DIR = Path(env_str("WATCHPRICE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# The development key only exists so the embedded default starts with no environment; production
# refuses to start without a real one.
_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-3b1f7c0e"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else None)
if not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be a random string of at least 50 characters in production "
        "(DEBUG=false); generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is required in production (DEBUG=false): a comma-separated list of the "
        "host names this site is served on, e.g. ALLOWED_HOSTS=prices.example.com."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "catalog",
    "ledger",
    "scraping",
    "pricing",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "watchprice.middleware.htmx_login_redirect",
]

ROOT_URLCONF = "watchprice.urls"
WSGI_APPLICATION = "watchprice.wsgi.application"

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
        },
    },
]

DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'watchprice.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql"),
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss"))
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "watchprice",
        }
    }
else:
    # A file cache is shared by every process on the machine (web, worker, beat), which the
    # politeness limits and circuit breakers need; a per-process memory cache would not be.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "scraping:product-list"
LOGOUT_REDIRECT_URL = "login"

# Production hardening; all of it is what `check --deploy` asks for.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Email -----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "WatchPrice <watchprice@localhost>")

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["watchprice.permissions.ReadForUsersWriteWithModelPermission"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 50),
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # Seed 1's limits: 100/hour for anonymous callers, 1000/hour for registered users.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "100/hour"),
        "user": env_str("API_THROTTLE_USER", "1000/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WatchPrice API",
    "DESCRIPTION": "Catalog, retailer prices, MAP enforcement and a verifiable price ledger.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- Celery ----------------------------------------------------------------------------------
# Without REDIS_URL the broker is kombu's filesystem transport: real queues in files that the
# worker, beat and the web process share, with no server to install.
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    for sub in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- Ledger ----------------------------------------------------------------------------------
LEDGER_ORIGIN = env_str("LEDGER_ORIGIN", "watchprice.local/ledger")
# Checkpoints are signed with Ed25519 so anyone holding the public key can check them without
# being able to sign. The seed is 32 random bytes, base64; make one with
# `python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'`.
# In DEBUG without it, a key is derived from SECRET_KEY: good for the demo, worthless for audits.
LEDGER_SIGNING_KEY = env_str("LEDGER_SIGNING_KEY", "" if DEBUG else None)
if LEDGER_SIGNING_KEY:
    try:
        _seed_length = len(base64.b64decode(LEDGER_SIGNING_KEY, validate=True))
    except binascii.Error:
        _seed_length = -1
    if _seed_length != 32:
        raise ImproperlyConfigured(
            "LEDGER_SIGNING_KEY must be the base64 encoding of a 32-byte Ed25519 seed."
        )

# --- Scraping --------------------------------------------------------------------------------
# The demo marketplace the run command serves on loopback; seed_demo points its retailers here.
DEMO_MARKETPLACE_URL = env_url(
    "DEMO_MARKETPLACE_URL", "http://127.0.0.1:8001", schemes=("http", "https")
)
# Outbound fetches go to public addresses only. These host:port pairs are let through anyway:
# by default in DEBUG just the demo marketplace, never all of loopback.
FETCH_ALLOWED_HOSTS = env_list(
    "FETCH_ALLOWED_HOSTS", [urlsplit(DEMO_MARKETPLACE_URL).netloc] if DEBUG else []
)
# User agents contain commas, so this list is separated by "|".
FETCH_USER_AGENTS = env_list("FETCH_USER_AGENTS", [], sep="|")
FETCH_PROXIES = env_list("FETCH_PROXIES", [])
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 5 * 1024 * 1024)
FETCH_TIMEOUT_SECONDS = env_int("FETCH_TIMEOUT_SECONDS", 30)
FETCH_MAX_ATTEMPTS = env_int("FETCH_MAX_ATTEMPTS", 3)
# "direct" fetches pages ourselves; "provider" goes through the scraping provider below.
SCRAPING_TRANSPORT = env_str("SCRAPING_TRANSPORT", "direct")
if SCRAPING_TRANSPORT not in {"direct", "provider"}:
    raise ImproperlyConfigured(
        f"SCRAPING_TRANSPORT must be 'direct' or 'provider', got {SCRAPING_TRANSPORT!r}."
    )
# An Oxylabs-compatible provider: realtime and push-pull APIs, credentials for basic auth.
SCRAPING_PROVIDER_REALTIME_URL = env_str(
    "SCRAPING_PROVIDER_REALTIME_URL", "https://realtime.oxylabs.io"
)
SCRAPING_PROVIDER_API_URL = env_str("SCRAPING_PROVIDER_API_URL", "https://data.oxylabs.io")
SCRAPING_PROVIDER_USERNAME = env_str("SCRAPING_PROVIDER_USERNAME", "")
SCRAPING_PROVIDER_PASSWORD = env_str("SCRAPING_PROVIDER_PASSWORD", "")
if SCRAPING_TRANSPORT == "provider" and not (
    SCRAPING_PROVIDER_USERNAME and SCRAPING_PROVIDER_PASSWORD
):
    raise ImproperlyConfigured(
        "SCRAPING_TRANSPORT=provider needs SCRAPING_PROVIDER_USERNAME and "
        "SCRAPING_PROVIDER_PASSWORD."
    )
# Where the provider can reach our batch webhook (https://…); empty: poll for results instead.
SCRAPING_CALLBACK_BASE_URL = env_str("SCRAPING_CALLBACK_BASE_URL", "")
# A local headless Chromium for retailers whose pages need JavaScript; empty: none.
SCRAPING_BROWSER_PATH = env_str("SCRAPING_BROWSER_PATH", "")
PROBE_PAGE_RETENTION_DAYS = env_int("PROBE_PAGE_RETENTION_DAYS", 90)
PROBE_LEASE_SECONDS = env_int("PROBE_LEASE_SECONDS", 300)

# --- Pricing ---------------------------------------------------------------------------------
# Competitor prices older than this are stale: the engine ignores them and says so.
PRICING_MAX_OBSERVATION_AGE_HOURS = env_int("PRICING_MAX_OBSERVATION_AGE_HOURS", 72)
# Each nightly run stores a forecast per listing and horizon; older runs keep their metrics
# (the admin's history of model quality) but their forecasts are deleted after this many runs.
FORECAST_RUNS_KEPT = env_int("FORECAST_RUNS_KEPT", 7)
# Our own MAP when a product has no MAP override: MSRP x this share (seed 2's default 80%).
PRICING_DEFAULT_MAP_PERCENTAGE = env_str("PRICING_DEFAULT_MAP_PERCENTAGE", "0.80")

# --- Alerts ----------------------------------------------------------------------------------
# Webhook deliveries are signed with this (HMAC-SHA256 of "<timestamp>.<body>"); receivers keep
# the same secret. In DEBUG without it, one is derived from SECRET_KEY.
ALERT_WEBHOOK_SECRET = env_str("ALERT_WEBHOOK_SECRET", "" if DEBUG else None)
ALERT_DELIVERY_MAX_ATTEMPTS = env_int("ALERT_DELIVERY_MAX_ATTEMPTS", 5)

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # One line per outbound request is noise; failures are logged by the probe service.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
