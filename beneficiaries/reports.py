"""Report sections the registry contributes (tracker.reporting): households, employment
registrations and re-employment. Each `rows(scope)` aggregates in the database with a constant
number of queries, grouped by the child region of the report's region (computed in SQL)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from beneficiaries.choices import EMPLOYED_STATUSES, RegistrationKind
from beneficiaries.models import EmploymentRegistration, Household, HouseholdMember
from beneficiaries.reemployment import difficulty_employment_changes, reemployment_changes
from tracker.reporting import REGION, Column, ReportScope, Rows, rate, register_report_section


def _merge(
    *parts: list[dict[str, Any]], keys: tuple[str, ...] = (REGION,), figures: tuple[str, ...] = ()
) -> Rows:
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in parts:
        for row in part:
            key = tuple(row[k] for k in keys)
            rows.setdefault(key, {k: row[k] for k in keys}).update(
                {k: v for k, v in row.items() if k not in keys}
            )
    for row in rows.values():
        for figure in figures:
            row[figure] = row.get(figure) or 0
    # A region without children groups by a constant, which SQL answers with one row of zeros even
    # when nothing matched: such a row says nothing and is dropped.
    rows = {key: row for key, row in rows.items() if any(row.get(f) for f in figures)}
    return sorted(rows.values(), key=lambda r: tuple("" if r[k] is None else str(r[k]) for k in keys))


def households_rows(scope: ReportScope) -> Rows:
    """Households, relocated ones and those of them with a member in work, zero-employment households
    identified and those not yet cleared; members and members in work. Two grouped queries (the
    households; their members, where "a household with someone in work" is a distinct count)."""
    households = (
        scope.restrict(Household.objects.all())
        .annotate(**{REGION: scope.child_region("region_path")})
        .order_by()
        .values(REGION)
        .annotate(
            households=Count("pk"),
            relocated=Count("pk", filter=Q(relocated=True)),
            zero_employment_identified=Count("pk", filter=Q(zero_employment=True)),
        )
    )
    employed = Q(beneficiary__status__in=EMPLOYED_STATUSES)
    members = (
        scope.restrict(HouseholdMember.objects.all())
        .annotate(**{REGION: scope.child_region("household__region_path")})
        .order_by()
        .values(REGION)
        .annotate(
            members=Count("pk"),
            members_employed=Count("pk", filter=employed),
            relocated_employed=Count(
                "household", distinct=True, filter=employed & Q(household__relocated=True)
            ),
            zero_employment_cleared=Count(
                "household", distinct=True, filter=employed & Q(household__zero_employment=True)
            ),
        )
    )
    rows = _merge(list(households), list(members), figures=(*HOUSEHOLD_FIGURES, "zero_employment_cleared"))
    for row in rows:
        row["zero_employment_remaining"] = row["zero_employment_identified"] - row.pop(
            "zero_employment_cleared"
        )
        row["relocated_employed_rate"] = rate(row["relocated_employed"], row["relocated"])
    return rows


HOUSEHOLD_FIGURES = (
    "households",
    "relocated",
    "relocated_employed",
    "zero_employment_identified",
    "zero_employment_remaining",
    "members",
    "members_employed",
)
HOUSEHOLD_COLUMNS = (
    Column("households", _("Households")),
    Column("relocated", _("Relocated households (易地扶贫搬迁)")),
    Column("relocated_employed", _("Relocated households with a member in work")),
    Column(
        "relocated_employed_rate",
        _("Share of relocated households with a member in work"),
        kind="rate",
        rate_of=("relocated_employed", "relocated"),
    ),
    Column("zero_employment_identified", _("Zero-employment households identified (零就业家庭)")),
    Column("zero_employment_remaining", _("Zero-employment households not yet cleared")),
    Column("members", _("Members")),
    Column("members_employed", _("Members in work")),
)


def registrations_rows(scope: ReportScope) -> Rows:
    """Employment registrations in the period by kind: registrations and distinct people. One query."""
    rows = (
        scope.restrict(EmploymentRegistration.objects.all())
        .filter(scope.in_period("registered_on"))
        .annotate(**{REGION: scope.child_region("region_path")})
        .order_by()
        .values(REGION, "kind")
        .annotate(registrations=Count("pk"), people=Count("beneficiary", distinct=True))
    )
    return sorted((r for r in rows if r["registrations"]), key=lambda r: (r[REGION] or "", r["kind"]))


REGISTRATION_COLUMNS = (
    Column("kind", _("Kind"), kind="code", labels=lambda: dict(RegistrationKind.choices)),
    Column("registrations", _("Employment registrations (就业登记)")),
    Column("people", _("People registered")),
)


def reemployment_rows(scope: ReportScope) -> Rows:
    """Unemployed people re-employed and people with employment difficulties employed in the period,
    read from the status history (beneficiaries.reemployment); distinct people. Two queries."""

    def count(queryset: Any, key: str) -> list[dict[str, Any]]:
        return list(
            scope.restrict(queryset)
            .filter(scope.in_period("effective_on"))
            .annotate(**{REGION: scope.child_region("beneficiary__region_path")})
            .order_by()
            .values(REGION)
            .annotate(**{key: Count("beneficiary", distinct=True)})
        )

    return _merge(
        count(reemployment_changes(), "reemployed"),
        count(difficulty_employment_changes(), "difficulty_employed"),
        figures=("reemployed", "difficulty_employed"),
    )


REEMPLOYMENT_COLUMNS = (
    Column("reemployed", _("Unemployed people re-employed (失业人员再就业)")),
    Column("difficulty_employed", _("People with employment difficulties employed (就业困难人员就业)")),
)


def register_sections() -> None:
    for report, order in (("overview", 30), ("households", 10)):
        register_report_section(
            report,
            "households",
            _("Households"),
            columns=HOUSEHOLD_COLUMNS,
            rows=households_rows,
            order=order,
            notes=_("Members in work are counted from their current employment status."),
        )
    for report, order in (("overview", 40), ("employment", 10)):
        register_report_section(
            report,
            "registrations",
            _("Employment registrations"),
            columns=REGISTRATION_COLUMNS,
            rows=registrations_rows,
            order=order,
        )
    for report, order in (("overview", 41), ("employment", 20)):
        register_report_section(
            report,
            "reemployment",
            _("Re-employment"),
            columns=REEMPLOYMENT_COLUMNS,
            rows=reemployment_rows,
            order=order,
            notes=_(
                "From the status history: moves into work from unemployment, and into work of people in the employment-difficulty group."
            ),
        )
