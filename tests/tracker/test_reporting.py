"""The report-section contract: child-region breakdown in SQL, scope, and totals from the breakdown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count

from beneficiaries.models import Beneficiary
from seeds.factories.beneficiaries import BeneficiaryFactory
from tracker.reporting import (
    Column,
    ReportScope,
    ReportSection,
    rate,
    register_report_section,
    section_totals,
)


def _scope(user: Any, region: Any) -> ReportScope:
    children = tuple((c.code, c.path) for c in region.children.order_by("code"))
    return ReportScope(user=user, region=region, children=children)


@pytest.mark.django_db
def test_child_region_breaks_rows_down_by_child_and_keeps_the_scope(regions, analyst, clerk) -> None:
    jiangxi, pingxiang, wuzhou = regions["360000"], regions["360300"], regions["450400"]
    BeneficiaryFactory.create_batch(2, region=pingxiang)
    BeneficiaryFactory(region=jiangxi)
    BeneficiaryFactory(region=wuzhou)

    def rows(scope: ReportScope) -> list[dict[str, Any]]:
        qs = scope.restrict(Beneficiary.objects.all()).annotate(subregion=scope.child_region())
        return list(qs.values("subregion").annotate(people=Count("id")).order_by("subregion"))

    by_child = {r["subregion"]: r["people"] for r in rows(_scope(analyst, jiangxi))}
    assert by_child == {None: 1, "360300": 2}
    # A Pingxiang clerk asking for Jiangxi sees only Pingxiang's people.
    assert {r["subregion"]: r["people"] for r in rows(_scope(clerk, jiangxi))} == {"360300": 2}


def test_totals_add_counts_and_money_and_recompute_rates() -> None:
    section = ReportSection(
        report="overview",
        key="t",
        title="t",
        columns=(
            Column("group", "group", kind="code"),
            Column("people", "people"),
            Column("employed", "employed"),
            Column("rate", "rate", kind="rate", rate_of=("employed", "people")),
            Column("paid", "paid", kind="money"),
        ),
        rows=lambda scope: [],
    )
    rows = [
        {
            "region": "a",
            "group": "x",
            "people": 3,
            "employed": 1,
            "rate": rate(1, 3),
            "paid": Decimal("1.50"),
        },
        {
            "region": "b",
            "group": "x",
            "people": 1,
            "employed": 1,
            "rate": rate(1, 1),
            "paid": Decimal("2.00"),
        },
        {"subregion": "b", "group": "y", "people": 0, "employed": 0, "rate": None, "paid": None},
    ]
    totals = {t["group"]: t for t in section_totals(section, rows)}
    assert totals["x"] == {
        "group": "x",
        "people": 4,
        "employed": 2,
        "rate": Decimal("0.5000"),
        "paid": Decimal("3.50"),
    }
    assert totals["y"]["rate"] is None


def test_a_section_refuses_a_rate_of_unknown_columns() -> None:
    with pytest.raises(ValueError):
        register_report_section(
            "overview",
            "bad",
            "bad",
            columns=(Column("r", "r", kind="rate", rate_of=("a", "b")),),
            rows=lambda s: [],
        )
