import json

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.triage_app.factories import complaint_make, score_make
from triage_app import errors, selectors
from triage_app.models import Complaint, ComplaintEvent, OutboxEntry
from triage_core.messages import MAX_MESSAGE_CHARS

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def post_json(django_capture_on_commit_callbacks):
    """POST a raw JSON body, running the after-commit publish as a real commit would."""
    def post(client, body, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/complaints/", data=body, content_type="application/json", **kwargs)
    return post


def test_submit_returns_201_with_tracking_code_and_publishes_after_commit(client, post_json, fake_producer):
    response = post_json(client, json.dumps({"text": "  The app charged me twice this month!  ",
                                             "email": "me@example.com"}))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "tracking_code", "status"}
    assert body["status"] == "received"
    assert len(body["tracking_code"]) >= 32  # token_urlsafe(24): 192 random bits
    complaint = Complaint.objects.get(id=body["id"])
    assert complaint.text == "The app charged me twice this month!"
    assert complaint.source == "api"

    message = fake_producer.delivered[0]
    assert message.key() == body["id"].encode()
    value = json.loads(message.value())
    assert value["id"] == body["id"] and value["text"] == complaint.text and value["source"] == "api"
    assert OutboxEntry.objects.get(complaint_id=body["id"]).published_at is not None


def test_tracking_codes_differ(client, post_json):
    codes = {post_json(client, json.dumps({"text": f"complaint number {i} about delivery"})).json()["tracking_code"]
             for i in range(5)}
    assert len(codes) == 5


def test_failed_delivery_leaves_the_outbox_entry_pending(client, post_json, fake_producer):
    fake_producer.fail_with = "Local: Message timed out"
    response = post_json(client, json.dumps({"text": "Kafka is down but this must not be lost"}))
    assert response.status_code == 201
    entry = OutboxEntry.objects.get(complaint_id=response.json()["id"])
    assert entry.published_at is None
    assert "timed out" in entry.last_error


@pytest.mark.parametrize("body, field, message", [
    ({"text": "short"}, "text", errors.TEXT_TOO_SHORT),
    ({}, "text", errors.TEXT_REQUIRED),
    ({"text": 5}, "text", errors.TEXT_NOT_STRING),
    ({"text": {"nested": "object value"}}, "text", errors.TEXT_NOT_STRING),
    ({"text": "x" * 6000}, "text", errors.TEXT_TOO_LONG),
    ({"text": "long enough text", "email": "nope"}, "email", errors.EMAIL_INVALID),
    ({"text": "long enough text", "email": "a" * 250 + "@example.com"}, "email", errors.EMAIL_INVALID),
    ({"text": "NUL byte \u0000 inside text"}, "text", errors.TEXT_UNSTORABLE),
    ([1, 2], "non_field_errors", errors.BODY_NOT_OBJECT),
    ("a string body", "non_field_errors", errors.BODY_NOT_OBJECT),
    (None, "non_field_errors", errors.BODY_NOT_OBJECT),
])
def test_bad_input_is_a_400_naming_the_field(client, post_json, body, field, message):
    response = post_json(client, json.dumps(body))
    assert response.status_code == 400
    assert response.json()[field] == [message]
    assert Complaint.objects.count() == 0


@pytest.mark.parametrize("raw, content_type, message", [
    (b"{not json", "application/json", errors.BODY_NOT_JSON),
    (b"\xff\xfe\x00garbage", "application/json", errors.BODY_NOT_JSON),
    (b'{"text": "\\ud800 lone surrogate here"}', "application/json", errors.TEXT_UNSTORABLE),
    (b"text=hello+world+long+enough", "application/x-www-form-urlencoded", errors.BODY_WRONG_MEDIA_TYPE),
    (b"hello", "text/plain", errors.BODY_WRONG_MEDIA_TYPE),
    (b"", "application/json", errors.TEXT_REQUIRED),
    (b"[" * 20000 + b"]" * 20000, "application/json", errors.BODY_NOT_JSON),  # deeper than json's recursion
    (b"NaN", "application/json", errors.BODY_NOT_JSON),
    (b'{"text": "' + b"a" * 6_000 + b'"}', "application/json", errors.TEXT_TOO_LONG),
])  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 (tests/triage_app/test_middleware.py)
def test_malformed_requests_are_400_never_500(client, raw, content_type, message):
    response = client.generic("POST", "/api/complaints/", raw, content_type=content_type)
    assert response.status_code == 400
    assert message in [m for problems in response.json().values() for m in problems]


