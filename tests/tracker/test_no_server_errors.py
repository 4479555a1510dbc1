"""No input produces a 500: JSON nested too deeply, a database that is down or restarting, methods
the API does not know. Each is answered in the problem shape with the status that tells the client
what to do (400, 503 with Retry-After, 405 with Allow)."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import RequestFactory

from tracker.api import parsers
from tracker.api.exceptions import api_server_error

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}
TOKEN_URL = "/api/v1/auth/token/"


def nested(depth: int) -> str:
    """{"username": [[...["x"]...]]} with `depth` levels of arrays and objects in all."""
    return '{"username": ' + "[" * (depth - 1) + '"x"' + "]" * (depth - 1) + "}"


def is_problem(res, status: int) -> bool:
    return (
        res.status_code == status
        and res["Content-Type"].startswith("application/problem+json")
        and PROBLEM_KEYS <= set(res.json())
        and res.json()["status"] == status
    )


# -- JSON nesting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_json_nested_deeper_than_the_limit_is_400(api, db, depth):
    res = api(None).post(TOKEN_URL, data=nested(depth), content_type="application/json")
    assert is_problem(res, 400)
    assert "32" in res.json()["detail"]


def test_json_at_the_limit_is_parsed(api, db):
    # 32 levels reach the serializer, which refuses a list as a user name: a field error, not a parse error.
    res = api(None).post(TOKEN_URL, data=nested(32), content_type="application/json")
    assert is_problem(res, 400)
    assert "username" in res.json()["errors"]


def test_the_limit_is_a_setting(api, db, settings):
    settings.JSON_MAX_DEPTH = 3
    assert is_problem(api(None).post(TOKEN_URL, data=nested(4), content_type="application/json"), 400)
    assert (
        "username"
        in api(None).post(TOKEN_URL, data=nested(3), content_type="application/json").json()["errors"]
    )


def test_depth_ignores_brackets_inside_strings():
    limit = 2
    assert not parsers.json_depth_exceeds(
        json.dumps({"a": "[[[[{{{{", "b": ['\\"[[[', "]]"]}).encode(), limit
    )
    assert parsers.json_depth_exceeds(b'{"a": [{"b": 1}]}', limit)
    assert not parsers.json_depth_exceeds(b'{"a": [1], "b": {"c": 2}}', limit)


def test_depth_check_costs_nothing_for_ordinary_bodies():
    """A body with no more opening brackets than the limit is never scanned."""
    body = json.dumps({"ids": list(range(500)), "reason": "x" * 10_000, "nested": {"a": [1, {"b": 2}]}})
    with mock.patch.object(parsers, "_STRING") as strings:
        assert not parsers.json_depth_exceeds(body.encode(), 32)
    strings.sub.assert_not_called()


# -- the database down ------------------------------------------------------------------------------

DOWN = [
    OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused'),
    OperationalError("FATAL: the database system is shutting down"),
    OperationalError("server closed the connection unexpectedly"),
    InterfaceError("connection already closed"),
]


@pytest.mark.parametrize("error", DOWN, ids=lambda e: type(e).__name__ + ":" + str(e)[:30])
def test_database_unavailable_is_503_with_retry_after(api, analyst, settings, error):
    client = api(analyst)  # the token exists before the database goes away
    with mock.patch.object(connection, "ensure_connection", side_effect=error):
        res = client.get("/api/v1/regions/")
    assert is_problem(res, 503)
    assert res["Retry-After"] == str(settings.DATABASE_RETRY_AFTER)


def test_database_lost_mid_request_is_503(api, clerk, regions):
    """The connection answers authentication, then fails on the view's own query."""
    client = api(clerk)
    real_execute = connection.cursor().__class__.execute
    calls = {"n": 0}

    def flaky(self, sql, params=None):
        calls["n"] += 1
        if "beneficiaries_beneficiary" in sql:
            raise OperationalError("terminating connection due to administrator command")
        return real_execute(self, sql, params)

    with mock.patch.object(connection.cursor().__class__, "execute", flaky):
        res = client.get("/api/v1/beneficiaries/")
    assert is_problem(res, 503) and res["Retry-After"]
    assert calls["n"] > 1


