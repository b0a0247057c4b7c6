"""The settings every environment shares (config.settings.local, test and production
start from here); every value is read through triage_core.config.

Environment (besides the addresses in docs/contracts.md):
- TRIAGE_DEBUG: "1" for Django's debug mode (off by default).
- TRIAGE_HTTPS: "1" behind a TLS-terminating proxy (secure cookies, HSTS, SSL redirect).
- DJANGO_SECRET_KEY: required in production (config.settings.production refuses to
  start without it); a local run generates one (config.settings.local).
- TRIAGE_ALLOWED_HOSTS: extra comma-separated host names (127.0.0.1 and localhost always).
- TRIAGE_WS_ORIGINS: comma-separated full origins allowed to open the live-queue socket
  (default http://127.0.0.1:<TRIAGE_WEB_PORT> and http://localhost:<TRIAGE_WEB_PORT>).
- TRIAGE_SUBMIT_RATE: public submissions per client, "<count>/<seconds>" (default 300/60),
  "0" turns the limit off (benchmarks that submit from one address).
- TRIAGE_SMTP_URL: where mail to customers goes, smtp://[user:password@]host:port
  (smtps:// for TLS from the first byte, ?starttls=1 for STARTTLS); by default the
  local mail server of `make up` (manage.py mail_server) on TRIAGE_SMTP_PORT.
- TRIAGE_MAIL_FROM, TRIAGE_MAIL_DOMAIN: the sender, and the domain of Message-IDs and
  of the per-complaint reply addresses (reply+<token>@<domain>).
- TRIAGE_PUBLIC_URL: the web app's address as customers reach it, for links in mail.
- TRIAGE_REOPEN_DAYS: how long after resolution a customer's reply reopens a complaint.
"""
from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from triage_core.config import PROJECT_ROOT, addresses, env, env_int, extra_model_names, var_dir

BASE_DIR: Path = PROJECT_ROOT
ADDRESSES = addresses()

DEBUG = env("TRIAGE_DEBUG", "0").lower() in {"1", "true", "yes", "on"}


# Empty here: config.settings.local fills it in, production requires it.
SECRET_KEY = env("DJANGO_SECRET_KEY", "")

ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] + [
    h.strip() for h in env("TRIAGE_ALLOWED_HOSTS", "").split(",") if h.strip()
]
# Full origins (scheme, host and port) a live-queue WebSocket may be opened from: by
# default the web server's own address. Behind a proxy: TRIAGE_WS_ORIGINS, e.g.
# "https://triage.example.com". A page on another port of the same host is another site.
_WEB_PORT = env_int("TRIAGE_WEB_PORT", 8000)
TRIAGE_WS_ORIGINS = [o.strip() for o in env(
    "TRIAGE_WS_ORIGINS", f"http://127.0.0.1:{_WEB_PORT},http://localhost:{_WEB_PORT}").split(",") if o.strip()]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "channels",
    "axes",
    "triage_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "triage_app.middleware.UnstorablePathMiddleware",
    "triage_app.middleware.BodyTooLargeMiddleware",
    "triage_app.middleware.PrivatePagesMiddleware",
    "triage_app.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the language switch's cookie, else Accept-Language (the
    # tracking page then prefers the complaint's own language).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "triage_app.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# The largest body a request may have: a 5,000-character complaint written entirely as
# JSON escapes is ~30 KiB. Larger is answered 413 before it is read (middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
ASGI_APPLICATION = "config.asgi.application"

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
                "triage_app.views.roles",
            ],
        },
    },
]


def database_from_url(url: str) -> dict:
    """Django's DATABASES entry for a postgresql:// URL (the contract's one format)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"TRIAGE_DATABASE_URL must be postgresql://..., got {parts.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # ASGI runs sync ORM calls in a thread pool, where persistent per-thread
        # connections would outlive their request; a psycopg pool hands each request a
        # connection that is already open (a new one costs ~5 ms of TCP + SCRAM).
        "CONN_MAX_AGE": 0,
        # Health checks make the pool test a connection before handing it out (one loopback
        # round trip), so after a Postgres restart no request gets a connection it broke.
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"pool": {"min_size": 2, "max_size": env_int("TRIAGE_DB_POOL_MAX", 20), "timeout": 10}},
    }


DATABASES = {"default": database_from_url(ADDRESSES.database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, shared by every ASGI worker: the channel layer (live queue) and the cache (rate
# limits, django-axes). The unit tests replace both (config.settings.test).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [ADDRESSES.redis_url], "prefix": "triage"},
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": ADDRESSES.redis_url,
        "KEY_PREFIX": "triage",
    }
}


def _submit_rate(raw: str) -> tuple[int, int]:
    if raw.strip() == "0":
        return (0, 1)
    try:
        count, seconds = (int(p) for p in raw.split("/", 1))
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRIAGE_SUBMIT_RATE must look like 300/60, got {raw!r}") from exc
    return (count, seconds)


# (max submissions, per seconds) for one client address; count 0 disables the limit.
TRIAGE_SUBMIT_RATE = _submit_rate(env("TRIAGE_SUBMIT_RATE", "300/60"))
# Models an admin may put in an experiment: a name serves its newest version, and
# `name@version` pins one (the scoring service serves every committed version).
# Builds trained here (`make train-corrections`: triage@2.1.0) join the default list.
TRIAGE_MODELS = tuple(m.strip() for m in env("TRIAGE_MODELS", ",".join(
    ["vader", "triage", "triage@1.0.0", "triage@2.0.0", *extra_model_names()])).split(",") if m.strip())


def smtp_from_url(url: str) -> dict[str, object]:
    """Django's EMAIL_* settings for an smtp:// or smtps:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ImproperlyConfigured(f"TRIAGE_SMTP_URL must be smtp://host:port or smtps://host:port, got {url!r}")
    starttls = "starttls=1" in parts.query.split("&")
    return {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": starttls,
    }


