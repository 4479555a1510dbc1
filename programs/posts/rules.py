"""The rules of public-welfare posts, one pure function per rule, named by its code.

services.py runs them on every path (API, admin, import, seed); they read nothing from the database:
what they need beyond the record's own fields (the person's groups on a day, the post's other
holders, the county's standard) is loaded by the service and passed in. Each refusal is a field error
whose message starts with the rule's code (`HEADCOUNT_EXCEEDED: ...`), collected in the ledger's
RuleErrors, so a post refusal reads like a payment refusal.

The subsidy run's own decisions (prorating a month, and why an assignment is not paid) are here too.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from programs.funding.choices import PayeeKind, ProgramKind, Unit
from programs.funding.models import Program
from programs.funding.rules import RuleErrors, money
from programs.posts.choices import EmployingUnit, Rating, UrbanRural
from tracker.periods import Month
from tracker.regions.choices import RegionLevel

# Rule codes of posts and assignments.
PROGRAM_NOT_POST = "PROGRAM_NOT_POST"
PROGRAM_REGION = "PROGRAM_REGION"
POST_STANDARD_ABOVE_PROGRAM = "POST_STANDARD_ABOVE_PROGRAM"
RURAL_ABOVE_URBAN_STANDARD = "RURAL_ABOVE_URBAN_STANDARD"
EMPLOYING_UNIT = "EMPLOYING_UNIT"
HEADCOUNT_EXCEEDED = "HEADCOUNT_EXCEEDED"
NOT_ELIGIBLE = "NOT_ELIGIBLE"
ONE_POST_AT_A_TIME = "ONE_POST_AT_A_TIME"
OUTSIDE_POST_PERIOD = "OUTSIDE_POST_PERIOD"
START_IN_FUTURE = "START_IN_FUTURE"
END_BEFORE_START = "END_BEFORE_START"
END_IN_FUTURE = "END_IN_FUTURE"
URBAN_INSURED_ON_RURAL_POST = "URBAN_INSURED_ON_RURAL_POST"
PERSON_INACTIVE = "PERSON_INACTIVE"
CONTRACT_SIGNED_IN_FUTURE = "CONTRACT_SIGNED_IN_FUTURE"
POST_HAS_HOLDERS = "POST_HAS_HOLDERS"
REGION_FIXED = "REGION_FIXED"
# Attendance and assessments.
REQUIRED_DAYS = "REQUIRED_DAYS"
ATTENDANCE_DAYS = "ATTENDANCE_DAYS"
ATTENDANCE_COVERED_DAYS = "ATTENDANCE_COVERED_DAYS"
MONTH_OUTSIDE_ASSIGNMENT = "MONTH_OUTSIDE_ASSIGNMENT"
MONTH_IN_FUTURE = "MONTH_IN_FUTURE"
ATTENDANCE_ALREADY_PAID = "ATTENDANCE_ALREADY_PAID"
DUPLICATE_ROW = "DUPLICATE_ROW"
PERIOD_OUTSIDE_ASSIGNMENT = "PERIOD_OUTSIDE_ASSIGNMENT"
STANDARD_NOT_APPLICABLE = "STANDARD_NOT_APPLICABLE"
# Personnel changes.
REPORTED_IN_FUTURE = "REPORTED_IN_FUTURE"
APPROVER_BELOW_TOWNSHIP = "APPROVER_BELOW_TOWNSHIP"
MAKER_CHECKER = "MAKER_CHECKER"
# Why the subsidy run did not pay an assignment (besides the payment rules' own codes).
NO_ATTENDANCE = "NO_ATTENDANCE"
UNQUALIFIED_ASSESSMENT = "UNQUALIFIED_ASSESSMENT"
NO_CONTRACT = "NO_CONTRACT"
ALREADY_PAID = "ALREADY_PAID"
NOTHING_TO_PAY = "NOTHING_TO_PAY"

Period = tuple[dt.date, dt.date | None]


# -- posts ------------------------------------------------------------------------------------------


def check_program(program: Program, region_path: str, errors: RuleErrors) -> None:
    """PROGRAM_NOT_POST, PROGRAM_REGION: a post is paid by a public-welfare post program that pays
    people by the person-month, issued for the post's region or above it."""
    if (
        program.kind != ProgramKind.PUBLIC_WELFARE_POST
        or program.payee_kind != PayeeKind.PERSON
        or program.unit != Unit.PERSON_MONTH
    ):
        errors.add(
            "program",
            PROGRAM_NOT_POST,
            _("the program is not a public-welfare post subsidy paid to the holder per person-month."),
        )
        return
    if not region_path.startswith(program.region.path):
        errors.add(
            "program",
            PROGRAM_REGION,
            _("the program applies within %(region)s; the post lies outside it."),
            {"region": program.region.name_zh},
        )


