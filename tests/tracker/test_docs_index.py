"""`GET /api/v1/`: the index of the API's entry points (tracker/api/docs.py), built from the URL
configuration, open to anyone."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

INDEX = "/api/v1/"


@pytest.fixture
def index(api: Any, db: Any) -> dict[str, Any]:
    res = api(None).get(INDEX)
    assert res.status_code == 200, res.content
    assert res["Content-Type"].startswith("application/json")
    return res.json()


def test_the_index_names_every_entry_point_with_what_it_is_for(index: dict[str, Any]) -> None:
    resources = {resource["name"]: resource for resource in index["resources"]}
    for name in (
        "auth/token",
        "me",
        "regions",
        "beneficiaries",
        "beneficiaries/import",
        "beneficiaries/import/template",
        "beneficiary-groups",
        "follow-ups",
        "households",
        "employment-registrations",
        "entrepreneurs",
        "guaranteed-loans",
        "fund-sources",
        "programs",
        "employers",
        "payments",
        "payments/approve-batch",
        "payments/export",
        "audit/changes",
        "audit/changes/verify",
        "jobs",
    ):
        assert name in resources, name
    for resource in index["resources"]:
        assert set(resource) == {"name", "href", "methods", "description"}
        assert urlsplit(resource["href"]).path == f"/api/v1/{resource['name']}/"
        assert resource["methods"] and set(resource["methods"]) <= {"GET", "POST", "PATCH", "PUT", "DELETE"}
        # Every view says what it is for, in English like the schema (a new app's must too).
        assert len(resource["description"]) > 20, resource
        assert resource["description"].isascii(), resource
    assert resources["beneficiaries"]["methods"] == ["GET", "POST"]
    assert resources["payments/export"]["methods"] == ["GET"]
    assert "Token <key>" in resources["auth/token"]["description"]
    # Detail routes (`beneficiaries/{id}/`) are not entry points; the docs and schema are named apart.
    assert not any("{" in name or name in {"docs", "schema", "redoc", ""} for name in resources)


def test_the_index_says_where_the_docs_schema_health_check_and_problems_are(
    index: dict[str, Any], api: Any
) -> None:
    links = {key: urlsplit(index[key]).path for key in ("docs", "redoc", "schema", "healthz", "problems")}
    assert links == {
        "docs": "/api/v1/docs/",
        "redoc": "/api/v1/redoc/",
        "schema": "/api/v1/schema/",
        "healthz": "/healthz",
        "problems": "/problems/",
    }
    assert index["docs"] == "http://testserver/api/v1/docs/"  # absolute, like the `next` links
    assert (index["title"], index["version"]) == ("tracker API", "1.0.0")
    client = api(None)
    for path in links.values():
        assert client.get(path).status_code == 200, path


def test_every_entry_point_answers_a_clerk(index: dict[str, Any], api: Any, clerk: Any) -> None:
    """A GET on each GET entry point is answered (no 404 or 405); the rest refuse GET with a 405
    whose `Allow` lists the methods the index gave."""
    client = api(clerk)
    for resource in index["resources"]:
        res = client.get(resource["href"])
        if "GET" in resource["methods"]:
            assert res.status_code in {200, 400}, (
                resource["name"],
                res.status_code,
            )  # 400: a required filter
        else:
            assert res.status_code == 405, resource["name"]
            allowed = {m.strip() for m in res["Allow"].split(",")} - {"HEAD", "OPTIONS"}
            assert allowed == set(resource["methods"]), resource["name"]


def test_the_index_needs_no_credentials_and_ignores_a_stale_token(api: Any, db: Any) -> None:
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    res = client.get(INDEX)
    assert res.status_code == 200


def test_the_index_refuses_writes_with_a_405_problem(api: Any, db: Any) -> None:
    res = api(None).post(INDEX, {}, format="json")
    assert res.status_code == 405
    assert res.json()["type"] == "/problems/405"
    assert res["Allow"] == "GET, HEAD, OPTIONS"
