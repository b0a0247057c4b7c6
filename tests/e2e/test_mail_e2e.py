"""Customers hear back, on the real stack: the web app writes the mail outbox, the mail
relay sends it over SMTP to the stack's own mail server (manage.py mail_server), which
keeps it in the Maildir var/test/mail/; a customer's answer by SMTP to the reply
address comes back through the same server onto the complaint."""
from __future__ import annotations

import email
import email.policy
import os
import smtplib
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.e2e.conftest import WEB, submit, wait_for
from triage_core.config import env_int, var_dir

pytestmark = [pytest.mark.e2e]

SMTP_PORT = env_int("TRIAGE_SMTP_PORT", 2525)
MAILDIR = var_dir() / "mail"
WASHER = ("I ordered a washing machine three weeks ago, paid 600 euros, and it still has not arrived. "
          "I called four times and nobody helps. Case {tag}.")
WASHER_RU = ("Я заказал стиральную машину три недели назад, заплатил 600 евро, а её до сих пор не привезли. "
             "Звонил четыре раза, никто не помогает. Дело {tag}.")


def mailbox_of(address: str) -> list[EmailMessage]:
    """Every message the local mail server holds for `address`, oldest first."""
    found = []
    for sub in ("new", "cur"):
        folder = MAILDIR / sub
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime):
            message = email.message_from_bytes(entry.read_bytes(), policy=email.policy.default)
            if message["To"] == address:
                found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def new_address() -> str:
    return f"customer-{uuid.uuid4().hex[:12]}@example.com"


def staff_reply(api, token: str, complaint_id: str, body: str) -> None:
    response = api.post(f"{WEB}/api/staff/complaints/{complaint_id}/replies/", json={"body": body},
                        headers={"Authorization": f"Token {token}"}, timeout=30)
    assert response.status_code in (200, 201), response.text


def test_the_acknowledgement_arrives_in_the_customers_language(api):
    english, russian = new_address(), new_address()
    tag = uuid.uuid4().hex[:8]
    first = submit(api, WASHER.format(tag=tag), email=english).json()
    submit(api, WASHER_RU.format(tag=tag), email=russian)
    [ack] = wait_for(lambda: mailbox_of(english), timeout=30, what="the English acknowledgement")
    assert ack["Subject"].startswith("We have your complaint") and ack["Auto-Submitted"] == "auto-generated"
    assert f"/track/{first['tracking_code']}/" in text_of(ack)
    assert ack["Reply-To"].startswith("reply+") and ack["Message-ID"].startswith("<complaint.")
    [ack_ru] = wait_for(lambda: mailbox_of(russian), timeout=30, what="the Russian acknowledgement")
    # Django folds a long encoded Subject onto its next line; unfolded, it starts with a space.
    assert ack_ru["Subject"].strip().startswith("Мы получили вашу жалобу") and ack_ru["Content-Language"] == "ru"
    assert (MAILDIR.stat().st_mode & 0o777) == 0o700


def test_a_staff_reply_is_mailed_and_the_customers_answer_comes_back(api, db, staff_token):
    address = new_address()
    created = submit(api, WASHER.format(tag=uuid.uuid4().hex[:8]), email=address).json()
    [ack] = wait_for(lambda: mailbox_of(address), timeout=30, what="the acknowledgement")
    staff_reply(api, staff_token, created["id"], "Sorry! Could you send us the order number?")
    reply = wait_for(lambda: mailbox_of(address)[1:], timeout=30, what="the staff reply mail")[0]
    assert "Could you send us the order number?" in text_of(reply)
    assert reply["In-Reply-To"] == ack["Message-ID"] and "Auto-Submitted" not in reply

    answer = EmailMessage()
    answer["From"], answer["To"] = address, reply["Reply-To"]
    answer["Subject"], answer["In-Reply-To"] = f"Re: {reply['Subject']}", reply["Message-ID"]
    answer.set_content("The order number is 4711.\n\nOn Tuesday, Support wrote:\n> Could you send us the order number?")
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=10) as client:
        client.send_message(answer)

    def answered():
        return db.execute("SELECT e.body, c.status FROM triage_complaint_event e JOIN triage_complaint c"
                          " ON c.id = e.complaint_id WHERE c.id = %s AND e.kind = 'customer_reply'",
                          [created["id"]]).fetchall()
    assert wait_for(answered, timeout=20, what="the answer on the complaint") == [
        ("The order number is 4711.", "awaiting_staff")]
    public = api.get(f"{WEB}/api/complaints/{created['tracking_code']}/", timeout=30).json()
    assert [m["body"] for m in public["customer_messages"]] == ["The order number is 4711."]


