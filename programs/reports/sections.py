"""The report sections of the apps that existed before the reports app: the registry's people, the
public-welfare posts, the training vouchers and the payments ledger. Each `*_rows(scope)` aggregates
in the database with a constant number of queries (one or two `values().annotate()` per section,
whatever the number of records), every row carrying its child region ("subregion", computed in SQL
by `scope.child_region`). They are registered here, in the reports app, from its `ready()`
(programs/reports/apps.py): the owning apps stay as they are.

The date a "current" figure is read on is `as_of`, else the end of the period (`to`), else today.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import CharField, Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from tracker.reporting import REGION, Column, ReportScope, Rows, rate, register_report_section

LIFTED_OUT_OF_POVERTY = "lifted_out_of_poverty"
NOT_RECORDED = "none"  # the status code shown for people without a recorded status


def reference_date(scope: ReportScope) -> dt.date:
    return scope.as_of or scope.date_to or timezone.localdate()


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _names(model: Any, key: str = "code") -> dict[Any, str]:
    """code -> name in the active language, for a reference table with name_zh / name_en (one
    query, when a report is rendered)."""
    english = _english()
    return {
        code: (name_en if english and name_en else name_zh)
        for code, name_zh, name_en in model.objects.values_list(key, "name_zh", "name_en")
    }


def _with_rates(rows: Rows, *rates: tuple[str, str, str]) -> Rows:
    for row in rows:
        for key, numerator, denominator in rates:
            row[key] = rate(row.get(numerator), row.get(denominator))
    return rows


# -- people (beneficiaries) ------------------------------------------------------------------------


def _status_labels() -> dict[str, str]:
    from beneficiaries.choices import EmploymentStatus

    labels = {value: str(label) for value, label in EmploymentStatus.choices}
    labels[NOT_RECORDED] = gettext("Not recorded")
    return labels


def _group_labels() -> dict[str, str]:
    from beneficiaries.models import BeneficiaryGroup

    return _names(BeneficiaryGroup)


def _status_on(scope: ReportScope, person: str = "") -> Any:
    """SQL: a person's employment status on the reference date: the current (denormalised) status,
    unless `as_of` asks for another date: then the status change in force on it (a correlated
    subquery). `person` is the path to the person ("" from Beneficiary, "beneficiary__" from a
    membership)."""
    from beneficiaries.models import StatusChange

    if scope.as_of is None:
        return F(f"{person}status")
    latest = (
        StatusChange.objects.filter(
            beneficiary=OuterRef(f"{person.removesuffix('__')}_id" if person else "pk"),
            effective_on__lte=scope.as_of,
        )
        .order_by("-effective_on", "-id")
        .values("status")[:1]
    )
    return Coalesce(Subquery(latest), Value("", output_field=CharField()))


def _people(scope: ReportScope) -> Any:
    """Active people of the region, with their status on the reference date as `status_on`."""
    from beneficiaries.models import Beneficiary

    return scope.restrict(Beneficiary.objects.filter(active=True)).annotate(status_on=_status_on(scope))


def _employed_q() -> Q:
    from beneficiaries.choices import EMPLOYED_STATUSES

    return Q(status_on__in=[str(s) for s in EMPLOYED_STATUSES])


def people_by_status_rows(scope: ReportScope) -> Rows:
    """Active people by employment status (each person once)."""
    rows = list(
        _people(scope)
        .annotate(**{REGION: scope.child_region()})
        .values(REGION, "status_on")
        .annotate(people=Count("id"))
        .order_by(REGION, "status_on")
    )
    return [
        {REGION: r[REGION], "status": r["status_on"] or NOT_RECORDED, "people": r["people"]} for r in rows
    ]


def people_by_group_rows(scope: ReportScope) -> Rows:
    """Active people by the groups they belong to on the reference date (a person in two groups
    counts in each), with how many of them are employed."""
    from beneficiaries.models import GroupMembership
    from beneficiaries.selectors import memberships_on

    on = reference_date(scope)
    rows = (
        GroupMembership.objects.filter(memberships_on(on), scope.within_scope("beneficiary__region_path"))
        .filter(beneficiary__active=True)
        .annotate(
            status_on=_status_on(scope, "beneficiary__"),
            **{REGION: scope.child_region("beneficiary__region_path")},
        )
        .values(REGION, "group__code")
        .annotate(
            people=Count("beneficiary_id", distinct=True),
            employed=Count("beneficiary_id", distinct=True, filter=_employed_q()),
        )
        .order_by(REGION, "group__code")
    )
    return _with_rates(
        [
            {REGION: r[REGION], "group": r["group__code"], "people": r["people"], "employed": r["employed"]}
            for r in rows
        ],
        ("employment_rate", "employed", "people"),
    )


def poverty_employment_rows(scope: ReportScope) -> Rows:
    """Willing-to-work people lifted out of poverty (脱贫人口 on the reference date): how many,
    employed, in public-welfare posts, the employment rate."""
    from beneficiaries.choices import EmploymentStatus
    from beneficiaries.models import GroupMembership
    from beneficiaries.selectors import memberships_on

    on = reference_date(scope)
    member = GroupMembership.objects.filter(
        memberships_on(on), beneficiary=OuterRef("pk"), group__code=LIFTED_OUT_OF_POVERTY
    )
    rows = (
        _people(scope)
        .filter(Exists(member), willing_to_work=True)
        .annotate(**{REGION: scope.child_region()})
        .values(REGION)
        .annotate(
            willing=Count("id"),
            employed=Count("id", filter=_employed_q()),
            in_posts=Count("id", filter=Q(status_on=EmploymentStatus.PUBLIC_WELFARE_POST)),
        )
        .order_by(REGION)
    )
    return _with_rates([dict(r) for r in rows], ("employment_rate", "employed", "willing"))


# -- public-welfare posts --------------------------------------------------------------------------


def _category_labels() -> dict[str, str]:
    from programs.posts.choices import PostCategory

    return {value: str(label) for value, label in PostCategory.choices}


def _posts_rows(scope: ReportScope, by_category: bool) -> Rows:
    """Posts open on the reference date, their positions, the positions filled that day (holdings
    open on it), vacant ones and the vacancy rate; and the posts opened in the period."""
    from programs.posts.models import Assignment, Post

    on = reference_date(scope)
    open_on = Q(opened_on__lte=on) & (Q(closed_on__isnull=True) | Q(closed_on__gte=on))
    dimensions = [REGION, "category"] if by_category else [REGION]
    posts = scope.restrict(Post.objects.all()).annotate(**{REGION: scope.child_region()})
    figures = {
        tuple(r[k] for k in dimensions): r
        for r in posts.values(*dimensions)
        .annotate(
            posts=Count("id", filter=open_on),
            positions=Coalesce(Sum("headcount", filter=open_on), 0),
            opened=Count("id", filter=scope.in_period("opened_on")),
        )
        .order_by(*dimensions)
    }
    held = (
        scope.restrict(Assignment.objects.all())
        .filter(start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .filter(post__opened_on__lte=on)
        .filter(Q(post__closed_on__isnull=True) | Q(post__closed_on__gte=on))
        .annotate(**{REGION: scope.child_region("post__region_path")})
    )
    held_dimensions = [REGION, "post__category"] if by_category else [REGION]
    filled = {
        tuple(r[k] for k in held_dimensions): r["filled"]
        for r in held.values(*held_dimensions).annotate(filled=Count("id")).order_by(*held_dimensions)
    }
    rows = []
    for key in sorted(set(figures) | set(filled), key=lambda k: tuple((v is None, v or "") for v in k)):
        figure = figures.get(key, {})
        row = dict(zip(dimensions, key, strict=True))
        positions = figure.get("positions", 0)
        row.update(
            posts=figure.get("posts", 0),
            positions=positions,
            filled=filled.get(key, 0),
            opened=figure.get("opened", 0),
        )
        row["vacant"] = max(positions - row["filled"], 0)
        rows.append(row)
    return _with_rates(rows, ("vacancy_rate", "vacant", "positions"))


def posts_rows(scope: ReportScope) -> Rows:
    return _posts_rows(scope, by_category=False)


def posts_by_category_rows(scope: ReportScope) -> Rows:
    return _posts_rows(scope, by_category=True)


# -- training vouchers -----------------------------------------------------------------------------


def _voucher_type_labels() -> dict[str, str]:
    from programs.vouchers.models import VoucherType

    return _names(VoucherType)


def vouchers_rows(scope: ReportScope) -> Rows:
    """Vouchers by type and status against the plans: planned (the plans of the period's years in the
    region), issued (every voucher but cancelled ones and those expired unused), then how many are
    at each step, and issued ÷ planned."""
    from programs.vouchers.choices import COUNTED_STATUSES, VoucherStatus
    from programs.vouchers.models import Voucher, VoucherPlan

    plans = scope.restrict(VoucherPlan.objects.all())
    if scope.date_from is not None:
        plans = plans.filter(year__gte=scope.date_from.year)
    if scope.date_to is not None:
        plans = plans.filter(year__lte=scope.date_to.year)
    planned = {
        (r[REGION], r["type__code"]): r["planned"]
        for r in plans.annotate(**{REGION: scope.child_region("region__path")})
        .values(REGION, "type__code")
        .annotate(planned=Coalesce(Sum("planned_count"), 0))
        .order_by(REGION, "type__code")
    }
    statuses = [s.value for s in VoucherStatus]
    vouchers = (
        scope.restrict(Voucher.objects.all())
        .filter(scope.in_period("issued_at__date"))
        .annotate(**{REGION: scope.child_region()})
        .values(REGION, "type__code")
        .annotate(
            counted=Count("id", filter=Q(status__in=[str(s) for s in COUNTED_STATUSES])),
            **{status: Count("id", filter=Q(status=status)) for status in statuses},
        )
        .order_by(REGION, "type__code")
    )
    counted = {(r[REGION], r["type__code"]): r for r in vouchers}
    rows = []
    for key in sorted(set(planned) | set(counted), key=lambda k: (k[0] is None, k[0] or "", k[1])):
        found = counted.get(key, {})
        row = {REGION: key[0], "type": key[1], "planned": planned.get(key, 0)}
        row["counted"] = found.get("counted", 0)
        row.update({status: found.get(status, 0) for status in statuses})
        rows.append(row)
    return _with_rates(rows, ("plan_rate", "counted", "planned"))


# -- payments --------------------------------------------------------------------------------------


def _program_labels() -> dict[str, str]:
    from programs.funding.models import Program

    return _names(Program)


def _fund_labels() -> dict[str, str]:
    from programs.funding.models import FundSource

    labels = _names(FundSource)
    labels[""] = gettext("No fund source")
    return labels


def _payments(scope: ReportScope, dimensions: dict[str, Any]) -> Rows:
    """Money committed (submitted and approved), paid and reversed, by `dimensions` (name ->
    expression); payments count in the month their period starts, like a program's budget."""
    from programs.funding.choices import COMMITTED_STATUSES, PaymentStatus
    from programs.funding.models import Payment

    zero = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
    rows = (
        scope.restrict(Payment.objects.all())
        .filter(scope.in_period("period_start"))
        .annotate(**{REGION: scope.child_region()}, **dimensions)
        .values(REGION, *dimensions)
        .annotate(
            committed=Coalesce(Sum("amount", filter=Q(status__in=COMMITTED_STATUSES)), zero),
            paid=Coalesce(Sum("amount", filter=Q(status=PaymentStatus.PAID)), zero),
            reversed=Coalesce(Sum("amount", filter=Q(status=PaymentStatus.REVERSED)), zero),
        )
        .order_by(REGION, *dimensions)
    )
    return [dict(r) for r in rows]


