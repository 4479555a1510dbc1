"""The findings section of the overview and findings reports: per child region, in constant queries,
within the caller's scope, totals from the breakdown with the confirmation rate recomputed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from programs.inspections import services
from tracker.reporting import ReportScope, report_sections, section_totals

pytestmark = pytest.mark.django_db


def scope_of(user, region, **kw):
    return ReportScope(
        user=user,
        region=region,
        children=tuple((c.code, c.path) for c in region.children.order_by("code")),
        **kw,
    )


def finding(inspector, region, **fields):
    values = {
        "rule": "MANUAL",
        "severity": "medium",
        "concerns": "other",
        "region": region,
        "description": "x",
        "due_on": dt.date(2021, 9, 1),
    }
    values.update(fields)
    return services.finding_create(actor=inspector, fields=values)


def test_the_section_is_registered_for_overview_and_findings():
    for report in ("overview", "findings"):
        assert "findings" in {s.key for s in report_sections(report)}


def test_rows_by_subregion_in_constant_queries(
    inspector, clerk, analyst, outsider, superuser, regions, django_assert_max_num_queries
):
    village, other_village = regions["3603X1901001"], regions["3603X1902001"]
    overdue = finding(inspector, village)
    finding(inspector, village, due_on=dt.date(2999, 1, 1))
    rectified = finding(inspector, other_village)
    services.finding_move(finding=rectified, verb="rectify", actor=clerk, note="done")
    verified = finding(inspector, other_village)
    services.finding_move(finding=verified, verb="rectify", actor=clerk, note="done")
    services.finding_move(finding=verified, verb="verify", actor=inspector, note="ok")
    finding(superuser, regions["450400"])  # outside
    (section,) = [s for s in report_sections("findings") if s.key == "findings"]
    area = regions["3603X1"]
    scope = scope_of(analyst, area, as_of=dt.date(2021, 10, 1))
    section.rows(scope)  # the user's roles and region path, read once per user
    with django_assert_max_num_queries(2):
        rows = section.rows(scope)
    by = {r["subregion"]: r for r in rows}
    assert set(by) == {"3603X1901", "3603X1902"}
    assert (by["3603X1901"]["open"], by["3603X1901"]["overdue"]) == (2, 1)
    assert (by["3603X1902"]["rectified"], by["3603X1902"]["verified"], by["3603X1902"]["open"]) == (1, 1, 0)
    assert by["3603X1901"]["confirmation_rate"] is None
    (total,) = section_totals(section, rows)
    assert (total["open"], total["overdue"], total["rectified"], total["verified"]) == (2, 1, 1, 1)
    # The outsider's scope holds none of them.
    assert section.rows(scope_of(outsider, area)) == []
    del overdue


def test_confirmation_rate_by_subregion(inspector, clerk, analyst, regions, area, reviewer):
    from programs.funding import services as ledger
    from programs.funding.models import Payment

    for payment in Payment.objects.filter(status="submitted"):
        ledger.payment_approve(payment=payment, actor=reviewer)
        ledger.payment_mark_paid(payment=payment, actor=reviewer)
    sample = services.confirmation_sample_draw(
        actor=inspector,
        region=regions["3603X1"],
        period_start=dt.date(2021, 6, 1),
        period_end=dt.date(2021, 6, 30),
        size=3,
        seed="r",
    )
    first, second, third = sample.confirmations.order_by("pk")
    services.confirmation_record(
        confirmation=first, actor=clerk, fields={"method": "phone", "reached": True, "received": "yes"}
    )
    services.confirmation_record(
        confirmation=second, actor=clerk, fields={"method": "phone", "reached": True, "received": "no"}
    )
    services.confirmation_record(
        confirmation=third, actor=clerk, fields={"method": "phone", "reached": False}
    )
    (section,) = [s for s in report_sections("overview") if s.key == "findings"]
    rows = section.rows(scope_of(analyst, regions["3603X1"]))
    (row,) = [r for r in rows if r["subregion"] == "3603X1901"]
    assert (row["sampled"], row["reached"], row["confirmed"], row["discrepancies"]) == (3, 2, 1, 1)
    assert row["confirmation_rate"] == Decimal("0.3333")
    assert row["open"] == 1  # the discrepancy's finding
