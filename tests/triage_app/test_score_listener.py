import json
import threading

import psycopg
import pytest
from channels.layers import get_channel_layer
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection

from tests.triage_app.factories import complaint_make, score_make
from triage_app.live import STAFF_QUEUE_GROUP
from triage_app.management.commands.score_listener import Command, notification_ids


@pytest.mark.parametrize("payload, ids", [
    ('{"ids": ["a", "b"], "escalated": ["a"]}', ["a", "b"]),
    ("not json", []), ('{"ids": "a"}', []), ("[1, 2]", []), ('{"ids": ["a", 3]}', ["a"]),
])
def test_notification_ids(payload, ids):
    assert notification_ids(payload) == ids


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_listener_pushes_what_a_real_notify_names():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(STAFF_QUEUE_GROUP, channel)
    complaint = complaint_make()
    score_make(complaint=complaint, compound=-0.8, priority=70, escalated=True)

    ready, stop = threading.Event(), threading.Event()
    handled = []

    def listen():
        try:
            handled.append(Command().listen(stop=stop, max_notifications=1, ready=ready))
        finally:
            connection.close()

    thread = threading.Thread(target=listen)
    thread.start()
    try:
        assert ready.wait(10)
        db = settings.DATABASES["default"]
        with psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                             port=db["PORT"], autocommit=True) as conn:
            conn.execute("SELECT pg_notify('complaint_scored', %s)",
                         (json.dumps({"ids": [str(complaint.id)], "escalated": [str(complaint.id)]}),))
        thread.join(10)
    finally:
        stop.set()
        thread.join(5)
    assert handled == [1]
    first = async_to_sync(layer.receive)(channel)
    assert first["type"] == "queue.refresh"  # sent on (re)connect
    second = async_to_sync(layer.receive)(channel)
    assert second["type"] == "queue.items" and second["items"][0]["id"] == str(complaint.id)
