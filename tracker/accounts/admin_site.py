"""The admin site: Django's, with its log-in behind the same throttles and lock-out as the API's."""

from __future__ import annotations

import math
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

from tracker.accounts.lockout import lockout_remaining
from tracker.accounts.throttles import login_throttle_wait


class ThrottledLoginForm(AdminAuthenticationForm):
    """Refuses an attempt over the log-in throttles, or for a locked username, with a message on the
    form; the site then answers 429 with Retry-After. A locked username gets the same answer whether
    or not an account has it."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        wait = login_throttle_wait(self.request) or lockout_remaining(username)
        if wait:
            self._refuse(wait)
        try:
            return super().clean()
        except ValidationError:
            wait = lockout_remaining(username)  # this failure may have set the lock
            if wait:
                self._refuse(wait)
            raise

    def _refuse(self, wait: int) -> None:
        self.request.login_retry_after = wait
        minutes = max(1, math.ceil(wait / 60))
        raise ValidationError(
            ngettext(
                "Too many log-in attempts. Try again in %(minutes)d minute.",
                "Too many log-in attempts. Try again in %(minutes)d minutes.",
                minutes,
            ),
            code="too_many_attempts",
            params={"minutes": minutes},
        )


class TrackerAdminSite(admin.AdminSite):
    login_form = ThrottledLoginForm

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = super().login(request, extra_context)
        retry_after = getattr(request, "login_retry_after", None)
        if retry_after:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response
