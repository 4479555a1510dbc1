"""Request-rate limits: Django REST framework's throttles, counted in the default cache (CACHES: Redis
when REDIS_URL is set, so every worker process counts against one limit; else the process's memory).

- Authenticated callers: one count per user, at the rate of their role (THROTTLE_RATE_CLERK, ...);
  a user with several roles gets the most generous of them, a superuser the most generous of all.
- Anonymous callers: per client address (THROTTLE_RATE_ANON).
- Log-in attempts, at the API's token view and the admin log-in: per client address
  (THROTTLE_RATE_LOGIN_IP) and per username tried (THROTTLE_RATE_LOGIN_USERNAME).

The client address is REMOTE_ADDR, or behind NUM_PROXIES trusted proxies the matching entry of
X-Forwarded-For (DRF's rule); with NUM_PROXIES unset DRF would trust any X-Forwarded-For a client sends.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from tracker.accounts.choices import Role


def client_ip(request: Any) -> str | None:
    return BaseThrottle().get_ident(request)


def attempted_username(request: Any) -> str:
    """The username a log-in request tries: from the parsed JSON of an API request, from the form of
    an admin one. Anything but a string counts as none."""
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    value = data.get("username") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else ""


class SettingsRateThrottle(SimpleRateThrottle):
    """DRF's cache-based throttle with two changes. The rate is read from the settings at each request
    (DRF copies the rate table into a class attribute at import, which then ignores changed settings).
    And the wait is the time until enough of the history has aged out for one more request, always at
    least a second, so every 429 carries a Retry-After; DRF's own estimate spreads the remaining
    requests over the window and gives none when the history is longer than a lowered limit."""

    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate set for the {self.scope!r} scope") from None

    def throttle_success(self) -> bool:
        """DRF's success, with the history kept as an array of doubles rather than a list of floats:
        the cache pickles it on every request (a limit of thousands a minute made that list the
        largest cost of a short request; an array pickles as one block of bytes). A list left in the
        cache by an earlier release is read as before and stored as an array from then on."""
        if not isinstance(self.history, array):
            self.history = array("d", self.history)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
        return True

    def wait(self) -> float:
        if len(self.history) < self.num_requests:
            return 1
        ages_out_at = self.history[self.num_requests - 1] + self.duration
        return max(1, math.ceil(ages_out_at - self.now))


class AnonymousThrottle(SettingsRateThrottle):
    scope = "anon"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RoleThrottle(SettingsRateThrottle):
    """One count per user, at the most generous rate among the user's roles."""

    def __init__(self) -> None:
        # The rate depends on the caller, so it is chosen in allow_request().
        pass

    def allow_request(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return True
        self.scope = self.scope_for(user)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def scope_for(self, user: Any) -> str:
        roles: Iterable[str] = Role.values if user.is_superuser else sorted(user.roles)
        rates = api_settings.DEFAULT_THROTTLE_RATES
        scopes = [role for role in roles if role in rates]
        if not scopes:
            return "anon"  # a user without a role can do next to nothing; no more than a stranger
        return max(scopes, key=lambda scope: _per_second(self.parse_rate(rates[scope])))

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": "user", "ident": request.user.pk}


class LoginAddressThrottle(SettingsRateThrottle):
    scope = "login_ip"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(SettingsRateThrottle):
    scope = "login_username"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        username = attempted_username(request)
        if not username:
            return None
        # hashed: a cache key must be short and plain, a username need not be
        ident = hashlib.sha256(username.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


LOGIN_THROTTLES = (LoginAddressThrottle, LoginUsernameThrottle)


def login_throttle_wait(request: HttpRequest) -> int | None:
    """For log-in doors outside DRF (the admin): count this attempt against the log-in throttles and
    return the seconds to wait when one of them refuses it, else None. Like DRF, every throttle counts
    the attempt it allows."""
    waits = []
    for throttle_class in LOGIN_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait())
    return math.ceil(max(waits)) if waits else None


def _per_second(parsed: tuple[int | None, int | None]) -> float:
    count, seconds = parsed
    return count / seconds if count and seconds else 0.0
