"""Seed step: training vouchers in Shanghai and Zhangjiakou (seeds/data/vouchers.yaml).

The programs paying Shanghai's voucher types, training institutions, courses with sessions, the
voucher types and 2021 plans, the living-allowance settings, the people who hold vouchers, and the
vouchers walked through every status — with accepted and rejected check-ins (some reported in
GCJ-02), evaluations, certificates and redemptions — all through the services, as the
administrator, replaying 2021 (every step is dated, before the data file's `as_of`).

Counts: the figures are stored whole; the vouchers made are each figure times `scale` (the data
file's default, or the caller's: the reports issue scales it up), at least `min_per_plan` a plan.
Idempotent (records are found by their natural keys; a plan that has vouchers is not walked again)
and deterministic (no randomness but Faker's, with a fixed seed).
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from faker import Faker

from beneficiaries.choices import EmploymentStatus, Gender, StatusSource
from beneficiaries.identity import make_id_number
from beneficiaries.models import ID_NUMBER_PURPOSE
from beneficiaries.selectors import beneficiary_by_id_number
from beneficiaries.services import beneficiary_create, groups_by_code, membership_add, status_change_record
from programs.funding import services as funding
from programs.funding.models import Employer, FundSource, Program, TrainingInstitution
from programs.vouchers import services
from programs.vouchers.choices import ClaimChannel, Datum, VoucherPayee, VoucherStatus
from programs.vouchers.models import Course, CourseSession, Voucher, VoucherPlan, VoucherType
from seeds.data_files import load
from seeds.factories.funding import make_uscc
from tracker.accounts.models import User
from tracker.geo import Point, destination, wgs84_to_gcj02
from tracker.pii import decrypt
from tracker.regions.models import Region

FAKER_SEED = 20210417
MEMBERS_FROM = dt.date(2021, 1, 1)
# Plans are issued on these days (a plan's vouchers in one batch), the steps follow.
ISSUE_ON = {"310000": dt.date(2021, 3, 1), "130700": dt.date(2021, 3, 8)}

S = VoucherStatus
# What the seeded vouchers of a plan end as, in turn.
SUBSIDISED_CYCLE = [S.REDEEMED, S.COMPLETED, S.ENROLLED, S.CLAIMED, S.ISSUED, S.CANCELLED, S.REDEEMED]
CHECK_IN_ONLY_CYCLE = [S.COMPLETED, S.EXPIRED, S.ENROLLED, S.COMPLETED, S.CLAIMED]
# Groups and employment status of the holders, by the type's code prefix.
HOLDER_GROUPS = {
    "SH_SOCIAL_SKILL": (("registered_unemployed",), EmploymentStatus.UNEMPLOYED),
    "SH_ENTERPRISE_EMPLOYEE": (("insured_employee",), EmploymentStatus.EMPLOYED_LOCAL),
    "SH_SKILL_UPGRADING": (("insured_employee",), EmploymentStatus.EMPLOYED_LOCAL),
    "SH_CHECK_IN_ONLY": (("flexible_worker",), EmploymentStatus.FLEXIBLE),
    "ZJK_SUBSIDISED_TRAINING": (("rural_transfer_worker", "rural_labour"), EmploymentStatus.IN_TRAINING),
    "ZJK_SOCIAL_TRAINING": (("job_seeker",), EmploymentStatus.UNEMPLOYED),
}


def _money(value: Any) -> decimal.Decimal | None:
    return None if value in (None, "") else decimal.Decimal(str(value))


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(settings.TIME_ZONE))


def plan_count(figure: int, scale: decimal.Decimal, minimum: int) -> int:
    """How many vouchers stand for a figure at a scale (half up), at least `minimum`."""
    scaled = (decimal.Decimal(figure) * scale).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP)
    return max(minimum, int(scaled))


# -- reference records ----------------------------------------------------------------------------------


def seed_voucher_programs(admin: User, data: dict[str, Any]) -> int:
    created = 0
    for item in data["programs"]:
        if Program.objects.filter(code=item["code"]).exists():
            continue
        funding.program_create(
            actor=admin,
            fields={
                "code": item["code"],
                "name_zh": item["name_zh"],
                "name_en": item["name_en"],
                "region": Region.objects.get(code=item["region"]),
                "kind": item["kind"],
                "payee_kind": item["payee_kind"],
                "fund_source": FundSource.objects.filter(code=item.get("fund_source")).first(),
                "unit": item["unit"],
                "standard_amount": _money(item.get("standard_amount")),
                "max_amount": _money(item.get("max_amount")),
                "valid_from": _date(item.get("valid_from")),
                "policy_reference": item.get("policy_reference") or "",
                "notes": (item.get("note") or "").strip(),
                "assumption": (item.get("assumption") or "").strip(),
            },
        )
        created += 1
    return created


def _institution_uscc(item: dict[str, Any]) -> str:
    return make_uscc(item["uscc_region"], item["serial"], kind="52")


def seed_institutions(admin: User, data: dict[str, Any]) -> int:
    created = 0
    for item in data["institutions"]:
        uscc = _institution_uscc(item)
        if TrainingInstitution.objects.filter(uscc=uscc).exists():
            continue
        funding.training_institution_create(
            actor=admin,
            name=item["name"],
            uscc=uscc,
            region=Region.objects.get(code=item["region"]),
            licence=item["licence"],
        )
        created += 1
    for item in data["employers"]:
        uscc = make_uscc(item["uscc_region"], item["serial"])
        if not Employer.objects.filter(uscc=uscc).exists():
            funding.employer_create(
                actor=admin,
                name=item["name"],
                uscc=uscc,
                region=Region.objects.get(code=item["region"]),
                size=item["size"],
                industry=item["industry"],
            )
            created += 1
    return created


def seed_voucher_types(admin: User, data: dict[str, Any], stdout: Any) -> int:
    created = 0
    for item in data["voucher_types"]:
        if VoucherType.objects.filter(code=item["code"]).exists():
            continue
        program = Program.objects.filter(code=item["program"]).first() if item.get("program") else None
        if item.get("program") and program is None:
            stdout.write(f"  voucher type {item['code']} skipped: program {item['program']} not seeded\n")
            continue
        source = item.get("source") or {}
        services.voucher_type_create(
            actor=admin,
            fields={
                "code": item["code"],
                "name_zh": item["name_zh"],
                "name_en": item["name_en"],
                "region": Region.objects.get(code=item["region"]),
                "payee": item["payee"],
                "program": program,
                "eligible_groups": list(item.get("eligible_groups") or []),
                "min_ui_contribution_months": item.get("min_ui_contribution_months"),
                "face_value_rule": item["face_value_rule"],
                "face_value": _money(item.get("face_value")),
                "face_value_cap": _money(item.get("face_value_cap")),
                "validity_days": item["validity_days"],
                "policy_reference": "关于全面推广职业培训券应用工作的通知"
                if item["region"] == "310000"
                else "",
                "notes": f"digest line {source.get('line', '?')}: {source.get('quote_zh', '')}",
                "assumption": (item.get("assumption") or "").strip(),
            },
        )
        created += 1
    return created


def seed_plans(admin: User, data: dict[str, Any]) -> int:
    created = 0
    for item in data["plans"]:
        voucher_type = VoucherType.objects.filter(code=item["type"]).first()
        region = Region.objects.get(code=item["region"])
        if (
            voucher_type is None
            or VoucherPlan.objects.filter(region=region, year=item["year"], type=voucher_type).exists()
        ):
            continue
        source = data["plans_source"]
        services.voucher_plan_create(
            actor=admin,
            fields={
                "region": region,
                "year": item["year"],
                "type": voucher_type,
                "planned_count": item.get("planned_count"),
                "cap": item.get("cap"),
                "policy_reference": "关于全面推广职业培训券应用工作的通知"
                if item["region"] == "310000"
                else "",
                "notes": f"digest line {source['line']}: {source['quote_zh']}"
                if item["region"] == "310000"
                else "",
                "assumption": data["plans_assumption"],
            },
        )
        created += 1
    return created


def seed_allowances(admin: User, data: dict[str, Any]) -> int:
    done = 0
    for item in data["allowances"]:
        program = Program.objects.filter(code=item["program"]).select_related("region").first()
        if program is None or hasattr(program, "training_allowance"):
            continue
        source = item["source"]
        services.training_allowance_set(
            program=program,
            actor=admin,
            pays_in_advance=item["pays_in_advance"],
            notes=f"digest line {source['line']}: {source['quote_zh']}",
        )
        done += 1
    return done


def _sessions(spec: dict[str, Any]) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    first = dt.datetime.fromisoformat(spec["first"]).replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    for index in range(spec["count"]):
        start = first + dt.timedelta(days=spec["every_days"] * index)
        yield start, start + dt.timedelta(hours=spec["hours"])


def seed_courses(admin: User, data: dict[str, Any]) -> dict[str, Course]:
    institutions = {
        item["serial"]: TrainingInstitution.objects.get(uscc=_institution_uscc(item))
        for item in data["institutions"]
    }
    courses: dict[str, Course] = {}
    for item in data["courses"]:
        institution = institutions[item["institution"]]
        course = Course.objects.filter(
            institution=institution, title=item["title"], starts_on=_date(item["starts_on"])
        ).first()
        if course is None:
            course = services.course_create(
                actor=admin,
                fields={
                    "institution": institution,
                    "title": item["title"],
                    "occupation_code": item["occupation_code"],
                    "occupation_name": item["occupation_name"],
                    "level": item["level"],
                    "hours": item["hours"],
                    "fee": _money(item["fee"]),
                    "subsidy_standard": _money(item["subsidy_standard"]),
                    "starts_on": _date(item["starts_on"]),
                    "ends_on": _date(item["ends_on"]),
                    "site_name": item["site"]["name"],
                    "site_latitude": float(item["site"]["latitude"]),
                    "site_longitude": float(item["site"]["longitude"]),
                },
            )
            for index, (start, end) in enumerate(_sessions(item["sessions"]), start=1):
                services.course_session_create(
                    actor=admin,
                    fields={
                        "course": course,
                        "starts_at": start,
                        "ends_at": end,
                        "title": f"第 {index} 次课",
                    },
                )
        course.seed_key = item["key"]  # type: ignore[attr-defined]
        course.later = bool(item.get("later"))  # type: ignore[attr-defined]
        courses[item["key"]] = course
    return courses


# -- people ---------------------------------------------------------------------------------------------


class People:
    """The invented holders, made (or found) in order, deterministically."""

    def __init__(self, admin: User, data: dict[str, Any]) -> None:
        self.admin = admin
        self.prefixes = {code: spec["id_prefixes"] for code, spec in data["people"].items()}
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(FAKER_SEED)
        self.serial = itertools.count(1)
        self.created = 0

    def make(self, region: Region, type_code: str, *, ui_months: int | None) -> Any:
        seq = next(self.serial)
        gender = Gender.FEMALE if seq % 2 else Gender.MALE
        name = self.fake.name_female() if gender == Gender.FEMALE else self.fake.name_male()
        prefixes = self.prefixes[region.code]
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=(seq * 997) % (365 * 30))
        number = make_id_number(prefixes[seq % len(prefixes)], birth, 600 + seq, gender)
        existing = beneficiary_by_id_number(id_number=number)
        if existing is not None:
            return existing
        groups, status = HOLDER_GROUPS[type_code]
        person = beneficiary_create(
            actor=self.admin,
            name=name,
            id_number=number,
            region=region,
            phone=f"1370000{seq:04d}",
            social_security_card=f"{region.code[:2]}SSC{seq:08d}" if seq % 2 else "",
            address=f"{region.name_zh}示例路{seq}号",
            notes="示例数据（虚构人员，培训券持券人）",
        )
        for _code, group in sorted(groups_by_code(list(groups)).items()):
            membership_add(
                beneficiary=person, group=group, valid_from=MEMBERS_FROM, valid_to=None, actor=self.admin
            )
        status_change_record(
            beneficiary=person,
            actor=self.admin,
            status=status,
            effective_on=MEMBERS_FROM,
            source=StatusSource.VISIT,
        )
        if ui_months is not None:
            services.worker_training_profile_set(
                beneficiary=person,
                actor=self.admin,
                ui_contribution_months=ui_months,
                ui_months_as_of=dt.date(2021, 2, 28),
                notes="示例：失业保险缴费月数（虚构）",
            )
        self.created += 1
        return person


# -- vouchers -------------------------------------------------------------------------------------------


def _position(course: Course, index: int, *, off_by_m: float = 0.0) -> Point:
    """A deterministic position near the site (within 20-170 m), or `off_by_m` away from it."""
    site = Point(float(course.site_latitude), float(course.site_longitude))
    distance = off_by_m or 20 + (index * 37) % 150
    return destination(site, (index * 53) % 360, distance)


def _check_in(
    voucher: Voucher, session: CourseSession, admin: User, at: dt.datetime, point: Point, *, gcj: bool
) -> Any:
    if gcj:
        point = wgs84_to_gcj02(point)
    return services.voucher_check_in(
        voucher=voucher,
        session=session,
        actor=admin,
        latitude=point.latitude,
        longitude=point.longitude,
        at=at,
        datum=Datum.GCJ02 if gcj else Datum.WGS84,
        accuracy_m=15.0 + session.pk % 7,
        device_id=f"seed-device-{voucher.holder_id}",
        now=at,
    )


def _attend(voucher: Voucher, course: Course, admin: User, index: int, *, as_of: dt.datetime) -> None:
    """Check in to every session held by `as_of` (one missed for every third voucher: 4 of 5 is the
    80% minimum), with a rejected attempt for most vouchers: outside the geofence, outside the
    window, or a duplicate; every fourth voucher's phone reports GCJ-02."""
    sessions = list(CourseSession.objects.filter(course=course, starts_at__lte=as_of).order_by("starts_at"))
    for number, session in enumerate(sessions):
        if index % 3 == 1 and number == 2:
            continue  # missed this one
        at = session.starts_at + dt.timedelta(minutes=(index * 7) % 20 - 10)
        point = _position(course, index + number)
        kind = (index + number) % 9
        if kind == 0:
            _check_in(voucher, session, admin, at - dt.timedelta(hours=1), point, gcj=False)  # outside_window
        elif kind == 3:
            _check_in(
                voucher, session, admin, at, _position(course, index, off_by_m=900), gcj=False
            )  # geofence
        _check_in(voucher, session, admin, at, point, gcj=index % 4 == 3)
        if kind == 6:
            _check_in(voucher, session, admin, at + dt.timedelta(minutes=5), point, gcj=False)  # duplicate


