"""The rules vouchers obey, one pure function per rule, each refusal starting with (and coded by) its
rule code, as programs/funding/rules.py does for payments.

services.py runs them for every door (API, admin, seed, command). The rules read nothing from the
database: what they need about the holders (groups, training profile, other vouchers) arrives as
`HolderFacts`, which selectors.holder_facts loads for a whole batch in a constant number of queries.
Money rules of the payment itself (eligibility of the paying program, budget, uplift bounds...) stay
the ledger's: redemption creates its payment through programs.funding.services.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from programs.funding.choices import InstitutionStatus
from programs.funding.rules import RuleErrors, money
from programs.vouchers.choices import CheckInRejection, FaceValueRule, VoucherPayee
from programs.vouchers.models import Course, CourseSession, Voucher, VoucherPlan, VoucherType
from tracker.geo import Point, within_geofence

# Rule codes (the first word of every refusal).
HOLDER_INACTIVE = "HOLDER_INACTIVE"
HOLDER_OUTSIDE_PLAN = "HOLDER_OUTSIDE_PLAN"
PLAN_YEAR = "PLAN_YEAR"
PLAN_CAP = "PLAN_CAP"
NOT_ELIGIBLE = "NOT_ELIGIBLE"
UI_CONTRIBUTIONS = "UI_CONTRIBUTIONS"
ONE_LIVE_PER_TYPE = "ONE_LIVE_PER_TYPE"
SUBSIDISED_PER_YEAR = "SUBSIDISED_PER_YEAR"
EMPLOYER_REQUIRED = "EMPLOYER_REQUIRED"
EXPIRED = "EXPIRED"
WRONG_PROOF = "WRONG_PROOF"
NO_CARD_ON_FILE = "NO_CARD_ON_FILE"
CLAIM_LOCKED = "CLAIM_LOCKED"
INSTITUTION_SUSPENDED = "INSTITUTION_SUSPENDED"
OCCUPATION_NOT_ALLOWED = "OCCUPATION_NOT_ALLOWED"
COURSE_OUTSIDE_REGION = "COURSE_OUTSIDE_REGION"
COURSE_ENDED = "COURSE_ENDED"
COURSE_AFTER_EXPIRY = "COURSE_AFTER_EXPIRY"
NO_SESSIONS_HELD = "NO_SESSIONS_HELD"
ATTENDANCE_TOO_LOW = "ATTENDANCE_TOO_LOW"
NOT_REDEEMABLE = "NOT_REDEEMABLE"
NO_CERTIFICATE = "NO_CERTIFICATE"
NOTHING_TO_PAY = "NOTHING_TO_PAY"
ADVANCE_REVERSAL = "ADVANCE_REVERSAL"

HUNDRED = decimal.Decimal(100)


@dataclass
class HolderFacts:
    """What the issue rules need about one holder (selectors.holder_facts)."""

    active: bool
    path: str
    # The person's groups on the day of issue.
    group_codes: frozenset[str] = frozenset()
    # Months of unemployment-insurance contributions on file (None: no training profile).
    ui_months: int | None = None
    # Types of the person's live vouchers (issued, claimed, enrolled).
    live_type_ids: set[int] = field(default_factory=set)
    # Subsidised vouchers of the person issued in the year of issue, cancelled and expired ones excepted.
    subsidised_in_year: int = 0


# -- issuing ----------------------------------------------------------------------------------------


def check_plan_year(plan: VoucherPlan, today: dt.date, errors: RuleErrors) -> None:
    """PLAN_YEAR: a plan issues vouchers in its own year."""
    if plan.year != today.year:
        errors.add(
            "plan",
            PLAN_YEAR,
            _("the plan is for %(year)s; vouchers are issued in %(today)s."),
            {"year": plan.year, "today": today.year},
        )


def check_holder(
    facts: HolderFacts,
    voucher_type: VoucherType,
    plan: VoucherPlan,
    *,
    employer_given: bool,
    max_subsidised_per_year: int,
    errors: RuleErrors,
) -> None:
    """Every rule on one holder of a new voucher:

    - HOLDER_INACTIVE: the person is still in the registry (not deceased or moved away);
    - HOLDER_OUTSIDE_PLAN: they live within the plan's region;
    - NOT_ELIGIBLE: on the day of issue they belong to one of the type's groups (none: any worker;
      Shanghai gives subsidised vouchers to workers who meet the conditions and a check-in-only
      voucher to the others, digest lines 428-432);
    - UI_CONTRIBUTIONS: a type that needs months of unemployment-insurance contributions (the
      skill-upgrading subsidy: 参加失业保险 1 年以上, line 662) finds them on the person's training
      profile;
    - ONE_LIVE_PER_TYPE: no live voucher of the same type (also a partial unique index);
    - SUBSIDISED_PER_YEAR: at most settings.VOUCHER_MAX_SUBSIDISED_PER_YEAR subsidised vouchers
      issued to the person in the year (the national rule, 3; check-in-only vouchers do not count);
    - EMPLOYER_REQUIRED: a type that pays the employer names it, and only such a type does.
    """
    if not facts.active:
        errors.add("holder", HOLDER_INACTIVE, _("the person is no longer active in the registry."))
    if not facts.path.startswith(plan.region.path):
        errors.add(
            "holder",
            HOLDER_OUTSIDE_PLAN,
            _("the person lives outside the plan's region (%(region)s)."),
            {"region": plan.region.name_zh},
        )
    if voucher_type.eligible_groups and not facts.group_codes & set(voucher_type.eligible_groups):
        errors.add(
            "holder",
            NOT_ELIGIBLE,
            _("the person belongs to none of the type's groups (%(groups)s)."),
            {"groups": ", ".join(voucher_type.eligible_groups)},
        )
    needed = voucher_type.min_ui_contribution_months
    if needed is not None and (facts.ui_months is None or facts.ui_months < needed):
        errors.add(
            "holder",
            UI_CONTRIBUTIONS,
            _("the type needs %(needed)s months of unemployment-insurance contributions; %(have)s on file."),
            {"needed": needed, "have": facts.ui_months if facts.ui_months is not None else _("none")},
        )
    if voucher_type.pk in facts.live_type_ids:
        errors.add(
            "holder",
            ONE_LIVE_PER_TYPE,
            _("the person already holds a live voucher of this type."),
        )
    if voucher_type.subsidised and facts.subsidised_in_year >= max_subsidised_per_year:
        errors.add(
            "holder",
            SUBSIDISED_PER_YEAR,
            _("the person already has %(n)s subsidised training vouchers this year (at most %(max)s)."),
            {"n": facts.subsidised_in_year, "max": max_subsidised_per_year},
        )
    pays_employer = voucher_type.payee == VoucherPayee.EMPLOYER
    if pays_employer and not employer_given:
        errors.add(
            "employer", EMPLOYER_REQUIRED, _("the type pays the employer; name the holder's employer.")
        )
    if employer_given and not pays_employer:
        errors.add("employer", EMPLOYER_REQUIRED, _("the type does not pay an employer."))


def check_plan_cap(plan: VoucherPlan, used: int, adding: int, errors: RuleErrors) -> None:
    """PLAN_CAP: the vouchers of a plan (cancelled ones excepted) never exceed its hard cap. The
    caller holds the plan's row lock, so concurrent issues cannot both see room for themselves."""
    if plan.cap is not None and used + adding > plan.cap:
        errors.add(
            "plan",
            PLAN_CAP,
            _("%(adding)s more would exceed the plan's cap of %(cap)s (%(used)s issued, %(left)s left)."),
            {"adding": adding, "cap": plan.cap, "used": used, "left": max(plan.cap - used, 0)},
        )


