"""Allocations: the program's budget is what was allocated; allocated vs committed vs paid by program
in one query and in the report section, within the caller's scope."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from programs.funding.allocation_reports import allocation_rows
from programs.funding.allocations import allocation_create, allocation_totals
from programs.funding.models import Allocation, Payment, Program
from tests.figures_support import scope_for

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def test_budget_is_what_was_allocated_and_the_section_compares_it(
    regions, program, fund, reviewer, outsider, paid, pay, person, analyst, clerk
):
    allocation_create(
        actor=reviewer,
        fund_source=fund,
        program=program,
        amount=D("10000.00"),
        allocated_on=dt.date(2021, 3, 1),
    )
    allocation_create(
        actor=reviewer,
        fund_source=fund,
        program=program,
        amount=D("5000.00"),
        allocated_on=dt.date(2021, 6, 1),
    )
    program.refresh_from_db()
    assert program.annual_budget == D("15000.00")
    with pytest.raises(PermissionDenied):
        allocation_create(
            actor=outsider,
            fund_source=fund,
            program=program,
            amount=D("1.00"),
            allocated_on=dt.date(2021, 3, 1),
        )
    with pytest.raises(ValidationError):
        allocation_create(
            actor=reviewer, fund_source=fund, program=program, amount=D("0"), allocated_on=dt.date(2021, 3, 1)
        )

    paid(program, beneficiary=person)  # 500.00 for May, paid
    pay(
        program,
        beneficiary=person,
        submit=True,
        period_start=dt.date(2021, 6, 1),
        period_end=dt.date(2021, 6, 30),
    )
    [totals] = allocation_totals(
        Program.objects.filter(pk=program.pk),
        payments=Payment.objects.all(),
        allocations=Allocation.objects.all(),
    )
    assert (totals.allocated, totals.committed, totals.paid) == (D("15000.00"), D("500.00"), D("500.00"))

    rows = allocation_rows(scope_for(analyst, regions["360000"]))
    assert rows == [
        {
            "subregion": "360300",
            "program": program.code,
            "allocated": D("15000.00"),
            "committed": D("500.00"),
            "paid": D("500.00"),
            "paid_rate": D("0.0333"),
        }
    ]
    assert allocation_rows(scope_for(outsider, regions["360000"])) == []
    assert allocation_rows(scope_for(clerk, regions["360300"], date_from=dt.date(2021, 4, 1)))[0][
        "allocated"
    ] == D("5000.00")
