"""Alerts through the real stack: a complaint that escalates as the stream scores it is
announced to the admin's webhook, signed, by the stack's alert relay."""
from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import submit, wait_for
from tests.e2e.test_triage_model_e2e import WASHING_MACHINE
from tests.fakes import Receiver
from triage_app import alerts

pytestmark = pytest.mark.e2e


def test_an_escalation_reaches_the_webhook_signed(api, db):
    with Receiver([500]) as receiver:  # the first call fails: the relay retries it
        secret = alerts.secret_new()
        webhook_id = db.execute(
            "INSERT INTO triage_webhook (name, url, secret, events, active, created_at)"
            " VALUES ('e2e receiver ' || gen_random_uuid(), %s, %s, '[\"escalated\"]', true, now()) RETURNING id",
            (receiver.url, secret)).fetchone()[0]
        try:
            response = submit(api, WASHING_MACHINE + " Order e2e-alert.")
            assert response.status_code == 201, response.text
            complaint_id = response.json()["id"]
            db.execute("UPDATE triage_alert_delivery SET next_attempt_at = now() WHERE webhook_id = %s", (webhook_id,))

            def delivered():
                # The retry waits its back-off (10 s); bring it forward once the first attempt failed.
                db.execute("UPDATE triage_alert_delivery SET next_attempt_at = now() WHERE webhook_id = %s"
                           " AND delivered_at IS NULL AND attempts > 0", (webhook_id,))
                return [call for call in receiver.calls if json.loads(call[1])["complaint"]["id"] == complaint_id]

            calls = wait_for(lambda: len(delivered()) >= 2 and delivered(), timeout=120,
                             what="the escalation's webhook call and its retry")
            row = db.execute("SELECT attempts, delivered_at IS NOT NULL, gave_up_at FROM triage_alert_delivery"
                             " WHERE webhook_id = %s AND complaint_id = %s", (webhook_id, complaint_id)).fetchone()
        finally:
            # Django cascades in Python; in SQL the deliveries go first.
            db.execute("DELETE FROM triage_alert_delivery WHERE webhook_id = %s", (webhook_id,))
            db.execute("DELETE FROM triage_webhook WHERE id = %s", (webhook_id,))
    assert row == (2, True, None)
    for headers, body in calls:
        assert alerts.signature_valid(secret, int(headers["X-Triage-Timestamp"]), body,
                                      headers["X-Triage-Signature"])
    sent = json.loads(calls[-1][1])
    assert sent["event"] == "escalated" and sent["complaint"]["escalated"] is True
