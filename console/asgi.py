"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402

if settings.SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from console.body_limits import AnonymousBodyLimit, BodyDeadline  # noqa: E402
from moderation.gate.asgi import GateASGIApp  # noqa: E402

# The gate's callbacks are answered ahead of Django's middleware; everything else is Django's.
# Every body must arrive in time; bodies for Django are limited before Django reads them (the
# gate front limits its own: moderation/gate/limits.py).
http_app = BodyDeadline(GateASGIApp(AnonymousBodyLimit(django_asgi_app)))

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from console.routing import websocket_urlpatterns  # noqa: E402
from console.websocket_origin import SameOriginWebSocket  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": SameOriginWebSocket(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
