"""Teams (issue 11, "Assignment and routing"): routing rules in Postgres, who sees what,
assignment to a team or a person (audited), the queue's "whose" filters, per-agent load,
canned replies per team."""
from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from tests.triage_app.factories import complaint_make, score_make
from triage_app import errors, selectors, services
from triage_app.admin import RoutingRuleForm
from triage_app.canned import canned_for
from triage_app.errors import ActionRefused, InvalidInput
from triage_app.models import CannedReply, Complaint, ComplaintEvent, RoutingRule, Team
from triage_app.selectors.teams import Viewer

pytestmark = pytest.mark.django_db


def staff(name: str, *, admin: bool = False):
    return get_user_model().objects.create_user(username=name, password=f"pw-{name}-123", is_staff=True,
                                                is_superuser=admin)


def scored(*, category: str | None = None, language: str | None = None, **complaint) -> Complaint:
    c = complaint_make(**complaint)
    score_make(complaint=c, category=category, language=language)
    c.refresh_from_db()
    return c


@pytest.fixture
def teams():
    billing, russian, general = (Team.objects.create(name=n) for n in ("Billing", "Russian desk", "General"))
    RoutingRule.objects.create(position=10, language="ru", team=russian)
    RoutingRule.objects.create(position=20, category="billing", team=billing)
    RoutingRule.objects.create(position=999, team=general)
    return billing, russian, general


# --- routing (the trigger on triage_score and triage_complaints_route) -------------

def test_the_first_matching_rule_routes_a_complaint_when_it_is_first_scored(teams):
    billing, russian, general = teams
    assert scored(category="billing", language="en").team == billing
    # Rules are tried by position: the language rule comes first, whatever the category.
    assert scored(category="billing", language="ru").team == russian
    # Nothing more particular matches: the catch-all.
    assert scored(category="delivery", language="en").team == general


def test_the_customer_language_stands_in_when_the_model_names_none(teams):
    _, russian, _ = teams
    c = complaint_make(language="ru")
    score_make(complaint=c, category="delivery")  # language None, as vader scores
    c.refresh_from_db()
    assert c.team == russian


def test_no_rules_no_team_and_a_team_staff_chose_is_kept(teams):
    billing, _, general = teams
    c = complaint_make()
    c.team = billing
    c.save(update_fields=["team"])
    score_make(complaint=c, category="delivery", language="en")
    c.refresh_from_db()
    assert c.team == billing  # not re-routed to General
    RoutingRule.objects.all().delete()
    assert scored(category="billing").team is None


def test_rules_added_later_route_the_open_complaints_without_a_team():
    waiting = scored(category="billing", language="en")
    done = scored(category="billing", language="en", status="resolved")
    assert waiting.team is None
    team = Team.objects.create(name="Billing")
    RoutingRule.objects.create(category="billing", team=team)
    assert services.complaints_route() == 1
    waiting.refresh_from_db()
    done.refresh_from_db()
    assert waiting.team == team and done.team is None  # resolved complaints stay as they were


@pytest.mark.parametrize(("field", "value"), [("category", "weather"), ("language", "english"), ("language", "e1")])
def test_the_rule_form_refuses_what_no_complaint_could_match(field, value):
    team = Team.objects.create(name="T")
    data = {"position": 1, "category": "", "language": "", "team": team.pk, field: value}
    form = RoutingRuleForm(data=data)
    assert not form.is_valid() and field in form.errors
    assert RoutingRuleForm(data={**data, field: ""}).is_valid()


# --- who sees what ------------------------------------------------------------------

def test_an_agent_in_a_team_sees_its_complaints_those_of_no_team_and_their_own(teams):
    billing, russian, _ = teams
    alice, bob, boss, loner = staff("alice"), staff("bob"), staff("boss", admin=True), staff("loner")
    billing.members.add(alice)
    russian.members.add(bob)
    mine = scored(category="billing", language="en")
    theirs = scored(category="delivery", language="ru")
    nobodys = complaint_make()
    score_make(complaint=nobodys)
    Complaint.objects.filter(id=nobodys.id).update(team=None)
    held = scored(category="delivery", language="ru")
    Complaint.objects.filter(id=held.id).update(claimed_by=alice)

    def seen(user):
        return {c.id for c in selectors.complaint_queue(viewer=selectors.viewer_of(user))}

    assert seen(alice) == {mine.id, nobodys.id, held.id}
    assert seen(bob) == {theirs.id, nobodys.id, held.id}
    assert seen(boss) == seen(loner) == {mine.id, theirs.id, nobodys.id, held.id}
    assert not selectors.complaint_visible(complaint=theirs, user=alice)
    # Acting on it is as if it were not there (a 404 to the API and pages).
    with pytest.raises(Complaint.DoesNotExist):
        services.complaint_claim(complaint_id=theirs.id, by=alice)
    with pytest.raises(Complaint.DoesNotExist):
        services.complaint_correct(complaint_id=theirs.id, by=alice, kind="not_complaint")


