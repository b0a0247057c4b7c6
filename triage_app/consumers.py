"""WebSocket adapter of the live queue: staff join one group, each event is forwarded.

A socket lives no longer than its user's right to it: each socket also joins its user's
group, which logging out or losing staff rights tells to close (triage_app.signals), and
before forwarding an event a socket re-checks, at most every SESSION_RECHECK_S, that its
session still exists and its user is still active staff (what a missed message or an
expired session would otherwise leave open). At the same check it re-reads the user's
teams: an agent in a team is sent only the items they may see (selectors.teams), and for
the others just their ids, as gone, so an item moved to another team leaves the screen.
"""
from __future__ import annotations

import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase

from triage_app.live import STAFF_QUEUE_GROUP, user_group
from triage_app.selectors import Viewer, user_is_staff, viewer_of

# Application close code for "not allowed" (4000-4999 are free for applications).
CLOSE_FORBIDDEN = 4403
SESSION_RECHECK_S = 30.0


def still_allowed(user_id, session: SessionBase | None) -> bool:
    """The user is still active staff and, for a session socket, the session still exists."""
    if session is not None and session.session_key and not session.exists(session.session_key):
        return False
    return get_user_model().objects.filter(pk=user_id, is_active=True, is_staff=True).exists()


class QueueConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if not user_is_staff(user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user_id = user.pk
        self.viewer: Viewer = await database_sync_to_async(viewer_of)(user)
        self.checked_at = time.monotonic()
        await self.channel_layer.group_add(STAFF_QUEUE_GROUP, self.channel_name)
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(STAFF_QUEUE_GROUP, self.channel_name)
        if hasattr(self, "user_id"):
            await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)

    async def allowed(self) -> bool:
        if time.monotonic() - self.checked_at < SESSION_RECHECK_S:
            return True
        self.checked_at = time.monotonic()
        if await database_sync_to_async(still_allowed)(self.user_id, self.scope.get("session")):
            self.viewer = await database_sync_to_async(viewer_of)(self.scope["user"])
            return True
        await self.close(code=CLOSE_FORBIDDEN)
        return False

    async def session_revoked(self, event: dict) -> None:
        await self.close(code=CLOSE_FORBIDDEN)

    async def receive_json(self, content, **kwargs) -> None:
        # Actions go through the HTTP API (CSRF, row locks, one code path); the socket
        # only answers a ping so clients can detect a dead connection.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def queue_items(self, event: dict) -> None:
        if await self.allowed():
            items = [item for item in event["items"] if self.viewer.sees_item(item)]
            if items:
                await self.send_json({"type": "items", "items": items})
            # What this reader may no longer see (moved to another team) leaves their screen:
            # its id only, nothing of its content.
            if gone := [item["id"] for item in event["items"] if not self.viewer.sees_item(item)]:
                await self.send_json({"type": "gone", "ids": gone})

    async def queue_refresh(self, event: dict) -> None:
        if await self.allowed():
            await self.send_json({"type": "refresh"})