def check_standard_within_program(
    standard: decimal.Decimal, floor: decimal.Decimal, ceiling: decimal.Decimal | None, errors: RuleErrors
) -> None:
    """POST_STANDARD_ABOVE_PROGRAM: a full month pays the post's standard, so the standard lies within
    the program's bounds per unit at the post's region (funding.rules.unit_bounds), or no full month
    could ever be paid."""
    if standard < floor or (ceiling is not None and standard > ceiling):
        errors.add(
            "monthly_standard",
            POST_STANDARD_ABOVE_PROGRAM,
            _("the monthly standard %(standard)s lies outside the program's %(floor)s–%(ceiling)s."),
            {"standard": standard, "floor": floor, "ceiling": ceiling if ceiling is not None else "∞"},
        )


@dataclass(frozen=True)
class CountyStandard:
    """A county's standards for one year (PostStandard), as the rules read them."""

    county: str
    year: int
    urban_standard: decimal.Decimal
    rural_limit: decimal.Decimal


def check_rural_standard(
    urban_rural: str,
    standard: decimal.Decimal,
    county_standards: Iterable[CountyStandard],
    errors: RuleErrors,
) -> None:
    """RURAL_ABOVE_URBAN_STANDARD: a rural post's monthly standard does not exceed its county's cap
    for rural posts (by default the county's urban post standard) in any year the post is open and
    the county has set one. Fujian R022 (digest lines 302-304): 岗位补贴标准原则上以当地城镇公益性
    岗位补贴水平为限; R021: pay for similar posts is unified within the county."""
    if urban_rural != UrbanRural.RURAL:
        return
    for county in sorted(county_standards, key=lambda c: c.year):
        if standard > county.rural_limit:
            errors.add(
                "monthly_standard",
                RURAL_ABOVE_URBAN_STANDARD,
                _(
                    "a rural post may be paid at most %(limit)s a month in %(county)s in %(year)s "
                    "(the county's urban post standard is %(urban)s); this post's standard is %(standard)s."
                ),
                {
                    "limit": county.rural_limit,
                    "county": county.county,
                    "year": county.year,
                    "urban": county.urban_standard,
                    "standard": standard,
                },
            )
            return


def check_employing_unit(
    employing_unit: str, has_employer: bool, region_level: str, errors: RuleErrors
) -> None:
    """EMPLOYING_UNIT: a post is employed by a named employer, or by the village (residents')
    committee of the village the post is in."""
    if employing_unit == EmployingUnit.EMPLOYER and not has_employer:
        errors.add("employer", EMPLOYING_UNIT, _("name the employer."))
    if employing_unit == EmployingUnit.VILLAGE_COMMITTEE:
        if has_employer:
            errors.add("employer", EMPLOYING_UNIT, _("a post of the village committee names no employer."))
        if region_level != RegionLevel.VILLAGE:
            errors.add(
                "region",
                EMPLOYING_UNIT,
                _("a village committee employs within its village: give the village as the post's region."),
            )


# -- holding a post ---------------------------------------------------------------------------------


def check_dates(start: dt.date, end: dt.date | None, today: dt.date, errors: RuleErrors) -> None:
    """START_IN_FUTURE, END_BEFORE_START, END_IN_FUTURE: a hire is recorded once the holder has
    started (the registry's status history takes no future dates), and an end lies between the
    start and today."""
    if start > today:
        errors.add(
            "start_date",
            START_IN_FUTURE,
            _("the start %(date)s is after today; record the hire once the holder has started."),
            {"date": start.isoformat()},
        )
    if end is None:
        return
    if end < start:
        errors.add(
            "end_date",
            END_BEFORE_START,
            _("the end %(end)s is before the start %(start)s."),
            {"end": end.isoformat(), "start": start.isoformat()},
        )
    elif end > today:
        errors.add(
            "end_date",
            END_IN_FUTURE,
            _("the end %(date)s is after today; record the end once it has happened."),
            {"date": end.isoformat()},
        )


def check_within_post(
    start: dt.date, end: dt.date | None, opened_on: dt.date, closed_on: dt.date | None, errors: RuleErrors
) -> None:
    """OUTSIDE_POST_PERIOD: a post is held only while it is open (from its opening day to its
    closing day)."""
    if start < opened_on:
        errors.add(
            "start_date",
            OUTSIDE_POST_PERIOD,
            _("the post opened on %(date)s; the start is before that."),
            {"date": opened_on.isoformat()},
        )
    if closed_on is not None and (start > closed_on or end is None or end > closed_on):
        errors.add(
            "end_date" if start <= closed_on else "start_date",
            OUTSIDE_POST_PERIOD,
            _("the post closed on %(date)s; the holding must end by then."),
            {"date": closed_on.isoformat()},
        )


