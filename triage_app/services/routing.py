"""Routing: open complaints without a team get one from the admin's routing rules.

The rule itself lives in Postgres (function triage_complaints_route, migration 0019_teams),
so the trigger that routes each complaint as its first score is written and this module
apply the very same SQL."""
from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction


def complaints_route(*, complaint_ids: Sequence | None = None) -> int:
    """Route these open complaints without a team (None: every one); how many got a team."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT triage_complaints_route(%s::uuid[])",
                       [None if complaint_ids is None else [str(i) for i in complaint_ids]])
        return int(cursor.fetchone()[0])