def test_rate_limit_answers_429_with_a_clear_message(client, post_json, settings, limiter_clock):
    """The limiter's clock is fixed 15 s into its window. Mutant tried: Retry-After always
    the whole window (`return window_s` in ratelimit.rate_limit_hit): the test failed."""
    settings.TRIAGE_SUBMIT_RATE = (2, 60)
    for _ in range(2):
        assert post_json(client, json.dumps({"text": "within the limit, fine"})).status_code == 201
    response = post_json(client, json.dumps({"text": "one too many for now"}))
    assert response.status_code == 429
    assert response["Retry-After"] == "46"
    assert response.json()["detail"] == errors.RATE_LIMITED.format(seconds=46)
    other = post_json(client, json.dumps({"text": "a different client address"}), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 201


def test_track_shows_status_but_never_scores(client):
    complaint = complaint_make()
    score_make(complaint=complaint, compound=-0.9, priority=90, escalated=True)
    response = client.get(f"/api/complaints/{complaint.tracking_code}/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "analysed"
    assert [h["status"] for h in body["history"]] == ["analysed"]
    assert "score" not in json.dumps(body) and "compound" not in json.dumps(body)


def test_tracking_api_shows_exactly_the_public_fields_and_no_staff_data(client, django_user_model):
    """Issue 14, item 7: the exact keys, and none of what only staff may see. Mutant
    tried: adding "score" or the notes to complaint_public_data fails this test."""
    from triage_app import services

    agent = django_user_model.objects.create_user(username="agent-zebulon", password="x", is_staff=True,
                                                  first_name="Zebulon", last_name="Quill")
    complaint = complaint_make()
    score_make(complaint=complaint, compound=-0.9137, priority=91.37, escalated=True, category="account_security",
               explanation="EXPLANATION-7f3a for staff only")
    services.complaint_claim(complaint_id=complaint.id, by=agent)
    services.complaint_note_add(complaint_id=complaint.id, by=agent, body="NOTE-51c2 internal only")
    services.complaint_reply_add(complaint_id=complaint.id, by=agent, body="We are on it, sorry.")
    body = client.get(f"/api/complaints/{complaint.tracking_code}/").json()
    assert set(body) == {"id", "tracking_code", "status", "created_at", "history", "replies", "customer_messages"}
    assert [set(h) for h in body["history"]] == [{"kind", "status", "at"}] * len(body["history"])
    assert [r["body"] for r in body["replies"]] == ["We are on it, sorry."]
    assert all(set(r) == {"body", "at"} for r in body["replies"])
    text = json.dumps(body)
    for secret in ("NOTE-51c2", "91.37", "0.9137", "account_security", "EXPLANATION-7f3a", "Zebulon", "Quill",
                   "agent-zebulon"):
        assert secret not in text


def test_unknown_tracking_code_is_404(client):
    response = client.get("/api/complaints/does-not-exist-0123456789abcdef/")
    assert response.status_code == 404
    assert response.json()["detail"] == errors.TRACKING_NOT_FOUND


def test_queue_needs_staff(client, customer_user):
    assert client.get("/api/queue/").status_code in (401, 403)
    client.force_authenticate(customer_user)
    assert client.get("/api/queue/").status_code == 403


def test_queue_sorts_escalated_then_priority_then_most_negative(client, staff_user):
    calm = complaint_make(text="Mildly annoyed about the colour")
    score_make(complaint=calm, compound=-0.1, priority=6)
    angry = complaint_make(text="I will sue you, this is fraud")
    score_make(complaint=angry, compound=-0.95, priority=88, escalated=True)
    worse_tone = complaint_make(text="Terrible awful horrible service")
    score_make(complaint=worse_tone, compound=-0.8, priority=48)
    same_priority = complaint_make(text="Bad service, same priority")
    score_make(complaint=same_priority, compound=-0.3, priority=48)
    complaint_make(text="Not scored yet, so not in the queue")
    resolved = complaint_make(text="Already handled complaint", status="resolved")
    score_make(complaint=resolved, compound=-0.99, priority=99, escalated=True)

    client.force_authenticate(staff_user)
    body = client.get("/api/queue/").json()
    assert [i["id"] for i in body["results"]] == [str(angry.id), str(worse_tone.id), str(same_priority.id),
                                                   str(calm.id)]
    assert body["count"] == 4
    top = body["results"][0]
    assert top["score"]["escalated"] is True and top["score"]["reasons"]


def test_queue_filters(client, staff_user):
    a = complaint_make()
    score_make(complaint=a, category="billing", model_name="triage")
    b = complaint_make()
    score_make(complaint=b, category="delivery", model_name="vader")
    client.force_authenticate(staff_user)
    assert [i["id"] for i in client.get("/api/queue/?category=billing").json()["results"]] == [str(a.id)]
    assert [i["id"] for i in client.get("/api/queue/?model=vader").json()["results"]] == [str(b.id)]
    assert client.get("/api/queue/?status=bogus").status_code == 400


def test_queue_accepts_token_auth(client, db):
    admin = get_user_model().objects.create_superuser(username="admin", password="pw-x-12345")
    _, token = AuthToken.objects.create(user=admin)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/queue/").status_code == 200


def test_staff_actions_over_the_api(client, staff_user, other_staff):
    complaint = complaint_make()
    score_make(complaint=complaint)
    client.force_authenticate(staff_user)
    claimed = client.post(f"/api/staff/complaints/{complaint.id}/claim/", {}, format="json")
    assert claimed.status_code == 200 and claimed.json()["status"] == "in_review"

    client.force_authenticate(other_staff)
    refused = client.post(f"/api/staff/complaints/{complaint.id}/claim/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"] == errors.CLAIMED_BY_OTHER.format(name="alice")

    empty_note = client.post(f"/api/staff/complaints/{complaint.id}/notes/", {"body": " "}, format="json")
    assert empty_note.status_code == 400 and empty_note.json()["body"] == [errors.MESSAGE_REQUIRED]
    assert client.post(f"/api/staff/complaints/{complaint.id}/notes/", {"body": "checked"},
                       format="json").status_code == 200
    assert client.post(f"/api/staff/complaints/{complaint.id}/bogus/", {}, format="json").status_code == 404


@pytest.mark.parametrize("action", ["claim", "release", "resolve", "notes", "replies"])
def test_every_staff_action_on_an_unknown_complaint_is_404_even_with_a_bad_body(client, staff_user, action):
    """One mapping (api.exception_handler) turns the service's failed lookup into 404, and
    the lookup comes before the body is judged. Mutant tried: the notes/replies services
    clean the body before locking the row -> this answered 400 for notes and replies."""
    client.force_authenticate(staff_user)
    missing = "00000000-0000-4000-8000-000000000000"
    response = client.post(f"/api/staff/complaints/{missing}/{action}/", {"body": " "}, format="json")
    assert (response.status_code, response.json()) == (404, {"detail": errors.NOT_FOUND})
    assert client.get(f"/api/staff/complaints/{missing}/").json() == {"detail": errors.NOT_FOUND}


def test_queue_parameters_are_400_naming_the_parameter(client, staff_user):
    client.force_authenticate(staff_user)
    bad_status = client.get("/api/queue/?status=bogus")
    assert (bad_status.status_code, bad_status.json()) == (
        400, {"status": [errors.QUEUE_STATUS_UNKNOWN.format(value="bogus")]})
    bad_limit = client.get("/api/queue/?limit=ten")
    assert (bad_limit.status_code, bad_limit.json()) == (400, {"limit": [errors.QUEUE_LIMIT_NOT_WHOLE]})


def test_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/complaints/" in response.content


def test_the_schema_documents_exactly_the_queue_item_the_api_returns(client, staff_user):
    """One serializer (triage_app.serializers.QueueItemOut) declares the item for the schema
    and builds it; `claimed_by_id` had drifted out of the hand-written schema. Mutant
    tried: an extra key added to the item outside the serializer -> this test failed."""
    complaint = complaint_make()
    score_make(complaint=complaint, escalated=True, signals={"legal_threat": ["lawyer"]})
    client.force_authenticate(staff_user)
    item = client.get(f"/api/staff/complaints/{complaint.id}/").json()
    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert set(schema["QueueItemOut"]["properties"]) == set(item)
    assert set(schema["QueueScoreOut"]["properties"]) == set(item["score"])
    assert "claimed_by_id" in item and item["score"]["reasons"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | st.dictionaries(st.sampled_from(["text", "email", "x"]), json_values, max_size=3))
def test_any_json_body_is_201_or_400(client, post_json, django_settings_limit_off, body):
    response = post_json(client, json.dumps(body))
    assert response.status_code in (201, 400)
    if response.status_code == 400:
        assert all(isinstance(problems, list) and problems for problems in response.json().values())


@pytest.fixture
def django_settings_limit_off(settings):
    settings.TRIAGE_SUBMIT_RATE = (0, 1)


def test_a_session_post_to_the_staff_api_without_the_csrf_token_is_refused(django_user_model):
    """Issue 14, item 6: DRF's session authentication enforces CSRF. On a complaint nobody
    holds, so a refusal cannot be mistaken for "claimed by someone else" (409). Mutant
    tried: StaffActionView with `authentication_classes = [CsrfExemptSessionAuthentication]`
    (a SessionAuthentication whose enforce_csrf does nothing) answers 200 and fails this."""
    from django.test import Client

    agent = django_user_model.objects.create_user(username="agent-csrf", password="pw-1a2b3c", is_staff=True)
    complaint = complaint_make()
    score_make(complaint=complaint)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)
    refused = browser.post(f"/api/staff/complaints/{complaint.id}/claim/", data="{}", content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert Complaint.objects.get(id=complaint.id).claimed_by_id is None
    browser.get("/staff/")  # the page that sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(f"/api/staff/complaints/{complaint.id}/claim/", data="{}",
                            content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200, accepted.content
    assert Complaint.objects.get(id=complaint.id).claimed_by_id == agent.id


# --- bad input on the staff endpoints (unknown ids: see the 404 test above) -------------

def _staff_events(complaint) -> list[str]:
    return list(ComplaintEvent.objects.filter(complaint=complaint, actor__isnull=False).values_list("kind", flat=True))


@pytest.mark.parametrize("action", ["notes", "replies"])
@pytest.mark.parametrize("raw, content_type, field, message", [
    ('{"body": "half', "application/json", "non_field_errors", errors.BODY_NOT_JSON),
    ("body=checked", "application/x-www-form-urlencoded", "non_field_errors", errors.BODY_WRONG_MEDIA_TYPE),
    ('{"body": "checked\\u0000 twice"}', "application/json", "body", errors.TEXT_UNSTORABLE),
    ('{"body": "\\ud800 lone surrogate"}', "application/json", "body", errors.TEXT_UNSTORABLE),
    (json.dumps({"body": "x" * (MAX_MESSAGE_CHARS + 1)}), "application/json", "body", errors.MESSAGE_TOO_LONG),
    ('{"body": 5}', "application/json", "body", errors.MESSAGE_REQUIRED),
    ('["checked"]', "application/json", "body", errors.MESSAGE_REQUIRED),
])
def test_a_bad_note_or_reply_is_a_400_naming_the_problem_and_stores_nothing(
        client, staff_user, action, raw, content_type, field, message):
    """Mutants tried: the NUL half of text_storable dropped (`"\\x00" not in text and`
    removed) -> the two NUL cases were not a 400 TEXT_UNSTORABLE; `len(body) >
    MAX_MESSAGE_CHARS` made `> MAX_MESSAGE_CHARS + 1` -> the over-long cases were not
    refused; both failed here."""
    complaint = complaint_make()
    score_make(complaint=complaint)
    client.force_authenticate(staff_user)
    response = client.generic("POST", f"/api/staff/complaints/{complaint.id}/{action}/", raw,
                              content_type=content_type)
    assert (response.status_code, response.json()) == (400, {field: [message]})
    assert _staff_events(complaint) == []


@pytest.mark.parametrize("action", ["notes", "replies"])
def test_a_message_of_exactly_the_limit_after_trimming_is_accepted(client, staff_user, action):
    """The limit counts the trimmed text. Mutant tried: the length checked before
    strip() -> this padded message was refused with MESSAGE_TOO_LONG; the test failed."""
    complaint = complaint_make()
    score_make(complaint=complaint)
    client.force_authenticate(staff_user)
    body = "  " + "y" * MAX_MESSAGE_CHARS + "\n"
    response = client.post(f"/api/staff/complaints/{complaint.id}/{action}/", {"body": body}, format="json")
    assert response.status_code == 200
    stored = ComplaintEvent.objects.get(complaint=complaint, kind__in=["note", "reply"])
    assert stored.body == "y" * MAX_MESSAGE_CHARS


@pytest.mark.parametrize("action", ["claim", "release", "resolve"])
def test_a_body_that_is_not_json_refuses_any_staff_action_before_it_runs(client, staff_user, action):
    """The body is parsed before the service runs, for the actions that ignore it too, so
    a broken client never claims or resolves by accident. Mutant tried: the view reading
    request.data only for notes and replies -> claim and resolve ran (and release was a
    409, nobody having claimed it) instead of the 400; all three failed."""
    complaint = complaint_make()
    score_make(complaint=complaint)
    client.force_authenticate(staff_user)
    response = client.generic("POST", f"/api/staff/complaints/{complaint.id}/{action}/", "{oops",
                              content_type="application/json")
    assert (response.status_code, response.json()) == (400, {"non_field_errors": [errors.BODY_NOT_JSON]})
    complaint.refresh_from_db()
    assert (complaint.status, complaint.claimed_by) == (Complaint.Status.ANALYSED, None)
    assert _staff_events(complaint) == []


@pytest.mark.parametrize("name", ["status", "category", "model"])
def test_a_nul_in_a_queue_filter_is_a_400_naming_it(client, staff_user, name):
    """Issue 12, item 7: `?category=%00` was a 500 (Postgres refuses a NUL in a text
    parameter). Mutant tried: the text_storable check in QueueView.get removed -> 500
    for category and model, and for status QUEUE_STATUS_UNKNOWN; all three failed."""
    score_make(complaint=complaint_make())
    client.force_authenticate(staff_user)
    response = client.get(f"/api/queue/?{name}=bill%00ing")
    assert (response.status_code, response.json()) == (400, {name: [errors.QUEUE_PARAMETER_UNSTORABLE]})


@pytest.mark.parametrize("query", ["limit=1.5", "limit=", "limit=1%00", "limit=%202%20x"])
def test_a_queue_limit_that_is_not_a_whole_number_is_a_400(client, staff_user, query):
    """Mutant tried: `int(...)` made `int(float(...))` -> limit=1.5 was a 200; failed."""
    client.force_authenticate(staff_user)
    response = client.get(f"/api/queue/?{query}")
    assert (response.status_code, response.json()) == (400, {"limit": [errors.QUEUE_LIMIT_NOT_WHOLE]})


@pytest.mark.parametrize("limit, count", [("0", 1), ("-5", 1), ("2", 2), ("3", 2), ("99999", 2)])
def test_a_queue_limit_out_of_range_is_clamped_to_1_and_queue_limit(client, staff_user, monkeypatch, limit, count):
    """What the code does (and the schema says: "at most QUEUE_LIMIT"): a limit below 1
    is 1, above QUEUE_LIMIT is QUEUE_LIMIT, not a 400. QUEUE_LIMIT is 2 here, with 3
    complaints queued. Mutants tried: `max(1, ...)` removed -> the limit=0 and limit=-5
    cases failed; `min(QUEUE_LIMIT, ...)` removed -> 3 items for limit=3 and 99999,
    which failed."""
    monkeypatch.setattr(selectors, "QUEUE_LIMIT", 2)
    for _ in range(3):
        score_make(complaint=complaint_make())
    client.force_authenticate(staff_user)
    response = client.get(f"/api/queue/?limit={limit}")
    assert response.status_code == 200
    assert (response.json()["count"], len(response.json()["results"])) == (count, count)


@pytest.mark.parametrize("query", ["model=bert", "category=weather", "status=resolved"])
def test_an_unknown_model_or_category_is_an_empty_queue_not_an_error(client, staff_user, query):
    """Models and categories are open sets (a new model version, a category the next
    model learns), so an unknown one matches nothing; only status is a closed set (400
    above). Mutant tried: the category and model filters dropped from complaint_queue ->
    the scored complaint was listed for model=bert and category=weather; failed."""
    score_make(complaint=complaint_make(), model_name="vader", category="billing")
    client.force_authenticate(staff_user)
    response = client.get(f"/api/queue/?{query}")
    assert (response.status_code, response.json()) == (200, {"count": 0, "results": []})
