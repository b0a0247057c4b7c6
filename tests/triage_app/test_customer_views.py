"""The customer's side of the conversation on the web (the tracking page's reply form) and
the staff page of mail customers received."""
from __future__ import annotations

import json
import re
import smtplib

import pytest
from aiosmtpd.controller import Controller

from tests.triage_app.test_mail_relay import free_port
from triage_app import errors, mail, services
from triage_app.management.commands.mail_server import Handler, maildir_open
from triage_app.models import Complaint, ComplaintEvent, MailMessage, Satisfaction

pytestmark = pytest.mark.django_db

TEXT = "The washing machine I paid for three weeks ago has still not arrived."
XSS = '<script>alert("x")</script>'


def test_the_tracking_page_reply_form_sends_the_complaint_back_to_staff(client, staff_user):
    complaint = services.complaint_submit(text=TEXT, email=None, source="web")
    services.complaint_claim(complaint_id=complaint.id, by=staff_user)
    url = f"/track/{complaint.tracking_code}/"
    response = client.post(url, {"body": f"Here is my order number: 12345 {XSS}"})
    assert response.status_code == 302 and response["Location"] == url
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.AWAITING_STAFF and complaint.claimed_by == staff_user
    page = client.get(url).content.decode()
    assert "You wrote:" in page and "Here is my order number: 12345" in page
    assert XSS not in page and "&lt;script&gt;" in page
    assert "your message is with our support staff" in page
    # Staff answer it: the complaint waits on the customer again.
    services.complaint_reply_add(complaint_id=complaint.id, by=staff_user, body="Thanks, found it.")
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.IN_REVIEW


def test_an_empty_reply_is_refused_with_a_message(client):
    complaint = services.complaint_submit(text=TEXT, email=None, source="web")
    response = client.post(f"/track/{complaint.tracking_code}/", {"body": "   "})
    assert response.status_code == 400 and errors.MESSAGE_REQUIRED in response.content.decode()
    assert not complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY).exists()


def test_a_reply_to_an_unknown_code_is_404(client):
    assert client.post("/track/no-such-code/", {"body": "hello"}).status_code == 404


def test_the_reply_form_is_rate_limited(client, settings, limiter_clock):
    settings.TRIAGE_SUBMIT_RATE = (1, 60)
    complaint = services.complaint_submit(text=TEXT, email=None, source="web")
    assert client.post(f"/track/{complaint.tracking_code}/", {"body": "first"}).status_code == 302
    response = client.post(f"/track/{complaint.tracking_code}/", {"body": "second"})
    assert response.status_code == 429
    assert complaint.events.filter(kind=ComplaintEvent.Kind.CUSTOMER_REPLY).count() == 1


@pytest.fixture
def maildir(settings, tmp_path):
    """The local mail server on a real port, its Maildir where the staff page reads it."""
    settings.TRIAGE_MAILDIR = tmp_path / "mail"
    port = free_port()
    controller = Controller(Handler(maildir=maildir_open(settings.TRIAGE_MAILDIR)), hostname="127.0.0.1",
                            port=port)
    controller.start()
    yield port
    controller.stop()


def message_keys(page: str) -> list[str]:
    return re.findall(r'href="/staff/mail/([^"/]+)/"', page)


def send(port: int, *, to: str, subject: str, body: str) -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("support@triage.localhost", [to],
                        f"From: support@triage.localhost\r\nTo: {to}\r\nSubject: {subject}\r\n"
                        f"Content-Language: en\r\n\r\n{body}\r\n".encode())


def test_staff_see_the_mail_customers_received(client, staff_user, maildir):
    send(maildir, to="ann@example.com", subject="We have your complaint", body=f"Hello {XSS}")
    send(maildir, to="bob@example.com", subject="Re: your complaint", body="Second")
    client.force_login(staff_user)
    page = client.get("/staff/mail/").content.decode()
    assert "ann@example.com" in page and "bob@example.com" in page and "We have your complaint" in page
    newest, oldest = message_keys(page)
    assert page.index("bob@example.com") < page.index("ann@example.com")  # newest first
    detail = client.get(f"/staff/mail/{newest}/")
    assert detail.status_code == 200 and "Second" in detail.content.decode()


def test_a_mail_page_escapes_the_mail(client, staff_user, maildir):
    send(maildir, to="ann@example.com", subject="Hi", body=f"Hello {XSS}")
    client.force_login(staff_user)
    [key] = message_keys(client.get("/staff/mail/").content.decode())
    text = client.get(f"/staff/mail/{key}/").content.decode()
    assert "Hello &lt;script&gt;" in text and XSS not in text


def test_the_mail_pages_are_staff_only_and_refuse_odd_keys(client, staff_user, maildir):
    assert client.get("/staff/mail/").status_code == 302  # to the login
    client.force_login(staff_user)
    assert client.get("/staff/mail/..%2F..%2Fetc%2Fpasswd/").status_code == 404
    assert client.get("/staff/mail/no-such-message/").status_code == 404


