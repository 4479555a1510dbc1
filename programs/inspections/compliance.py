"""The compliance rules this app knows, over posts, payments, vouchers, check-ins, beneficiaries and
follow-ups: each one set-based query (programs.inspections.checks). Registered on import, from
InspectionsConfig.ready()."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, ExtractMonth, ExtractYear, Greatest, LPad

from beneficiaries.choices import DeactivationReason, FollowUpStatus
from beneficiaries.households import relocated_households_without_employment, zero_employment_households
from beneficiaries.models import Beneficiary, FollowUp, GroupMembership, Household
from programs.funding.choices import LIVE_STATUSES, ProgramKind, Unit
from programs.funding.models import Payment, Program
from programs.inspections.checks import CheckContext, ComplianceRule, register_check
from programs.inspections.choices import Concerns, Severity
from programs.posts.models import Assignment, Attendance, PersonnelChange
from programs.vouchers.choices import VoucherStatus
from programs.vouchers.models import Certificate, CheckIn, Voucher
from tracker.regions.choices import RegionLevel

ASSIGNMENT_CAUSE = "posts.assignment"
VOUCHER_CAUSE = "vouchers.voucher"
SHANGHAI_PATH = "000000/310000/"
# Shanghai pays training subsidies only through vouchers from 2022 (digest line 427, 精确资金监管 via
# training vouchers; facts.yaml inspection_checklist.other_oversight_mentions).
SHANGHAI_VOUCHERS_FROM = dt.date(2022, 1, 1)
LIFTED_OUT_OF_POVERTY = "lifted_out_of_poverty"


def proxy_seconds() -> int:
    """Check-ins of different vouchers this close in time (and place) look like one person's (代打卡)."""
    return int(getattr(settings, "CHECKIN_PROXY_SECONDS", 60))


def proxy_degrees() -> decimal.Decimal:
    """About CHECKIN_PROXY_METRES (default 5) as degrees of latitude (1° ≈ 111 km)."""
    metres = decimal.Decimal(str(getattr(settings, "CHECKIN_PROXY_METRES", 5)))
    return (metres / decimal.Decimal(111_000)).quantize(decimal.Decimal("0.0000001"))


def _live_payments(ctx: CheckContext) -> QuerySet:
    return Payment.objects.within(ctx.region_path).filter(
        status__in=LIVE_STATUSES, period_start__lte=ctx.period_end, period_end__gte=ctx.period_start
    )


def _assignment_key() -> Cast:
    return Cast("pk", output_field=CharField())


def _rows(queryset: QuerySet, *, record: str, region: str, path: str, **evidence: object) -> QuerySet:
    """The violation rows of a queryset: record, in_region (its region's id), in_path (its region's
    path) and the evidence columns, prefixed `e_` (their names may be the model's own fields)."""
    return queryset.order_by().values(
        record=F(record), in_region=F(region), in_path=F(path), **{f"e_{k}": v for k, v in evidence.items()}
    )


# -- posts -----------------------------------------------------------------------------------------


def post_no_contract(ctx: CheckContext) -> QuerySet:
    """Holdings during the period with no signed labour contract or service agreement."""
    holdings = Assignment.objects.within(ctx.region_path).filter(
        Q(start_date__lte=ctx.period_end) & (Q(end_date__isnull=True) | Q(end_date__gte=ctx.period_start)),
        contract_signed_on__isnull=True,
    )
    return _rows(
        holdings,
        record="pk",
        region="region_id",
        path="region_path",
        post=F("post_id"),
        start_date=F("start_date"),
    )


def post_over_headcount(ctx: CheckContext) -> QuerySet:
    """Posts held by more people than positions on some day of the period: the holders on each
    holding's first day in the period (the count can only rise on a start)."""
    day = Greatest(F("start_date"), Value(ctx.period_start))
    on_day = (
        Assignment.objects.filter(post_id=OuterRef("post_id"), start_date__lte=OuterRef("day"))
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=OuterRef("day")))
        .order_by()
        .values("post_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    holdings = (
        Assignment.objects.within(ctx.region_path)
        .filter(start_date__lte=ctx.period_end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=ctx.period_start))
        .annotate(day=day)
        .annotate(holders=Subquery(on_day, output_field=IntegerField()))
        .order_by()
        .values("post_id")
        .annotate(
            record=F("post_id"),
            in_region=F("post__region_id"),
            in_path=F("post__region_path"),
            e_headcount=F("post__headcount"),
            e_most_holders=Max("holders"),
        )
        .filter(e_most_holders__gt=F("post__headcount"))
        .values("record", "in_region", "in_path", "e_headcount", "e_most_holders")
    )
    return holdings