def payments_by_month_rows(scope: ReportScope) -> Rows:
    rows = _payments(scope, {"month": TruncMonth("period_start")})
    for row in rows:
        if isinstance(row["month"], dt.datetime):  # some engines answer a datetime
            row["month"] = row["month"].date()
    return rows


def payments_by_program_rows(scope: ReportScope) -> Rows:
    rows = _payments(
        scope,
        {
            "program_code": F("program__code"),
            "fund": Coalesce(F("fund_source__code"), Value("", output_field=CharField())),
        },
    )
    return [
        {
            REGION: r[REGION],
            "program": r["program_code"],
            "fund_source": r["fund"],
            "committed": r["committed"],
            "paid": r["paid"],
            "reversed": r["reversed"],
        }
        for r in rows
    ]


def payments_by_fund_rows(scope: ReportScope) -> Rows:
    rows = _payments(scope, {"fund": Coalesce(F("fund_source__code"), Value("", output_field=CharField()))})
    return [{**{k: v for k, v in r.items() if k != "fund"}, "fund_source": r["fund"]} for r in rows]


def payments_by_program_month_rows(scope: ReportScope) -> Rows:
    rows = _payments(
        scope,
        {
            "program_code": F("program__code"),
            "fund": Coalesce(F("fund_source__code"), Value("", output_field=CharField())),
            "month": TruncMonth("period_start"),
        },
    )
    for row in rows:
        if isinstance(row["month"], dt.datetime):
            row["month"] = row["month"].date()
    return [
        {
            REGION: r[REGION],
            "program": r["program_code"],
            "fund_source": r["fund"],
            "month": r["month"],
            "committed": r["committed"],
            "paid": r["paid"],
            "reversed": r["reversed"],
        }
        for r in rows
    ]


