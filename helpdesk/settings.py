"""Helpforce settings, read only from the environment.

With nothing set, this is the embedded default: SQLite, the in-memory channel layer and
Celery tasks run in-process. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to
channels-redis and a real Celery broker.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_prices,
    env_str,
    env_url,
)

django_stubs_ext.monkeypatch()  # lets admin and querysets take type arguments

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HELPFORCE_VAR_DIR", str(BASE_DIR / "var")))

DATABASE_URL = env_url("DATABASE_URL", {"postgres", "postgresql", "sqlite"})
REDIS_URL = env_url("REDIS_URL", {"redis", "rediss", "unix"})
EMBEDDED = DATABASE_URL == ""

DEBUG = env_bool("DEBUG", default=EMBEDDED)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "embedded-demo-only-not-secret"  # noqa: S105 - DEBUG only, never production
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "django_ratelimit",
    "rest_framework",
    "drf_spectacular",
    "helpdesk",
    "routing",
    "charter",
    "helpdesk.reports",
    "helpdesk.monitoring",
]

MIDDLEWARE = [
    # First: every log line of a request carries its id.
    "helpdesk.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A NUL or an overlong text in any parameter is a 400 page, before any view sees it.
    "helpdesk.security.FormTextMiddleware",
    # The Content-Security-Policy, and no-store on every signed-in response.
    "helpdesk.security.SecurityHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # An empty 405 (require_POST's) becomes the site's page; after messages, so the page
    # shows and consumes them as any page does.
    "helpdesk.security.MethodNotAllowedPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"
WSGI_APPLICATION = "helpdesk.wsgi.application"

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
                "django.template.context_processors.i18n",
                "helpdesk.context_processors.desk_role",
            ],
        },
    },
]

if EMBEDDED:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "helpforce.sqlite3",
            # Threads of the embedded desk (web, poller, webhook) write to one file.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
else:
    # Under ASGI every request runs its synchronous code on a thread of its own, so a
    # connection kept per thread (conn_max_age) is a new connection per request: a pool of
    # DATABASE_POOL_SIZE connections per process lends one to each request instead (and keeps
    # what the connection prepared, such as the claim's statement). 0: no pool.
    DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 0, minimum=0, maximum=200)
    if DATABASE_POOL_SIZE:
        pooled: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=0))
        pooled["OPTIONS"] = {
            **pooled.get("OPTIONS", {}),
            "pool": {"min_size": 1, "max_size": DATABASE_POOL_SIZE, "timeout": 10},
        }
        DATABASES = {"default": pooled}
    else:
        DATABASES = {"default": dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Two channel layers. "default" queues messages per channel (channels-redis core): for
# direct sends to a channel, which must not be lost when nobody is reading yet. "events"
# carries the announcements (helpdesk.events): Redis pub/sub, one PUBLISH per event that each
# ASGI process receives once and hands to its own sockets, at most once (a listener that sees
# a gap in the numbers reloads from the database). Redis pub/sub ignores the database number,
# so it goes into the prefix: two desks on one Redis server never hear each other.
if REDIS_URL:
    from redis import ConnectionPool as _RedisPool

    _CHANNELS_PREFIX = env_str("CHANNELS_PREFIX", "helpforce")
    _REDIS_DB = int(_RedisPool.from_url(REDIS_URL).connection_kwargs.get("db") or 0)
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": _CHANNELS_PREFIX},
        },
        "events": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{_CHANNELS_PREFIX}.db{_REDIS_DB}."},
        },
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
        "events": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    }

# How often the live queue asks the server for the number of the last event, to notice a
# lost last event (one with no later event to reveal the gap).
QUEUE_PING_SECONDS = env_float("HELPFORCE_QUEUE_PING_SECONDS", 25.0, minimum=1.0)
# Events that reach a process within this many seconds of its last event frame are held and
# sent together, as one frame, at the end of that spell; the first after a quiet spell goes
# at once. Each frame is a socket write per volunteer: with thousands connected, those writes
# are most of the web processes' work, and at 10 questions a second a shorter window sends a
# frame per socket every window (docs/benchmarks.md, Load: 0.25 s was 2.5 times the frames
# and twice the web processes' CPU of 1 s). 0 sends each at once.
QUEUE_COALESCE_SECONDS = env_float("HELPFORCE_QUEUE_COALESCE_SECONDS", 1.0, minimum=0.0)

# Celery: with no broker the tasks run in-process, eagerly, in the caller's thread.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "helpforce")
CELERY_BEAT_POLL_SECONDS = env_float("HELPFORCE_BEAT_POLL_SECONDS", 5.0, minimum=0.5)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes): after HELPFORCE_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair waits HELPFORCE_LOGIN_COOLOFF_MINUTES. Username and
# address together, because a store's shared computer is one address for many employees.
AUTHENTICATION_BACKENDS = [
    "helpdesk.auth_backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("HELPFORCE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(
    minutes=env_int("HELPFORCE_LOGIN_COOLOFF_MINUTES", 15, minimum=1, maximum=24 * 60)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "helpdesk.auth_backends.locked_out"
AXES_VERBOSE = False

# The cache: Redis when there is one (shared by every process: the public forms' rate limits
# count across them), else this process's memory (the embedded desk is one process).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CHANNELS_PREFIX", "helpforce") + ".cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Public forms (enrolment, with its invitation codes) are rate-limited per address
# (django-ratelimit). Its checks predate Django's own RedisCache, which increments
# atomically; and memory is shared by everything only in the one-process embedded desk.
RATELIMIT_ENABLE = env_bool("HELPFORCE_RATELIMIT", True)
# Both limits count per client address (helpdesk.client_ip: REMOTE_ADDR, or, on a connection
# from one of the reverse proxies named here by address or network, the address they saw).
TRUSTED_PROXIES = env_networks("HELPFORCE_TRUSTED_PROXIES")
# Behind a proxy that terminates TLS: it says so in X-Forwarded-Proto (uvicorn is started
# without proxy headers, see helpdesk.client_ip, so nothing else tells Django).
if env_bool("HELPFORCE_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
RATELIMIT_IP_META_KEY = "helpdesk.client_ip.client_ip"
AXES_CLIENT_IP_CALLABLE = "helpdesk.client_ip.client_ip"
ENROLMENT_RATE = env_str("HELPFORCE_ENROLMENT_RATE", "10/h")
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
if not REDIS_URL:
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

LOGIN_URL = "login"
CSRF_FAILURE_VIEW = "helpdesk.views.home.csrf_failure"
# Each role's own first page (helpdesk.views.home): the queue, review, the reports.
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Without collectstatic (tests, a fresh checkout) serve from the apps' static folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Every script and style is a file served by the desk; nothing is inline and nothing is
# evaluated (htmx runs with allowEval off: see base.html). 'self' covers the live queue's
# websocket. Images: the desk's own, and the empty favicon (a data: URL).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
# Behind TLS (production): HSTS and the redirect to https, from the environment; off by
# default, and so in the demo, which is plain HTTP on loopback. The redirect needs
# HELPFORCE_BEHIND_TLS_PROXY when a proxy terminates TLS, or every request looks like http.
SECURE_HSTS_SECONDS = env_int("HELPFORCE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HELPFORCE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("HELPFORCE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("HELPFORCE_SSL_REDIRECT", False)
# Load balancers probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# /healthz says only whether the desk is up, except to superusers and to monitors that send
# "Authorization: Bearer <this token>" (empty: no token opens it).
METRICS_TOKEN = env_str("HELPFORCE_METRICS_TOKEN")
# The longest text the desk takes in one form field or query parameter (characters); a reply
# is 280 weighted characters, feedback and reasons a few sentences.
MAX_TEXT_CHARS = env_int("HELPFORCE_MAX_TEXT_CHARS", 10_000, minimum=1_000)
# /metrics (Prometheus) answers that token, and scrapers at these addresses or networks
# (the client's address as helpdesk.client_ip reads it); none by default.
METRICS_ALLOWED = env_networks("HELPFORCE_METRICS_ALLOWED")

# --- E-mail (the weekly report) -----------------------------------------------------------
# Embedded: printed on the console. Production: SMTP with the EMAIL_* variables, or any of
# Django's backends by its dotted path (the file backend with EMAIL_FILE_PATH, for example).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if EMBEDDED
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Helpforce <reports@helpforce.invalid>")
# The desk's public address, for links in e-mails (no request to take it from).
SITE_URL = env_url("HELPFORCE_SITE_URL", {"http", "https"}) or "http://127.0.0.1:8000"

# --- Reporting API (Django REST framework, OpenAPI by drf-spectacular) ---------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "helpdesk.reports.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["helpdesk.reports.api.permissions.ReadsReports"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Per reader (token or session): generous for dashboards, a brake on a runaway script.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("HELPFORCE_API_RATE", "1200/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpforce reporting API",
    "DESCRIPTION": (
        "Read-only figures of a brand's desk for its agency staff: the same figures as the "
        "report pages and exports (definitions in docs/metrics.md)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is read by the same people as the API.
    "SERVE_PERMISSIONS": ["helpdesk.reports.api.permissions.ReadsReports"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "helpdesk.reports.api.schema.empty_means_absent",
    ],
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# --- Routing and training ------------------------------------------------------------------
# The languages routing's detector chooses among (ISO 639-1) when X's lang names none.
ROUTING_DETECT_LANGUAGES = ("en", "fr", "es", "de")
# Training's practice questions: the sandbox's corpus files, read by path (charter must not
# import helpdesk).
PRACTICE_CORPUS_DIR = BASE_DIR / "helpdesk" / "x" / "sandbox" / "data"

# --- X -----------------------------------------------------------------------------------
# Base URL that replaces https://api.twitter.com/ (the X sandbox); empty means the real X.
X_API_BASE_URL = env_url("X_API_BASE_URL", {"http", "https"})
# App-level secret that signs Account Activity webhooks and answers their CRC challenge.
X_CONSUMER_SECRET = env_str("X_CONSUMER_SECRET")
X_HTTP_TIMEOUT_SECONDS = env_float("X_HTTP_TIMEOUT_SECONDS", 10.0, minimum=0.1)
X_MAX_PAGES_PER_POLL = env_int("X_MAX_PAGES_PER_POLL", 20, minimum=1)
X_BACKOFF_MAX_SECONDS = env_int("X_BACKOFF_MAX_SECONDS", 900, minimum=1)
# The X bill: dollars per post read, created or deleted, by price category (docs/metrics.md).
# X_PRICES='{"post_read": "0.005"}' overrides some; the rest keep X's published prices.
X_PRICES = env_prices("X_PRICES")

# OAuth 2.0 (PKCE) for volunteers who link their own X account.
X_OAUTH_CLIENT_ID = env_str("X_OAUTH_CLIENT_ID")
X_OAUTH_CLIENT_SECRET = env_str("X_OAUTH_CLIENT_SECRET")
# Fernet key for the linked accounts' tokens; derived from SECRET_KEY when unset.
TOKEN_ENCRYPTION_KEY = env_str("HELPFORCE_TOKEN_KEY")

# "plain" (the default) or "json": one JSON object per line, for a log collector.
LOG_FORMAT = env_choice("HELPFORCE_LOG_FORMAT", ("plain", "json"), "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        # One JSON object per line (python-json-logger), for log collectors.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {
        "permission_denied": {"()": "helpdesk.log_filters.PermissionDeniedOneLine"},
        "request_id": {"()": "helpdesk.request_ids.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # A 403 is one line ("Forbidden (Permission denied): /path"), not a traceback.
        "django.request": {"filters": ["permission_denied"]},
        "tweepy": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
        # Every login and clean-up at INFO; lockouts and repeated failures are warnings.
        "axes": {"level": "WARNING"},
        # The PDF exports: WeasyPrint narrates every step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