def subsidy_without_attendance(ctx: CheckContext) -> QuerySet:
    """Post subsidies paid for a month without the holder's attendance record."""
    month = Concat(
        Cast(ExtractYear("period_start"), CharField()),
        Value("-"),
        LPad(Cast(ExtractMonth("period_start"), CharField()), 2, Value("0")),
        output_field=CharField(),
    )
    recorded = Attendance.objects.annotate(key=Cast("assignment_id", CharField())).filter(
        key=OuterRef("cause_object_id"), month=OuterRef("month")
    )
    payments = (
        _live_payments(ctx)
        .filter(cause_label=ASSIGNMENT_CAUSE)
        .annotate(month=month)
        .filter(~Exists(recorded))
    )
    return _rows(
        payments,
        record="pk",
        region="region_id",
        path="region_path",
        assignment=F("cause_object_id"),
        month=F("month"),
        amount=F("amount"),
    )


def _holding_of_payment() -> QuerySet:
    """The holding a post-subsidy payment was caused by, for a correlated EXISTS (the database joins
    it as a semi-join on the holding's id as text: no per-payment look-up)."""
    return Assignment.objects.annotate(key=_assignment_key()).filter(key=OuterRef("cause_object_id"))


def _holding_field(field: str, output_field: Any) -> Case:
    """A field of the payment's holding, read only for the rows a rule returns (the SELECT list is
    evaluated after the WHERE): the payment's cause id cast to the holding's key, so the look-up
    is one primary-key probe; only for payments caused by a holding."""
    probe = Assignment.objects.filter(pk=Cast(OuterRef("cause_object_id"), BigIntegerField())).values(field)[
        :1
    ]
    return Case(
        When(cause_label=ASSIGNMENT_CAUSE, then=Subquery(probe, output_field=output_field)),
        default=Value(None),
        output_field=output_field,
    )


def subsidy_after_exit(ctx: CheckContext) -> QuerySet:
    """Post subsidies for days after the holder left (paid before the end was reported)."""
    left = _holding_of_payment().filter(end_date__isnull=False, end_date__lt=OuterRef("period_end"))
    payments = _live_payments(ctx).filter(cause_label=ASSIGNMENT_CAUSE).filter(Exists(left))
    return _rows(
        payments,
        record="pk",
        region="region_id",
        path="region_path",
        assignment=F("cause_object_id"),
        left_on=_holding_field("end_date", DateField()),
        period_end=F("period_end"),
        amount=F("amount"),
    )


def personnel_change_late(ctx: CheckContext) -> QuerySet:
    """Personnel changes reported more than POST_CHANGE_LATE_DAYS after they took effect."""
    changes = PersonnelChange.objects.within(ctx.region_path).filter(
        late=True, effective_on__range=(ctx.period_start, ctx.period_end)
    )
    return _rows(
        changes,
        record="pk",
        region="region_id",
        path="region_path",
        post=F("post_id"),
        kind=F("kind"),
        effective_on=F("effective_on"),
        reported_on=F("reported_on"),
    )


def shared_payee_account(ctx: CheckContext) -> QuerySet:
    """Holdings paid into an account that another person's holding also uses."""
    others = Assignment.objects.filter(payee_account_hash=OuterRef("payee_account_hash")).exclude(
        beneficiary_id=OuterRef("beneficiary_id")
    )
    holdings = (
        Assignment.objects.within(ctx.region_path)
        .exclude(payee_account_hash="")
        .filter(start_date__lte=ctx.period_end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=ctx.period_start))
        .filter(Exists(others))
    )
    return _rows(
        holdings,
        record="pk",
        region="region_id",
        path="region_path",
        beneficiary=F("beneficiary_id"),
        payee_account=F("payee_account_masked"),
    )


# -- payments ----------------------------------------------------------------------------------------


