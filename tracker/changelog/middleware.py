"""One request id per HTTP request: stamped on every change entry and returned as X-Request-ID.

The middleware knows only the request id and the source (`api` or `admin`); who acts is the actor each
service is given (tracker.changelog.context.acting)."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tracker.changelog.context import Source, change_context, new_request_id

_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.fullmatch(incoming) else new_request_id()
        request.request_id = request_id
        source = Source.ADMIN if request.path.startswith("/admin/") else Source.API
        with change_context(
            source=source, request_id=request_id, actor=None, actor_name="", action=None, reason=""
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
