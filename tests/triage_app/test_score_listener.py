import json
import threading

import psycopg
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from tests.triage_app.factories import complaint_make, score_make
from triage_app.live import STAFF_QUEUE_GROUP
from triage_app.management.commands.score_listener import Command, notification_ids

A, B = "6d1f0c52-9c77-4d0f-9f7e-0b1d1c6f2a11", "0b8e7a2c-3c1d-4b59-8d8e-5f6a7b8c9d0e"

def start_listener():
    """The listener in a thread, until one notification is handled or `stop` is set."""
    ready, stop = threading.Event(), threading.Event()
    handled = []

    def listen():
        try:
            handled.append(Command().listen(stop=stop, max_notifications=1, ready=ready))
        finally:
            connection.close()

    thread = threading.Thread(target=listen)
    thread.start()
    return ready, stop, handled, thread


@pytest.mark.parametrize("payload, ids", [
    (f'{{"ids": ["{A}", "{B}"], "escalated": ["{A}"]}}', [A, B]),
    ("not json", []), ('{"ids": "a"}', []), ("[1, 2]", []), (f'{{"ids": ["{A}", 3]}}', [A]),
    ('{"ids": ["not-a-uuid"]}', []),
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

    ready, stop, handled, thread = start_listener()
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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_error_while_handling_costs_a_reconnect_not_the_listener(monkeypatch):
    from django.db import OperationalError

    from triage_app.management.commands import score_listener

    calls = []

    def flaky_handle(payload):
        calls.append(payload)
        if len(calls) == 1:
            raise OperationalError("couldn't get a connection after 10.00 sec")
        return 1

    monkeypatch.setattr(score_listener, "scored_notification_handle", flaky_handle)
    ready, stop, handled, thread = start_listener()
    db = settings.DATABASES["default"]
    try:
        for _ in range(2):
            assert ready.wait(15)
            ready.clear()
            with psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                                 port=db["PORT"], autocommit=True) as conn:
                conn.execute("SELECT pg_notify('complaint_scored', %s)", (json.dumps({"ids": [A]}),))
        thread.join(15)
    finally:
        stop.set()
        thread.join(5)
    assert len(calls) == 2
    assert handled == [1]