# Mail to customers: written to the mail outbox with the event that causes it, sent by
# `manage.py mail_relay` through Django's SMTP backend (triage_app/mail.py).
TRIAGE_SMTP_PORT = env_int("TRIAGE_SMTP_PORT", 2525)
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_TIMEOUT = 10
globals().update(smtp_from_url(env("TRIAGE_SMTP_URL", f"smtp://127.0.0.1:{TRIAGE_SMTP_PORT}")))
TRIAGE_MAIL_DOMAIN = env("TRIAGE_MAIL_DOMAIN", "triage.localhost")
DEFAULT_FROM_EMAIL = env("TRIAGE_MAIL_FROM", f"Customer support <support@{TRIAGE_MAIL_DOMAIN}>")
TRIAGE_PUBLIC_URL = env("TRIAGE_PUBLIC_URL", f"http://127.0.0.1:{_WEB_PORT}").rstrip("/")
TRIAGE_REOPEN_DAYS = env_int("TRIAGE_REOPEN_DAYS", 14)
# Where the local mail server keeps what it received for customers (one file per
# message); the staff mail page lists it. Empty in a deployment with a real relay.
TRIAGE_MAILDIR = var_dir() / "mail"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"

# Password guessing (django-axes): the staff login and the admin login both go through
# Django's authenticate(), which axes watches. After AXES_FAILURE_LIMIT failures for one
# account, or from one client address, that account or address is locked for the cool-off,
# whatever password comes next; every failure is logged (AccessFailureLog, in the admin).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("TRIAGE_LOGIN_FAILURE_LIMIT", 5)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account, per client
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TRIAGE_LOGIN_LOCK_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The client address as the rest of the product reads it (daphne's REMOTE_ADDR).
AXES_CLIENT_IP_CALLABLE = "triage_app.api.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
LOGIN_REDIRECT_URL = "staff-queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# The languages customers are written to in (triage_app.mail), from the text's script or
# the browser's Accept-Language; ru strings in locale/, compiled at set-up.
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Served straight from static/ (no collectstatic step for a local run); vendor files
# come from npm (package.json copies them into static/vendor).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the queue page's fetch() reads it for X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Served over HTTPS behind a TLS-terminating proxy (TRIAGE_HTTPS=1): cookies only over
# TLS, a year of HSTS, plain HTTP redirected, and the proxy's X-Forwarded-Proto trusted
# for "is this request secure" (the proxy must set it and strip a client's own).
# `manage.py check --deploy` then reports nothing (tests/triage_app/test_settings.py).
HTTPS = env("TRIAGE_HTTPS", "0").lower() in {"1", "true", "yes", "on"}
# The proxies in front of the web app (addresses or networks, comma-separated): from
# them, X-Forwarded-For names the client (its right-most untrusted hop, triage_app.api).
TRIAGE_TRUSTED_PROXIES = [ipaddress.ip_network(p.strip(), strict=False)
                          for p in env("TRIAGE_TRUSTED_PROXIES", "").split(",") if p.strip()]
if HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True  # eligible for browsers' preload list (submitting is a separate step)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # Expiring tokens stored hashed (django-rest-knox): `manage.py api_token <user>`.
        "knox.auth.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PARSER_CLASSES": ["triage_app.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "triage_app.api.exception_handler",
}
# An API token lasts this many hours (TRIAGE_API_TOKEN_HOURS, default 30 days); the
# database keeps only its hash, so a leaked database dump holds no usable token.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("TRIAGE_API_TOKEN_HOURS", 24 * 30)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Complaint triage API",
    "DESCRIPTION": "Public complaint submission and tracking; staff priority queue.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No tracking code in any log line ("Not Found: /track/<code>/"): triage_app.logs.
    "filters": {"no_tracking_codes": {"()": "triage_app.logs.RedactTrackingCodes"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["no_tracking_codes"]}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
