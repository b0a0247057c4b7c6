"""The live queue socket: who may connect, and what reaches a connected dashboard."""
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from config.asgi import application
from tests.triage_app.factories import complaint_make, score_make
from triage_app import live, services
from triage_app.consumers import CLOSE_FORBIDDEN, QueueConsumer
from triage_app.management.commands.score_listener import scored_notification_handle

# Consumers read the database from worker threads, outside the test's transaction.
# How long a test waits for a message it expects: generous for a 2-core machine shared
# with Spark; it only delays a failing test, never a passing one.
RECEIVE_TIMEOUT_S = 30
# The web server's own origin, as the settings allow it (TRIAGE_WEB_PORT differs under `make test`).
ORIGIN = settings.TRIAGE_WS_ORIGINS[0].encode()
HOST = ORIGIN.split(b"://", 1)[1]

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def staff(name="alice"):
    return get_user_model().objects.create_user(username=name, password="pw-12345-x", is_staff=True)


async def connect(user):
    communicator = WebsocketCommunicator(QueueConsumer.as_asgi(), "/ws/queue/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_anonymous_and_non_staff_are_refused():
    _, connected, code = await connect(AnonymousUser())
    assert not connected and code == CLOSE_FORBIDDEN
    customer = await database_sync_to_async(get_user_model().objects.create_user)(username="carol", password="x")
    _, connected, code = await connect(customer)
    assert not connected and code == CLOSE_FORBIDDEN


async def test_scored_complaint_is_pushed_to_staff():
    user = await database_sync_to_async(staff)()
    communicator, connected, _ = await connect(user)
    assert connected

    def make_scored():
        complaint = complaint_make(text="<img src=x onerror=alert(1)> broken on arrival")
        score_make(complaint=complaint, compound=-0.9, priority=81, escalated=True, signals={"fraud": ["scam"]})
        return complaint

    complaint = await database_sync_to_async(make_scored)()
    pushed = await database_sync_to_async(scored_notification_handle)(
        f'{{"ids": ["{complaint.id}"], "escalated": ["{complaint.id}"]}}')
    assert pushed == 1
    message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
    assert message["type"] == "items"
    item = message["items"][0]
    assert item["id"] == str(complaint.id)
    assert item["text"].startswith("<img src=x onerror=alert(1)>")  # raw text; the page inserts it as text
    assert item["score"]["escalated"] is True and item["score"]["signals"] == {"fraud": ["scam"]}
    await communicator.disconnect()


async def test_claim_by_another_staff_member_is_pushed():
    watcher = await database_sync_to_async(staff)("alice")
    worker = await database_sync_to_async(staff)("bob")
    communicator, connected, _ = await connect(watcher)
    assert connected

    def claim():
        complaint = complaint_make()
        score_make(complaint=complaint)
        services.complaint_claim(complaint_id=complaint.id, by=worker)
        return complaint

    complaint = await database_sync_to_async(claim)()
    message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
    assert message["items"][0]["id"] == str(complaint.id)
    assert message["items"][0]["status"] == "in_review" and message["items"][0]["claimed_by"] == "bob"
    await communicator.disconnect()


async def test_refresh_event_is_forwarded_and_ping_answered():
    user = await database_sync_to_async(staff)()
    communicator, _, _ = await connect(user)
    await database_sync_to_async(live.queue_push_refresh)()
    assert await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT_S) == {"type": "refresh"}
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT_S) == {"type": "pong"}
    await communicator.disconnect()


def logged_in(username: str) -> Client:
    """A test client holding a staff member's session (the user is created)."""
    staff(username)
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def through_the_stack(client: Client, origin: bytes = ORIGIN) -> WebsocketCommunicator:
    """A socket through the whole ASGI stack (session cookie, origin check)."""
    return WebsocketCommunicator(application, "/ws/queue/", headers=[
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), (b"origin", origin),
        (b"host", HOST)])


async def test_full_stack_uses_the_session_and_checks_the_origin():
    client = await database_sync_to_async(logged_in)("dana")
    good = through_the_stack(client)
    connected, _ = await good.connect()
    assert connected
    await good.disconnect()

    connected, _ = await through_the_stack(client, b"http://evil.example").connect()
    assert not connected

    anonymous = WebsocketCommunicator(application, "/ws/queue/", headers=[(b"origin", ORIGIN)])
    connected, code = await anonymous.connect()
    assert not connected and code == CLOSE_FORBIDDEN


