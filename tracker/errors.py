"""Domain errors that services raise. They say what went wrong in the domain's terms; the API maps
them to problem responses (tracker/api/exceptions.py) and the admin shows them on the form, so no
service imports the web framework.

Besides these, services raise Django's `ValidationError` (400, field errors) and `PermissionDenied`
(403).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of the errors below: a message for people and extra members for the problem document."""

    status = 400
    default_detail: Any = _("The request cannot be processed.")

    def __init__(self, detail: Any = None, *, extra: dict[str, Any] | None = None) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.extra = extra or {}
        super().__init__(str(self.detail))


class Conflict(DomainError):
    """409: the request conflicts with the record's current state (a transition from the wrong status,
    a duplicate, a concurrent change)."""

    status = 409
    default_detail = _("The request conflicts with the current state of the resource.")


class TooManyRequests(DomainError):
    """429: the caller must wait `retry_after` seconds (e.g. too many probes of other regions' data)."""

    status = 429
    default_detail = _("Too many requests; try again later.")

    def __init__(self, detail: Any = None, *, retry_after: int, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail, extra=extra)
        self.retry_after = retry_after
