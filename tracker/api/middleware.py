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


# Methods some view of this API may handle. Anything else (TRACE, CONNECT, WebDAV's PROPFIND, made-up
# verbs) is refused before authentication, the database or the view.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def allowed_methods(callback: Callable[..., HttpResponse]) -> list[str]:
    """The methods a routed DRF view handles, as its own 405 would list them in `Allow`."""
    actions = getattr(callback, "actions", None)  # a viewset route: {method: action}
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if actions:
        methods = {method.upper() for method in actions}
    elif view_class is not None:
        methods = {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
    else:
        methods = {"GET"}
    if "GET" in methods:
        methods.add("HEAD")
    methods.add("OPTIONS")
    return sorted(methods & KNOWN_METHODS)


class RejectUnknownMethodMiddleware:
    """Under /api/, a method outside KNOWN_METHODS is a 405 problem (with `Allow`) on any routed
    URL, whoever asks; an unrouted URL stays a 404. Methods that are known but not offered by the
    resource (PUT on a read-only list) get the same 405 from DRF itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in KNOWN_METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        from django.urls import Resolver404, resolve
        from rest_framework.exceptions import MethodNotAllowed

        from tracker.api.exceptions import PROBLEM_CONTENT_TYPE, TITLES

        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        body = {
            "type": "/problems/405",
            "title": str(TITLES[405]),
            "status": 405,
            "detail": str(MethodNotAllowed(request.method).detail),
            "errors": {},
        }
        response = JsonResponse(
            body, status=405, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
        )
        response["Allow"] = ", ".join(allowed_methods(match.func))
        return response
