"""Liveward settings: serving safely (docs/deploy.md, docs/security.md "Deploying safely").

Behind TLS (``BEHIND_TLS_PROXY=1``: nginx terminates TLS and sends ``X-Forwarded-Proto``; or
``LIVEWARD_TLS=1`` when something else does), plain HTTP is redirected to HTTPS, browsers are told
to keep to HTTPS (HSTS), and the session and CSRF cookies travel over HTTPS only; each can be
turned off by its own variable. The Content-Security-Policy (django-csp) allows scripts from this
origin only: no inline script, no ``eval``, no other host.
"""

from csp.constants import NONE, SELF

from console.environment import check_url, env_bool, env_int, env_list

BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LIVEWARD_TLS = env_bool("LIVEWARD_TLS", BEHIND_TLS_PROXY)

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", LIVEWARD_TLS)
# The media servers' callbacks and the health probe may come over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^gate/", r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if LIVEWARD_TLS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", LIVEWARD_TLS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Where the console's player may fetch live video from (the media servers' play URLs), e.g.
# https://play.example.com; the console itself is always allowed.
LIVEWARD_CSP_MEDIA_ORIGINS = env_list("LIVEWARD_CSP_MEDIA_ORIGINS", [])
for _origin in LIVEWARD_CSP_MEDIA_ORIGINS:
    check_url("LIVEWARD_CSP_MEDIA_ORIGINS", _origin, {"http", "https"})

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        # 'self' covers the console's own WebSocket (ws: or wss: on the same host and port).
        "connect-src": [SELF, *LIVEWARD_CSP_MEDIA_ORIGINS],
        "media-src": [SELF, "blob:", *LIVEWARD_CSP_MEDIA_ORIGINS],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