def subsidy_over_standard(ctx: CheckContext) -> QuerySet:
    """Payments whose amount per unit is above their program's maximum (e.g. entered before the rule
    changed), or post subsidies above their post's monthly standard."""
    above_post = _holding_of_payment().filter(post__monthly_standard__lt=OuterRef("unit_amount"))
    money = DecimalField(max_digits=14, decimal_places=2)
    # The post-standard half as an uncorrelated IN (a semi-join computed once and hashed): an EXISTS
    # under OR would be re-run for every payment.
    above_post_standard = (
        _live_payments(ctx).filter(cause_label=ASSIGNMENT_CAUSE).filter(Exists(above_post)).values("pk")
    )
    payments = _live_payments(ctx).filter(
        Q(program__max_amount__isnull=False, unit_amount__gt=F("program__max_amount"))
        | Q(pk__in=above_post_standard)
    )
    return _rows(
        payments,
        record="pk",
        region="region_id",
        path="region_path",
        program=F("program__code"),
        unit_amount=F("unit_amount"),
        max_amount=F("program__max_amount"),
        post_standard=_holding_field("post__monthly_standard", money),
    )


def benefit_overlap(ctx: CheckContext) -> QuerySet:
    """Payments to a person by programs marked mutually exclusive for overlapping periods (the later
    payment of each pair)."""
    quoted_inner = Concat(Value('"'), F("program__code"), Value('"'), output_field=TextField())
    earlier = (
        Payment.objects.filter(
            beneficiary_id=OuterRef("beneficiary_id"),
            status__in=LIVE_STATUSES,
            period_start__lte=OuterRef("period_end"),
            period_end__gte=OuterRef("period_start"),
            pk__lt=OuterRef("pk"),
        )
        .exclude(program_id=OuterRef("program_id"))
        .annotate(
            outer_excludes=Cast(OuterRef("program__mutually_exclusive_with"), TextField()),
            inner_excludes=Cast("program__mutually_exclusive_with", TextField()),
            outer_code=OuterRef("quoted_code"),
        )
        .filter(Q(outer_excludes__contains=quoted_inner) | Q(inner_excludes__contains=F("outer_code")))
    )
    # Only payments of programs that exclude another or are excluded by one (a handful of programs),
    # so the pairs compared are those that can conflict.
    listed = Program.objects.annotate(excludes=Cast("mutually_exclusive_with", TextField())).filter(
        excludes__contains=Concat(Value('"'), OuterRef("code"), Value('"'), output_field=TextField())
    )
    involved = Program.objects.filter(~Q(mutually_exclusive_with=[]) | Exists(listed)).order_by().values("pk")
    payments = (
        _live_payments(ctx)
        .filter(beneficiary__isnull=False, program_id__in=involved)
        .annotate(quoted_code=Concat(Value('"'), F("program__code"), Value('"'), output_field=TextField()))
        .filter(Exists(earlier))
    )
    return _rows(
        payments,
        record="pk",
        region="region_id",
        path="region_path",
        beneficiary=F("beneficiary_id"),
        program=F("program__code"),
        period_start=F("period_start"),
        period_end=F("period_end"),
    )


def one_off_repeated(ctx: CheckContext) -> QuerySet:
    """A one-off subsidy paid to the same person (or organisation) twice by one program."""
    earlier = Payment.objects.filter(
        program_id=OuterRef("program_id"), status__in=LIVE_STATUSES, pk__lt=OuterRef("pk")
    ).filter(
        Q(beneficiary_id=OuterRef("beneficiary_id"), beneficiary__isnull=False)
        | Q(beneficiary__isnull=True, employer_id=OuterRef("employer_id"), employer__isnull=False)
        | Q(beneficiary__isnull=True, institution_id=OuterRef("institution_id"), institution__isnull=False)
    )
    payments = _live_payments(ctx).filter(program__unit=Unit.ONE_OFF).filter(Exists(earlier))
    return _rows(
        payments,
        record="pk",
        region="region_id",
        path="region_path",
        program=F("program__code"),
        beneficiary=F("beneficiary_id"),
        amount=F("amount"),
    )


def paid_after_death(ctx: CheckContext) -> QuerySet:
    """Payments to a person for a period ending after the day they died."""
    payments = _live_payments(ctx).filter(
        beneficiary__deactivation_reason=DeactivationReason.DECEASED,
        period_end__gt=F("beneficiary__deactivated_on"),
    )
    return _rows(
        payments,
        record="pk",
        region="region_id",
        path="region_path",
        beneficiary=F("beneficiary_id"),
        died_on=F("beneficiary__deactivated_on"),
        period_end=F("period_end"),
        amount=F("amount"),
    )


def training_subsidy_without_voucher(ctx: CheckContext) -> QuerySet:
    """Shanghai, from 2022: a training subsidy not paid through a training voucher."""
    payments = (
        _live_payments(ctx)
        .filter(region_path__startswith=SHANGHAI_PATH, program__kind=ProgramKind.TRAINING)
        .filter(period_start__gte=SHANGHAI_VOUCHERS_FROM)
        .exclude(cause_label=VOUCHER_CAUSE)
    )
    return _rows(
        payments,
        record="pk",
        region="region_id",
        path="region_path",
        program=F("program__code"),
        amount=F("amount"),
    )


