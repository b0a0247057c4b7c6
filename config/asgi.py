"""ASGI entry point: HTTP through Django, WebSockets through Channels."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# Django must be set up before anything imports models (the consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from triage_app.routing import websocket_urlpatterns  # noqa: E402
from triage_app.startup import settle  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    # Full origins: scheme, host and port (settings.TRIAGE_WS_ORIGINS), not the host alone.
    "websocket": OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), settings.TRIAGE_WS_ORIGINS),
})
settle()