def test_without_a_maildir_the_page_says_where_mail_goes(client, staff_user, settings, tmp_path):
    settings.TRIAGE_MAILDIR = tmp_path / "none"
    services.complaint_submit(text=TEXT, email="ann@example.com", source="web")
    client.force_login(staff_user)
    page = client.get("/staff/mail/").content.decode()
    assert "No local mailbox here" in page and "0 sent, 1 waiting" in page


# --- satisfaction, unsubscribe, languages -------------------------------------------

def test_a_resolved_complaint_asks_for_a_rating_and_keeps_the_answer(client, staff_user):
    complaint = services.complaint_submit(text=TEXT, email="ann@example.com", source="web")
    services.complaint_claim(complaint_id=complaint.id, by=staff_user)
    url = f"/track/{complaint.tracking_code}/"
    assert 'id="satisfaction"' not in client.get(url).content.decode()  # not before resolution
    assert client.post(f"{url}rate/", {"rating": "4"}).status_code == 302
    assert not Satisfaction.objects.exists()  # refused: not resolved yet
    services.complaint_resolve(complaint_id=complaint.id, by=staff_user)
    assert 'id="satisfaction"' in client.get(url).content.decode()
    response = client.post(f"{url}rate/", {"rating": "2", "comment": f"Slow {XSS}"})
    assert response.status_code == 302 and response["Location"] == f"{url}#satisfaction"
    answer = Satisfaction.objects.get(complaint=complaint)
    assert (answer.rating, answer.comment, answer.agent) == (2, f"Slow {XSS}", staff_user)
    page = client.get(url).content.decode()
    assert "You rated it 2 of 5" in page and XSS not in page
    client.post(f"{url}rate/", {"rating": "5"})  # a second answer replaces the first
    assert list(Satisfaction.objects.values_list("rating", flat=True)) == [5]


@pytest.mark.parametrize("rating", ["0", "6", "3.5", "", "x", "True"])
def test_a_bad_rating_is_refused_by_name(client, staff_user, rating):
    complaint = services.complaint_submit(text=TEXT, email=None, source="web")
    services.complaint_resolve(complaint_id=complaint.id, by=staff_user)
    response = client.post(f"/track/{complaint.tracking_code}/rate/", {"rating": rating}, follow=True)
    assert errors.RATING_INVALID in response.content.decode()
    assert not Satisfaction.objects.exists()


def test_unsubscribing_stops_the_mails_of_that_complaint_only(client, staff_user):
    complaint = services.complaint_submit(text=TEXT, email="ann@example.com", source="web")
    other = services.complaint_submit(text=TEXT, email="ann@example.com", source="web")
    url = f"/track/{complaint.tracking_code}/unsubscribe/"
    assert "No more mail" in client.get(url).content.decode()
    assert not Complaint.objects.get(id=complaint.id).mail_opt_out  # a GET changes nothing
    # One-click (RFC 8058): a mail client POSTs without a CSRF token.
    csrf_client = type(client)(enforce_csrf_checks=True)
    assert csrf_client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert Complaint.objects.get(id=complaint.id).mail_opt_out
    assert not MailMessage.objects.filter(complaint=complaint, sent_at__isnull=True).exists()  # owed mail dropped
    services.complaint_reply_add(complaint_id=complaint.id, by=staff_user, body="We are on it.")
    services.complaint_reply_add(complaint_id=other.id, by=staff_user, body="We are on it.")
    assert not MailMessage.objects.filter(complaint=complaint).exists()
    assert MailMessage.objects.filter(complaint=other, kind="reply").count() == 1


def test_mails_carry_the_one_click_unsubscribe_headers():
    complaint = services.complaint_submit(text=TEXT, email="ann@example.com", source="web")
    sent = mail.email_message(MailMessage.objects.get(complaint=complaint)).message()
    assert sent["List-Unsubscribe"] == f"<{mail.unsubscribe_url(complaint)}>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.unsubscribe_url(complaint) in MailMessage.objects.get(complaint=complaint).body_text


