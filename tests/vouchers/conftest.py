"""Fixtures of the voucher tests, in 萍乡市 (360300) where the fixed cast's clerk and reviewer work: a
training institution with a course and five sessions around now, a program paying institutions, a
voucher type and this year's plan, and holders with real (encrypted) identity numbers, so a claim at
the counter can check the last 6 characters."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from beneficiaries.choices import Gender
from beneficiaries.identity import make_id_number
from beneficiaries.models import ID_NUMBER_PURPOSE, Beneficiary, GroupMembership
from programs.funding.choices import PayeeKind, ProgramKind, Unit
from programs.funding.models import FundSource, Program
from programs.vouchers import services
from programs.vouchers.choices import ClaimChannel, FaceValueRule, VoucherPayee, VoucherStatus
from programs.vouchers.models import Course, CourseSession, Voucher, VoucherPlan, VoucherType
from seeds.factories.funding import ProgramFactory, TrainingInstitutionFactory
from tests.programs.conftest import make_group
from tracker.geo import Point, destination
from tracker.pii import encrypt, keyed_hash, mask_id_number
from tracker.regions.models import Region

D = decimal.Decimal
_serial = itertools.count(1)
# 萍乡市安源区, a square near the city centre (WGS-84).
SITE = Point(27.6229, 113.8543)
ID_PREFIX = {"360300": "360302", "450400": "450403", "360000": "360302", "620623": "620623"}


def make_holder(
    region: Region,
    *,
    groups: tuple[str, ...] = ("registered_unemployed",),
    card: str = "",
    since: dt.date = dt.date(2020, 1, 1),
) -> Beneficiary:
    """A person with a real identity number (encrypted, hashed, masked as the registry stores it)."""
    n = next(_serial)
    gender = Gender.MALE if n % 2 else Gender.FEMALE
    number = make_id_number(
        ID_PREFIX.get(region.code, region.code[:6]), dt.date(1985, 1, 1) + dt.timedelta(days=n), n, gender
    )
    person = Beneficiary(
        name=f"持券人{n}",
        id_number_encrypted=encrypt(number, purpose=ID_NUMBER_PURPOSE),
        id_number_hash=keyed_hash(number, purpose=ID_NUMBER_PURPOSE),
        id_number_masked=mask_id_number(number),
        gender=gender,
        birth_date=dt.date(1985, 1, 1),
        region=region,
        social_security_card=card,
    )
    person.save()
    person.test_id_number = number  # type: ignore[attr-defined]
    for code in groups:
        GroupMembership(beneficiary=person, group=make_group(code), valid_from=since).save()
    return person


@pytest.fixture
def holder_in(regions: dict[str, Region]) -> Callable[..., Beneficiary]:
    def build(code: str = "360300", **kwargs: Any) -> Beneficiary:
        return make_holder(regions[code], **kwargs)

    return build


@pytest.fixture
def holder(holder_in: Callable[..., Beneficiary]) -> Beneficiary:
    return holder_in(card="PX0000123456")


@pytest.fixture
def fund(db: Any) -> FundSource:
    source = FundSource.objects.filter(code="employment_subsidy_fund").first()
    if source is None:
        source = FundSource(
            code="employment_subsidy_fund", name_zh="就业补助资金", name_en="Employment subsidy fund"
        )
        source.save()
    return source


@pytest.fixture
def make_voucher_program(regions: dict[str, Region], fund: FundSource) -> Callable[..., Program]:
    def build(region: str = "360300", **fields: Any) -> Program:
        fields.setdefault("kind", ProgramKind.TRAINING)
        fields.setdefault("payee_kind", PayeeKind.INSTITUTION)
        fields.setdefault("unit", Unit.PER_TRAINING)
        fields.setdefault("standard_amount", None)
        fields.setdefault("max_amount", D("3000.00"))
        return ProgramFactory(region=regions[region], fund_source=fund, **fields)

    return build


@pytest.fixture
def voucher_program(make_voucher_program: Callable[..., Program]) -> Program:
    return make_voucher_program(code="PX_VOUCHER_TRAINING")


@pytest.fixture
def make_type(regions: dict[str, Region], voucher_program: Program) -> Callable[..., VoucherType]:
    def build(**fields: Any) -> VoucherType:
        make_group("registered_unemployed")
        fields.setdefault("code", f"PX_TYPE_{next(_serial)}")
        fields.setdefault("name_zh", "萍乡社会化职业技能补贴培训券")
        fields.setdefault("name_en", "Pingxiang social skill voucher")
        fields.setdefault("region", regions["360300"])
        fields.setdefault("payee", VoucherPayee.INSTITUTION)
        fields.setdefault("program", voucher_program if fields["payee"] != VoucherPayee.NONE else None)
        fields.setdefault("eligible_groups", ["registered_unemployed"])
        fields.setdefault(
            "face_value_rule",
            FaceValueRule.COURSE_STANDARD if fields["payee"] != VoucherPayee.NONE else FaceValueRule.NONE,
        )
        if fields["face_value_rule"] == FaceValueRule.COURSE_STANDARD:
            fields.setdefault("face_value_cap", D("2500.00"))
        fields.setdefault("validity_days", 365)
        voucher_type = VoucherType(**fields)
        voucher_type.full_clean()
        voucher_type.save()
        return voucher_type

    return build


@pytest.fixture
def voucher_type(make_type: Callable[..., VoucherType]) -> VoucherType:
    return make_type(code="PX_SOCIAL_SKILL")


@pytest.fixture
def make_plan(regions: dict[str, Region]) -> Callable[..., VoucherPlan]:
    def build(voucher_type: VoucherType, **fields: Any) -> VoucherPlan:
        fields.setdefault("region", regions["360300"])
        fields.setdefault("year", timezone.localdate().year)
        plan = VoucherPlan(type=voucher_type, **fields)
        plan.save()
        return plan

    return build


@pytest.fixture
def plan(make_plan: Callable[..., VoucherPlan], voucher_type: VoucherType) -> VoucherPlan:
    return make_plan(voucher_type)


@pytest.fixture
def institution(regions: dict[str, Region]) -> Any:
    return TrainingInstitutionFactory(region=regions["360300"], licence="人社民3603021000001号")


@pytest.fixture
def now() -> dt.datetime:
    """The moment the course's sessions are placed around (seconds dropped, so edges are exact)."""
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def make_course(institution: Any, now: dt.datetime) -> Callable[..., Course]:
    """A course with five 3-hour sessions: 7 and 3 days ago, one running (started an hour ago), in 3
    and 6 days."""

    def build(**fields: Any) -> Course:
        fields.setdefault("institution", institution)
        fields.setdefault("title", "育婴员（四级）培训班")
        fields.setdefault("occupation_code", "4-10-01-02")
        fields.setdefault("occupation_name", "育婴员")
        fields.setdefault("level", "level_4")
        fields.setdefault("hours", 80)
        fields.setdefault("fee", D("2000.00"))
        fields.setdefault("subsidy_standard", D("1800.00"))
        fields.setdefault("starts_on", timezone.localdate(now) - dt.timedelta(days=10))
        fields.setdefault("ends_on", timezone.localdate(now) + dt.timedelta(days=20))
        fields.setdefault("site_name", "安源区示例教学点")
        fields.setdefault("site_latitude", D(str(SITE.latitude)))
        fields.setdefault("site_longitude", D(str(SITE.longitude)))
        offsets = fields.pop("sessions", [-7 * 24, -3 * 24, -1, 3 * 24, 6 * 24])
        course = Course(**fields)
        course.full_clean()
        course.save()
        for hours in offsets:
            start = now + dt.timedelta(hours=hours)
            CourseSession(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=3)).save()
        return course

    return build


