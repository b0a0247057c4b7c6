"""Create the demo admin user `admin` once; running it again changes nothing unless
TRIAGE_ADMIN_PASSWORD now differs from the stored password."""
from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from triage_core.config import env

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the admin user (password from TRIAGE_ADMIN_PASSWORD, or generated and printed)."

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        wanted = env("TRIAGE_ADMIN_PASSWORD", "")
        user = User.objects.filter(username=USERNAME).first()
        if user is None:
            password = wanted or secrets.token_urlsafe(12)
            User.objects.create_superuser(username=USERNAME, email="", password=password)
            if wanted:
                self.stdout.write(f"created user {USERNAME} with the password from TRIAGE_ADMIN_PASSWORD")
            else:
                self.stdout.write(f"created user {USERNAME} with password: {password}")
            return
        changed = []
        if not (user.is_staff and user.is_superuser and user.is_active):
            user.is_staff = user.is_superuser = user.is_active = True
            changed.append("roles")
        if wanted and not user.check_password(wanted):
            user.set_password(wanted)
            changed.append("password from TRIAGE_ADMIN_PASSWORD")
        if changed:
            user.save()
            self.stdout.write(f"user {USERNAME} exists; updated {', '.join(changed)}")
        else:
            self.stdout.write(f"user {USERNAME} exists; unchanged")
