"""The voucher rules as pure functions, each at its boundary, on unsaved records (no database)."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from programs.funding.choices import InstitutionStatus
from programs.funding.models import TrainingInstitution
from programs.funding.rules import RuleErrors
from programs.vouchers import rules
from programs.vouchers.choices import CheckInRejection, FaceValueRule, VoucherPayee, VoucherStatus
from programs.vouchers.models import Course, CourseSession, Voucher, VoucherPlan, VoucherType
from tracker.geo import Point, destination
from tracker.regions.models import Region

D = decimal.Decimal
UTC = dt.UTC
PX = Region(code="360300", name_zh="萍乡市", path="000000/360000/360300/")
WZ = Region(code="450400", name_zh="梧州市", path="000000/450000/450400/")
SITE = Point(27.6229, 113.8543)


def codes(errors: RuleErrors) -> set[str]:
    return {e.code for messages in errors.errors.values() for e in messages}


def a_type(**fields) -> VoucherType:
    fields.setdefault("region", PX)
    fields.setdefault("payee", VoucherPayee.INSTITUTION)
    fields.setdefault("face_value_rule", FaceValueRule.COURSE_STANDARD)
    fields.setdefault("eligible_groups", [])
    voucher_type = VoucherType(pk=fields.pop("pk", 1), **fields)
    return voucher_type


def a_course(**fields) -> Course:
    institution = TrainingInstitution(
        name="示例学校", region=fields.pop("institution_region", PX), status=fields.pop("status", "active")
    )
    fields.setdefault("fee", D("2000.00"))
    fields.setdefault("subsidy_standard", D("1800.00"))
    fields.setdefault("min_attendance_rate", D("80.00"))
    fields.setdefault("starts_on", dt.date(2021, 4, 1))
    fields.setdefault("ends_on", dt.date(2021, 5, 1))
    fields.setdefault("occupation_code", "4-10-01-02")
    fields.setdefault("occupation_name", "育婴员")
    fields.setdefault("site_latitude", D("27.6229"))
    fields.setdefault("site_longitude", D("113.8543"))
    fields.setdefault("site_radius_m", 500)
    course = Course(pk=fields.pop("pk", 7), **fields)
    course.institution = institution
    return course


# -- face value --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("standard", "cap", "fee", "uplift", "expected"),
    [
        ("1800.00", "2500.00", "2000.00", "0", "1800.00"),  # the course's standard
        ("1800.00", "1500.00", "2000.00", "0", "1500.00"),  # the type's cap
        ("1800.00", None, "1600.00", "0", "1600.00"),  # never more than the fee
        ("1200.00", None, "2000.00", "10", "1320.00"),  # Gansu: +10% in key counties
        ("1200.00", "1000.00", "2000.00", "10", "1100.00"),  # the cap is raised too
        ("1200.00", None, "1250.00", "10", "1250.00"),  # raised, still within the fee
        ("0.03", None, "1.00", "50", "0.05"),  # cents, half up
    ],
)
def test_course_standard_face_value(standard, cap, fee, uplift, expected):
    voucher_type = a_type(face_value_cap=D(cap) if cap else None)
    course = a_course(subsidy_standard=D(standard), fee=D(fee))
    assert rules.face_value(voucher_type, course, D(uplift)) == D(expected)


def test_fixed_face_value_is_capped_by_the_fee_only():
    voucher_type = a_type(face_value_rule=FaceValueRule.FIXED, face_value=D("1000.00"))
    assert rules.face_value(voucher_type, a_course(subsidy_standard=D("5000")), D(0)) == D("1000.00")
    assert rules.face_value(voucher_type, a_course(fee=D("800.00")), D(0)) == D("800.00")


# -- attendance --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accepted", "held", "rate"),
    [(0, 0, None), (4, 5, "80.00"), (2, 3, "66.67"), (1, 3, "33.33"), (5, 5, "100.00"), (1, 6, "16.67")],
)
def test_attendance_rate(accepted, held, rate):
    assert rules.attendance_rate(accepted, held) == (D(rate) if rate else None)


@pytest.mark.parametrize(
    ("accepted", "held", "minimum", "refused"),
    [
        (4, 5, "80.00", None),  # exactly the minimum completes
        (3, 5, "80.00", rules.ATTENDANCE_TOO_LOW),
        (0, 0, "80.00", rules.NO_SESSIONS_HELD),
        (2, 3, "66.67", rules.ATTENDANCE_TOO_LOW),  # 66.666...% is below 66.67%, not rounded up to it
        (2, 3, "66.66", None),
        (0, 4, "0.00", None),
    ],
)
def test_completion_threshold(accepted, held, minimum, refused):
    errors = RuleErrors()
    rules.check_attendance(a_course(min_attendance_rate=D(minimum)), accepted, held, errors)
    assert codes(errors) == ({refused} if refused else set())


# -- issuing -----------------------------------------------------------------------------------------------


def plan_in(region: Region = PX, cap: int | None = None) -> VoucherPlan:
    return VoucherPlan(region=region, year=2021, cap=cap)


def facts(**fields) -> rules.HolderFacts:
    fields.setdefault("active", True)
    fields.setdefault("path", "000000/360000/360300/360302/")
    return rules.HolderFacts(**fields)


def holder_codes(
    fact: rules.HolderFacts, voucher_type: VoucherType, *, employer: bool = False, plan=None
) -> set[str]:
    errors = RuleErrors()
    rules.check_holder(
        fact,
        voucher_type,
        plan or plan_in(),
        employer_given=employer,
        max_subsidised_per_year=3,
        errors=errors,
    )
    return codes(errors)


def test_a_holder_who_meets_every_rule():
    assert (
        holder_codes(facts(group_codes=frozenset({"veteran"})), a_type(eligible_groups=["veteran"])) == set()
    )


def test_each_issue_rule_names_its_code():
    assert holder_codes(facts(active=False), a_type()) == {rules.HOLDER_INACTIVE}
    assert holder_codes(facts(path=WZ.path), a_type()) == {rules.HOLDER_OUTSIDE_PLAN}
    assert holder_codes(facts(), a_type(eligible_groups=["veteran"])) == {rules.NOT_ELIGIBLE}
    assert holder_codes(facts(live_type_ids={1}), a_type(pk=1)) == {rules.ONE_LIVE_PER_TYPE}
    assert holder_codes(facts(live_type_ids={2}), a_type(pk=1)) == set()
    employer_type = a_type(payee=VoucherPayee.EMPLOYER)
    assert holder_codes(facts(), employer_type) == {rules.EMPLOYER_REQUIRED}
    assert holder_codes(facts(), employer_type, employer=True) == set()
    assert holder_codes(facts(), a_type(), employer=True) == {rules.EMPLOYER_REQUIRED}


@pytest.mark.parametrize(("months", "refused"), [(None, True), (11, True), (12, False), (40, False)])
def test_unemployment_insurance_months_at_the_boundary(months, refused):
    voucher_type = a_type(payee=VoucherPayee.PERSON, min_ui_contribution_months=12)
    assert (rules.UI_CONTRIBUTIONS in holder_codes(facts(ui_months=months), voucher_type)) is refused


@pytest.mark.parametrize(("already", "refused"), [(2, False), (3, True)])
def test_three_subsidised_trainings_a_year(already, refused):
    assert (rules.SUBSIDISED_PER_YEAR in holder_codes(facts(subsidised_in_year=already), a_type())) is refused


def test_check_in_only_vouchers_do_not_count_against_the_three():
    check_in_only = a_type(payee=VoucherPayee.NONE, face_value_rule=FaceValueRule.NONE)
    assert holder_codes(facts(subsidised_in_year=3), check_in_only) == set()


@pytest.mark.parametrize(
    ("used", "adding", "refused"), [(7, 3, False), (8, 3, True), (10, 0, False), (0, 11, True)]
)
def test_plan_cap(used, adding, refused):
    errors = RuleErrors()
    rules.check_plan_cap(plan_in(cap=10), used, adding, errors)
    assert bool(errors) is refused
    errors = RuleErrors()
    rules.check_plan_cap(plan_in(cap=None), 10**9, 10**6, errors)
    assert not errors


def test_plan_year():
    errors = RuleErrors()
    rules.check_plan_year(plan_in(), dt.date(2022, 1, 1), errors)
    assert codes(errors) == {rules.PLAN_YEAR}
    errors = RuleErrors()
    rules.check_plan_year(plan_in(), dt.date(2021, 12, 31), errors)
    assert not errors


# -- enrolment -----------------------------------------------------------------------------------------------


def a_voucher(**fields) -> Voucher:
    fields.setdefault("status", VoucherStatus.CLAIMED)
    fields.setdefault("expires_on", dt.date(2021, 12, 31))
    voucher = Voucher(pk=fields.pop("pk", 3), **fields)
    voucher.type = fields.get("type") or a_type()
    return voucher


def course_codes(voucher: Voucher, course: Course, today=dt.date(2021, 3, 1)) -> set[str]:
    errors = RuleErrors()
    rules.check_course_for(voucher, course, today, errors)
    return codes(errors)


def test_enrolment_rules():
    assert course_codes(a_voucher(), a_course()) == set()
    assert course_codes(a_voucher(), a_course(status=InstitutionStatus.SUSPENDED)) == {
        rules.INSTITUTION_SUSPENDED
    }
    assert course_codes(a_voucher(), a_course(institution_region=WZ)) == {rules.COURSE_OUTSIDE_REGION}
    only_cooks = a_voucher(type=a_type(occupations=["4-03-02-01"]))
    assert course_codes(only_cooks, a_course()) == {rules.OCCUPATION_NOT_ALLOWED}
    assert course_codes(a_voucher(), a_course(), today=dt.date(2021, 5, 2)) == {rules.COURSE_ENDED}
    assert course_codes(a_voucher(), a_course(), today=dt.date(2021, 5, 1)) == set()
    assert course_codes(a_voucher(expires_on=dt.date(2021, 4, 30)), a_course()) == {rules.COURSE_AFTER_EXPIRY}
    assert course_codes(a_voucher(expires_on=dt.date(2021, 5, 1)), a_course()) == set()


def test_expiry_is_by_date_the_last_day_included():
    voucher = a_voucher(expires_on=dt.date(2021, 6, 30))
    assert not rules.is_expired(voucher, dt.date(2021, 6, 30))
    assert rules.is_expired(voucher, dt.date(2021, 7, 1))


def test_redeemable():
    def redeem_codes(voucher_type, certificate=True, status="active"):
        voucher = a_voucher(type=voucher_type)
        voucher.course = a_course(status=status)
        errors = RuleErrors()
        rules.check_redeemable(voucher, certificate, errors)
        return codes(errors)

    assert redeem_codes(a_type()) == set()
    assert redeem_codes(a_type(), certificate=False) == {rules.NO_CERTIFICATE}
    assert redeem_codes(a_type(), status=InstitutionStatus.SUSPENDED) == {rules.INSTITUTION_SUSPENDED}
    check_in_only = a_type(payee=VoucherPayee.NONE, face_value_rule=FaceValueRule.NONE)
    assert redeem_codes(check_in_only) == {rules.NOT_REDEEMABLE}


# -- check-ins -------------------------------------------------------------------------------------------------


START = dt.datetime(2021, 4, 6, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
END = START + dt.timedelta(hours=3)


def verdict(*, at=START, position=None, accuracy=None, already=False, voucher=None, session_course=7):
    session = CourseSession(pk=1, course=a_course(pk=session_course), starts_at=START, ends_at=END)
    voucher = voucher or a_voucher(status=VoucherStatus.ENROLLED, course_id=7)
    return rules.check_in_verdict(
        voucher=voucher,
        session=session,
        position=position or destination(SITE, 10, 100),
        accuracy_m=accuracy,
        at=at,
        at_day=at.date(),
        early=dt.timedelta(minutes=15),
        already_accepted=already,
    )


def test_an_accepted_check_in():
    result = verdict()
    assert (result.accepted, result.rejection) == (True, "")
    assert result.distance_m == pytest.approx(100, abs=0.01)


@pytest.mark.parametrize(
    ("at", "accepted"),
    [
        (START - dt.timedelta(minutes=15), True),
        (START - dt.timedelta(minutes=15, seconds=1), False),
        (END, True),
        (END + dt.timedelta(seconds=1), False),
    ],
)
def test_window_edges(at, accepted):
    result = verdict(at=at)
    assert result.accepted is accepted
    assert result.rejection == ("" if accepted else CheckInRejection.OUTSIDE_WINDOW)


@pytest.mark.parametrize(("meters", "accepted"), [(499, True), (501, False)])
def test_geofence_at_radius_plus_minus_one_metre(meters, accepted):
    result = verdict(position=destination(SITE, 123, meters))
    assert result.accepted is accepted
    assert result.rejection == ("" if accepted else CheckInRejection.OUTSIDE_GEOFENCE)


def test_accuracy_counts_up_to_100_metres():
    assert verdict(position=destination(SITE, 0, 599), accuracy=100).accepted
    assert not verdict(position=destination(SITE, 0, 601), accuracy=5000).accepted


def test_rejections_in_order():
    assert verdict(already=True).rejection == CheckInRejection.DUPLICATE
    claimed = a_voucher(status=VoucherStatus.CLAIMED)
    assert verdict(voucher=claimed).rejection == CheckInRejection.NOT_ENROLLED
    assert verdict(session_course=8).rejection == CheckInRejection.NOT_ENROLLED
    expired = a_voucher(status=VoucherStatus.ENROLLED, course_id=7, expires_on=dt.date(2021, 4, 5))
    assert verdict(voucher=expired).rejection == CheckInRejection.EXPIRED
    # The first failing rule names the rejection: expired before outside the window.
    assert verdict(voucher=expired, at=END + dt.timedelta(hours=1)).rejection == CheckInRejection.EXPIRED
