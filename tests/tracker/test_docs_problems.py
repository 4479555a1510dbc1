"""The problem `type` URIs (`/problems/404`...) resolve to a page describing each problem
(tracker/api/problems.py), in Chinese and English: HTML for a browser, the same as JSON when asked.
Every status the API answers with a problem has its page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from tracker.api.exceptions import TITLES
from tracker.api.problems import CATALOGUE
from tracker.errors import DomainError

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff]")


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def emitted_statuses() -> set[int]:
    """Every status the code can put in a problem's `type`: the titled statuses of the exception
    handler, the domain errors' statuses, and each `/problems/<n>` written out in the source (the
    middlewares, handler404/500, jobs)."""
    statuses = set(TITLES) | {error.status for error in {DomainError, *_subclasses(DomainError)}}
    for app in ("tracker", "beneficiaries", "programs"):
        for path in (ROOT / app).rglob("*.py"):
            statuses |= {int(n) for n in re.findall(r"/problems/(\d{3})", path.read_text(encoding="utf-8"))}
    return statuses


def test_every_problem_the_api_answers_has_a_page() -> None:
    statuses = emitted_statuses()
    assert {400, 401, 403, 404, 405, 409, 412, 413, 415, 429, 500, 503} <= statuses
    assert statuses <= set(CATALOGUE), sorted(statuses - set(CATALOGUE))


@pytest.mark.parametrize("status", sorted(CATALOGUE))
def test_each_page_is_html_for_a_browser_in_both_languages(status: int) -> None:
    res = Client().get(f"/problems/{status}", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert res.status_code == 200
    assert res["Content-Type"].startswith("text/html")
    assert "Accept" in res["Vary"] and "Accept-Language" in res["Vary"]
    html = res.content.decode()
    problem = CATALOGUE[status]
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert str(problem.title) in html
            # descriptions hold `code` spans, rendered as <code>
            first_words = re.sub(r"`([^`]+)`", r"<code>\1</code>", str(problem.description))[:30]
            assert first_words in html.replace("&#x27;", "'"), (language, first_words)
    assert 'lang="zh-hans"' in html and 'lang="en"' in html
    for header in problem.headers:
        assert header in html


@pytest.mark.parametrize("status", sorted(CATALOGUE))
def test_each_page_is_the_same_as_json_when_asked(status: int) -> None:
    res = Client().get(f"/problems/{status}", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert res.status_code == 200
    assert res["Content-Type"] == "application/json"
    body = res.json()
    assert body["type"] == f"/problems/{status}" and body["status"] == status
    assert set(body["translations"]) == {"zh-hans", "en"}
    zh, en = body["translations"]["zh-hans"], body["translations"]["en"]
    # the top level speaks the request's language; both are complete and really translated
    assert {key: body[key] for key in ("title", "description", "remedy")} == zh
    for key in ("title", "description", "remedy"):
        assert CJK.search(zh[key]), (status, key)
        assert en[key].isascii() and not CJK.search(en[key]), (status, key)
    assert body["headers"] == list(CATALOGUE[status].headers)


def test_the_429_503_413_and_412_pages_say_what_to_do() -> None:
    def english(status: int) -> dict[str, Any]:
        return (
            Client()
            .get(f"/problems/{status}", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en")
            .json()
        )

    assert english(429)["headers"] == ["Retry-After"] and "Retry-After" in english(429)["remedy"]
    assert english(503)["headers"] == ["Retry-After"] and "/healthz" in english(503)["description"]
    assert "split" in english(413)["remedy"]
    assert "If-Match" in english(412)["description"] and "ETag" in english(412)["remedy"]


def test_the_list_of_problem_types_links_every_page() -> None:
    html = Client().get("/problems/").content.decode()
    for status in CATALOGUE:
        assert f'href="/problems/{status}"' in html
    listed = Client().get("/problems/", HTTP_ACCEPT="application/json").json()
    assert [problem["status"] for problem in listed] == sorted(CATALOGUE)


def test_an_unknown_problem_type_is_a_404_in_the_format_asked() -> None:
    res = Client().get("/problems/418", HTTP_ACCEPT="application/json")
    assert res.status_code == 404
    assert res["Content-Type"] == "application/problem+json"
    assert res.json()["type"] == "/problems/404"
    page = Client().get("/problems/418", HTTP_ACCEPT="text/html")
    assert page.status_code == 404 and 'href="/problems/404"' in page.content.decode()


def test_the_type_of_a_real_problem_resolves(api: Any, clerk: Any) -> None:
    """Follow the `type` of answers the API gives (resolved against the request's URL)."""
    client = api(clerk)
    answers = [
        client.get("/api/v1/nowhere/"),  # handler404
        client.get("/api/v1/beneficiaries/", {"page_size": "0"}),  # 400
        api(None).get("/api/v1/me/"),  # 401
        client.generic("TRACE", "/api/v1/me/"),  # 405 from the middleware
    ]
    assert [answer.status_code for answer in answers] == [404, 400, 401, 405]
    for answer in answers:
        page = Client().get(answer.json()["type"], HTTP_ACCEPT="application/json")
        assert page.status_code == 200 and page.json()["status"] == answer.status_code


def test_the_problem_schema_says_where_type_leads(api: Any, db: Any) -> None:
    schema = api(None).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/problems/" in schema["components"]["schemas"]["Problem"]["properties"]["type"]["description"]
