"""The reports' API: list, detail, formats, scope, parameters, query counts."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.reports.conftest import LUXI, SCENIC, VILLAGE, person, populate

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit/reports/"


def get(client: Any, path: str, **params: str) -> Any:
    return client.get(path, params)


def sections(body: dict[str, Any]) -> dict[str, Any]:
    return {s["key"]: s for s in body["sections"]}


def test_the_list_names_every_report_with_its_title(api, clerk) -> None:
    res = api(clerk).get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert res.status_code == 200
    names = [r["name"] for r in res.json()]
    assert names[:8] == [
        "overview",
        "employment",
        "posts",
        "vouchers",
        "payments",
        "households",
        "entrepreneurship",
        "findings",
    ]
    assert res.json()[0]["title"] == "总览"
    assert res.json()[0]["href"].endswith("/api/v1/audit/reports/overview/")


def test_overview_json(api, clerk, dataset) -> None:
    res = api(clerk).get(URL + "overview/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["region"] == {"code": "360300", "name": "萍乡市"}
    assert {s["code"] for s in body["subregions"]} >= {LUXI, SCENIC}
    payments = sections(body)["payments_by_fund"]
    assert payments["totals"] == [
        {
            "fund_source": "employment_subsidy_fund",
            "committed": "750.00",
            "paid": "1000.00",
            "reversed": "500.00",
        }
    ]
    poverty = sections(body)["poverty_employment"]
    assert poverty["totals"] == [{"willing": 4, "employed": 3, "in_posts": 1, "employment_rate": "0.7500"}]
    itself = next(r for r in poverty["breakdown"] if r["subregion"] is None)
    assert itself["subregion_name"] == "本级"
    luxi = next(r for r in poverty["breakdown"] if r["subregion"] == LUXI)
    assert luxi["subregion_name"] == "芦溪县"
    status = next(c for c in sections(body)["people_by_status"]["columns"] if c["key"] == "status")
    assert status["kind"] == "code" and status["labels"]["unemployed"]


def test_unknown_report_is_404_and_empty_reports_answer(api, clerk, dataset) -> None:
    assert api(clerk).get(URL + "nonsense/").status_code == 404
    for name in ("households", "entrepreneurship", "findings"):
        res = api(clerk).get(URL + f"{name}/")
        assert res.status_code == 200
        assert res.json()["report"] == name


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2021-13-01"},
        {"to": "yesterday"},
        {"as_of": ""},
        {"format": "pdf"},
        {"within": " 360300"},
        {"within": "abc"},
    ],
)
def test_bad_parameters_are_400_problems(api, clerk, params) -> None:
    res = api(clerk).get(URL + "overview/", params)
    assert res.status_code == 400, res.content
    assert res["Content-Type"].startswith("application/problem+json")
    assert set(res.json()["errors"]) & {"from", "to", "as_of", "format", "within"}


def test_a_period_that_ends_before_it_starts_holds_nothing(api, clerk, dataset) -> None:
    res = api(clerk).get(URL + "payments/", {"from": "2021-07-01", "to": "2021-06-01"})
    assert res.status_code == 200
    assert all(not s["totals"] and not s["breakdown"] for s in res.json()["sections"])


def test_scope(api, clerk, analyst, outsider, dataset, regions) -> None:
    # A Pingxiang clerk: Pingxiang's numbers only; Wuzhou is not visible (404); Jiangxi, above them, 403.
    assert api(clerk).get(URL + "overview/", {"within": "450400"}).status_code == 404
    assert api(clerk).get(URL + "overview/", {"within": "360000"}).status_code == 403
    assert api(clerk).get(URL + "overview/", {"within": "999999"}).status_code == 404
    # The outsider sees Wuzhou's numbers, none of Pingxiang's.
    body = api(outsider).get(URL + "payments/").json()
    [total] = sections(body)["payments_by_program"]["totals"]
    assert (total["program"], total["paid"]) == ("WZ_POST", "800.00")
    assert api(outsider).get(URL + "overview/", {"within": "360300"}).status_code == 404
    # The national analyst within Jiangxi: Pingxiang's numbers, never Wuzhou's.
    body = api(analyst).get(URL + "payments/", {"within": "360000"}).json()
    [total] = sections(body)["payments_by_program"]["totals"]
    assert (total["program"], total["paid"]) == ("PX_POST", "1000.00")
    # The whole country holds both; each province's breakdown row sums to it.
    body = api(analyst).get(URL + "overview/").json()
    [total] = sections(body)["poverty_employment"]["totals"]
    assert total["willing"] == 5
    rows = {r["subregion"]: r["willing"] for r in sections(body)["poverty_employment"]["breakdown"]}
    assert rows == {"360000": 4, "450000": 1}


def test_an_analyst_of_pingxiang_sees_only_pingxiang(api, regions, dataset) -> None:
    from tests.conftest import make_user
    from tracker.accounts.choices import Role

    analyst = make_user("analyst_pingxiang", regions["360300"], Role.ANALYST)
    body = api(analyst).get(URL + "overview/").json()
    assert body["region"]["code"] == "360300"
    [total] = sections(body)["payments_by_fund"]["totals"]
    assert total["paid"] == "1000.00"
    assert api(analyst).get(URL + "overview/", {"within": "450400"}).status_code == 404


def _csv_tables(content: bytes) -> list[list[list[str]]]:
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content[3:].decode())))
    tables, current = [], []
    for row in rows:
        if not row:
            tables.append(current)
            current = []
        else:
            current.append(row)
    tables.append(current)
    return tables


def test_csv_matches_the_json_with_labels_in_the_callers_language(api, clerk, dataset) -> None:
    client = api(clerk)
    body = client.get(URL + "overview/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    res = client.get(URL + "overview/", {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert res.status_code == 200
    assert res["Content-Type"].startswith("text/csv")
    tables = _csv_tables(res.content)
    assert len(tables) == len(body["sections"])
    for table, section in zip(tables, body["sections"], strict=True):
        assert table[0] == [section["title"]]
        assert table[1] == ["地区", *(c["label"] for c in section["columns"])]
        assert len(table) - 2 == len(section["totals"]) + len(section["breakdown"])
    status = tables[0]
    assert status[2][0] == "萍乡市（合计）"
    unemployed = next(r for r in status[2:] if r[1] == "失业" and r[0] == "萍乡市（合计）")
    assert unemployed[2] == "3"
    assert not any("unemployed" in cell for row in status for cell in row)  # labels, never codes
    payments = next(t for t in tables if t[0] == ["按资金来源的支付"])
    assert payments[1] == ["地区", "资金来源", "已承诺", "已发放", "已冲销"]
    assert payments[2] == ["萍乡市（合计）", "就业补助资金", "750.00", "1000.00", "500.00"]
    months = next(t for t in tables if t[0] == ["按月的资金支付"])
    assert ["萍乡市（合计）", "2021-04", "500.00", "0.00", "0.00"] in months


def test_xlsx_matches_the_json(api, clerk, dataset) -> None:
    import openpyxl

    client = api(clerk)
    body = client.get(URL + "payments/").json()
    res = client.get(URL + "payments/", {"format": "xlsx"})
    assert res.status_code == 200
    content = b"".join(res.streaming_content) if res.streaming else res.content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "xl/worksheets/sheet3.xml" in archive.namelist()
        assert 'state="frozen"' in archive.read("xl/worksheets/sheet1.xml").decode()
        assert "customWidth" in archive.read("xl/worksheets/sheet1.xml").decode()
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert len(book.worksheets) == len(body["sections"])
    by_program = book.worksheets[1]
    values = list(by_program.iter_rows(values_only=True))
    section = sections(body)["payments_by_program"]
    assert values[0] == ("Region", *(c["label"] for c in section["columns"]))
    total = values[1]
    assert total[1] == "Pingxiang post subsidy" and total[2] == "Employment subsidy fund"
    assert float(total[4]) == float(section["totals"][0]["paid"]) == 1000.0
    assert isinstance(total[3], (int, float))


def _count(client: Any, path: str, **params: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        res = client.get(path, params)
        if res.streaming:
            b"".join(res.streaming_content)
    assert res.status_code == 200, res.content
    return len(queries)


@pytest.mark.parametrize("name", ["overview", "employment", "posts", "vouchers", "payments"])
def test_query_count_does_not_grow_with_the_data(api, analyst, dataset, regions, name) -> None:
    client = api(analyst)
    client.get(URL + f"{name}/")  # token activity and caches settle
    small = {fmt: _count(client, URL + f"{name}/", format=fmt) for fmt in ("json", "csv", "xlsx")}
    populate(regions, tag="_more")  # a second copy of every kind of record, with new codes
    for n in range(12):
        person(regions[LUXI if n % 2 else VILLAGE], "unemployed", "lifted_out_of_poverty", "rural_labour")
    larger = {fmt: _count(client, URL + f"{name}/", format=fmt) for fmt in ("json", "csv", "xlsx")}
    assert larger == small
