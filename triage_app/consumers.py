"""WebSocket adapter of the live queue: staff join one group, each event is forwarded."""
from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from triage_app.live import STAFF_QUEUE_GROUP
from triage_app.selectors import user_is_staff

# Application close code for "not allowed" (4000-4999 are free for applications).
CLOSE_FORBIDDEN = 4403


class QueueConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        if not user_is_staff(self.scope.get("user")):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(STAFF_QUEUE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(STAFF_QUEUE_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # Actions go through the HTTP API (CSRF, row locks, one code path); the socket
        # only answers a ping so clients can detect a dead connection.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def queue_items(self, event: dict) -> None:
        await self.send_json({"type": "items", "items": event["items"]})

    async def queue_refresh(self, event: dict) -> None:
        await self.send_json({"type": "refresh"})
