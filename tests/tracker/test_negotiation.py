"""Content negotiation remembers its answers (tracker/api/negotiation.py): the same renderer and
media type as DRF's own negotiation for every Accept header and format, remembered ones included,
and a request nothing can answer is still a 406."""

from __future__ import annotations

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tracker.api import negotiation
from tracker.api.reads import ORJSONRenderer

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/*",
    "application/json;q=0.5, text/html",
]


def _request(accept: str | None, query: str = "") -> Request:
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(APIRequestFactory().get(f"/api/v1/regions/{query}", **extra))


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api"])
def test_the_answer_is_drfs_the_first_time_and_when_remembered(accept, query):
    renderers = [ORJSONRenderer(), BrowsableAPIRenderer()]
    expected_renderer, expected_type = DefaultContentNegotiation().select_renderer(
        _request(accept, query), renderers
    )
    for _ in range(2):
        renderer, media_type = negotiation.RememberingContentNegotiation().select_renderer(
            _request(accept, query), renderers
        )
        assert (renderer, media_type) == (expected_renderer, expected_type)


def test_nothing_acceptable_is_still_406(api, clerk):
    for _ in range(2):
        response = api(clerk).get("/api/v1/regions/", HTTP_ACCEPT="image/png")
        assert response.status_code == 406


def test_the_table_is_bounded(monkeypatch):
    monkeypatch.setattr(negotiation.RememberingContentNegotiation, "_answers", {})
    monkeypatch.setattr(negotiation, "MAX_REMEMBERED", 3)
    renderers = [ORJSONRenderer(), BrowsableAPIRenderer()]
    for number in range(10):
        request = _request(f"application/json; q=0.{number}")
        assert (
            negotiation.RememberingContentNegotiation().select_renderer(request, renderers)[0] is renderers[0]
        )
        assert len(negotiation.RememberingContentNegotiation._answers) <= 3
    # The last header is remembered though the table filled up before it.
    assert next(iter(negotiation.RememberingContentNegotiation._answers))[:2] == (
        "application/json; q=0.9",
        None,
    )