def test_mail_waits_while_the_mail_server_is_down_and_arrives_once(api, db, stack):
    addresses = [new_address() for _ in range(3)]
    stack.stop("mail")
    for address in addresses:
        submit(api, WASHER.format(tag=uuid.uuid4().hex[:8]), email=address)

    def failed_attempts():
        return db.execute("SELECT count(*) FROM triage_mail_outbox WHERE to_address = ANY(%s)"
                          " AND sent_at IS NULL AND attempts > 0", [addresses]).fetchone()[0] >= 1
    wait_for(failed_attempts, timeout=30, what="a failed delivery attempt while the server is down")
    assert all(mailbox_of(a) == [] for a in addresses)
    stack.start("mail")
    # Back-off is at most a minute; then each mail arrives, and only once.
    wait_for(lambda: all(mailbox_of(a) for a in addresses), timeout=90, what="every mail after the outage")
    time.sleep(3)
    assert [len(mailbox_of(a)) for a in addresses] == [1, 1, 1]
    sent = db.execute("SELECT count(*) FROM triage_mail_outbox WHERE to_address = ANY(%s) AND sent_at IS NOT NULL",
                      [addresses]).fetchone()[0]
    assert sent == 3


def test_the_staff_mail_page_is_behind_the_login(api):
    response = api.get(f"{WEB}/staff/mail/", allow_redirects=False, timeout=30)
    assert response.status_code == 302 and "/accounts/login/" in response.headers["Location"]
    assert os.path.isdir(Path(MAILDIR) / "new")


def test_resolution_mail_asks_for_a_rating_and_the_rating_is_kept(api, db, staff_token):
    address = new_address()
    created = submit(api, WASHER.format(tag=uuid.uuid4().hex[:8]), email=address).json()
    response = api.post(f"{WEB}/api/staff/complaints/{created['id']}/resolve/",
                        headers={"Authorization": f"Token {staff_token}"}, timeout=30)
    assert response.status_code == 200, response.text
    resolved = wait_for(lambda: [m for m in mailbox_of(address) if "resolved" in str(m["Subject"])], timeout=30,
                        what="the resolution mail")[0]
    track = f"{WEB}/track/{created['tracking_code']}/"
    assert f"2: {track}?rating=2#satisfaction" in text_of(resolved)

    customer = __import__("requests").Session()  # a browser of its own: no staff token
    customer.get(track, timeout=30)
    rated = customer.post(f"{track}rate/", data={"rating": "2", "comment": "Too slow.",
                                                "csrfmiddlewaretoken": customer.cookies["csrftoken"]},
                          timeout=30)
    assert rated.status_code == 200 and "You rated it 2 of 5" in rated.text
    assert db.execute("SELECT rating, comment FROM triage_satisfaction WHERE complaint_id = %s",
                      [created["id"]]).fetchall() == [(2, "Too slow.")]


def test_what_the_customer_adds_is_scored_and_can_escalate_the_complaint(api, db):
    """A mild complaint ranks low; the customer then writes that they will take legal
    action: the stream scores the conversation as revision 1 and the legal threat
    escalates it (the default policy's trigger), live, without staff doing anything."""
    created = submit(api, f"Case {uuid.uuid4().hex[:8]}: the delivery was a day later than promised.").json()

    def score():
        return db.execute("SELECT revision, escalated, priority, signals FROM triage_score WHERE complaint_id = %s",
                          [created["id"]]).fetchone()
    first = wait_for(score, timeout=60, what="the first score")
    assert first[0] == 0 and not first[1]
    customer = __import__("requests").Session()
    track = f"{WEB}/track/{created['tracking_code']}/"
    customer.get(track, timeout=30)
    sent = customer.post(track, data={"body": "It is still not here. If this is not fixed by Friday I will take "
                                              "legal action and contact my lawyer.",
                                      "csrfmiddlewaretoken": customer.cookies["csrftoken"]}, timeout=30)
    assert sent.status_code == 200
    revised = wait_for(lambda: (s := score()) and s[0] == 1 and s, timeout=60, what="the conversation's score")
    assert revised[1] and "legal_threat" in revised[3] and revised[2] >= first[2]
