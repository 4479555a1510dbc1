"""Vocational training vouchers (职业培训券): types, plans, courses and their sessions, the vouchers
themselves with their check-ins, certificates and evaluations, the worker's training profile and the
living-allowance settings.

Single-row rules live here (constraints and clean()); issuing, claiming, enrolling, checking in,
completing, redeeming and every other state change and all money live in services.py. Training
institutions are the funding app's (programs.funding.models.TrainingInstitution): vouchers are
redeemed by paying them.
"""

from __future__ import annotations

import decimal
import re
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from programs.funding.choices import PayeeKind, ProgramKind, Unit
from programs.vouchers.choices import (
    LIVE_STATUSES,
    CheckInRejection,
    ClaimChannel,
    Datum,
    FaceValueRule,
    SkillLevel,
    VoucherPayee,
    VoucherStatus,
)
from programs.vouchers.codes import CODE_LENGTH, format_code
from tracker.changelog.models import TrackedModel
from tracker.geo import valid_coordinates

MONEY = {"max_digits": 14, "decimal_places": 2}
# Degrees to 7 decimals (about a centimetre): decimals, so a stored position reads back exactly.
DEGREES = {"max_digits": 10, "decimal_places": 7}
METRES = {"max_digits": 12, "decimal_places": 2}
TYPE_CODE_RE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")
DEFAULT_MIN_ATTENDANCE = decimal.Decimal("80.00")
DEFAULT_RADIUS_M = 500


