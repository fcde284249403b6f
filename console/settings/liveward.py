"""Liveward's own settings: the gate, the console, credit, webhooks, blacklist, the run command,
reports and emergencies, logging. Read from the environment like base.py."""

import sys

from django.core.exceptions import ImproperlyConfigured

from celery.schedules import crontab

from console import environment
from console.environment import bad_value, check_url, env_bool, env_float, env_int, env_list, env_str
from console.settings.base import CELERY_BEAT_SCHEDULE, DEBUG, SECRET_KEY, VAR_DIR

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
# Threads per ASGI process that file the platform app's reports ahead of Django (moderation/gate/report_filing.py).
LIVEWARD_REPORT_THREADS = env_int("LIVEWARD_REPORT_THREADS", 4, minimum=1, maximum=64)
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
# The CJK font the report's PDF is set in (Debian: fonts-noto-cjk; the first face of a collection).
LIVEWARD_REPORT_FONT = env_str("LIVEWARD_REPORT_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
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
# Where the run command's console listens; port 0 (unset): the first free port from 8000.
LIVEWARD_HOST = env_str("LIVEWARD_HOST", "127.0.0.1")
LIVEWARD_PORT = env_int("LIVEWARD_PORT", 0, minimum=0, maximum=65535)
# Where the demo's stand-in node (simulate_streams) answers drop and stat calls; 0 (unset): the run
# command takes the first free port from 8081, and seed_demo points the node there.
LIVEWARD_SIMULATOR_CONTROL_PORT = env_int("LIVEWARD_SIMULATOR_CONTROL_PORT", 0, minimum=0, maximum=65535)
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
# How often beat recounts the last minute's comments of live streams for their cards (a room under pressure).
LIVEWARD_COMMENT_PRESSURE_SECONDS = env_int("LIVEWARD_COMMENT_PRESSURE_SECONDS", 5, minimum=1, maximum=300)
CELERY_BEAT_SCHEDULE["liveward-comment-pressure"] = {
    "task": "moderation.tasks.comments.record_comment_pressure",
    "schedule": float(LIVEWARD_COMMENT_PRESSURE_SECONDS),
}
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
# The public page's proof of work (moderation/report_proof.py): leading zero bits of SHA-256 the browser
# must find (each bit doubles the work: 14 is about 16,000 hashes on average, docs/reports.md), and how
# long a challenge stays good. The platform app's API is not asked: its reports carry the platform token.
LIVEWARD_REPORT_PROOF_BITS = env_int("LIVEWARD_REPORT_PROOF_BITS", 14, minimum=0, maximum=28)
LIVEWARD_REPORT_PROOF_SECONDS = env_int("LIVEWARD_REPORT_PROOF_SECONDS", 300, minimum=30, maximum=3600)
_OVERDUE_REPORTS = {"task": "moderation.tasks.reports.find_overdue_reports", "schedule": 15.0}
CELERY_BEAT_SCHEDULE["liveward-overdue-reports"] = _OVERDUE_REPORTS
# Signs the packages of reports to the authorities (Ed25519): a private key in PEM (or _FILE); unset: the
# key file below, made with mode 0600 on first use. The regulator verifies with the public key alone.
LIVEWARD_AUTHORITY_SIGNING_KEY = env_str("LIVEWARD_AUTHORITY_SIGNING_KEY").strip()
if LIVEWARD_AUTHORITY_SIGNING_KEY and not environment.is_ed25519_private_pem(LIVEWARD_AUTHORITY_SIGNING_KEY):
    raise ImproperlyConfigured(
        "LIVEWARD_AUTHORITY_SIGNING_KEY (or LIVEWARD_AUTHORITY_SIGNING_KEY_FILE) must be an Ed25519 private key in "
        "PEM (openssl genpkey -algorithm ed25519), no longer an HMAC secret; unset, "
        "var/authority_signing_key.pem is used."
    )
LIVEWARD_AUTHORITY_SIGNING_KEY_PATH = VAR_DIR / "authority_signing_key.pem"
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
