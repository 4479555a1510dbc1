"""Report sections: entrepreneurs supported, guaranteed loans and the interest shares by level.
Three grouped queries merged by child region."""

from __future__ import annotations

import decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from programs.entrepreneurship.choices import GovernmentLevel
from programs.entrepreneurship.models import Entrepreneur, GuaranteedLoan, InterestSubsidy
from tracker.reporting import REGION, Column, ReportScope, Rows, register_report_section

ZERO = decimal.Decimal("0.00")
COUNTS = ("entrepreneurs", "loans")
MONEY = ("loan_amount", "interest_upper", "interest_district", "interest_borrower", "interest_district_paid")


def entrepreneurship_rows(scope: ReportScope) -> Rows:
    rows: dict[Any, dict[str, Any]] = {}

    def add(queryset: Any) -> None:
        for row in queryset:
            rows.setdefault(row[REGION], {REGION: row[REGION]}).update(row)

    add(
        scope.restrict(Entrepreneur.objects.all())
        .filter(scope.in_period("supported_on"))
        .annotate(**{REGION: scope.child_region("region_path")})
        .order_by()
        .values(REGION)
        .annotate(entrepreneurs=Count("pk"))
    )
    add(
        scope.restrict(GuaranteedLoan.objects.all())
        .filter(scope.in_period("issued_on"))
        .annotate(**{REGION: scope.child_region("region_path")})
        .order_by()
        .values(REGION)
        .annotate(loans=Count("pk"), loan_amount=Sum("amount"))
    )
    add(
        scope.restrict(InterestSubsidy.objects.all())
        .filter(scope.in_period("loan__issued_on"))
        .annotate(**{REGION: scope.child_region("region_path")})
        .order_by()
        .values(REGION)
        .annotate(
            interest_upper=Sum("amount", filter=Q(level=GovernmentLevel.UPPER)),
            interest_district=Sum("amount", filter=Q(level=GovernmentLevel.DISTRICT)),
            interest_borrower=Sum("amount", filter=Q(level=GovernmentLevel.BORROWER)),
            interest_district_paid=Sum(
                "amount", filter=Q(level=GovernmentLevel.DISTRICT, payment__isnull=False)
            ),
        )
    )
    for row in rows.values():
        for key in COUNTS:
            row[key] = row.get(key) or 0
        for key in MONEY:
            row[key] = row.get(key) or ZERO
    # A region without children groups by a constant: SQL then answers one row of zeros even when
    # nothing matched, which is dropped.
    kept = [r for r in rows.values() if any(r[k] for k in (*COUNTS, *MONEY))]
    return sorted(kept, key=lambda r: r[REGION] or "")


COLUMNS = (
    Column("entrepreneurs", _("Entrepreneurs supported")),
    Column("loans", _("Guaranteed loans")),
    Column("loan_amount", _("Loans issued (创业担保贷款)"), kind="money"),
    Column("interest_upper", _("Interest subsidised by upper-level finance"), kind="money"),
    Column("interest_district", _("Interest subsidised by the district"), kind="money"),
    Column("interest_borrower", _("Interest borne by borrowers"), kind="money"),
    Column(
        "interest_district_paid",
        _("District interest subsidy in payment (submitted, approved or paid)"),
        kind="money",
    ),
)


def register_sections() -> None:
    for report, order in (("overview", 50), ("entrepreneurship", 10)):
        register_report_section(
            report,
            "entrepreneurship",
            _("Entrepreneurship and guaranteed loans"),
            columns=COLUMNS,
            rows=entrepreneurship_rows,
            order=order,
            notes=_("Entrepreneurs by the date support began; loans and their interest by the issue date."),
        )