def check_eligible(
    eligible_groups: Sequence[str], group_codes: Iterable[str], start: dt.date, errors: RuleErrors
) -> None:
    """NOT_ELIGIBLE: on the start date the person belongs to one of the program's groups (a post is a
    safety net, 兜底安置, for the groups the program names; none named: anyone)."""
    if not eligible_groups:
        return
    if not set(group_codes) & set(eligible_groups):
        errors.add(
            "beneficiary",
            NOT_ELIGIBLE,
            _("on %(date)s the person belongs to none of the program's groups (%(groups)s)."),
            {"date": start.isoformat(), "groups": ", ".join(eligible_groups)},
        )


def overlaps(a: Period, b: Period) -> bool:
    a_end, b_end = a[1] or dt.date.max, b[1] or dt.date.max
    return a[0] <= b_end and b[0] <= a_end


def check_one_post(others: Iterable[tuple[int, Period]], period: Period, errors: RuleErrors) -> None:
    """ONE_POST_AT_A_TIME: a person holds one post at a time; their other holdings may not overlap
    this one on any day."""
    for pk, other in others:
        if overlaps(other, period):
            errors.add(
                "beneficiary",
                ONE_POST_AT_A_TIME,
                _("the person already holds a post from %(start)s to %(end)s (assignment #%(id)s)."),
                {"start": other[0].isoformat(), "end": other[1].isoformat() if other[1] else "…", "id": pk},
            )
            return


def peak_holders(periods: Iterable[Period], start: dt.date = dt.date.min, end: dt.date | None = None) -> int:
    """The most periods that hold on any one day within [start, end] (end None: open-ended), by a
    sweep over the days the count changes."""
    events: list[tuple[dt.date, int]] = []
    for period in periods:
        first = max(period[0], start)
        last = min(period[1] or dt.date.max, end or dt.date.max)
        if first > last:
            continue
        events.append((first, 1))
        if last < dt.date.max:
            events.append((last + dt.timedelta(days=1), -1))
    peak = current = 0
    # On one day, holders leaving (-1) go before holders arriving (+1): an end is inclusive.
    for _day, delta in sorted(events):
        current += delta
        peak = max(peak, current)
    return peak


def check_headcount(headcount: int, others: Iterable[Period], period: Period, errors: RuleErrors) -> None:
    """HEADCOUNT_EXCEEDED: the post's filled positions never exceed its headcount on any day (the
    caller holds the post's row lock, so concurrent hires queue)."""
    busy = peak_holders(others, period[0], period[1])
    if busy + 1 > headcount:
        errors.add(
            "post",
            HEADCOUNT_EXCEEDED,
            _("the post has %(headcount)s positions and %(busy)s are filled within the period."),
            {"headcount": headcount, "busy": busy},
        )


def check_urban_insurance(
    urban_rural: str, excludes_insured: bool, insured: bool, errors: RuleErrors
) -> None:
    """URBAN_INSURED_ON_RURAL_POST: where the program says so (Fujian R022, digest line 302:
    未参加城镇职工社会保险的，可享受岗位补贴), a rural post is only for a holder who is not covered
    by urban employee social insurance."""
    if urban_rural == UrbanRural.RURAL and excludes_insured and insured:
        errors.add(
            "urban_employee_insured",
            URBAN_INSURED_ON_RURAL_POST,
            _("the program's rural posts are for people not covered by urban employee social insurance."),
        )


def check_contract_signed(signed_on: dt.date | None, today: dt.date, errors: RuleErrors) -> None:
    """CONTRACT_SIGNED_IN_FUTURE: a contract is recorded once it is signed."""
    if signed_on is not None and signed_on > today:
        errors.add(
            "contract_signed_on",
            CONTRACT_SIGNED_IN_FUTURE,
            _("the contract is dated %(date)s, after today."),
            {"date": signed_on.isoformat()},
        )


def check_reported_on(reported_on: dt.date, today: dt.date, errors: RuleErrors) -> None:
    """REPORTED_IN_FUTURE: a change cannot be reported on a day still to come."""
    if reported_on > today:
        errors.add(
            "reported_on",
            REPORTED_IN_FUTURE,
            _("the report date %(date)s is after today."),
            {"date": reported_on.isoformat()},
        )


def is_late(effective_on: dt.date, reported_on: dt.date, late_days: int) -> bool:
    """A change reported more than `late_days` days after it took effect is late (the day itself and
    `late_days` days after it are on time)."""
    return (reported_on - effective_on).days > late_days


# -- attendance ------------------------------------------------------------------------------------


def working_days(month: Month) -> int:
    """Monday to Friday in the month: what the admin pre-fills as the days required. An assumption:
    statutory holidays and the weekend days worked in their place (调休) are not known here, so the
    clerk corrects the figure from the sign-in sheet."""
    first = month.first_day
    return sum(1 for n in range(month.days) if (first + dt.timedelta(days=n)).weekday() < 5)


