"""The triage app's WebSocket routes (served by config.asgi)."""
from django.urls import path

from triage_app.consumers import QueueConsumer

websocket_urlpatterns = [path("ws/queue/", QueueConsumer.as_asgi())]