# -- using a voucher ----------------------------------------------------------------------------------


def is_expired(voucher: Voucher, today: dt.date) -> bool:
    """Past its last valid day (whether or not the expiry job has marked it yet)."""
    return today > voucher.expires_on


def check_not_expired(voucher: Voucher, today: dt.date, errors: RuleErrors) -> None:
    """EXPIRED: checked at every step, before the expiry job has run too."""
    if is_expired(voucher, today):
        errors.add(
            "voucher",
            EXPIRED,
            _("the voucher expired after %(date)s."),
            {"date": voucher.expires_on.isoformat()},
        )


def check_course_for(voucher: Voucher, course: Course, today: dt.date, errors: RuleErrors) -> None:
    """INSTITUTION_SUSPENDED, COURSE_OUTSIDE_REGION, OCCUPATION_NOT_ALLOWED, COURSE_ENDED,
    COURSE_AFTER_EXPIRY: a voucher is enrolled only in a course of an active institution within its
    type's region, for an occupation the type allows, that has not ended and ends while the voucher
    is still valid (else the trainee could neither check in nor redeem at the end)."""
    institution = course.institution
    if institution.status != InstitutionStatus.ACTIVE:
        errors.add(
            "course",
            INSTITUTION_SUSPENDED,
            _("%(institution)s is suspended and takes no new trainees."),
            {"institution": institution.name},
        )
    voucher_type = voucher.type
    if not voucher_type.region.path or not institution.region.path.startswith(voucher_type.region.path):
        errors.add(
            "course",
            COURSE_OUTSIDE_REGION,
            _("the course is outside the region the voucher type is issued in (%(region)s)."),
            {"region": voucher_type.region.name_zh},
        )
    if voucher_type.occupations and course.occupation_code not in voucher_type.occupations:
        errors.add(
            "course",
            OCCUPATION_NOT_ALLOWED,
            _("the type is not for the occupation %(occupation)s."),
            {"occupation": f"{course.occupation_name} ({course.occupation_code})"},
        )
    if course.ends_on < today:
        errors.add(
            "course", COURSE_ENDED, _("the course ended on %(date)s."), {"date": course.ends_on.isoformat()}
        )
    if course.ends_on > voucher.expires_on:
        errors.add(
            "course",
            COURSE_AFTER_EXPIRY,
            _("the course ends on %(end)s, after the voucher's last valid day (%(expiry)s)."),
            {"end": course.ends_on.isoformat(), "expiry": voucher.expires_on.isoformat()},
        )