# -- registration ----------------------------------------------------------------------------------

MONEY_COLUMNS = (
    Column("committed", _("Committed"), "money"),
    Column("paid", _("Paid"), "money"),
    Column("reversed", _("Reversed"), "money"),
)


def register() -> None:
    status = Column("status", _("Employment status"), "code", labels=_status_labels)
    people_by_status = dict(
        title=_("People by employment status"),
        columns=(status, Column("people", _("People"))),
        rows=people_by_status_rows,
        notes=_("Active people of the registry, each once, by their status on the date."),
    )
    people_by_group = dict(
        title=_("People by group"),
        columns=(
            Column("group", _("Group"), "code", labels=_group_labels),
            Column("people", _("People")),
            Column("employed", _("Employed")),
            Column("employment_rate", _("Employment rate"), "rate", rate_of=("employed", "people")),
        ),
        rows=people_by_group_rows,
        notes=_("A person in several groups counts in each."),
    )
    poverty = dict(
        title=_("Willing-to-work people lifted out of poverty"),
        columns=(
            Column("willing", _("Willing to work")),
            Column("employed", _("Employed")),
            Column("in_posts", _("In public-welfare posts")),
            Column("employment_rate", _("Employment rate"), "rate", rate_of=("employed", "willing")),
        ),
        rows=poverty_employment_rows,
    )
    post_figures = (
        Column("posts", _("Posts")),
        Column("positions", _("Positions")),
        Column("filled", _("Filled")),
        Column("vacant", _("Vacant")),
        Column("vacancy_rate", _("Vacancy rate"), "rate", rate_of=("vacant", "positions")),
        Column("opened", _("Posts opened in the period")),
    )
    posts = dict(title=_("Public-welfare posts"), columns=post_figures, rows=posts_rows)
    posts_by_category = dict(
        title=_("Public-welfare posts by category"),
        columns=(Column("category", _("Category"), "code", labels=_category_labels), *post_figures),
        rows=posts_by_category_rows,
    )
    from programs.vouchers.choices import VoucherStatus

    vouchers = dict(
        title=_("Training vouchers against plan"),
        columns=(
            Column("type", _("Voucher type"), "code", labels=_voucher_type_labels),
            Column("planned", _("Planned")),
            Column("counted", _("Vouchers issued")),
            *(Column(s.value, s.label) for s in VoucherStatus),
            Column("plan_rate", _("Issued of plan"), "rate", rate_of=("counted", "planned")),
        ),
        rows=vouchers_rows,
        notes=_(
            "Vouchers issued counts every voucher but cancelled ones and those expired unused; the status columns count each status."
        ),
    )
    program = Column("program", _("Program"), "code", labels=_program_labels)
    fund = Column("fund_source", _("Fund source"), "code", labels=_fund_labels)
    month = Column("month", _("Month"), "month")
    by_month = dict(
        title=_("Payments by month"), columns=(month, *MONEY_COLUMNS), rows=payments_by_month_rows
    )
    by_fund = dict(
        title=_("Payments by fund source"), columns=(fund, *MONEY_COLUMNS), rows=payments_by_fund_rows
    )
    by_program = dict(
        title=_("Payments by program and fund source"),
        columns=(program, fund, *MONEY_COLUMNS),
        rows=payments_by_program_rows,
    )
    by_program_month = dict(
        title=_("Payments by program, fund source and month"),
        columns=(program, fund, month, *MONEY_COLUMNS),
        rows=payments_by_program_month_rows,
    )
    payment_notes = _(
        "Committed: submitted and approved; paid; reversed: paid and then reversed. A payment counts "
        "in the month its period starts."
    )

    for report, key, section, order in (
        ("overview", "people_by_status", people_by_status, 10),
        ("overview", "people_by_group", people_by_group, 11),
        ("overview", "poverty_employment", poverty, 12),
        ("overview", "posts", posts, 30),
        ("overview", "vouchers", vouchers, 40),
        ("overview", "payments_by_fund", by_fund, 60),
        ("overview", "payments_by_month", by_month, 61),
        ("employment", "people_by_status", people_by_status, 10),
        ("employment", "people_by_group", people_by_group, 11),
        ("employment", "poverty_employment", poverty, 12),
        ("posts", "posts", posts, 10),
        ("posts", "posts_by_category", posts_by_category, 11),
        ("vouchers", "vouchers", vouchers, 10),
        ("payments", "payments_by_month", by_month, 10),
        ("payments", "payments_by_program", by_program, 11),
        ("payments", "payments_by_program_month", by_program_month, 12),
    ):
        options = dict(section)
        options.setdefault("notes", payment_notes if key.startswith("payments") else "")
        register_report_section(report, key, options.pop("title"), order=order, **options)
