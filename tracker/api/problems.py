"""What each problem `type` means. Every error the API answers is a problem document (RFC 9457,
tracker/api/exceptions.py) whose `type` is `/problems/<status>`; that URI answers a page describing
the problem, in Chinese and in English: HTML for a browser, the same as JSON when the client asks
for `application/json`. `/problems/` lists them all.

The catalogue covers every status the API answers with a problem (exceptions.TITLES, the domain
errors of tracker.errors, the middlewares); tests/tracker/test_docs_problems.py checks that it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from tracker.api.exceptions import TITLES

# The page's two languages, the request's own first.
LANGUAGES = ("zh-hans", "en")
JSON_TYPES = ("application/json", "application/problem+json")
_CODE = re.compile(r"`([^`]+)`")


def as_html(text: str) -> SafeString:
    """Plain text with `code` spans (as in the JSON) -> HTML with <code> elements."""
    return mark_safe(_CODE.sub(r"<code>\1</code>", escape(text)))  # escaped before marking safe


@dataclass(frozen=True)
class ProblemType:
    status: int
    description: Promise  # when the API answers it
    remedy: Promise  # what the client does about it
    headers: tuple[str, ...] = ()  # response headers that come with it

    @property
    def type(self) -> str:
        return f"/problems/{self.status}"

    @property
    def title(self) -> Promise:
        return TITLES[self.status]

    def texts(self) -> dict[str, str]:
        """Title, description and remedy in the active language."""
        return {"title": str(self.title), "description": str(self.description), "remedy": str(self.remedy)}


CATALOGUE: dict[int, ProblemType] = {
    problem.status: problem
    for problem in (
        ProblemType(
            400,
            _(
                "The request cannot be used as sent: a field is missing or invalid, a value does not "
                "have the JSON type the schema states, a query parameter is empty, repeated or unusable, "
                "or a business rule refused the change. `errors` maps each field path (such as "
                "`items.0.amount` or `page_size`) to its messages; a rule's refusal starts with the "
                "rule's code. A rejected import lists every bad cell in `row_errors` as "
                "`{row, column, message}`."
            ),
            _(
                "Correct the fields that `errors` names and send the request again. Sent unchanged, it "
                "will be refused the same way."
            ),
        ),
        ProblemType(
            401,
            _(
                "No credentials were sent, or the token is unknown, revoked (logged out, password "
                "changed, user deactivated) or expired after eight hours without use."
            ),
            _(
                "Log in with `POST /api/v1/auth/token/` and send the token on every call as "
                "`Authorization: Token <key>`: the word Token, one space, then the key."
            ),
            ("WWW-Authenticate",),
        ),
        ProblemType(
            403,
            _(
                "You are logged in but may not do this: your role does not allow it, the record would "
                "be written into a region outside your own, the maker-checker rule applies (nobody "
                "approves a payment they created or submitted), or the action needs a permission you "
                "lack, such as revealing personal data."
            ),
            _(
                "Ask a colleague with the right role or region. Sending the request again will not "
                "change the answer."
            ),
        ),
        ProblemType(
            404,
            _(
                "There is no such address, or the record does not exist or lies outside your region. "
                "The two are answered alike, so that the answer never tells whether a record exists "
                "in another region."
            ),
            _("Check the address and the record's id, and that the record belongs to your region."),
        ),
        ProblemType(
            405,
            _("The resource does not offer this method. The `Allow` header lists the methods it does."),
            _("Use one of the methods in `Allow`; the API index (`GET /api/v1/`) lists each resource's."),
            ("Allow",),
        ),
        ProblemType(
            406,
            _(
                "The `Accept` header asks for a format the resource cannot give. Answers are JSON; "
                "exports and templates are CSV or XLSX, chosen with `format`."
            ),
            _("Accept `application/json` (or `*/*`)."),
        ),
        ProblemType(
            409,
            _(
                "The request conflicts with the record's current state: a transition from the wrong "
                "status (the message names the current one), a record that already exists (such as an "
                "identity number already registered), or a change made by someone else at the same "
                "moment."
            ),
            _(
                "Read the record again and decide what to do in its current state; the same request "
                "would conflict again."
            ),
        ),
        ProblemType(
            412,
            _(
                "The `If-Match` header does not match the record's current `ETag`: someone changed the "
                "record since you read it, and your change would overwrite theirs."
            ),
            _(
                "Read the record again (its answer carries the new `ETag`), apply your change to what "
                "it is now, and send it with the new value in `If-Match`."
            ),
        ),
        ProblemType(
            413,
            _(
                "The request body is larger than the server accepts, or has too many fields or files. "
                "(An import file over its own size limit is a 400 that names the limit.)"
            ),
            _("Send less in one request: split a large batch or file into several."),
        ),
        ProblemType(
            415,
            _(
                "The body's `Content-Type` is not one the operation reads. JSON bodies are sent as "
                "`application/json`; import files as `multipart/form-data`."
            ),
            _("Send the body with the content type the operation states in the API docs."),
        ),
        ProblemType(
            429,
            _(
                "Too many requests: more calls than your role's rate allows, too many log-in attempts "
                "from your address or for one username, a username locked after repeated failed "
                "log-ins, or too many identity numbers of other regions submitted in imports within "
                "an hour."
            ),
            _("Wait the number of seconds that `Retry-After` gives, then try again."),
            ("Retry-After",),
        ),
        ProblemType(
            500,
            _(
                "The server failed to complete the request. The error is logged under the request's "
                "id, which the answer carries in its `X-Request-ID` header."
            ),
            _("Report the problem together with the `X-Request-ID` of the answer."),
        ),
        ProblemType(
            503,
            _(
                "The database is unavailable: down, restarting or failing over. `GET /healthz` answers "
                "503 too while it lasts."
            ),
            _(
                "Wait the number of seconds that `Retry-After` gives, then try again. A payment request "
                "sent with an `Idempotency-Key` is safe to send again with the same key."
            ),
            ("Retry-After",),
        ),
    )
}


def _languages(request: HttpRequest) -> list[str]:
    current = translation.get_language() or LANGUAGES[0]
    first = "en" if current.startswith("en") else "zh-hans"
    return [first, *(code for code in LANGUAGES if code != first)]


def _in_languages(request: HttpRequest, problem: ProblemType) -> list[dict[str, str]]:
    versions = []
    for code in _languages(request):
        with translation.override(code):
            versions.append({"language": code, **problem.texts()})
    return versions


def _rows(request: HttpRequest, problems: list[ProblemType]) -> list[dict[str, Any]]:
    """For the HTML pages: each problem with its texts in both languages, as HTML."""
    rows = []
    for problem in problems:
        versions = [
            {**version, "description": as_html(version["description"]), "remedy": as_html(version["remedy"])}
            for version in _in_languages(request, problem)
        ]
        rows.append({"problem": problem, "versions": versions})
    return rows


def _document(request: HttpRequest, problem: ProblemType) -> dict[str, Any]:
    """The page's content as JSON: the texts in the request's language, and in both."""
    return {
        "type": problem.type,
        "status": problem.status,
        **problem.texts(),
        "headers": list(problem.headers),
        "translations": {version.pop("language"): version for version in _in_languages(request, problem)},
    }


def _wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", *JSON_TYPES]) in JSON_TYPES


def _negotiated(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("Accept", "Accept-Language"))
    return response


def _json(body: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


@require_safe
def problem_index(request: HttpRequest) -> HttpResponse:
    problems = list(CATALOGUE.values())
    if _wants_json(request):
        return _negotiated(_json([_document(request, problem) for problem in problems]))
    return _negotiated(render(request, "problems/index.html", {"rows": _rows(request, problems)}))


@require_safe
def problem_detail(request: HttpRequest, status: int) -> HttpResponse:
    problem = CATALOGUE.get(status)
    if problem is None:
        if _wants_json(request):
            body = {
                "type": "/problems/404",
                "title": str(TITLES[404]),
                "status": 404,
                "detail": str(_("There is no problem type /problems/%(status)d.") % {"status": status}),
                "errors": {},
            }
            response = _json(body, status=404)
            response["Content-Type"] = "application/problem+json"
            return _negotiated(response)
        context = {"rows": _rows(request, list(CATALOGUE.values())), "missing": status}
        return _negotiated(render(request, "problems/index.html", context, status=404))
    if _wants_json(request):
        return _negotiated(_json(_document(request, problem)))
    return _negotiated(render(request, "problems/problem.html", {"row": _rows(request, [problem])[0]}))
