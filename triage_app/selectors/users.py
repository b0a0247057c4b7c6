"""Who may do what: staff, and admins who tune the product."""
from __future__ import annotations


def user_is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


TRIAGE_ADMIN_PERMISSION = "triage_app.triage_admin"


def user_is_triage_admin(user) -> bool:
    """Admins tune policy and experiments: superusers, or staff allowed to add a policy."""
    return user_is_staff(user) and (user.is_superuser or user.has_perm(TRIAGE_ADMIN_PERMISSION))
