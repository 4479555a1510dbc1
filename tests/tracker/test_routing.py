"""The API's URL patterns grouped by first segment (tracker.api.routing) resolve every URL as the
flat list did: the same view, name and arguments, and the same 404s."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.urls import URLResolver, get_resolver, include, path, re_path
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern

from tracker.api.routing import by_first_segment


def view(name: str):
    def answer(request):  # pragma: no cover - never called
        return HttpResponse(name)

    answer.__name__ = name
    return answer


FLAT = [
    path("", view("index"), name="index"),
    re_path(r"^people/$", view("people-list"), name="people-list"),
    # An action listed before the detail, whose pattern would also take "import" as a key.
    re_path(r"^people/import/$", view("people-import"), name="people-import"),
    re_path(r"^people/(?P<pk>[^/.]+)/$", view("people-detail"), name="people-detail"),
    re_path(r"^people-groups/(?P<code>[a-z]+)/$", view("group-detail"), name="group-detail"),
    path("audit/reports/<str:name>/", view("report"), name="report"),
    re_path(r"^audit/changes/$", view("changes"), name="changes"),
    # The same first segment again after another one: a second group, the order kept.
    path("people/<int:person>/record/", view("record"), name="record"),
    re_path(r"^(?P<anything>.+)/raw/$", view("raw"), name="raw"),
]

URLS = [
    "",
    "people/",
    "people/import/",
    "people/42/",
    "people/x.y/",
    "people-groups/abc/",
    "people-groups/ABC/",
    "audit/reports/overview/",
    "audit/changes/",
    "audit/changes/1/",
    "people/7/record/",
    "people/seven/record/",
    "a/b/raw/",
    "nothing/",
]


def resolve(patterns: list, url: str) -> tuple | None:
    resolver = URLResolver(RegexPattern(r"^/"), patterns)
    try:
        match = resolver.resolve("/" + url)
    except Resolver404:
        return None
    return (match.func.__name__, match.url_name, match.args, match.kwargs)


@pytest.mark.parametrize("url", URLS)
def test_a_url_resolves_as_in_the_flat_list(url):
    assert resolve(by_first_segment(FLAT), url) == resolve(FLAT, url)


def test_patterns_are_grouped_by_their_first_segment_in_order():
    grouped = by_first_segment([path("", include(FLAT[:4])), *FLAT[4:]])
    assert [str(p.pattern) for p in grouped] == [
        "",
        "people/",
        "people-groups/",
        "audit/",
        "people/",
        r"^(?P<anything>.+)/raw/$",
    ]
    assert [p.name for p in grouped[1].url_patterns] == ["people-list", "people-import", "people-detail"]


def test_the_api_resolves_each_of_its_routes_as_the_flat_list_does():
    """Every view pattern under api/v1/, written out with a sample key, resolves through the grouped
    patterns to that pattern's own name (grouping moved none behind another that takes its URLs)."""
    from tracker import urls

    api = next(p for p in get_resolver(urls).url_patterns if str(p.pattern) == "api/v1/")
    flat: list = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                flat.append((prefix, pattern))

    walk(api.url_patterns, "")
    assert len(flat) > 100
    checked = 0
    for prefix, pattern in flat:
        text = prefix + str(pattern.pattern).lstrip("^")
        url = (
            text.replace("^", "")
            .replace("$", "")
            .replace("(?P<pk>[^/.]+)", "12")
            .replace("(?P<pk>[0-9]+)", "12")
        )
        if "(" in url or "<" in url:
            continue
        grouped_match = resolve(urls.api_v1, url)
        assert grouped_match is not None and grouped_match[1] == pattern.name, url
        checked += 1
    assert checked > 100
