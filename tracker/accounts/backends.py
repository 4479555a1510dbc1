"""The authentication backend: Django's model backend with the log-in lock-out in front of it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from tracker.accounts.lockout import lockout_clear, lockout_record_failure, lockout_remaining
from tracker.accounts.throttles import client_ip


class LockoutModelBackend(ModelBackend):
    """Refuses a locked username before checking the password, counts every failure and clears the
    count on success. Being the backend, it holds for every caller of `authenticate()`: the API's
    token view, the admin log-in, and any door added later."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        username = str(username)
        if lockout_remaining(username):
            # PermissionDenied stops authenticate() from trying further backends.
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lockout_record_failure(username=username, ip=client_ip(request) if request is not None else None)
        else:
            lockout_clear(username)
        return user