async def session_socket(username: str):
    """A connected socket through the whole ASGI stack and the test client that owns its
    session."""
    client = await database_sync_to_async(logged_in)(username)
    socket = through_the_stack(client)
    connected, _ = await socket.connect()
    assert connected
    return socket, client


async def test_a_socket_closes_when_its_user_logs_out():
    """Mutant tried: the user_logged_out connection removed from triage_app.signals -> the
    socket stayed open and this test timed out waiting for the close."""
    socket, client = await session_socket("erin")
    other, _ = await session_socket("frank")
    await database_sync_to_async(client.logout)()
    assert await socket.receive_output(timeout=RECEIVE_TIMEOUT_S) == {"type": "websocket.close",
                                                                       "code": CLOSE_FORBIDDEN}
    await database_sync_to_async(live.queue_push_refresh)()
    assert await other.receive_json_from(timeout=RECEIVE_TIMEOUT_S) == {"type": "refresh"}
    await other.disconnect()


async def test_a_socket_closes_when_its_user_loses_staff_rights():
    """Mutant tried: signals._user_saved closing only on deactivation (is_active), not
    on is_staff -> the demoted user's socket stayed open and the test failed."""
    user = await database_sync_to_async(staff)("gina")
    socket, connected, _ = await connect(user)
    assert connected

    def demote():
        user.is_staff = False
        user.save()

    await database_sync_to_async(demote)()
    assert await socket.receive_output(timeout=RECEIVE_TIMEOUT_S) == {"type": "websocket.close",
                                                                       "code": CLOSE_FORBIDDEN}


async def test_a_socket_whose_session_is_gone_closes_at_its_next_check(monkeypatch):
    """No message reaches it (the session simply expired or was deleted): the periodic
    check closes it before it forwards anything. Mutant tried: still_allowed ignoring
    the session -> the refresh was forwarded and the test failed."""
    from django.contrib.sessions.models import Session

    from triage_app import consumers

    socket, _ = await session_socket("hank")
    await database_sync_to_async(lambda: Session.objects.all().delete())()
    monkeypatch.setattr(consumers, "SESSION_RECHECK_S", 0.0)
    await database_sync_to_async(live.queue_push_refresh)()
    assert await socket.receive_output(timeout=RECEIVE_TIMEOUT_S) == {"type": "websocket.close",
                                                                       "code": CLOSE_FORBIDDEN}


@pytest.mark.parametrize("origin", ["http://127.0.0.1:9999", "https://127.0.0.1", "http://127.0.0.1"])
async def test_an_origin_on_another_port_or_scheme_of_the_same_host_is_refused(origin):
    """The origin check compares scheme, host and port (settings.TRIAGE_WS_ORIGINS).
    Mutant tried: channels' AllowedHostsOriginValidator back in asgi.py (host only) ->
    all three origins were accepted and the test failed."""
    client = await database_sync_to_async(logged_in)("ivan")
    connected, _ = await through_the_stack(client, origin.encode()).connect()
    assert not connected


async def test_an_agent_in_a_team_is_sent_only_what_they_may_see():
    from triage_app.models import Team

    def setup():
        alice = staff("alice")
        billing, russian = Team.objects.create(name="Billing"), Team.objects.create(name="Russian desk")
        billing.members.add(alice)
        theirs, ours = complaint_make(team=russian), complaint_make(team=billing)
        for c in (theirs, ours):
            score_make(complaint=c)
        return alice, theirs, ours

    alice, theirs, ours = await database_sync_to_async(setup)()
    communicator, connected, _ = await connect(alice)
    assert connected
    await database_sync_to_async(live.queue_push_items)(complaint_ids=[theirs.id])
    await database_sync_to_async(live.queue_push_items)(complaint_ids=[theirs.id, ours.id])
    # The other team's complaint is never sent, only named as gone (in case it was on the
    # screen before it moved away); ours is sent whole.
    first = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
    assert first == {"type": "gone", "ids": [str(theirs.id)]}
    message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
    assert message["type"] == "items" and [i["id"] for i in message["items"]] == [str(ours.id)]
    assert await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT_S) == {"type": "gone", "ids": [str(theirs.id)]}
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
