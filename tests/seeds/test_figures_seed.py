"""The scaled seed: at scale S each of the source's counts is round(S × figure), read back through
the report sections registered by the apps (and the registry for Xingtai's labourers)."""

from __future__ import annotations

import decimal

import pytest
from django.core.management import call_command

from beneficiaries.choices import EMPLOYED_STATUSES
from beneficiaries.households import relocated_households_without_employment, zero_employment_households
from beneficiaries.models import Beneficiary, Household
from beneficiaries.reports import households_rows, reemployment_rows, registrations_rows
from programs.entrepreneurship.reports import entrepreneurship_rows
from programs.funding.allocation_reports import allocation_rows
from programs.targets.reports import target_rows
from seeds.figures import scaled
from tests.figures_support import scope_for
from tracker.changelog.selectors import changes_verify
from tracker.reporting import report_sections, section_totals

S = decimal.Decimal("0.004")


def total(section_key: str, report: str, rows: list[dict]) -> dict:
    section = next(s for s in report_sections(report) if s.key == section_key)
    summed = section_totals(section, rows)
    return summed[0] if len(summed) == 1 else summed


@pytest.mark.django_db(transaction=False)
def test_seed_at_a_small_scale_reproduces_the_scaled_figures(regions, analyst, clerk):
    call_command("seed", password="pw-demo-test", scale=S)
    n = lambda figure: scaled(figure, S)  # noqa: E731
    r = {code: regions[code] for code in ("130500", "120000", "120112", "450400", "130700", "310000")}

    # Xingtai: willing-to-work labourers lifted out of poverty, all in work, some in posts.
    xingtai = Beneficiary.objects.filter(
        region_path__startswith=r["130500"].path,
        willing_to_work=True,
        memberships__group__code="lifted_out_of_poverty",
    ).distinct()
    assert xingtai.count() == n(61379)
    assert xingtai.filter(status__in=EMPLOYED_STATUSES).count() == n(61379)
    assert xingtai.filter(status="public_welfare_post").count() == n(9775)
    households = total("households", "households", households_rows(scope_for(analyst, r["130500"])))
    assert households["relocated"] == households["relocated_employed"] == 2 * n(1500) > 0
    assert not relocated_households_without_employment().exists()

    # Tianjin: re-employment from the status history; zero-employment households cleared.
    tianjin = scope_for(
        analyst,
        r["120000"],
        date_from=__import__("datetime").date(2021, 1, 1),
        date_to=__import__("datetime").date(2021, 6, 30),
    )
    reemployment = total("reemployment", "employment", reemployment_rows(tianjin))
    assert (reemployment["reemployed"], reemployment["difficulty_employed"]) == (n(49200), n(18800))
    assert not zero_employment_households().exists()
    assert Household.objects.filter(zero_employment=True).count() == n(400)

    # Jinnan H1: registrations, entrepreneurs, loans.
    jinnan = scope_for(analyst, r["120112"], date_from=tianjin.date_from, date_to=tianjin.date_to)
    registrations = sum(row["registrations"] for row in registrations_rows(jinnan))
    assert registrations == n(34759)
    loans = total("entrepreneurship", "entrepreneurship", entrepreneurship_rows(jinnan))
    assert loans["entrepreneurs"] == n(1810)
    assert loans["loan_amount"] == (decimal.Decimal("58860000.00") * S).quantize(decimal.Decimal("0.01"))
    assert (
        loans["interest_district_paid"] == loans["interest_district"] > 0 and loans["interest_borrower"] == 0
    )

    # Wuzhou: 69.18 million allocated, whatever the scale.
    allocations = allocation_rows(scope_for(analyst, r["450400"]))
    assert sum(row["allocated"] for row in allocations) == decimal.Decimal("69180000.00")
    assert len({row["program"] for row in allocations}) == 5

    # Targets: Shanghai's plan, Zhangjiakou's person-times against assumed tasks.
    targets = {(row["measure"]): row for row in target_rows(scope_for(analyst, regions["000000"]))}
    assert targets["vouchers_issued"]["target"] == n(500000)
    assert (targets["training_subsidised"]["achieved"], targets["training_social"]["achieved"]) == (
        n(31517),
        n(23757),
    )
    assert targets["training_subsidised"]["assumed"] and targets["training_subsidised"]["target"] == n(33529)

    # A Pingxiang clerk sees none of these numbers.
    assert entrepreneurship_rows(scope_for(clerk, r["120112"])) == []
    assert reemployment_rows(scope_for(clerk, r["120000"])) == []
    assert allocation_rows(scope_for(clerk, r["450400"])) == []

    # A second run adds nothing; the log verifies.
    before = Beneficiary.objects.count()
    call_command("seed", password="pw-demo-test", scale=S)
    assert Beneficiary.objects.count() == before
    assert changes_verify()["ok"]
