import json
import threading

import psycopg
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from tests.triage_app.factories import complaint_make, score_make
from triage_app import live
from triage_app.live import STAFF_QUEUE_GROUP
from triage_app.management.commands.score_listener import Command, notification_ids, scored_notifications_handle

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

    def flaky_handle(payloads):
        calls.append(payloads)
        if len(calls) == 1:
            raise OperationalError("couldn't get a connection after 10.00 sec")
        return 1

    monkeypatch.setattr(score_listener, "scored_notifications_handle", flaky_handle)
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


def _staff_channel():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(STAFF_QUEUE_GROUP, channel)
    return layer, channel


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_batch_in_several_notifications_is_pushed_once():
    layer, channel = _staff_channel()
    complaints = [complaint_make() for _ in range(3)]
    for c in complaints:
        score_make(complaint=c)
    ids = [str(c.id) for c in complaints]
    payloads = [json.dumps({"ids": ids[:2], "policy": 1}), json.dumps({"ids": ids[1:], "policy": 1}), "garbage"]
    assert scored_notifications_handle(payloads) == 3
    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == "queue.items" and sorted(i["id"] for i in message["items"]) == sorted(ids)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_more_complaints_than_a_screen_shows_become_one_refresh(monkeypatch):
    monkeypatch.setattr(live, "PUSH_ITEMS_MAX", 2)
    layer, channel = _staff_channel()
    complaints = [complaint_make() for _ in range(3)]
    for c in complaints:
        score_make(complaint=c)
    assert scored_notifications_handle([json.dumps({"ids": [str(c.id) for c in complaints]})]) == 3
    assert async_to_sync(layer.receive)(channel)["type"] == "queue.refresh"
    # Nothing else was sent for the three: the next message is the next push's.
    assert scored_notifications_handle([json.dumps({"ids": [str(complaints[0].id)]})]) == 1
    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == "queue.items" and [i["id"] for i in message["items"]] == [str(complaints[0].id)]
