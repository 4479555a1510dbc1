"""Query parameters: a declared parameter the server cannot use is a 400 problem naming it, never
silently ignored (tracker.api.query, tracker.api.filters, tracker.api.pagination). Unknown
parameters are ignored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from beneficiaries.choices import EmploymentStatus
from beneficiaries.services import status_change_record
from tests.programs.conftest import make_person


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from tracker.api.schema import EnglishSchemaGenerator

    generator: SchemaGenerator = EnglishSchemaGenerator()
    return generator.get_schema(request=None, public=True)


def list_parameters(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, name) of every query parameter of every GET operation without path parameters."""
    found = []
    for path, item in schema["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path:
            continue
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                found.append((path, parameter["name"]))
    return found


def test_every_declared_parameter_of_every_list_refuses_an_empty_value(api, analyst, schema):
    client = api(analyst)
    checked = list_parameters(schema)
    assert len(checked) > 60  # every list's filters, cursor, page_size, ordering; export's format
    for path, name in checked:
        res = client.get(path, {name: ""})
        assert res.status_code == 400, (path, name, res.status_code)
        body = res.json()
        assert body["status"] == 400 and name in body["errors"], (path, name, body)


@pytest.mark.parametrize("value", [" 360300", "360300 ", "\t", "\u3000"])
def test_blanks_around_a_value_are_refused(api, analyst, value):
    res = api(analyst).get("/api/v1/regions/", {"within": value})
    assert res.status_code == 400 and "within" in res.json()["errors"]


def test_a_single_valued_filter_given_twice_is_refused(api, analyst):
    res = api(analyst).get("/api/v1/regions/?level=city&level=county")
    assert res.status_code == 400 and "level" in res.json()["errors"]
    # a multiple-choice filter takes several values
    assert api(analyst).get("/api/v1/payments/?status=draft&status=paid").status_code == 200


@pytest.mark.parametrize("value", ["", "null", "0", "-1", "abc", "1.5", "501", " 5", "٣"])
def test_page_size_outside_1_to_500_is_refused(api, analyst, value):
    res = api(analyst).get("/api/v1/regions/", {"page_size": value})
    assert res.status_code == 400, value
    assert "page_size" in res.json()["errors"]


def test_page_size_within_range(api, analyst):
    client = api(analyst)
    assert len(client.get("/api/v1/regions/", {"page_size": "1"}).json()["results"]) == 1
    assert client.get("/api/v1/regions/", {"page_size": "500"}).status_code == 200


@pytest.mark.parametrize(
    "cursor", ["", "garbage", "cD0xMA==", "p", "pabc", "p-1", "p12345678901234567890", "x1", "p1p2"]
)
def test_a_cursor_the_server_did_not_issue_is_400_naming_it(api, analyst, cursor):
    res = api(analyst).get("/api/v1/regions/", {"cursor": cursor})
    assert res.status_code == 400, cursor
    assert res["Content-Type"].startswith("application/problem+json")
    assert "cursor" in res.json()["errors"]


def test_cursors_from_links_work_both_ways(api, analyst):
    client = api(analyst)
    first = client.get("/api/v1/regions/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_ordering_takes_only_the_declared_fields(api, analyst):
    client = api(analyst)
    ascending = client.get("/api/v1/regions/", {"ordering": "id"}).json()["results"]
    assert [r["id"] for r in ascending] == sorted(r["id"] for r in ascending)
    assert client.get("/api/v1/regions/", {"ordering": "-id"}).status_code == 200
    for bad in ("name_zh", "id,-id", "ID"):
        res = client.get("/api/v1/regions/", {"ordering": bad})
        assert res.status_code == 400 and "ordering" in res.json()["errors"], bad


def test_whole_number_filters_refuse_fractions(api, clerk):
    res = api(clerk).get("/api/v1/beneficiaries/", {"unverified_for_days": "0.5"})
    assert res.status_code == 400 and "unverified_for_days" in res.json()["errors"]


@pytest.mark.parametrize("value", ["0", "-5", "9223372036854775808", "1.5", "x"])
def test_id_filters_refuse_what_is_not_an_id(api, clerk, value):
    for url, name in (("/api/v1/follow-ups/", "beneficiary"), ("/api/v1/payments/", "employer")):
        res = api(clerk).get(url, {name: value})
        assert res.status_code == 400 and name in res.json()["errors"], (url, value)


def test_unknown_parameters_are_ignored(api, analyst):
    res = api(analyst).get("/api/v1/regions/", {"no_such_filter": "", "format": "whatever"})
    assert res.status_code == 200


def test_parameters_views_read_themselves_follow_the_same_rule(api, clerk, reviewer, regions):
    person = make_person(regions["360300"])
    status_change_record(
        beneficiary=person,
        actor=clerk,
        status=EmploymentStatus.EMPLOYED_LOCAL,
        effective_on=dt.date(2024, 1, 1),
        source="visit",
    )
    client = api(clerk)
    base = f"/api/v1/beneficiaries/{person.pk}"
    for url, name in (
        (f"{base}/status-changes/", "as_of"),
        (f"{base}/file/", "as_of"),
        ("/api/v1/beneficiaries/import/template/", "format"),
        ("/api/v1/beneficiaries/import/template/", "headers"),
        ("/api/v1/payments/export/", "format"),
    ):
        for value in ("", " ", "nonsense"):
            res = client.get(url, {name: value})
            assert res.status_code == 400 and name in res.json()["errors"], (url, name, value)
    for name in ("dry_run", "mode"):
        res = client.post(f"/api/v1/beneficiaries/import/?{name}=", {}, format="multipart")
        assert res.status_code == 400 and name in res.json()["errors"], name
    assert client.get(f"{base}/status-changes/", {"as_of": "2024-06-01"}).status_code == 200


def test_budget_year_is_checked(api, reviewer, regions):
    from seeds.factories.funding import ProgramFactory

    program = ProgramFactory(region=regions["360300"])
    client = api(reviewer)
    for value in ("", "1899", "3000", "abc", "2021.5"):
        res = client.get(f"/api/v1/programs/{program.pk}/budget/", {"year": value})
        assert res.status_code == 400 and "year" in res.json()["errors"], value
    assert client.get(f"/api/v1/programs/{program.pk}/budget/", {"year": "2021"}).status_code == 200


def test_the_messages_follow_accept_language(api, analyst):
    client = api(analyst)
    zh = client.get("/api/v1/regions/", {"level": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    en = client.get("/api/v1/regions/", {"level": ""}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["errors"]["level"] == ["请填写参数值，或不传该参数。"]
    assert en["errors"]["level"] == ["Give a value, or leave the parameter out."]


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("0862-03-27T16:45:06.90+18:34", None),  # an offset PostgreSQL refuses
        ("0001-01-01T00:00:00+05:00", None),  # before year 1 in UTC
        (None, "0001-01-01T03:00:00+08:00"),
        ("9999-12-31T23:00:00-05:00", None),  # after year 9999 in UTC
        (None, "9999-12-31T23:59:59-23:59"),
    ],
)
def test_datetime_filters_take_every_rfc3339_instant(api, analyst, since, until):
    params = {key: value for key, value in (("since", since), ("until", until)) if value}
    res = api(analyst).get("/api/v1/audit/changes/", params)
    assert res.status_code == 200, res.content
    results = res.json()["results"]
    if since and since.startswith("0"):
        assert results  # everything is since year 1
    if (since and since.startswith("9999")) or (until and until.startswith("0001")):
        assert results == []
