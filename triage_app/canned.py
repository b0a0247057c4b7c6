"""Canned replies: their placeholders and how they are filled in for one complaint."""
from __future__ import annotations

import string

from django.contrib.auth.models import User
from django.db.models import Q

from triage_app.models import CannedReply, Complaint

# What a canned reply may say about the complaint at hand (and an example, for the admin).
PLACEHOLDERS = {
    "tracking_code": "the complaint's tracking code",
    "tracking_url": "the customer's tracking page",
    "customer_email": "the customer's address (empty when none)",
    "agent": "the staff member's name",
    "submitted": "the day the complaint came in (YYYY-MM-DD)",
}


def placeholder_problems(body: str) -> list[str]:
    """Why `body` cannot be filled in: an unknown {name}, or a lone brace."""
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(body) if field is not None]
    except ValueError as exc:
        return [f"{exc} (write a brace as {{{{ or }}}})"]
    return [f"unknown placeholder {{{name}}}; known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
            for name in dict.fromkeys(names) if name not in PLACEHOLDERS]


def fill(body: str, *, complaint: Complaint, agent: str) -> str:
    """`body` with its placeholders filled for `complaint`; a body that does not parse (the
    admin form refuses those) is returned as it is, never half-filled."""
    from triage_app.mail import tracking_url

    values = {"tracking_code": complaint.tracking_code, "tracking_url": tracking_url(complaint),
              "customer_email": complaint.email or "", "agent": agent,
              "submitted": complaint.created_at.date().isoformat()}
    try:
        return body.format_map(values)
    except (KeyError, ValueError, IndexError):
        return body


def canned_for(*, complaint: Complaint, user: User) -> list[dict]:
    """The active canned replies for this complaint's language, those for everyone and
    those of the user's teams, filled in: [{"title", "text"}]."""
    from triage_app.serializers import user_display_name

    agent = user_display_name(user)
    replies = CannedReply.objects.filter(Q(team__isnull=True) | Q(team__members=user), active=True,
                                         language__in=["", complaint.language]).distinct()
    return [{"title": r.title, "text": fill(r.body, complaint=complaint, agent=agent)} for r in replies]