@pytest.fixture
def course(make_course: Callable[..., Course]) -> Course:
    return make_course()


def sessions(course: Course) -> list[CourseSession]:
    return list(course.sessions.order_by("starts_at"))


def near_site(meters: float = 50.0, bearing: float = 90.0) -> Point:
    return destination(SITE, bearing, meters)


def check_in_at_site(
    voucher: Voucher,
    session: CourseSession,
    actor: Any,
    *,
    meters: float = 50.0,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Any:
    """A WGS-84 check-in `meters` east of the site, at the session's start unless `at` says otherwise
    (and the server's clock at that moment unless `now` does)."""
    point = near_site(meters)
    at = at or session.starts_at
    return services.voucher_check_in(
        voucher=voucher,
        session=session,
        actor=actor,
        latitude=point.latitude,
        longitude=point.longitude,
        at=at,
        now=now or at,
    )


@pytest.fixture
def issue(clerk: Any, plan: VoucherPlan, holder_in: Callable[..., Beneficiary]) -> Callable[..., Voucher]:
    def build(person: Beneficiary | None = None, **kwargs: Any) -> Voucher:
        kwargs.setdefault("plan", plan)
        return services.voucher_issue(holder=person or holder_in(card="PX0000999999"), actor=clerk, **kwargs)

    return build


@pytest.fixture
def walk(clerk: Any, course: Course, now: dt.datetime) -> Callable[..., Voucher]:
    """walk(voucher, to) -> the voucher moved to `to` through the services: claimed at the counter,
    enrolled in the course, checked in to every session (`attend` of them), completed a week
    after the last one with a certificate, redeemed."""

    def build(voucher: Voucher, to: str, *, attend: int = 5, certificate: bool = True) -> Voucher:
        order = [
            VoucherStatus.CLAIMED,
            VoucherStatus.ENROLLED,
            VoucherStatus.COMPLETED,
            VoucherStatus.REDEEMED,
        ]
        if to == VoucherStatus.ISSUED:
            return voucher
        holder = voucher.holder
        voucher = services.voucher_claim(
            voucher=voucher, actor=clerk, channel=ClaimChannel.COUNTER, proof=holder_last6(holder)
        )
        if to == VoucherStatus.CLAIMED:
            return voucher
        voucher = services.voucher_enroll(voucher=voucher, course=course, actor=clerk).voucher
        if to == VoucherStatus.ENROLLED:
            return voucher
        for session in sessions(course)[:attend]:
            check_in_at_site(voucher, session, clerk)
        done = now + dt.timedelta(days=7)
        voucher = services.voucher_complete(
            voucher=voucher,
            actor=clerk,
            certificate_number=f"CERT-{voucher.pk}" if certificate else "",
            now=done,
        )
        if to == VoucherStatus.COMPLETED:
            return voucher
        assert to in order
        return services.voucher_redeem(voucher=voucher, actor=clerk, now=done).voucher

    return build


def holder_last6(person: Beneficiary) -> str:
    from tracker.pii import decrypt

    return decrypt(person.id_number_encrypted, purpose=ID_NUMBER_PURPOSE)[-6:]
