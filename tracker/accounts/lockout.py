"""Lock-out after repeated failed log-ins.

LOGIN_LOCKOUT_FAILURES failures for one username within LOGIN_LOCKOUT_SECONDS lock that username for
LOGIN_LOCKOUT_SECONDS: no log-in, not even with the right password, until the lock expires. The state
is kept per username *tried*, whether or not an account has it, so the answer never tells whether a
username exists. It is kept in the database, so every worker process (and a restart) sees it. The
authentication backend consults it, so every door that calls `authenticate()` (the API's token view,
the admin's log-in) honours it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import math

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tracker.accounts.models import LoginLockout

security_log = logging.getLogger("tracker.security")

USERNAME_MAX = LoginLockout._meta.get_field("username").max_length


def _key(username: str) -> str:
    # Usernames are at most 150 characters; a longer attempt cannot match an account, and truncating it
    # keeps it within the column.
    return username[:USERNAME_MAX]


def _valid_ip(ip: str | None) -> str | None:
    # The address comes from REMOTE_ADDR or, behind NUM_PROXIES proxies, from X-Forwarded-For, which
    # a client may fill with anything.
    try:
        return str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        return None


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def lockout_remaining(username: str) -> int:
    """Seconds until the username's lock expires (rounded up); 0 when it is not locked."""
    if not username:
        return 0
    locked_until = (
        LoginLockout.objects.filter(username=_key(username)).values_list("locked_until", flat=True).first()
    )
    if locked_until is None:
        return 0
    remaining = (locked_until - timezone.now()).total_seconds()
    return math.ceil(remaining) if remaining > 0 else 0


@transaction.atomic
def lockout_record_failure(*, username: str, ip: str | None) -> dt.datetime | None:
    """Count a failed log-in for the username; lock it at the LOGIN_LOCKOUT_FAILURES-th failure within
    the window. Returns the lock's expiry when this failure set it, else None. Failures while locked do
    not extend the lock (else anyone could keep a colleague locked out for ever with one try a window)."""
    if not username:
        return None
    now = timezone.now()
    row, _ = LoginLockout.objects.select_for_update().get_or_create(username=_key(username))
    if row.locked_until is not None and row.locked_until > now:
        return None
    if row.first_failure_at is None or now - row.first_failure_at > _window() or row.locked_until:
        # a fresh run: the previous one is older than the window, or ended in a lock that has expired
        row.failures = 0
        row.first_failure_at = now
        row.locked_until = None
    row.failures += 1
    row.last_failure_at = now
    row.last_ip = _valid_ip(ip)
    if row.failures >= settings.LOGIN_LOCKOUT_FAILURES:
        row.locked_until = now + _window()
        security_log.warning(
            "log-in locked after %d failures: username=%s ip=%s until=%s",
            row.failures,
            username,
            ip or "-",
            row.locked_until.isoformat(),
        )
    row.save()
    # Forget runs that ended long ago (failed attempts at unknown usernames would otherwise pile up).
    LoginLockout.objects.filter(last_failure_at__lt=now - 2 * _window()).exclude(pk=row.pk).delete()
    return row.locked_until


def lockout_clear(username: str) -> None:
    """A successful log-in ends the run of failures."""
    if username:
        LoginLockout.objects.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lte=timezone.now()), username=_key(username)
        ).delete()