def test_database_unavailable_on_a_write_is_503(api, clerk, regions):
    client = api(clerk)
    with mock.patch.object(connection, "ensure_connection", side_effect=DOWN[0]):
        res = client.post(
            "/api/v1/employers/",
            {"name": "x", "uscc": "x", "region": "360300", "size": "small"},
            format="json",
        )
    assert is_problem(res, 503)


def test_database_down_outside_a_view_is_503_under_api(settings):
    """Django's handler500 runs while the exception is being handled; under /api/ a database error
    there is a 503 problem too, elsewhere Django's own error page."""
    request = RequestFactory().get("/api/v1/regions/")
    try:
        raise OperationalError("the database system is starting up")
    except OperationalError:
        res = api_server_error(request)
    assert res.status_code == 503 and res["Retry-After"] == str(settings.DATABASE_RETRY_AFTER)
    assert json.loads(res.content)["status"] == 503
    try:
        raise ValueError("a bug")
    except ValueError:
        assert api_server_error(request).status_code == 500


def test_healthz_is_503_when_the_database_is_down(client, db):
    with mock.patch.object(connection, "ensure_connection", side_effect=DOWN[1]):
        res = client.get("/healthz")
    assert res.status_code == 503 and res.json()["database"] == "unreachable"
    assert res["Retry-After"]


# -- methods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/regions/", "GET, HEAD, OPTIONS"),
        ("/api/v1/regions/360300/", "GET, HEAD, OPTIONS"),
        ("/api/v1/beneficiaries/", "GET, HEAD, OPTIONS, POST"),
        ("/api/v1/beneficiaries/import/template/?format=csv", "GET, HEAD, OPTIONS"),
        ("/api/v1/auth/token/", "DELETE, OPTIONS, POST"),
        ("/api/v1/me/", "GET, HEAD, OPTIONS"),
        ("/api/v1/schema/", "GET, HEAD, OPTIONS"),
    ],
)
def test_unknown_methods_are_405_problems_for_anyone(api, analyst, method, path, allow):
    for client in (api(None), api(analyst)):
        res = client.generic(method, path)
        assert is_problem(res, 405), (method, path, res.status_code, res.content[:200])
        assert res["Allow"] == allow


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_a_known_method_the_resource_does_not_offer_is_405_whatever_the_role(api, analyst, clerk, method):
    """Not a 403 for roles that could not write anyway and a 405 for those that could."""
    for client in (api(None), api(analyst), api(clerk)):
        res = client.generic(method, "/api/v1/regions/360300/")
        assert is_problem(res, 405), (method, res.status_code)
        assert res["Allow"] == "GET, HEAD, OPTIONS"


def test_errors_of_non_json_views_are_json_problems(api, analyst):
    """The schema view renders YAML and the docs HTML; their errors are problem JSON all the same."""
    for path in ("/api/v1/schema/", "/api/v1/docs/"):
        res = api(analyst).put(path)
        assert is_problem(res, 405), path


def test_an_unrouted_api_url_stays_404_whatever_the_method(api, analyst):
    assert is_problem(api(analyst).generic("TRACE", "/api/v1/no-such-thing/"), 404)


# -- request bodies keep their JSON types ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 0),
        ("name", ["x"]),
        ("willing_to_work", "yes"),
        ("willing_to_work", 1),
        ("region", 360300),
        ("groups", "veteran"),
        ("groups", [1]),
        ("birth_date", 19900101),
    ],
)
def test_a_body_value_of_the_wrong_json_type_is_400(api, clerk, field, value):
    body = {"name": "王五", "id_number": "11010519491231002X", "region": "360300", field: value}
    res = api(clerk).post("/api/v1/beneficiaries/", body, format="json")
    assert is_problem(res, 400)
    assert field in {key.split(".")[0] for key in res.json()["errors"]}, res.json()


@pytest.mark.parametrize("value", ["1e3", " 5", "5.", "+5", "-5", "5.001", ""])
def test_a_decimal_string_outside_the_schema_pattern_is_400(api, clerk, value):
    res = api(clerk).post(
        "/api/v1/payments/", {"program": "X", "month": "2021-05", "amount": value}, format="json"
    )
    assert is_problem(res, 400) and "amount" in res.json()["errors"], value