def test_live_items_follow_the_same_rule():
    viewer = Viewer(user_id=7, team_ids=frozenset({1}), member_of=frozenset({1}))
    assert viewer.sees_item({"team_id": 1, "claimed_by_id": None})
    assert viewer.sees_item({"team_id": None, "claimed_by_id": None})
    assert viewer.sees_item({"team_id": 2, "claimed_by_id": 7})
    assert not viewer.sees_item({"team_id": 2, "claimed_by_id": 8})
    assert Viewer(user_id=7, team_ids=None).sees_item({"team_id": 2, "claimed_by_id": 8})


def test_the_api_hides_another_teams_complaint(client, teams):
    billing, russian, _ = teams
    alice = staff("alice")
    billing.members.add(alice)
    theirs = scored(category="delivery", language="ru")
    client.force_login(alice)
    assert client.get(f"/api/staff/complaints/{theirs.id}/").status_code == 404
    assert client.get(f"/staff/complaints/{theirs.id}/").status_code == 404
    assert client.post(f"/api/staff/complaints/{theirs.id}/claim/", "{}",
                       content_type="application/json").status_code == 404
    assert theirs.id not in {r["id"] for r in client.get("/api/search/").json()["results"]}


# --- assignment ---------------------------------------------------------------------

def test_assigning_to_a_team_and_an_agent_is_their_claim_and_on_the_timeline(teams):
    billing, _, _ = teams
    lead, alice = staff("lead"), staff("alice")
    billing.members.add(alice)
    c = scored(category="delivery", language="en")
    services.complaint_assign(complaint_id=c.id, by=lead, data={"team": billing.pk, "agent": alice.pk})
    c.refresh_from_db()
    assert (c.team, c.claimed_by, c.status) == (billing, alice, Complaint.Status.IN_REVIEW)
    event = c.events.get(kind=ComplaintEvent.Kind.ASSIGNED)
    assert event.actor == lead and event.body == "team: General → Billing; agent: — → alice"
    # Taking it from the agent puts it back in line, the team staying as it is.
    services.complaint_assign(complaint_id=c.id, by=lead, data={"agent": None})
    c.refresh_from_db()
    assert (c.team, c.claimed_by, c.status) == (billing, None, Complaint.Status.ANALYSED)
    assert c.events.filter(kind=ComplaintEvent.Kind.ASSIGNED).count() == 2
    # The same again changes nothing and records nothing.
    services.complaint_assign(complaint_id=c.id, by=lead, data={"agent": None, "team": str(billing.pk)})
    assert c.events.filter(kind=ComplaintEvent.Kind.ASSIGNED).count() == 2


def test_reassigning_from_one_agent_to_another_needs_no_claim_and_is_recorded(teams):
    billing, _, _ = teams
    alice, bob, lead = staff("alice"), staff("bob"), staff("lead")
    billing.members.add(alice, bob)
    c = scored(category="billing", language="en")
    services.complaint_claim(complaint_id=c.id, by=alice)
    services.complaint_assign(complaint_id=c.id, by=lead, data={"agent": bob.pk})
    c.refresh_from_db()
    assert c.claimed_by == bob
    assert c.events.get(kind=ComplaintEvent.Kind.ASSIGNED).body == "agent: alice → bob"


@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, "team", errors.ASSIGN_NOTHING),
    ({"team": "x1"}, "team", errors.ASSIGN_ID_INVALID),
    ({"agent": True}, "agent", errors.ASSIGN_ID_INVALID),
    ({"agent": "9" * 13}, "agent", errors.ASSIGN_ID_INVALID),
    ({"team": 999999}, "team", errors.TEAM_UNKNOWN.format(value=999999)),
    ({"agent": 999999}, "agent", errors.ASSIGN_AGENT_UNKNOWN.format(value=999999)),
])
def test_an_assignment_that_cannot_be_done_says_why(teams, data, field, message):
    c = scored(category="billing")
    with pytest.raises(InvalidInput) as info:
        services.complaint_assign(complaint_id=c.id, by=staff("lead"), data=data)
    assert info.value.errors == {field: [message]}