# -- vouchers and check-ins -------------------------------------------------------------------------


def voucher_redeemed_without_certificate(ctx: CheckContext) -> QuerySet:
    """Vouchers redeemed in the period with no certificate recorded."""
    vouchers = (
        Voucher.objects.within(ctx.region_path)
        .filter(status=VoucherStatus.REDEEMED, redeemed_at__date__range=(ctx.period_start, ctx.period_end))
        .filter(~Exists(Certificate.objects.filter(voucher_id=OuterRef("pk"))))
    )
    return _rows(
        vouchers,
        record="pk",
        region="holder__region_id",
        path="region_path",
        code=F("code"),
        course=F("course_id"),
        redeemed_at=F("redeemed_at"),
    )


def checkin_proxy(ctx: CheckContext) -> QuerySet:
    """Accepted check-ins of a session made from the same device as another voucher's, or within a
    few metres and seconds of it (代打卡)."""
    seconds = dt.timedelta(seconds=proxy_seconds())
    degrees = proxy_degrees()
    other = CheckIn.objects.filter(session_id=OuterRef("session_id"), accepted=True).exclude(
        voucher_id=OuterRef("voucher_id")
    )
    same_device = other.exclude(device_id="").filter(device_id=OuterRef("device_id"))
    close = other.filter(
        at__gte=OuterRef("at_from"),
        at__lte=OuterRef("at_to"),
        latitude_wgs84__gte=OuterRef("lat_from"),
        latitude_wgs84__lte=OuterRef("lat_to"),
        longitude_wgs84__gte=OuterRef("lon_from"),
        longitude_wgs84__lte=OuterRef("lon_to"),
    )
    degrees_value = Value(degrees, output_field=DecimalField(max_digits=12, decimal_places=7))
    checkins = (
        CheckIn.objects.within(ctx.region_path)
        .filter(accepted=True, at__date__range=(ctx.period_start, ctx.period_end))
        .annotate(
            at_from=ExpressionWrapper(F("at") - Value(seconds), output_field=DateTimeField()),
            at_to=ExpressionWrapper(F("at") + Value(seconds), output_field=DateTimeField()),
            lat_from=ExpressionWrapper(
                F("latitude_wgs84") - degrees_value,
                output_field=DecimalField(max_digits=12, decimal_places=7),
            ),
            lat_to=ExpressionWrapper(
                F("latitude_wgs84") + degrees_value,
                output_field=DecimalField(max_digits=12, decimal_places=7),
            ),
            lon_from=ExpressionWrapper(
                F("longitude_wgs84") - degrees_value,
                output_field=DecimalField(max_digits=12, decimal_places=7),
            ),
            lon_to=ExpressionWrapper(
                F("longitude_wgs84") + degrees_value,
                output_field=DecimalField(max_digits=12, decimal_places=7),
            ),
        )
        .filter(Exists(same_device) | Exists(close))
    )
    return _rows(
        checkins,
        record="pk",
        region="voucher__holder__region_id",
        path="region_path",
        voucher=F("voucher_id"),
        session=F("session_id"),
        device_id=F("device_id"),
        at=F("at"),
    )


# -- people ------------------------------------------------------------------------------------------


def possible_duplicate_person(ctx: CheckContext) -> QuerySet:
    """Two people of one county with the same name and birth date but different identity numbers
    (the later record is reported)."""
    # The county a person's region lies in, by joins up the region tree (a person is registered at a
    # county, township or village), not a look-up per person.
    county = Case(
        When(region__level=RegionLevel.COUNTY, then=F("region__path")),
        When(region__level=RegionLevel.TOWNSHIP, then=F("region__parent__path")),
        When(region__level=RegionLevel.VILLAGE, then=F("region__parent__parent__path")),
        default=Value(None),
        output_field=CharField(),
    )
    twins = Beneficiary.objects.filter(
        name=OuterRef("name"),
        birth_date=OuterRef("birth_date"),
        active=True,
        pk__lt=OuterRef("pk"),
        region_path__startswith=OuterRef("county"),
    ).exclude(id_number_hash=OuterRef("id_number_hash"))
    people = (
        Beneficiary.objects.within(ctx.region_path)
        .filter(active=True)
        .annotate(county=county)
        .filter(county__isnull=False)
        .filter(Exists(twins))
    )
    return _rows(
        people,
        record="pk",
        region="region_id",
        path="region_path",
        name=F("name"),
        birth_date=F("birth_date"),
        id_number=F("id_number_masked"),
    )


