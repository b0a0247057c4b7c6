"""Teams: who sees which complaints, who can take them, and how loaded each agent is.

Visibility, the one rule every staff read and action applies: an admin, or an agent in no
team, sees every complaint (a support desk of five needs no teams); an agent in one or
more teams sees their teams' complaints, complaints of no team (not routed yet, or no rule
matched) and the complaints they hold themselves.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Q

from triage_app import errors
from triage_app.models import Complaint, Team
from triage_app.selectors.users import user_is_staff, user_is_triage_admin
from triage_app.validation import whole_id


@dataclass(frozen=True)
class Viewer:
    """Who is reading: the rule of this module for one staff member."""
    user_id: int | None
    team_ids: frozenset[int] | None  # the teams whose complaints they see; None: every complaint
    member_of: frozenset[int] = frozenset()  # their teams (for "my team"), admins' too

    def visible(self) -> Q:
        """A Complaint filter: what this viewer may see."""
        if self.team_ids is None:
            return Q()
        return Q(team__isnull=True) | Q(team_id__in=self.team_ids) | Q(claimed_by_id=self.user_id)

    def sees(self, *, team_id: int | None, claimed_by_id: int | None) -> bool:
        return (self.team_ids is None or team_id is None or team_id in self.team_ids
                or claimed_by_id == self.user_id)

    def sees_item(self, item: dict) -> bool:
        """The same rule on a queue item (serializers.QueueItemOut), for live pushes."""
        return self.sees(team_id=item.get("team_id"), claimed_by_id=item.get("claimed_by_id"))


# Reads on no one's behalf (workers, the tests of other rules): every complaint.
SEES_ALL = Viewer(user_id=None, team_ids=None)


def viewer_of(user) -> Viewer:
    member_of = frozenset(Team.objects.filter(members=user).values_list("id", flat=True)) if user.pk else frozenset()
    sees_all = user_is_triage_admin(user) or not member_of
    return Viewer(user_id=user.pk, team_ids=None if sees_all else member_of, member_of=member_of)


def complaint_visible(*, complaint: Complaint, user) -> bool:
    return viewer_of(user).sees(team_id=complaint.team_id, claimed_by_id=complaint.claimed_by_id)


def holder_filters_from(params, problems: dict[str, list[str]]) -> tuple[int | str | None, int | str | None]:
    """(team, assignee) from a query string, as queue_holder_filter reads them: `team` a
    team id, "mine" or "none"; `assignee` a user id, "me" or "none"; empty: any. What is
    wrong goes into `problems` under the parameter's name."""
    def read(name: str, words: tuple[str, str]) -> int | str | None:
        raw = (params.get(name) or "").strip()
        if not raw:
            return None
        if raw in words:
            return raw
        if (number := whole_id(raw)) is not None:
            return number
        problems[name] = [errors.HOLDER_FILTER_INVALID.format(value=raw[:40], words=" / ".join(words))]
        return None

    team, assignee = read("team", ("mine", "none")), read("assignee", ("me", "none"))
    if isinstance(team, int) and not Team.objects.filter(id=team).exists():
        problems["team"] = [errors.TEAM_UNKNOWN.format(value=team)]
    return team, assignee


def queue_holder_filter(*, team: int | str | None, assignee: int | str | None, viewer: Viewer) -> Q:
    """Complaints of `team` and held by `assignee` (holder_filters_from); None: any."""
    where = Q()
    if team == "mine":
        where &= Q(team_id__in=viewer.member_of)
    elif team == "none":
        where &= Q(team__isnull=True)
    elif team is not None:
        where &= Q(team_id=team)
    if assignee == "me":
        where &= Q(claimed_by_id=viewer.user_id)
    elif assignee == "none":
        where &= Q(claimed_by__isnull=True)
    elif assignee is not None:
        where &= Q(claimed_by_id=assignee)
    return where


def teams_all() -> list[Team]:
    return list(Team.objects.order_by("name"))


def agent_loads(*, team_ids: frozenset[int] | None = None) -> list[dict]:
    """Each active staff member's open load: [{"id", "name", "teams", "open"}], the most
    loaded first; only members of `team_ids` when given."""
    from triage_app.serializers import user_display_name

    open_held = Count("claimed_complaints", filter=~Q(claimed_complaints__status=Complaint.Status.RESOLVED))
    agents = User.objects.filter(is_active=True, is_staff=True)
    if team_ids is not None:
        agents = agents.filter(triage_teams__id__in=team_ids).distinct()
    agents = agents.annotate(open=open_held).order_by("-open", "username")
    teams: dict[int, list[str]] = {}
    for user_id, name in Team.members.through.objects.values_list("user_id", "team__name").order_by("team__name"):
        teams.setdefault(user_id, []).append(name)
    return [{"id": a.pk, "name": user_display_name(a), "teams": teams.get(a.pk, []), "open": a.open}
            for a in agents if user_is_staff(a)]
