"""Sockets follow the session: logging out, being deactivated or losing staff rights
closes the user's open live-queue sockets at once (triage_app.live.sockets_close)."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save

from triage_app import live
from triage_app.selectors import user_is_staff


def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        live.sockets_close(user_id=user.pk)


def _user_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created and not user_is_staff(instance):
        user_id = instance.pk
        transaction.on_commit(lambda: live.sockets_close(user_id=user_id))


def connect() -> None:
    user_logged_out.connect(_logged_out, dispatch_uid="triage_app.sockets_follow_logout")
    post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="triage_app.sockets_follow_rights")
