"""Pushes to the staff dashboards over the Channels layer.

Callers run these from `transaction.on_commit`, so a rolled-back write never reaches a
screen. They run after the write is committed: a layer outage (Redis down) is logged,
not raised, because the write itself succeeded and dashboards resync on reconnect.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from triage_app.selectors import queue_items_by_ids

log = logging.getLogger(__name__)

STAFF_QUEUE_GROUP = "staff_queue"
# Items per layer message: keeps one message well under channels-redis' size comfort
# zone when a micro-batch of a thousand complaints is pushed at once.
PUSH_CHUNK = 100
# A dashboard lists at most this many complaints (selectors.queue). When the stream
# commits more than this at once (a backlog, a bulk load), pushing each one would cost the
# listener ~0.3 ms a complaint of serialising, most of it for items no screen shows:
# dashboards are told to reload their own view instead, which brings exactly the top of
# it, once.
PUSH_ITEMS_MAX = 500


def user_group(user_id) -> str:
    """The group of one staff member's open sockets (all their tabs)."""
    return f"staff_user_{user_id}"


def _send(event: dict, group: str = STAFF_QUEUE_GROUP) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        log.exception("live push %s failed; dashboards will catch up on reconnect", event.get("type"))


def sockets_close(*, user_id) -> None:
    """Close every live-queue socket of this user (logged out, or no longer staff).
    Best effort like every push: a socket the message misses closes at its next
    session check (consumers.SESSION_RECHECK_S)."""
    _send({"type": "session.revoked"}, group=user_group(user_id))


def queue_push_items(*, complaint_ids: Sequence) -> int:
    """Send the current state of these complaints to every staff dashboard."""
    items = queue_items_by_ids(complaint_ids=complaint_ids)
    for start in range(0, len(items), PUSH_CHUNK):
        _send({"type": "queue.items", "items": items[start:start + PUSH_CHUNK]})
    return len(items)


def queue_push_scored(*, complaint_ids: Sequence) -> int:
    """Show just-scored complaints: as items, or as one refresh when there are too many
    for any screen (PUSH_ITEMS_MAX). Returns how many complaints the push covers."""
    if len(complaint_ids) > PUSH_ITEMS_MAX:
        queue_push_refresh()
        return len(complaint_ids)
    return queue_push_items(complaint_ids=complaint_ids)


def queue_push_refresh() -> None:
    """Tell dashboards to reload the whole queue (after a re-ranking of everything)."""
    _send({"type": "queue.refresh"})