def test_an_agent_of_another_team_cannot_be_given_it_and_a_resolved_one_not_at_all(teams):
    billing, russian, _ = teams
    bob, lead = staff("bob"), staff("lead")
    russian.members.add(bob)
    c = scored(category="billing", language="en")
    with pytest.raises(InvalidInput) as info:
        services.complaint_assign(complaint_id=c.id, by=lead, data={"agent": bob.pk})
    assert info.value.errors == {"agent": [errors.ASSIGN_AGENT_NOT_IN_TEAM.format(name="bob", team="Billing")]}
    # Moving it to bob's team with him is fine.
    services.complaint_assign(complaint_id=c.id, by=lead, data={"agent": bob.pk, "team": russian.pk})
    services.complaint_resolve(complaint_id=c.id, by=bob)
    with pytest.raises(ActionRefused):
        services.complaint_assign(complaint_id=c.id, by=lead, data={"team": billing.pk})


def test_assignment_over_the_api_and_the_whose_filters(client, teams):
    billing, _, _ = teams
    alice = staff("alice")
    billing.members.add(alice)
    first, second = scored(category="billing"), scored(category="billing")
    client.force_login(alice)
    answer = client.post(f"/api/staff/complaints/{first.id}/assignment/", json.dumps({"agent": alice.pk}),
                         content_type="application/json")
    assert answer.status_code == 200 and answer.json()["claimed_by_id"] == alice.pk
    assert answer.json()["team"] == "Billing"

    def ids(**params):
        response = client.get("/api/queue/", params)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids(assignee="me") == {str(first.id)}
    assert ids(assignee="none", team="mine") == {str(second.id)}
    assert ids(team=str(billing.pk)) == {str(first.id), str(second.id)}
    assert ids(team="none") == set()
    bad = client.get("/api/queue/", {"team": "billing", "assignee": "-1"})
    assert bad.status_code == 400 and set(bad.json()) == {"team", "assignee"}
    assert client.get("/api/queue/", {"team": "424242"}).json()["team"] == [
        errors.TEAM_UNKNOWN.format(value=424242)]
    refused = client.post(f"/api/staff/complaints/{second.id}/assignment/", "[1]", content_type="application/json")
    assert refused.status_code == 400 and refused.json()["team"] == [errors.ASSIGN_NOTHING]


def test_the_complaint_page_form_assigns(client, teams):
    billing, _, _ = teams
    alice, lead = staff("alice"), staff("lead")
    billing.members.add(alice)
    c = scored(category="billing")
    client.force_login(lead)
    page = client.get(f"/staff/complaints/{c.id}/").content.decode()
    assert 'id="assign-agent"' in page and "alice (0)" in page
    client.post(f"/staff/complaints/{c.id}/assign/", {"team": str(billing.pk), "agent": str(alice.pk)})
    c.refresh_from_db()
    assert c.claimed_by == alice
    assert "alice (1)" in client.get(f"/staff/complaints/{c.id}/").content.decode()


# --- load and canned replies --------------------------------------------------------

def test_each_agents_open_load(teams):
    billing, russian, _ = teams
    alice, bob = staff("alice"), staff("bob")
    billing.members.add(alice)
    russian.members.add(bob)
    for _ in range(2):
        Complaint.objects.filter(id=scored(category="billing").id).update(claimed_by=alice)
    Complaint.objects.filter(id=scored(category="billing", status="resolved").id).update(claimed_by=alice)
    loads = {row["name"]: (row["open"], row["teams"]) for row in selectors.agent_loads()}
    assert loads == {"alice": (2, ["Billing"]), "bob": (0, ["Russian desk"])}
    assert [row["name"] for row in selectors.agent_loads(team_ids=frozenset({russian.pk}))] == ["bob"]


def test_canned_replies_of_a_team_go_to_its_members_only(teams):
    billing, _, _ = teams
    alice, bob = staff("alice"), staff("bob")
    billing.members.add(alice)
    CannedReply.objects.all().delete()  # the seeded ones (migration 0018) are for everyone
    CannedReply.objects.create(title="For all", body="Hello")
    CannedReply.objects.create(title="Billing only", body="About your invoice", team=billing)
    c = scored(category="billing")
    assert [r["title"] for r in canned_for(complaint=c, user=alice)] == ["Billing only", "For all"]
    assert [r["title"] for r in canned_for(complaint=c, user=bob)] == ["For all"]
