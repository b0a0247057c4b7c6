"""Issue an API token for a staff member: `python manage.py api_token <username> [--hours N]`.

The token is printed once; the database keeps only its hash (django-rest-knox), and it
expires after --hours (default TRIAGE_API_TOKEN_HOURS, 30 days). Send it as
`Authorization: Token <token>`. `--revoke` deletes every token of the user.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken

from triage_app.selectors import user_is_staff


class Command(BaseCommand):
    help = "Issue an expiring API token for a staff member (printed once, stored hashed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--hours", type=float, default=None, help="lifetime (default TRIAGE_API_TOKEN_HOURS)")
        parser.add_argument("--revoke", action="store_true", help="delete the user's tokens instead")

    def handle(self, *args, username: str, hours: float | None = None, revoke: bool = False, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if revoke:
            count, _ = AuthToken.objects.filter(user=user).delete()
            self.stdout.write(f"Revoked {count} token(s) of {username}.")
            return
        if not user_is_staff(user):
            raise CommandError(f"{username} is not an active staff member; the API is for staff.")
        if hours is not None and hours <= 0:
            raise CommandError("--hours must be above 0.")
        ttl = timedelta(hours=hours) if hours is not None else settings.REST_KNOX["TOKEN_TTL"]
        instance, token = AuthToken.objects.create(user=user, expiry=ttl)
        self.stderr.write(f"Token for {username}, valid until {instance.expiry:%Y-%m-%d %H:%M} UTC "
                          "(shown once; send it as `Authorization: Token <token>`):")
        self.stdout.write(token)