def monitoring_stale(ctx: CheckContext) -> QuerySet:
    """People lifted out of poverty whose status has not been verified within the monitoring interval
    (MONITORING_INTERVAL_DAYS, 防返贫动态监测) as of the period's end."""
    days = int(getattr(settings, "MONITORING_INTERVAL_DAYS", 90))
    cutoff = ctx.as_of - dt.timedelta(days=days)
    lifted = GroupMembership.objects.filter(
        beneficiary_id=OuterRef("pk"), group__code=LIFTED_OUT_OF_POVERTY, valid_from__lte=ctx.as_of
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=ctx.as_of))
    people = (
        Beneficiary.objects.within(ctx.region_path)
        .filter(active=True, registered_at__date__lte=cutoff)
        .filter(Q(status_verified_on__isnull=True) | Q(status_verified_on__lt=cutoff))
        .filter(Exists(lifted))
    )
    return _rows(
        people,
        record="pk",
        region="region_id",
        path="region_path",
        status_verified_on=F("status_verified_on"),
    )


def unemployed_no_follow_up(ctx: CheckContext) -> QuerySet:
    """Follow-ups of people who became unemployed, still open past their due date."""
    follow_ups = FollowUp.objects.filter(
        beneficiary__region_path__startswith=ctx.region_path, status=FollowUpStatus.OPEN, due_on__lt=ctx.as_of
    )
    return _rows(
        follow_ups,
        record="pk",
        region="beneficiary__region_id",
        path="beneficiary__region_path",
        beneficiary=F("beneficiary_id"),
        opened_on=F("opened_on"),
        due_on=F("due_on"),
    )


# -- households (beneficiaries.households owns the rules' queries) ---------------------------------


def relocated_household_no_employment(ctx: CheckContext) -> QuerySet:
    """Relocated households (易地扶贫搬迁) none of whose members is in work now: Xingtai's promise is at
    least one member in stable employment per relocated household."""
    households = relocated_households_without_employment(Household.objects.within(ctx.region_path))
    return _rows(households, record="pk", region="region_id", path="region_path", number=F("number"))


def zero_employment_household(ctx: CheckContext) -> QuerySet:
    """Zero-employment households (零就业家庭) not yet cleared (动态清零): no member in work now."""
    households = zero_employment_households(Household.objects.within(ctx.region_path))
    return _rows(
        households,
        record="pk",
        region="region_id",
        path="region_path",
        number=F("number"),
        identified_on=F("zero_employment_identified_on"),
    )