def attendance_rate(accepted: int, held: int) -> decimal.Decimal | None:
    """Accepted check-ins ÷ sessions held so far, as a percent with 2 decimals (half up); None before
    any session was held."""
    if held <= 0:
        return None
    return (HUNDRED * accepted / held).quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP)


def check_attendance(course: Course, accepted: int, held: int, errors: RuleErrors) -> None:
    """NO_SESSIONS_HELD, ATTENDANCE_TOO_LOW: completion needs the course's minimum attendance rate
    (default 80%) over the sessions held so far; exactly the minimum is enough."""
    rate = attendance_rate(accepted, held)
    if rate is None:
        errors.add("voucher", NO_SESSIONS_HELD, _("no session of the course has been held yet."))
        return
    # Compared exactly (accepted × 100 against minimum × held), not on the rounded percent.
    if HUNDRED * accepted < course.min_attendance_rate * held:
        errors.add(
            "voucher",
            ATTENDANCE_TOO_LOW,
            _("attendance is %(rate)s%% (%(accepted)s of %(held)s sessions); the course needs %(min)s%%."),
            {"rate": rate, "accepted": accepted, "held": held, "min": course.min_attendance_rate},
        )


def check_redeemable(voucher: Voucher, has_certificate: bool, errors: RuleErrors) -> None:
    """NOT_REDEEMABLE, NO_CERTIFICATE, INSTITUTION_SUSPENDED: only a subsidised voucher whose
    training earned a certificate is redeemed, never a check-in-only one, and not while its
    institution is suspended."""
    if not voucher.type.subsidised:
        errors.add("voucher", NOT_REDEEMABLE, _("a check-in-only voucher carries no subsidy."))
        return
    if not has_certificate:
        errors.add("voucher", NO_CERTIFICATE, _("the training has no certificate recorded."))
    institution = voucher.course.institution
    if institution.status != InstitutionStatus.ACTIVE:
        errors.add(
            "voucher",
            INSTITUTION_SUSPENDED,
            _("%(institution)s is suspended; its vouchers are not redeemed."),
            {"institution": institution.name},
        )


def face_value(voucher_type: VoucherType, course: Course, uplift_percent: decimal.Decimal) -> decimal.Decimal:
    """What a redeemed voucher pays for a course: the type's fixed amount, or the course's subsidy
    standard up to the type's cap; raised by the paying program's uplift for the payee region's
    designations (Gansu's training subsidy "可上浮 10%" in key counties, digest lines 492-494); and
    never more than the course's fee (nobody is paid more than the training cost). Cents, half up."""
    if voucher_type.face_value_rule == FaceValueRule.FIXED:
        standard = voucher_type.face_value or decimal.Decimal(0)
    else:
        standard = course.subsidy_standard
        if voucher_type.face_value_cap is not None:
            standard = min(standard, voucher_type.face_value_cap)
    raised = money(standard * (1 + uplift_percent / HUNDRED))
    return min(raised, money(course.fee))


# -- check-ins ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInVerdict:
    accepted: bool
    rejection: str
    distance_m: float | None


def check_in_verdict(
    *,
    voucher: Voucher,
    session: CourseSession,
    position: Point,
    accuracy_m: float | None,
    at: dt.datetime,
    at_day: dt.date,
    early: dt.timedelta,
    already_accepted: bool,
) -> CheckInVerdict:
    """Accepted only when, in this order: the voucher is not expired on the day of the check-in
    (`expired`); it is enrolled in the session's course (`not_enrolled`); `at` lies in the session's
    window, from `early` before its start to its end, both ends included (`outside_window`); no
    check-in to that session was accepted before (`duplicate`); and the great-circle distance from
    the (WGS-84) position to the site is at most the radius plus the accuracy, counted up to 100 m
    (`outside_geofence`, tracker.geo). The distance is measured whenever it can be, for inspectors."""
    course = session.course
    distance = within_geofence(
        position,
        Point(float(course.site_latitude), float(course.site_longitude)),
        radius_m=course.site_radius_m,
        accuracy_m=accuracy_m,
    )
    reject = None
    if at_day > voucher.expires_on or voucher.status == "expired":
        reject = CheckInRejection.EXPIRED
    elif voucher.status != "enrolled" or voucher.course_id != session.course_id:
        reject = CheckInRejection.NOT_ENROLLED
    elif not (session.starts_at - early <= at <= session.ends_at):
        reject = CheckInRejection.OUTSIDE_WINDOW
    elif already_accepted:
        reject = CheckInRejection.DUPLICATE
    elif not distance.inside:
        reject = CheckInRejection.OUTSIDE_GEOFENCE
    return CheckInVerdict(
        accepted=reject is None, rejection=reject or "", distance_m=round(distance.distance_m, 2)
    )