def _codes_error(value: Any, known: set[str], what: Any) -> Any:
    """None when `value` is a list of distinct known codes, else the message."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        return _("A list of codes.")
    unknown = sorted(set(value) - known)
    if unknown:
        return _("Unknown %(what)s: %(codes)s") % {"what": what, "codes": ", ".join(unknown)}
    if len(set(value)) != len(value):
        return _("Each code may appear once.")
    return None


class VoucherType(TrackedModel):
    """A kind of voucher (券种): who it is for, what it pays for a training and to whom, for how long
    it is valid, and the program (programs.funding) that pays it. Shanghai's four (digest lines
    428-432): 社会化职业技能补贴培训券, 企业职工职业技能补贴培训券, 职业技能提升补贴券 and
    打卡签到专用培训券, which only tracks attendance and is never redeemed."""

    code = models.CharField(_("code"), max_length=64, unique=True, help_text=_("UPPER_SNAKE."))
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=255)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("issuing region"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The type is issued in this region's whole subtree."),
    )
    payee = models.CharField(_("pays"), max_length=16, choices=VoucherPayee.choices)
    program = models.ForeignKey(
        "funding.Program",
        verbose_name=_("paying program"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="voucher_types",
        help_text=_("The subsidy program redemptions are paid from; none for a check-in-only type."),
    )
    eligible_groups = models.JSONField(
        _("eligible beneficiary groups"),
        default=list,
        blank=True,
        help_text=_("Codes of beneficiary groups; empty means any worker."),
    )
    min_ui_contribution_months = models.PositiveSmallIntegerField(
        _("minimum months of unemployment-insurance contributions"),
        null=True,
        blank=True,
        help_text=_("E.g. 12 for the skill-upgrading subsidy; from the worker's training profile."),
    )
    face_value_rule = models.CharField(_("face value rule"), max_length=16, choices=FaceValueRule.choices)
    face_value = models.DecimalField(
        _("fixed face value"), **MONEY, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    face_value_cap = models.DecimalField(
        _("face value cap"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("The most a voucher pays for a course under the course-standard rule; empty: no cap."),
    )
    validity_days = models.PositiveIntegerField(
        _("validity in days"),
        default=365,
        validators=[MinValueValidator(1), MaxValueValidator(3660)],
        help_text=_("Days from issue, the day of issue included."),
    )
    occupations = models.JSONField(
        _("allowed occupations"),
        default=list,
        blank=True,
        help_text=_("Occupation codes a voucher of this type may be used for; empty means any."),
    )
    policy_reference = models.CharField(_("policy reference"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    assumption = models.TextField(
        _("assumption"), blank=True, help_text=_("Which values are assumed rather than in the document.")
    )

    # Like a program: issued by a region for its subtree, so users below see their ancestors' types.
    scope_includes_ancestors: ClassVar[bool] = True

    class Meta:
        verbose_name = _("voucher type")
        verbose_name_plural = _("voucher types")
        ordering = ["code"]
        constraints = [
            # Check-in only <=> pays nobody, has no program and no face value.
            models.CheckConstraint(
                condition=(
                    Q(payee=VoucherPayee.NONE, program__isnull=True, face_value_rule=FaceValueRule.NONE)
                    | (
                        ~Q(payee=VoucherPayee.NONE)
                        & ~Q(face_value_rule=FaceValueRule.NONE)
                        & Q(program__isnull=False)
                    )
                ),
                name="vouchertype_checkin_only_consistent",
            ),
        ]

    def __str__(self) -> str:
        return self.name_zh

    @property
    def subsidised(self) -> bool:
        """Whether the type pays for training (everything but a check-in-only voucher)."""
        return self.payee != VoucherPayee.NONE

    def clean(self) -> None:
        from beneficiaries.models import BeneficiaryGroup

        errors: dict[str, list[Any]] = {}
        if not TYPE_CODE_RE.fullmatch(self.code or ""):
            errors.setdefault("code", []).append(
                _("Use UPPER_SNAKE: capital letters, digits and underscores.")
            )
        check_in_only = self.payee == VoucherPayee.NONE
        if check_in_only:
            if self.program_id is not None:
                errors.setdefault("program", []).append(_("A check-in-only type has no paying program."))
            if self.face_value_rule != FaceValueRule.NONE:
                errors.setdefault("face_value_rule", []).append(_("A check-in-only type has no face value."))
        else:
            if self.program_id is None:
                errors.setdefault("program", []).append(_("Name the program that pays the vouchers."))
            if self.face_value_rule == FaceValueRule.NONE:
                errors.setdefault("face_value_rule", []).append(
                    _("Only a check-in-only type has no face value.")
                )
        if self.face_value_rule == FaceValueRule.FIXED and self.face_value in (None, decimal.Decimal(0)):
            errors.setdefault("face_value", []).append(_("A fixed face value needs the amount."))
        if self.face_value_rule != FaceValueRule.FIXED and self.face_value is not None:
            errors.setdefault("face_value", []).append(_("Only the fixed rule has a fixed face value."))
        if self.face_value_rule != FaceValueRule.COURSE_STANDARD and self.face_value_cap is not None:
            errors.setdefault("face_value_cap", []).append(_("Only the course-standard rule has a cap."))
        if self.program_id is not None and not check_in_only:
            program = self.program
            if program.payee_kind != _PROGRAM_PAYEE.get(self.payee):
                errors.setdefault("program", []).append(
                    _("The program pays a %(kind)s; this type pays %(payee)s.")
                    % {"kind": PayeeKind(program.payee_kind).label, "payee": VoucherPayee(self.payee).label}
                )
            if program.unit not in (Unit.ONE_OFF, Unit.PER_TRAINING):
                errors.setdefault("program", []).append(
                    _("A voucher pays once per training: the program's unit must be one-off or per training.")
                )
            if self.region_id is not None and not self.region.path.startswith(program.region.path):
                errors.setdefault("program", []).append(_("The program does not apply in the type's region."))
        groups = self.eligible_groups
        known = (
            set(BeneficiaryGroup.objects.filter(code__in=groups).values_list("code", flat=True))
            if (isinstance(groups, list) and all(isinstance(g, str) for g in groups))
            else set()
        )
        message = _codes_error(groups, known, _("beneficiary group codes"))
        if message:
            errors.setdefault("eligible_groups", []).append(message)
        occupations = self.occupations
        if not isinstance(occupations, list) or not all(
            isinstance(o, str) and o.strip() for o in occupations
        ):
            errors.setdefault("occupations", []).append(_("A list of occupation codes."))
        if self.min_ui_contribution_months is not None and not (1 <= self.min_ui_contribution_months <= 600):
            errors.setdefault("min_ui_contribution_months", []).append(_("Between 1 and 600 months."))
        if errors:
            raise ValidationError(errors)


# The funding payee kind a voucher payee is paid as.
_PROGRAM_PAYEE = {
    VoucherPayee.INSTITUTION: PayeeKind.INSTITUTION,
    VoucherPayee.EMPLOYER: PayeeKind.EMPLOYER,
    VoucherPayee.PERSON: PayeeKind.PERSON,
}


def program_payee_kind(payee: str) -> str | None:
    return _PROGRAM_PAYEE.get(payee)


class VoucherPlan(TrackedModel):
    """How many vouchers of a type a region plans to issue in a year (Shanghai: 500,000 in 2021,
    digest line 417), with an optional hard cap that refuses issuing beyond it. Progress (issued,
    claimed, completed, redeemed) is counted from the vouchers (selectors.plan_progress)."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2999)]
    )
    type = models.ForeignKey(
        VoucherType, verbose_name=_("voucher type"), on_delete=models.PROTECT, related_name="plans"
    )
    planned_count = models.PositiveIntegerField(
        _("planned number"), null=True, blank=True, help_text=_("The plan's figure, when it states one.")
    )
    cap = models.PositiveIntegerField(
        _("hard cap"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Issuing beyond this many vouchers (cancelled ones excepted) is refused; empty: no cap."),
    )
    policy_reference = models.CharField(_("policy reference"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    assumption = models.TextField(_("assumption"), blank=True)

    scope_includes_ancestors: ClassVar[bool] = True

    class Meta:
        verbose_name = _("voucher plan")
        verbose_name_plural = _("voucher plans")
        ordering = ["-year", "region_id", "type_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "type"], name="voucherplan_one_per_region_year_type"
            ),
        ]

    def __str__(self) -> str:
        region = self.region.name_zh if self.region_id else "?"
        type_name = self.type.name_zh if self.type_id else "?"
        return f"{region} {self.year} {type_name}"

    def clean(self) -> None:
        if self.region_id is not None and self.type_id is not None:
            if not self.region.path.startswith(self.type.region.path):
                raise ValidationError({"type": [_("The voucher type is not issued in the plan's region.")]})


class Course(TrackedModel):
    """A training course of an institution: the occupation (工种) and level it trains for, its length,
    fee and subsidy standard, the attendance needed to complete it, and the site where trainees check
    in (WGS-84; a position given in GCJ-02 is converted when it is entered)."""

    institution = models.ForeignKey(
        "funding.TrainingInstitution",
        verbose_name=_("training institution"),
        on_delete=models.PROTECT,
        related_name="courses",
    )
    title = models.CharField(_("title"), max_length=200)
    occupation_code = models.CharField(
        _("occupation code"),
        max_length=32,
        help_text=_("In the national occupational classification (职业分类大典), e.g. 4-10-01-02."),
    )
    occupation_name = models.CharField(_("occupation"), max_length=100)
    level = models.CharField(_("skill level"), max_length=16, choices=SkillLevel.choices)
    hours = models.PositiveIntegerField(_("class hours"), validators=[MinValueValidator(1)])
    fee = models.DecimalField(_("fee"), **MONEY, validators=[MinValueValidator(0)])
    subsidy_standard = models.DecimalField(_("subsidy standard"), **MONEY, validators=[MinValueValidator(0)])
    min_attendance_rate = models.DecimalField(
        _("minimum attendance rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_MIN_ATTENDANCE,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    site_name = models.CharField(_("training site"), max_length=200, blank=True)
    site_latitude = models.DecimalField(_("site latitude (WGS-84)"), **DEGREES)
    site_longitude = models.DecimalField(_("site longitude (WGS-84)"), **DEGREES)
    site_radius_m = models.PositiveIntegerField(
        _("check-in radius (m)"),
        default=DEFAULT_RADIUS_M,
        validators=[MinValueValidator(10), MaxValueValidator(50_000)],
    )

    region_lookup: ClassVar[str] = "institution__region"

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")), name="course_period_range"
            ),
            models.CheckConstraint(
                condition=Q(min_attendance_rate__gte=0) & Q(min_attendance_rate__lte=100),
                name="course_attendance_rate_range",
            ),
        ]
        indexes = [
            models.Index(fields=["occupation_code", "starts_on"], name="course_occupation_idx"),
            models.Index(fields=["starts_on"], name="course_starts_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_on})"

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.starts_on and self.ends_on and self.starts_on > self.ends_on:
            errors.setdefault("ends_on", []).append(_("The course ends before it starts."))
        if not valid_coordinates(self.site_latitude, self.site_longitude):
            errors.setdefault("site_latitude", []).append(
                _("Latitude -90 to 90 and longitude -180 to 180, as finite numbers.")
            )
        if errors:
            raise ValidationError(errors)


class CourseSession(TrackedModel):
    """One class of a course, with its start and end; trainees check in to it."""

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="sessions"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    title = models.CharField(_("title"), max_length=200, blank=True)

    region_lookup: ClassVar[str] = "course__institution__region"

    class Meta:
        verbose_name = _("course session")
        verbose_name_plural = _("course sessions")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="session_time_range"),
        ]
        indexes = [models.Index(fields=["course", "starts_at"], name="session_course_start_idx")]

    def __str__(self) -> str:
        when = timezone.localtime(self.starts_at).strftime("%Y-%m-%d %H:%M") if self.starts_at else ""
        return f"{self.title} {when}".strip() if self.title else f"{self.course.title} {when}".strip()

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValidationError({"ends_at": [_("The session ends before it starts.")]})


def _acting_user(verbose_name: Any) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )


class Voucher(TrackedModel):
    """One real-name voucher: `issued → claimed → enrolled → completed → redeemed`, or expired
    (issued/claimed) or cancelled (issued/claimed/enrolled). Scoped by the holder's region, whose path
    it keeps (a city's list goes straight to its rows)."""

    code = models.CharField(_("code"), max_length=CODE_LENGTH, unique=True, editable=False)
    type = models.ForeignKey(
        VoucherType, verbose_name=_("voucher type"), on_delete=models.PROTECT, related_name="vouchers"
    )
    plan = models.ForeignKey(
        VoucherPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="vouchers"
    )
    holder = models.ForeignKey(
        "beneficiaries.Beneficiary",
        verbose_name=_("holder"),
        on_delete=models.PROTECT,
        related_name="vouchers",
    )
    employer = models.ForeignKey(
        "funding.Employer",
        verbose_name=_("employer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="training_vouchers",
        help_text=_("The employer a type that pays the employer pays (the holder's employer)."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=VoucherStatus.choices, default=VoucherStatus.ISSUED
    )
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = _acting_user(_("issued by"))
    expires_on = models.DateField(_("valid until"), help_text=_("The last day the voucher can be used."))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claimed_by = _acting_user(_("claim recorded by"))
    claim_channel = models.CharField(
        _("claim channel"), max_length=16, choices=ClaimChannel.choices, blank=True
    )
    # Wrong claim proofs since the last success or lock-out, and the end of the current lock-out
    # (settings.VOUCHER_CLAIM_MAX_FAILURES wrong proofs lock claiming for VOUCHER_CLAIM_LOCK_SECONDS).
    claim_failures = models.PositiveSmallIntegerField(_("wrong claim proofs"), default=0, editable=False)
    claim_locked_until = models.DateTimeField(
        _("claiming locked until"), null=True, blank=True, editable=False
    )
    course = models.ForeignKey(
        Course,
        verbose_name=_("course"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vouchers",
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), null=True, blank=True)
    enrolled_by = _acting_user(_("enrolled by"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = _acting_user(_("completion recorded by"))
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    redeemed_by = _acting_user(_("redeemed by"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = _acting_user(_("cancelled by"))
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    expired_at = models.DateTimeField(_("marked expired at"), null=True, blank=True)
    region_path = models.CharField(_("region path"), max_length=255, editable=False, default="")

    region_lookup: ClassVar[str] = "holder__region"
    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("training voucher")
        verbose_name_plural = _("training vouchers")
        ordering = ["-id"]
        constraints = [
            # At most one live voucher of a type per person, backed by the database.
            models.UniqueConstraint(
                fields=["holder", "type"],
                condition=Q(status__in=LIVE_STATUSES),
                name="voucher_one_live_per_type",
            ),
            models.CheckConstraint(
                condition=Q(course__isnull=True)
                | Q(status__in=[VoucherStatus.ENROLLED, VoucherStatus.COMPLETED, VoucherStatus.REDEEMED])
                | Q(status=VoucherStatus.CANCELLED),
                name="voucher_course_only_when_enrolled",
            ),
            models.CheckConstraint(
                condition=~Q(
                    status__in=[VoucherStatus.ENROLLED, VoucherStatus.COMPLETED, VoucherStatus.REDEEMED]
                )
                | Q(course__isnull=False),
                name="voucher_enrolled_has_course",
            ),
        ]
        indexes = [
            models.Index(
                fields=["region_path", "id"],
                name="voucher_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["plan", "status"], name="voucher_plan_status_idx"),
            models.Index(fields=["holder", "issued_at"], name="voucher_holder_idx"),
            models.Index(fields=["course", "status"], name="voucher_course_status_idx"),
            models.Index(fields=["status", "expires_on"], name="voucher_status_expiry_idx"),
        ]

    def __str__(self) -> str:
        return format_code(self.code) if self.code else str(_("New voucher"))

    def change_label(self) -> str:
        return f"voucher {self.code} {self.status}"[:255]


class CheckIn(TrackedModel):
    """One located check-in attempt (定位打卡签到), accepted or rejected with its reason: every attempt
    is kept, so inspectors see the rejected ones too. The reported position is kept in its datum
    beside its WGS-84 conversion, which the distance was measured from."""

    voucher = models.ForeignKey(
        Voucher, verbose_name=_("voucher"), on_delete=models.PROTECT, related_name="check_ins"
    )
    session = models.ForeignKey(
        CourseSession, verbose_name=_("session"), on_delete=models.PROTECT, related_name="check_ins"
    )
    at = models.DateTimeField(_("checked in at"))
    latitude = models.DecimalField(_("latitude (as reported)"), **DEGREES)
    longitude = models.DecimalField(_("longitude (as reported)"), **DEGREES)
    datum = models.CharField(_("datum"), max_length=8, choices=Datum.choices, default=Datum.WGS84)
    latitude_wgs84 = models.DecimalField(_("latitude (WGS-84)"), **DEGREES)
    longitude_wgs84 = models.DecimalField(_("longitude (WGS-84)"), **DEGREES)
    accuracy_m = models.DecimalField(_("reported accuracy (m)"), **METRES, null=True, blank=True)
    device_id = models.CharField(_("device id"), max_length=128, blank=True)
    distance_m = models.DecimalField(_("distance to the site (m)"), **METRES, null=True, blank=True)
    accepted = models.BooleanField(_("accepted"))
    rejection = models.CharField(
        _("rejected because"), max_length=24, choices=CheckInRejection.choices, blank=True
    )
    recorded_by = _acting_user(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    region_path = models.CharField(_("region path"), max_length=255, editable=False, default="")

    region_lookup: ClassVar[str] = "voucher__holder__region"
    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-at", "-id"]
        constraints = [
            # One accepted check-in per voucher and session (later attempts are kept as duplicates).
            models.UniqueConstraint(
                fields=["voucher", "session"], condition=Q(accepted=True), name="checkin_one_accepted"
            ),
            models.CheckConstraint(
                condition=Q(accepted=True, rejection="") | (Q(accepted=False) & ~Q(rejection="")),
                name="checkin_rejection_iff_not_accepted",
            ),
        ]
        indexes = [
            models.Index(
                fields=["region_path", "id"],
                name="checkin_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["voucher", "accepted"], name="checkin_voucher_idx"),
        ]

    def __str__(self) -> str:
        verdict = _("accepted") if self.accepted else self.get_rejection_display()
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {verdict}"


class Certificate(TrackedModel):
    """The certificate a completed training earned (培训证书): looked up by its number."""

    number = models.CharField(_("certificate number"), max_length=64, unique=True)
    voucher = models.OneToOneField(
        Voucher, verbose_name=_("voucher"), on_delete=models.PROTECT, related_name="certificate"
    )
    level = models.CharField(_("skill level"), max_length=16, choices=SkillLevel.choices)
    issued_on = models.DateField(_("issued on"))

    region_lookup: ClassVar[str] = "voucher__holder__region"

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return self.number


class Evaluation(TrackedModel):
    """The worker's rating of a completed training (培训评价): the course and the institution, 1 to 5,
    with a comment; one per voucher."""

    voucher = models.OneToOneField(
        Voucher, verbose_name=_("voucher"), on_delete=models.PROTECT, related_name="evaluation"
    )
    course_rating = models.PositiveSmallIntegerField(
        _("course rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    institution_rating = models.PositiveSmallIntegerField(
        _("institution rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"))
    recorded_by = _acting_user(_("recorded by"))

    region_lookup: ClassVar[str] = "voucher__holder__region"

    class Meta:
        verbose_name = _("training evaluation")
        verbose_name_plural = _("training evaluations")
        ordering = ["-evaluated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(course_rating__gte=1, course_rating__lte=5)
                & Q(institution_rating__gte=1, institution_rating__lte=5),
                name="evaluation_ratings_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voucher}: {self.course_rating}/{self.institution_rating}"


class WorkerTrainingProfile(TrackedModel):
    """What a worker's training eligibility needs beyond the registry: months of unemployment-insurance
    contributions (the skill-upgrading subsidy needs 12, digest line 662), as of a date. Kept here,
    one-to-one with the person, rather than as registry columns: the figure comes from the social
    insurance records for training eligibility only, and the registry's import, forms and file stay
    as they are. The electronic social-security card number is the registry's own
    (Beneficiary.social_security_card)."""

    beneficiary = models.OneToOneField(
        "beneficiaries.Beneficiary",
        verbose_name=_("beneficiary"),
        on_delete=models.PROTECT,
        related_name="training_profile",
    )
    ui_contribution_months = models.PositiveSmallIntegerField(
        _("months of unemployment-insurance contributions"), validators=[MaxValueValidator(1200)]
    )
    ui_months_as_of = models.DateField(_("contributions counted as of"))
    notes = models.TextField(_("notes"), blank=True)

    region_lookup: ClassVar[str] = "beneficiary__region"

    class Meta:
        verbose_name = _("worker training profile")
        verbose_name_plural = _("worker training profiles")
        ordering = ["-id"]

    def __str__(self) -> str:
        return str(self.beneficiary) if self.beneficiary_id else ""


class TrainingAllowance(TrackedModel):
    """A training living-allowance program (生活费补贴, programs.funding) that pays the holders of
    subsidised vouchers where they are eligible: Gansu's at least 30 yuan per training day for people
    lifted out of poverty, with its uplift (digest lines 490-494); Guangzhou's 500 yuan per training
    for people in hardship, which may be paid in advance at enrolment (提前发放, lines 670-674) — the
    setting kept here, per program. An advance is reversed if the voucher is cancelled."""

    program = models.OneToOneField(
        "funding.Program",
        verbose_name=_("living-allowance program"),
        on_delete=models.PROTECT,
        related_name="training_allowance",
    )
    pays_in_advance = models.BooleanField(
        _("paid in advance at enrolment"),
        default=False,
        help_text=_("提前发放: paid when the voucher is enrolled, reversed if it is cancelled."),
    )
    notes = models.TextField(_("notes"), blank=True)

    region_lookup: ClassVar[str] = "program__region"
    scope_includes_ancestors: ClassVar[bool] = True

    class Meta:
        verbose_name = _("training living allowance")
        verbose_name_plural = _("training living allowances")
        ordering = ["program__code"]

    def __str__(self) -> str:
        return str(self.program) if self.program_id else ""

    def clean(self) -> None:
        if self.program_id is None:
            return
        program = self.program
        errors: dict[str, list[Any]] = {}
        if program.kind != ProgramKind.TRAINING_LIVING_ALLOWANCE:
            errors.setdefault("program", []).append(_("Choose a training living-allowance program."))
        if program.payee_kind != PayeeKind.PERSON:
            errors.setdefault("program", []).append(_("A living allowance is paid to the trainee."))
        if program.unit not in (Unit.PER_TRAINING, Unit.PERSON_DAY, Unit.ONE_OFF):
            errors.setdefault("program", []).append(
                _("A living allowance is paid per training or per training day.")
            )
        if self.pays_in_advance and program.unit == Unit.PERSON_DAY:
            errors.setdefault("pays_in_advance", []).append(
                _(
                    "An allowance per training day is known only after the training; it cannot be paid in advance."
                )
            )
        if errors:
            raise ValidationError(errors)


__all__ = [
    "Certificate",
    "CheckIn",
    "Course",
    "CourseSession",
    "Evaluation",
    "TrainingAllowance",
    "Voucher",
    "VoucherPlan",
    "VoucherType",
    "WorkerTrainingProfile",
    "program_payee_kind",
]
