"""The API's front door: `GET /api/v1/` lists the entry points, and the interactive docs (Swagger UI
at `/api/v1/docs/`, ReDoc at `/api/v1/redoc/`) load every file from this service.

The index is built from the URL configuration itself: every route under `/api/v1/` that takes no
path parameter (the lists, the collection actions such as `payments/export/`, log-in and `me/`),
described by its view's docstring, as the schema describes it. A new app's routes appear without
anyone editing a list here.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.api.middleware import allowed_methods
from tracker.api.schema import _CHINESE_GLOSS

API_PREFIX = "api/v1/"
# Routes the index names on their own (not as resources), by URL name.
FRONT_DOOR = {"api-index", "schema", "docs", "redoc"}
_BLANKS = re.compile(r"\s+")


@dataclass(frozen=True)
class EntryPoint:
    name: str  # the path under /api/v1/ without the trailing slash: `beneficiaries`, `auth/token`
    url_name: str
    methods: tuple[str, ...]
    description: str


def summary(doc: str | None) -> str:
    """A docstring's first paragraph on one line, in English (Chinese glosses dropped, as the
    schema drops them)."""
    paragraph = inspect.cleandoc(doc or "").split("\n\n", 1)[0]
    return _CHINESE_GLOSS.sub("", _BLANKS.sub(" ", paragraph)).strip()


def _describe(callback: Any) -> str:
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    actions: dict[str, str] = getattr(callback, "actions", None) or {}
    names = [name for name in actions.values() if name not in {"list", "create"}]
    if names:  # a collection action (`@action(detail=False)`): its method's docstring
        return summary(getattr(getattr(view_class, names[0], None), "__doc__", None))
    return summary(getattr(view_class, "__doc__", None))


def _walk(patterns: list[Any], namespace: str = "") -> list[tuple[str, URLPattern]]:
    """(URL name with its namespace, pattern) for every named pattern, in URL order."""
    found: list[tuple[str, URLPattern]] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append((namespace + pattern.name, pattern))
    return found


@cache
def entry_points() -> tuple[EntryPoint, ...]:
    """Every named route under /api/v1/ without path parameters, in URL order (the URL
    configuration does not change while the process runs)."""
    points: dict[str, EntryPoint] = {}
    for resolver in get_resolver().url_patterns:
        if not (isinstance(resolver, URLResolver) and str(resolver.pattern) == API_PREFIX):
            continue
        for url_name, pattern in _walk(resolver.url_patterns):
            if url_name in FRONT_DOOR or pattern.pattern.regex.groups:
                continue
            path = reverse(url_name)
            if path in points:
                continue
            methods = tuple(m for m in allowed_methods(pattern.callback) if m not in {"HEAD", "OPTIONS"})
            points[path] = EntryPoint(
                name=path.removeprefix(f"/{API_PREFIX}").rstrip("/"),
                url_name=url_name,
                methods=methods,
                description=_describe(pattern.callback),
            )
    return tuple(points.values())


class EntryPointSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The path under /api/v1/, e.g. `beneficiaries`.")
    href = serializers.URLField()
    methods = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()


class ApiIndexSerializer(serializers.Serializer):
    title = serializers.CharField()
    version = serializers.CharField()
    resources = EntryPointSerializer(many=True)
    docs = serializers.URLField(help_text="Swagger UI: try the API in a browser.")
    redoc = serializers.URLField(help_text="ReDoc: the same reference, for reading.")
    schema = serializers.URLField(
        help_text="The OpenAPI 3 document (YAML; JSON with `Accept: application/json`)."
    )
    healthz = serializers.URLField(help_text="200 while the database answers, 503 when not.")
    problems = serializers.URLField(help_text="What each problem `type` means.")


class ApiIndexView(APIView):
    """The API's entry points: every resource and collection action with its methods and what it
    is for, and where the docs, the schema, the health check and the problem types are."""

    # The same for everyone and needed before logging in: no credentials, so that an expired token
    # cannot stand between a newcomer and the map. Throttled per address like any anonymous call.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses=ApiIndexSerializer, operation_id="api_index", auth=[], tags=["index"])
    def get(self, request: Request) -> Response:
        from django.conf import settings

        def href(name: str) -> str:
            return request.build_absolute_uri(reverse(name))

        return Response(
            {
                "title": settings.SPECTACULAR_SETTINGS["TITLE"],
                "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                "resources": [
                    {
                        "name": point.name,
                        "href": href(point.url_name),
                        "methods": list(point.methods),
                        "description": point.description,
                    }
                    for point in entry_points()
                ],
                "docs": href("docs"),
                "redoc": href("redoc"),
                "schema": href("schema"),
                "healthz": href("healthz"),
                "problems": href("problems"),
            }
        )


class RedocView(SpectacularRedocView):
    """ReDoc without the web fonts drf-spectacular's page loads from Google (no other host)."""

    template_name = "docs/redoc.html"
