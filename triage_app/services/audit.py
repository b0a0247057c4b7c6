"""The audit trail of admin settings, and the lock that numbers their versions."""
from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection

from triage_app.models import (
    AuditLog,
)


def acting_user(user: object) -> User:
    """The user a staff or admin action is done by: the signed-in user of a request that
    passed the staff or admin check (so never anonymous)."""
    if not isinstance(user, User):
        raise TypeError(f"a staff action needs a signed-in user, not {type(user).__name__}")
    return user


def audit_record(*, actor: User | None, action: str, entity: str, old: object, new: object) -> AuditLog:
    return AuditLog.objects.create(actor=actor, action=action, entity=entity, old=old, new=new)


def latest_version_locked(model):
    """The newest row of an append-only versioned table, with the table locked for writes.

    Locking the newest row is not enough: a second admin saving at once would wait on
    it, then still see it as the newest (Postgres re-checks the locked row, not rows
    inserted meanwhile) and collide on the next version number. SHARE ROW EXCLUSIVE
    serialises writers until commit; readers (the stream) are not blocked.
    """
    with connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{model._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE')
    return model.objects.order_by("-version").first()