def test_the_form_speaks_russian_to_a_russian_browser_and_english_by_default(client):
    russian = client.get("/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9").content.decode()
    assert "Расскажите, что пошло не так" in russian and '<html lang="ru">' in russian
    english = client.get("/").content.decode()
    assert "Tell us what went wrong" in english and '<html lang="en">' in english
    refused = client.post("/", {"text": "short"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Напишите, пожалуйста, не меньше 10 символов." in refused


def test_the_tracking_page_is_in_the_complaints_language_unless_switched(client):
    complaint = services.complaint_submit(text="Мне так и не привезли заказ, деньги списали.", email=None,
                                          source="web")
    url = f"/track/{complaint.tracking_code}/"
    page = client.get(url).content.decode()  # an English browser, a Russian complaint
    assert "Что вы написали" in page and "Написать нам" in page
    switched = client.post("/i18n/setlang/", {"language": "en", "next": url})
    assert switched.status_code == 302
    assert "What you wrote" in client.get(url).content.decode()
    refused = client.post(url, {"body": ""}).content.decode()
    assert errors.MESSAGE_REQUIRED in refused


def test_the_russian_translation_is_complete():
    import subprocess
    from pathlib import Path

    po = Path(__file__).resolve().parents[2] / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    stats = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
                           capture_output=True, text=True, check=True).stderr
    assert "translated messages" in stats and "untranslated" not in stats and "fuzzy" not in stats, stats


def test_satisfaction_per_arm_category_and_agent_on_the_ab_page(client, staff_user, other_staff, django_user_model):
    from tests.triage_app.factories import complaint_make, score_make
    from triage_app import selectors

    rated = [("A", "billing", staff_user, 5), ("A", "billing", other_staff, 4), ("B", "delivery", staff_user, 1)]
    for arm, category, agent, rating in rated:
        complaint = complaint_make()
        score_make(complaint=complaint, arm=arm, category=category, model_name="triage" if arm == "A" else "vader")
        services.complaint_claim(complaint_id=complaint.id, by=agent)
        services.complaint_resolve(complaint_id=complaint.id, by=agent)
        services.complaint_rate(complaint_id=complaint.id, rating=rating)
    results = selectors.satisfaction_results()
    assert [(r["label"], r["count"], r["mean"], r["satisfied"]) for r in results["arm"]] == [
        ("A · triage 1", 2, 4.5, 1.0), ("B · vader 1", 1, 1.0, 0.0)]
    assert [(r["label"], r["count"]) for r in results["category"]] == [("billing", 2), ("delivery", 1)]
    assert [(r["label"], r["mean"]) for r in results["agent"]] == [("alice", 3.0), ("bob", 4.0)]
    admin = django_user_model.objects.create_superuser(username="root", password="x", email="r@x.co")
    client.force_login(admin)
    page = client.get("/manage/ab/").content.decode()
    assert 'id="satisfaction-agent"' in page and "4.50" in page


def test_a_customer_reply_sends_the_conversation_to_the_stream_as_the_next_revision(
        django_capture_on_commit_callbacks, fake_producer):
    import json as jsonlib

    from triage_app.models import OutboxEntry

    with django_capture_on_commit_callbacks(execute=True):
        complaint = services.complaint_submit(text=TEXT, email=None, source="web")
        services.complaint_customer_reply(complaint_id=complaint.id, body="If it is not here by Friday I will "
                                          "contact my lawyer.", via="web")
        services.complaint_customer_reply(complaint_id=complaint.id, body="Still nothing.", via="mail")
    entries = list(OutboxEntry.objects.filter(complaint=complaint).order_by("id"))
    messages = [jsonlib.loads(e.payload) for e in entries]
    assert [m.get("revision", 0) for m in messages] == [0, 1, 2]
    assert messages[2]["text"] == f"{TEXT}\n\nIf it is not here by Friday I will contact my lawyer.\n\nStill nothing."
    assert {m["id"] for m in messages} == {str(complaint.id)} and messages[2]["source"] == "web"
    assert len(fake_producer.delivered) == 3  # each published after its commit


def test_a_long_conversation_keeps_its_newest_part():
    from triage_app.services.customers import conversation_text
    from triage_core.messages import MAX_TEXT_CHARS

    complaint = services.complaint_submit(text="x" * 4000, email=None, source="web")
    services.complaint_customer_reply(complaint_id=complaint.id, body="y" * 3000, via="web")
    text = conversation_text(Complaint.objects.get(id=complaint.id))
    assert len(text) <= MAX_TEXT_CHARS and text.endswith("y" * 3000)


def test_staff_pick_their_language_for_the_staff_screens(client, staff_user, django_user_model):
    """The staff UI is translated too: the switch's cookie chooses Russian for the queue,
    a complaint's page, the messages of actions and the strings the queue's script writes."""
    from django.conf import settings as django_settings

    from tests.triage_app.factories import score_make

    complaint = services.complaint_submit(text=TEXT, email=None, source="web")
    score_make(complaint=complaint)
    client.force_login(staff_user)
    english = client.get("/staff/").content.decode()
    assert "Priority queue" in english
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ru"
    queue = client.get("/staff/").content.decode()
    found = re.search(r'<script id="queue-strings" type="application/json">(.*?)</script>', queue)
    strings = json.loads(found.group(1))
    assert "Очередь по приоритету" in queue and strings["claimed_by"] == "взял(а) %(name)s"
    assert strings["statuses"]["awaiting_staff"] == "Ждёт ответа сотрудника"
    page = client.get(f"/staff/complaints/{complaint.id}/").content.decode()
    assert "Почему она здесь в очереди" in page and "Статус:" in page
    done = client.post(f"/staff/complaints/{complaint.id}/claim/", follow=True).content.decode()
    assert "Взята." in done and "Вернуть в очередь" in done
    admin = django_user_model.objects.create_superuser(username="root", password="x", email="r@x.co")
    client.force_login(admin)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ru"
    assert "Политика эскалации" in client.get("/manage/policy/").content.decode()
    refused = client.post("/manage/policy/", {"escalate_at": "500"}).content.decode()
    assert "escalate at: значение должно быть от 0.0 до 100.0." in refused
