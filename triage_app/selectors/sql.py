"""Plain SQL reads for aggregates the ORM would spell worse."""
from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


def rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
