"""Each section on the hand-built dataset (conftest.py) against numbers computed by hand."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from programs.reports.selectors import report_data
from tests.reports.conftest import AS_OF, LUXI, SCENIC

pytestmark = pytest.mark.django_db


def section(result: Any, key: str) -> Any:
    return next(s for s in result.sections if s.section.key == key)


def by_region(rows: list[dict[str, Any]], *keys: str) -> dict[Any, Any]:
    return {(r["subregion"], *(r[k] for k in keys[:-1])): r[keys[-1]] for r in rows}


def test_people_by_status(dataset, clerk) -> None:
    result = report_data("overview", user=clerk)
    people = section(result, "people_by_status")
    totals = {r["status"]: r["people"] for r in people.totals}
    assert totals == {
        "employed_local": 1,
        "public_welfare_post": 1,
        "unemployed": 3,
        "flexible": 1,
        "self_employed": 1,
    }
    assert by_region(people.breakdown, "status", "people") == {
        (None, "self_employed"): 1,
        (LUXI, "employed_local"): 1,
        (LUXI, "public_welfare_post"): 1,
        (LUXI, "unemployed"): 2,
        (SCENIC, "flexible"): 1,
        (SCENIC, "unemployed"): 1,
    }
    assert people.labels["status"]["unemployed"] == "Unemployed (失业)"  # the tests' language is English
    with translation.override("zh-hans"):
        assert (
            section(report_data("overview", user=clerk), "people_by_status").labels["status"]["unemployed"]
            == "失业"
        )


def test_people_by_group_and_poverty_employment(dataset, clerk) -> None:
    result = report_data("employment", user=clerk)
    groups = {r["group"]: r for r in section(result, "people_by_group").totals}
    assert (groups["lifted_out_of_poverty"]["people"], groups["lifted_out_of_poverty"]["employed"]) == (5, 3)
    assert str(groups["lifted_out_of_poverty"]["employment_rate"]) == "0.6000"
    assert (groups["employment_difficulty"]["people"], groups["employment_difficulty"]["employed"]) == (1, 1)
    poverty = section(result, "poverty_employment")
    [total] = poverty.totals
    assert (total["willing"], total["employed"], total["in_posts"], str(total["employment_rate"])) == (
        4,
        3,
        1,
        "0.7500",
    )
    rows = {r["subregion"]: (r["willing"], r["employed"], r["in_posts"]) for r in poverty.breakdown}
    assert rows == {None: (1, 1, 0), LUXI: (2, 2, 1), SCENIC: (1, 0, 0)}


def test_status_as_of_a_date_reads_the_status_changes(dataset, clerk) -> None:
    import datetime as dt

    from beneficiaries.models import StatusChange

    StatusChange(
        beneficiary=dataset["people"]["x1"],
        status="employed_local",
        effective_on=dt.date(2021, 5, 1),
        source="visit",
    ).save()
    poverty = section(report_data("employment", user=clerk, as_of=dt.date(2021, 6, 1)), "poverty_employment")
    # Only x1 has a recorded status change: the others have none on that date.
    assert poverty.totals[0]["employed"] == 1


def test_posts(dataset, clerk) -> None:
    import datetime as dt

    result = report_data(
        "posts", user=clerk, as_of=AS_OF, date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 12, 31)
    )
    posts = section(result, "posts")
    [total] = posts.totals
    assert {k: total[k] for k in ("posts", "positions", "filled", "vacant", "opened")} == {
        "posts": 2,
        "positions": 5,
        "filled": 2,
        "vacant": 3,
        "opened": 2,
    }
    assert str(total["vacancy_rate"]) == "0.6000"
    assert {r["subregion"]: (r["posts"], r["filled"]) for r in posts.breakdown} == {
        LUXI: (1, 1),
        SCENIC: (1, 1),
    }
    by_category = {r["category"]: r["positions"] for r in section(result, "posts_by_category").totals}
    assert by_category == {"cleaning": 3, "forest_ranger": 2}
    # On 2021-04-01 the scenic area's post is not open yet and a1 has left.
    [early] = section(report_data("posts", user=clerk, as_of=dt.date(2021, 4, 1)), "posts").totals
    assert (early["posts"], early["positions"], early["filled"]) == (1, 3, 1)


def test_vouchers_against_plan(dataset, clerk) -> None:
    vouchers = section(report_data("vouchers", user=clerk), "vouchers")
    [total] = vouchers.totals
    assert (total["type"], total["planned"], total["counted"], total["issued"], total["expired"]) == (
        "PX_SKILL",
        14,
        2,
        1,
        1,
    )
    assert (total["claimed"], total["cancelled"], str(total["plan_rate"])) == (1, 1, "0.1429")
    rows = {r["subregion"]: (r["planned"], r["counted"]) for r in vouchers.breakdown}
    assert rows == {None: (10, 0), LUXI: (4, 1), SCENIC: (0, 1)}
    assert vouchers.labels["type"] == {"PX_SKILL": "Pingxiang skill voucher"}


def test_payments(dataset, clerk) -> None:
    from decimal import Decimal as D

    result = report_data("payments", user=clerk)
    months = {
        r["month"].strftime("%Y-%m"): (r["committed"], r["paid"], r["reversed"])
        for r in section(result, "payments_by_month").totals
    }
    assert months == {
        "2021-02": (D("0"), D("500.00"), D("0")),
        "2021-03": (D("0"), D("500.00"), D("0")),
        "2021-04": (D("500.00"), D("0"), D("0")),
        "2021-06": (D("250.00"), D("0"), D("0")),
        "2021-07": (D("0"), D("0"), D("500.00")),
    }
    [by_program] = section(result, "payments_by_program").totals
    assert (by_program["program"], by_program["fund_source"]) == ("PX_POST", "employment_subsidy_fund")
    assert (by_program["committed"], by_program["paid"], by_program["reversed"]) == (
        D("750.00"),
        D("1000.00"),
        D("500.00"),
    )
    period = report_data(
        "payments",
        user=clerk,
        date_from=__import__("datetime").date(2021, 3, 1),
        date_to=__import__("datetime").date(2021, 6, 30),
    )
    [in_period] = section(period, "payments_by_program").totals
    assert (in_period["committed"], in_period["paid"]) == (D("750.00"), D("500.00"))


def test_reports_without_sections_answer_empty(dataset, clerk) -> None:
    for name in ("households", "entrepreneurship", "findings"):
        result = report_data(name, user=clerk)
        assert result.name == name  # no error; sections as others have registered them


def test_child_region_cut_from_the_path_agrees_with_one_when_per_child(dataset, analyst, regions) -> None:
    from django.db.models import Count

    from beneficiaries.models import Beneficiary
    from tracker.reporting import ReportScope

    pingxiang = regions["360300"]
    children = tuple((c.code, c.path) for c in pingxiang.children.order_by("code"))
    cut = ReportScope(user=analyst, region=pingxiang, children=children)
    # A child whose code has another length makes the scope name each child in a WHEN.
    mixed = ReportScope(
        user=analyst, region=pingxiang, children=(*children, ("360300999", pingxiang.path + "360300999/"))
    )
    assert "SUBSTR" in str(Beneficiary.objects.annotate(c=cut.child_region()).query).upper()
    assert "SUBSTR" not in str(Beneficiary.objects.annotate(c=mixed.child_region()).query).upper()

    def breakdown(scope: ReportScope) -> dict[Any, int]:
        rows = scope.restrict(Beneficiary.objects.all()).annotate(subregion=scope.child_region())
        return {r["subregion"]: r["n"] for r in rows.values("subregion").annotate(n=Count("id"))}

    assert breakdown(cut) == breakdown(mixed) == {None: 1, LUXI: 5, SCENIC: 2}
