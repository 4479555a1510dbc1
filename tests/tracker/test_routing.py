"""The API's URL patterns grouped by first segment (tracker.api.routing) resolve every URL as the
flat list did: the same view, name and arguments, and the same 404s."""

from __future__ import annotations

import re

import pytest
from django.http import HttpResponse
from django.urls import URLResolver, include, path, re_path
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


SAMPLES = ["12", "360302", "overview", "AB12-CD34", "ZS-2021-0001", "x"]


def _sample_url(text: str) -> str | None:
    """A URL the pattern text matches, each argument given the first sample its own pattern takes."""

    def group(match: re.Match) -> str:
        found = next((v for v in SAMPLES if re.fullmatch(match.group(2), v)), None)
        if found is None:
            raise LookupError(match.group(0))
        return found

    def converter(match: re.Match) -> str:
        return "12" if match.group(1) == "int" else "overview"

    try:
        url = re.sub(r"\(\?P<(\w+)>([^()]*)\)", group, text)
    except LookupError:
        return None
    url = re.sub(r"<(?:(\w+):)?\w+>", converter, url)
    return url.replace("^", "").replace("$", "")


def test_the_api_resolves_every_route_as_its_declared_flat_list_does():
    """Every view pattern the apps declare under api/v1/, written out with sample arguments (and with
    a segment added, to reach the 404s), resolves through the grouped patterns exactly as through the
    declared list: the same view, name and arguments."""
    from tracker import urls

    declared: list = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                declared.append(prefix + str(pattern.pattern).lstrip("^"))

    walk(urls.api_v1_declared, "")
    assert len(declared) > 100
    checked = 0
    for text in declared:
        url = _sample_url(text)
        if url is None:
            continue
        for probe in (url, url + "extra/"):
            assert resolve(urls.api_v1, probe) == resolve(urls.api_v1_declared, probe), probe
        assert resolve(urls.api_v1, url) is not None, url
        checked += 1
    assert checked == len(declared), (checked, len(declared))