def _course_for(voucher_type: VoucherType, courses: list[Course], index: int, target: str) -> Course:
    """A course of the type's region: a later one for vouchers that stay enrolled, where there is one
    the voucher is still valid for."""
    mine = [c for c in courses if c.institution.region.path.startswith(voucher_type.region.path)]
    if target == S.ENROLLED:
        later = [c for c in mine if c.later]  # type: ignore[attr-defined]
        valid = dt.date(2021, 3, 1) + dt.timedelta(days=voucher_type.validity_days - 1)
        later = [c for c in later if c.ends_on <= valid]
        if later:
            return later[index % len(later)]
    early = [c for c in mine if not c.later]  # type: ignore[attr-defined]
    return early[index % len(early)]


def _walk(
    voucher: Voucher,
    target: str,
    index: int,
    course: Course,
    admin: User,
    as_of: dt.datetime,
) -> None:
    issued_on = voucher.issued_at.date()
    if target in (S.ISSUED, S.EXPIRED):
        if index % 5 == 4:
            # A wrong proof at the counter before the holder came back (kept on the voucher).
            try:
                services.voucher_claim(
                    voucher=voucher,
                    actor=admin,
                    channel=ClaimChannel.COUNTER,
                    proof="000000",
                    now=_at(issued_on, 15),
                )
            except ValidationError:
                pass  # the refusal is the point: the wrong try is counted on the voucher
        return
    holder = voucher.holder
    channel = ClaimChannel.E_SSC if holder.social_security_card else ClaimChannel.COUNTER
    proof = (
        holder.social_security_card
        if channel == ClaimChannel.E_SSC
        else decrypt(holder.id_number_encrypted, purpose=ID_NUMBER_PURPOSE)[-6:]
    )
    claimed_at = _at(issued_on + dt.timedelta(days=1 + index % 5), 10)
    voucher = services.voucher_claim(
        voucher=voucher, actor=admin, channel=channel, proof=proof, now=claimed_at
    )
    if target == S.CLAIMED:
        return
    if target == S.CANCELLED:
        services.voucher_cancel(
            voucher=voucher,
            actor=admin,
            reason="示例：本人放弃参加培训（种子数据）",
            now=claimed_at + dt.timedelta(days=3),
        )
        return
    enrolled_at = min(claimed_at + dt.timedelta(days=2), _at(course.starts_on - dt.timedelta(days=1), 9))
    voucher = services.voucher_enroll(voucher=voucher, course=course, actor=admin, now=enrolled_at).voucher
    _attend(voucher, course, admin, index, as_of=as_of)
    if target == S.ENROLLED:
        return
    done_at = _at(course.ends_on + dt.timedelta(days=1), 10)
    subsidised = voucher.type.payee != VoucherPayee.NONE
    services.voucher_complete(
        voucher=voucher,
        actor=admin,
        certificate_number=f"{course.institution.region.code[:2]}2021{course.pk:03d}{voucher.holder_id:05d}"
        if subsidised
        else "",
        certificate_issued_on=course.ends_on if subsidised else None,
        now=done_at,
    )
    if index % 2 == 0:
        services.voucher_evaluate(
            voucher=voucher,
            actor=admin,
            course_rating=5 - index % 3,
            institution_rating=4 + index % 2,
            comment="示例评价：课程实用，老师讲解清楚（种子数据）",
            now=done_at + dt.timedelta(days=1),
        )
    if target == S.REDEEMED:
        services.voucher_redeem(voucher=voucher, actor=admin, now=done_at + dt.timedelta(days=2))


