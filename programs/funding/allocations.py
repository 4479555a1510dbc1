"""Allocations (资金拨付): money a fund allocates to a region's program, kept apart from payments.

A program's budget for a year is what was allocated to it that year: `allocation_create` writes the
allocation and sets `Program.annual_budget` to the year's sum under the program's row lock, so the
ledger's BUDGET_EXCEEDED rule (rules.py) spends allocations, and no second budget figure can drift
from them. `allocation_totals` answers allocated vs committed vs paid per program in one query.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from programs.funding.choices import COMMITTED_STATUSES, PaymentStatus
from programs.funding.models import Allocation, FundSource, Payment, Program
from tracker.accounts.choices import Role
from tracker.accounts.roles import require_role
from tracker.changelog.context import acting
from tracker.regions.models import Region
from tracker.scope import path_within, require_in_scope
from tracker.transactions import atomic_service

ZERO = decimal.Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
# Net money that left: paid payments, those paid then reversed, and the reversing (negative) entries.
PAID_STATUSES = (PaymentStatus.PAID, PaymentStatus.REVERSED, PaymentStatus.REVERSAL)


def allocated_in_year(program: Program, year: int) -> decimal.Decimal:
    total = Allocation.objects.filter(program=program, allocated_on__year=year).aggregate(s=Sum("amount"))[
        "s"
    ]
    return total or ZERO


@atomic_service
def allocation_create(
    *,
    actor: Any,
    fund_source: FundSource,
    program: Program,
    amount: decimal.Decimal,
    allocated_on: dt.date,
    region: Region | None = None,
    reference: str = "",
    notes: str = "",
    dry_run: bool = False,
) -> Allocation:
    """Allocate money from a fund to a program in a region (reviewers of that region or above). The
    region defaults to the program's and must lie within it; the program's budget for the year
    becomes the sum of its allocations."""
    require_role(actor, Role.REVIEWER)
    program = Program.objects.select_for_update().select_related("region").get(pk=program.pk)
    region = region or program.region
    require_in_scope(actor, region)
    if not path_within(region.path, program.region.path):
        raise ValidationError({"region": [_("The region must be the program's region or lie within it.")]})
    allocation = Allocation(
        fund_source=fund_source,
        program=program,
        region=region,
        amount=amount,
        allocated_on=allocated_on,
        reference=(reference or "").strip(),
        notes=notes or "",
    )
    allocation.validate_row(dry_run=dry_run)
    if dry_run:
        return allocation
    with acting(actor, action="allocate"):
        allocation.save()
    budget = allocated_in_year(program, allocated_on.year)
    if program.annual_budget != budget:
        program.annual_budget = budget
        with acting(
            actor,
            action="allocate",
            reason=_("Budget = allocations of %(year)d") % {"year": allocated_on.year},
        ):
            program.save(update_fields=["annual_budget"])
    return allocation


def _money_sum(queryset: QuerySet) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.order_by().values("program").annotate(s=Sum("amount")).values("s"),
            output_field=MONEY_FIELD,
        ),
        Value(ZERO, output_field=MONEY_FIELD),
    )


def allocation_totals(
    programs: QuerySet[Program], *, payments: QuerySet[Payment], allocations: QuerySet[Allocation]
) -> QuerySet:
    """Per program: allocated, committed (submitted or approved payments) and paid (net of reversals),
    from the given (already scoped and dated) allocation and payment querysets. One query."""
    mine = Q(program=OuterRef("pk"))
    return programs.annotate(
        allocated=_money_sum(allocations.filter(mine)),
        committed=_money_sum(payments.filter(mine, status__in=COMMITTED_STATUSES)),
        paid=_money_sum(payments.filter(mine, status__in=PAID_STATUSES)),
    )
