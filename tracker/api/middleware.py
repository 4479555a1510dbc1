"""Refuse requests whose URL carries a NUL character: PostgreSQL cannot store or compare text with
NUL, so such a filter value would reach the database as an error (a 500) instead of a clear 400."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in unquote(raw_query):
            if request.path.startswith("/api/"):
                from tracker.api.exceptions import PROBLEM_CONTENT_TYPE, TITLES

                body = {
                    "type": "/problems/400",
                    "title": str(TITLES[400]),
                    "status": 400,
                    "detail": "The URL contains a NUL character.",
                    "errors": {},
                }
                return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
            return HttpResponseBadRequest("The URL contains a NUL character.")
        return self.get_response(request)