RULES = (
    ComplianceRule(
        "POST_NO_CONTRACT",
        "公益性岗位人员未签订劳动合同或劳务协议",
        "Post holder without a signed labour contract or service agreement",
        Severity.MEDIUM,
        Concerns.ASSIGNMENT,
        post_no_contract,
        rectification_zh="限期补签劳动合同或劳务协议",
    ),
    ComplianceRule(
        "POST_OVER_HEADCOUNT",
        "岗位在岗人数超过岗位数",
        "More holders than positions on a post",
        Severity.HIGH,
        Concerns.POST,
        post_over_headcount,
        rectification_zh="核减超岗人员或按程序增设岗位",
    ),
    ComplianceRule(
        "SUBSIDY_WITHOUT_ATTENDANCE",
        "无考勤记录的月份发放了岗位补贴",
        "Post subsidy paid for a month without attendance",
        Severity.HIGH,
        Concerns.PAYMENT,
        subsidy_without_attendance,
        rectification_zh="补齐考勤或追回补贴",
    ),
    ComplianceRule(
        "SUBSIDY_AFTER_EXIT",
        "人员离岗后仍发放岗位补贴",
        "Post subsidy paid after the holder left",
        Severity.HIGH,
        Concerns.PAYMENT,
        subsidy_after_exit,
        rectification_zh="追回离岗后发放的补贴",
    ),
    ComplianceRule(
        "SUBSIDY_OVER_STANDARD",
        "补贴金额超过政策标准",
        "Payment above its program's (or post's) standard",
        Severity.HIGH,
        Concerns.PAYMENT,
        subsidy_over_standard,
        rectification_zh="核减超标准部分并追回",
    ),
    ComplianceRule(
        "BENEFIT_OVERLAP",
        "同一时期重复享受互斥的补贴政策",
        "Mutually exclusive programs paid to one person for overlapping periods",
        Severity.HIGH,
        Concerns.PAYMENT,
        benefit_overlap,
        rectification_zh="停发并追回重复享受的补贴",
    ),
    ComplianceRule(
        "ONE_OFF_REPEATED",
        "一次性补贴重复发放",
        "One-off subsidy paid twice",
        Severity.HIGH,
        Concerns.PAYMENT,
        one_off_repeated,
        rectification_zh="追回重复发放的补贴",
    ),
    ComplianceRule(
        "PAID_AFTER_DEATH",
        "人员死亡后仍发放补贴",
        "Paid for a period after the person died",
        Severity.HIGH,
        Concerns.PAYMENT,
        paid_after_death,
        rectification_zh="停发并追回死亡后发放的补贴",
    ),
    ComplianceRule(
        "SHARED_PAYEE_ACCOUNT",
        "多人共用同一收款账户",
        "One payee account used by several people",
        Severity.HIGH,
        Concerns.ASSIGNMENT,
        shared_payee_account,
        rectification_zh="核实账户归属，补贴发放到本人账户",
    ),
    ComplianceRule(
        "PERSONNEL_CHANGE_LATE",
        "人员变动未及时报告",
        "Personnel change reported late",
        Severity.MEDIUM,
        Concerns.PERSONNEL_CHANGE,
        personnel_change_late,
        rectification_zh="建立人员变动及时报告制度",
    ),
    ComplianceRule(
        "VOUCHER_REDEEMED_WITHOUT_CERTIFICATE",
        "培训券已兑付但无培训合格证书",
        "Voucher redeemed without a certificate",
        Severity.MEDIUM,
        Concerns.VOUCHER,
        voucher_redeemed_without_certificate,
        rectification_zh="补录证书或追回培训补贴",
    ),
    ComplianceRule(
        "CHECKIN_PROXY",
        "疑似代打卡（同一设备或同一地点同一时间为多人签到）",
        "Possible proxy check-in (one device, or one place within seconds, for several vouchers)",
        Severity.HIGH,
        Concerns.CHECK_IN,
        checkin_proxy,
        rectification_zh="核查签到记录，剔除代打卡学时",
    ),
    ComplianceRule(
        "TRAINING_SUBSIDY_WITHOUT_VOUCHER",
        "上海市2022年起未通过培训券发放培训补贴",
        "Shanghai training subsidy from 2022 not paid through a voucher",
        Severity.MEDIUM,
        Concerns.PAYMENT,
        training_subsidy_without_voucher,
        rectification_zh="按培训券方式规范补贴发放",
    ),
    ComplianceRule(
        "POSSIBLE_DUPLICATE_PERSON",
        "同县同名同出生日期但身份证号不同，疑似重复登记",
        "Same name and birth date with different identity numbers in one county",
        Severity.LOW,
        Concerns.BENEFICIARY,
        possible_duplicate_person,
        rectification_zh="核实身份，合并或注销重复记录",
    ),
    ComplianceRule(
        "MONITORING_STALE",
        "脱贫人口就业状态超过监测周期未核实",
        "Person lifted out of poverty not verified within the monitoring interval",
        Severity.MEDIUM,
        Concerns.BENEFICIARY,
        monitoring_stale,
        rectification_zh="开展入户核实，更新就业状态",
    ),
    ComplianceRule(
        "UNEMPLOYED_NO_FOLLOW_UP",
        "就业转失业人员未按期跟踪服务",
        "Overdue follow-up of a person who became unemployed",
        Severity.MEDIUM,
        Concerns.FOLLOW_UP,
        unemployed_no_follow_up,
        rectification_zh="及时提供职业指导或职业介绍服务",
    ),
    ComplianceRule(
        "RELOCATED_HOUSEHOLD_NO_EMPLOYMENT",
        "易地扶贫搬迁户无一人就业",
        "Relocated household with no member in work",
        Severity.HIGH,
        Concerns.HOUSEHOLD,
        relocated_household_no_employment,
        rectification_zh="落实搬迁户至少一人稳定就业",
    ),
    ComplianceRule(
        "ZERO_EMPLOYMENT_HOUSEHOLD",
        "零就业家庭未实现动态清零",
        "Zero-employment household not yet cleared",
        Severity.HIGH,
        Concerns.HOUSEHOLD,
        zero_employment_household,
        rectification_zh="开发岗位托底安置，实现零就业家庭动态清零",
    ),
)


def register() -> None:
    for rule in RULES:
        register_check(rule)
