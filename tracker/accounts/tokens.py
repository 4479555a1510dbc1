"""API tokens (`Authorization: Token <key>`, DRF's token table): issue on log-in, expire after
TOKEN_IDLE_SECONDS without use, revoke on log-out, password change or deactivation."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tracker.accounts.models import TokenActivity, User

security_log = logging.getLogger("tracker.security")

# Last use is written when the stored value is older than this, not on every request: idle expiry is
# measured in hours, so a minute's imprecision costs nothing and saves a write per request.
LAST_USE_RESOLUTION = dt.timedelta(seconds=60)


def token_last_used(token: Token) -> dt.datetime:
    activity = getattr(token, "activity", None)
    return activity.last_used_at if activity is not None else token.created


def token_is_idle(token: Token, *, now: dt.datetime) -> bool:
    """True when the token has not been used for longer than TOKEN_IDLE_SECONDS."""
    return now - token_last_used(token) > dt.timedelta(seconds=settings.TOKEN_IDLE_SECONDS)


def token_touch(*, token: Token, now: dt.datetime) -> None:
    """Record a use of the token, at most once per LAST_USE_RESOLUTION."""
    if now - token_last_used(token) < LAST_USE_RESOLUTION:
        return
    # The filtered UPDATE keeps two concurrent requests from both writing; only a token that has
    # never been touched needs the INSERT.
    updated = TokenActivity.objects.filter(token=token, last_used_at__lt=now - LAST_USE_RESOLUTION).update(
        last_used_at=now
    )
    if not updated and getattr(token, "activity", None) is None:
        TokenActivity.objects.get_or_create(token=token, defaults={"last_used_at": now})


@transaction.atomic
def token_issue(*, user: User) -> Token:
    """The user's token for a successful log-in: the current one while it is still live (every client
    of a user shares it, as with DRF's own view), a new key when it has gone idle."""
    now = timezone.now()
    token = Token.objects.select_related("activity").filter(user=user).first()
    if token is not None and token_is_idle(token, now=now):
        token.delete()
        token = None
    if token is None:
        token = Token.objects.create(user=user)
    TokenActivity.objects.update_or_create(token=token, defaults={"last_used_at": now})
    return token


def tokens_revoke(*, user: User, reason: str) -> int:
    """Delete the user's API tokens; clients must log in again. Returns how many were deleted."""
    _, per_model = Token.objects.filter(user=user).delete()
    deleted = per_model.get(Token._meta.label, 0)
    if deleted:
        security_log.info("API token revoked: username=%s reason=%s", user.get_username(), reason)
    return deleted