def check_attendance(
    month: Month,
    *,
    required: int,
    present: int,
    leave: int,
    start: dt.date,
    end: dt.date | None,
    today: dt.date,
    errors: RuleErrors,
) -> None:
    """REQUIRED_DAYS, ATTENDANCE_DAYS, ATTENDANCE_COVERED_DAYS, MONTH_OUTSIDE_ASSIGNMENT,
    MONTH_IN_FUTURE: the days required are the full month's requirement (1 up to the days in the
    month); present + paid leave do not exceed them, nor the days of the month the holder held the
    post; and the month overlaps the holding and has begun."""
    if month.first_day > today:
        errors.add("month", MONTH_IN_FUTURE, _("%(month)s has not begun."), {"month": str(month)})
        return
    covered = month.overlap_days(start, end)
    if covered == 0:
        errors.add(
            "month",
            MONTH_OUTSIDE_ASSIGNMENT,
            _("the holder did not hold the post in %(month)s."),
            {"month": str(month)},
        )
        return
    if not 1 <= required <= month.days:
        errors.add(
            "days_required",
            REQUIRED_DAYS,
            _("the days required lie between 1 and the %(days)s days of %(month)s."),
            {"days": month.days, "month": str(month)},
        )
        return
    if present + leave > required:
        errors.add(
            "days_present",
            ATTENDANCE_DAYS,
            _("%(present)s days present and %(leave)s days of leave exceed the %(required)s days required."),
            {"present": present, "leave": leave, "required": required},
        )
    elif present + leave > covered:
        errors.add(
            "days_present",
            ATTENDANCE_COVERED_DAYS,
            _(
                "%(present)s days present and %(leave)s days of leave exceed the %(covered)s days of "
                "%(month)s the holder held the post."
            ),
            {"present": present, "leave": leave, "covered": covered, "month": str(month)},
        )


# -- the monthly subsidy run ----------------------------------------------------------------------------


def subsidy_amount(standard: decimal.Decimal, *, present: int, leave: int, required: int) -> decimal.Decimal:
    """standard × min(1, (present + paid leave) ÷ required), to the cent, half up: a full month pays
    the standard; a holder hired mid-month and present all 11 of 22 required days is paid half."""
    worked = min(present + leave, required)
    return money(standard * decimal.Decimal(worked) / decimal.Decimal(required))


@dataclass(frozen=True)
class MonthFacts:
    """What the run knows about one assignment for the month (loaded set-based by the service)."""

    start: dt.date
    end: dt.date | None
    standard: decimal.Decimal
    contract_signed_on: dt.date | None
    attendance: tuple[int, int, int] | None  # (required, present, leave)
    unqualified_period: str | None  # an unqualified assessment covering the month
    paid_by: int | None  # a live payment already caused by the assignment for the month


@dataclass(frozen=True)
class MonthPlan:
    """A month to pay (period and amount), or the reason it is not paid."""

    period_start: dt.date | None = None
    period_end: dt.date | None = None
    amount: decimal.Decimal | None = None
    code: str = ""
    message: str = ""
    payment: int | None = None


def plan_month(month: Month, facts: MonthFacts) -> MonthPlan:
    """The run's decision for one assignment, in order: already paid, no signed contract, no
    attendance, an unqualified assessment, nothing worked; else the amount for the days of the month
    the post was held."""
    if facts.paid_by is not None:
        return MonthPlan(
            code=ALREADY_PAID,
            message=_("already paid for %(month)s (payment #%(id)s).")
            % {"month": str(month), "id": facts.paid_by},
            payment=facts.paid_by,
        )
    if facts.contract_signed_on is None or facts.contract_signed_on > month.last_day:
        return MonthPlan(
            code=NO_CONTRACT,
            message=_("no labour contract or service agreement was signed by the end of %(month)s.")
            % {"month": str(month)},
        )
    if facts.attendance is None:
        return MonthPlan(
            code=NO_ATTENDANCE, message=_("no attendance recorded for %(month)s.") % {"month": str(month)}
        )
    if facts.unqualified_period is not None:
        return MonthPlan(
            code=UNQUALIFIED_ASSESSMENT,
            message=_("assessed %(rating)s for %(period)s.")
            % {"rating": Rating.UNQUALIFIED.label, "period": facts.unqualified_period},
        )
    required, present, leave = facts.attendance
    amount = subsidy_amount(facts.standard, present=present, leave=leave, required=required)
    if amount <= 0:
        return MonthPlan(
            code=NOTHING_TO_PAY,
            message=_("no day present or on paid leave in %(month)s.") % {"month": str(month)},
        )
    start = max(month.first_day, facts.start)
    end = min(month.last_day, facts.end) if facts.end is not None else month.last_day
    return MonthPlan(period_start=start, period_end=end, amount=amount)