def seed_voucher_walks(
    admin: User, data: dict[str, Any], courses: dict[str, Course], scale: decimal.Decimal, stdout: Any
) -> int:
    minimum = int(data["min_per_plan"])
    figures = data["figures"]
    as_of = _at(_date(data["as_of"]), 23, 59)
    people = People(admin, data)
    made = 0
    all_courses = list(
        Course.objects.filter(pk__in=[c.pk for c in courses.values()]).select_related("institution__region")
    )
    for course in all_courses:
        original = next(c for c in courses.values() if c.pk == course.pk)
        course.later = original.later  # type: ignore[attr-defined]
    for item in data["plans"]:
        plan = (
            VoucherPlan.objects.filter(
                region__code=item["region"], year=item["year"], type__code=item["type"]
            )
            .select_related("region", "type__region")
            .first()
        )
        if plan is None or plan.vouchers.exists():
            continue
        figure = item.get("planned_count") or figures["zhangjiakou_2021"][item["figure"]]
        count = plan_count(figure, scale, minimum)
        voucher_type = plan.type
        holders = [
            people.make(
                plan.region,
                voucher_type.code,
                ui_months=24 if voucher_type.min_ui_contribution_months else None,
            )
            for _ in range(count)
        ]
        employer = None
        if voucher_type.payee == VoucherPayee.EMPLOYER:
            employer = Employer.objects.get(
                uscc=make_uscc(data["employers"][0]["uscc_region"], data["employers"][0]["serial"])
            )
        issued_at = _at(ISSUE_ON[item["region"]], 9)
        result = services.vouchers_issue_batch(
            plan=plan, holders=holders, actor=admin, employer=employer, now=issued_at
        )
        cycle = SUBSIDISED_CYCLE if voucher_type.subsidised else CHECK_IN_ONLY_CYCLE
        for index, voucher in enumerate(sorted(result.issued, key=lambda v: v.holder_id)):
            target = cycle[index % len(cycle)]
            course = _course_for(voucher_type, all_courses, index, target)
            _walk(voucher, target, index, course, admin, as_of)
        made += len(result.issued)
    # Vouchers issued or claimed and past their last day by the replay date are marked expired (the
    # expire_vouchers job, as it would have run then).
    services.vouchers_expire(today=as_of.date(), now=as_of)
    return made


def seed_vouchers(stdout: Any, *, scale: decimal.Decimal | float | str | None = None) -> None:
    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if admin is None:
        stdout.write("vouchers: no administrator account; skipped\n")
        return
    data = load("vouchers.yaml")
    scale = decimal.Decimal(str(scale if scale is not None else data["scale"]))
    programs = seed_voucher_programs(admin, data)
    payees = seed_institutions(admin, data)
    types = seed_voucher_types(admin, data, stdout)
    plans = seed_plans(admin, data)
    allowances = seed_allowances(admin, data)
    courses = seed_courses(admin, data)
    vouchers = seed_voucher_walks(admin, data, courses, scale, stdout)
    stdout.write(
        f"vouchers: {programs} programs, {payees} institutions and employers, {types} types, {plans} plans, "
        f"{allowances} allowance settings, {len(courses)} courses, {vouchers} vouchers added\n"
    )
