"""The API's URL patterns indexed by their first path segment.

Django tries a URL against each pattern in turn. The routers of every app under `api/v1/` made about
150 patterns in one flat list, and a resource registered late (post assignments, say) was matched
against a hundred regular expressions first: 70 µs of a request whose page took 300. Grouping each
run of consecutive patterns that start with the same literal segment under one `include()` turns
that into one prefix test per segment. The order of the patterns is kept (only consecutive patterns
are grouped), so every URL resolves to the view, name and arguments it did before."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.urls import URLPattern, URLResolver, include, path, re_path
from django.urls.resolvers import RegexPattern, RoutePattern

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+/")


def _flatten(patterns: Iterable[Any]) -> list[Any]:
    """Patterns with each `path("", include(module))` replaced by the module's own patterns (a
    namespaced or non-empty include is kept whole)."""
    out: list[Any] = []
    for pattern in patterns:
        if (
            isinstance(pattern, URLResolver)
            and str(pattern.pattern) == ""
            and pattern.namespace is None
            and not pattern.default_kwargs
        ):
            out.extend(_flatten(pattern.url_patterns))
        else:
            out.append(pattern)
    return out


def _split(pattern: Any) -> tuple[str, Any] | None:
    """(first segment, the same pattern without it) for a view pattern that starts with a literal
    segment; None for any other."""
    if not isinstance(pattern, URLPattern):
        return None
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RegexPattern):
        found = _SEGMENT.match(text, 1) if text.startswith("^") else None
        if found is None:
            return None
        rest, make = "^" + text[found.end() :], re_path
    elif isinstance(pattern.pattern, RoutePattern):
        found = _SEGMENT.match(text)
        if found is None:
            return None
        rest, make = text[found.end() :], path
    else:
        return None
    return found.group(), make(rest, pattern.callback, pattern.default_args, pattern.name)


def by_first_segment(patterns: Iterable[Any]) -> list[Any]:
    """`patterns` (includes of empty prefix flattened) with each run of consecutive view patterns
    sharing a literal first segment grouped under `path("<segment>/", include([...]))`."""
    out: list[Any] = []
    run_segment, run = None, []

    def close() -> None:
        if run:
            out.append(path(run_segment, include(list(run))))
            run.clear()

    for pattern in _flatten(patterns):
        split = _split(pattern)
        if split is None:
            close()
            run_segment = None
            out.append(pattern)
            continue
        segment, rest = split
        if segment != run_segment:
            close()
            run_segment = segment
        run.append(rest)
    close()
    return out
