"""Public-welfare posts (公益性岗位): the posts towns and villages set, the people who hold them, their
contracts, attendance and assessments, the personnel changes an inspector reads, county post
standards and the monthly subsidy runs.

What an inspector checks (facts.yaml `inspection_checklist`, digest lines 112-116: 公益性岗位设置、
劳动合同签订、考勤考核、补贴资金发放、人员变动) is all recorded here: the post and why it was set,
each holder's contract, monthly attendance and assessments, the subsidy payments (in the ledger,
caused by the assignment) and every hire, end and replacement.

Single-row rules live here (constraints and clean()); rules across records, every state transition
and all money live in services.py (the rules themselves, one pure function each, in rules.py).
"""

from __future__ import annotations

import decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from programs.posts.choices import (
    AssessmentPeriodKind,
    AttendanceSource,
    ContractKind,
    EmployingUnit,
    EndReason,
    PayeeAccountKind,
    PersonnelChangeKind,
    PersonnelChangeStatus,
    PostCategory,
    PostStatus,
    Rating,
    UrbanRural,
)
from tracker.changelog.models import TrackedModel
from tracker.periods import Month

MONEY = {"max_digits": 14, "decimal_places": 2}


def validate_month(value: str) -> None:
    """A month as YYYY-MM (tracker.periods.Month)."""
    try:
        Month.parse(value)
    except ValidationError as exc:
        raise ValidationError(_("A month is written YYYY-MM."), code="invalid_month") from exc


def _scope_index(name: str) -> models.Index:
    """The (region_path, id) index a region's page of a big table is read through (tracker.scope)."""
    return models.Index(
        fields=["region_path", "id"], name=name, opclasses=["varchar_pattern_ops", "int8_ops"]
    )


def _region_path_field() -> models.CharField:
    return models.CharField(_("region path"), max_length=255, editable=False, default="")


class PostStandard(TrackedModel):
    """A county's post subsidy standards for a year: the urban monthly standard and the cap for rural
    posts. Fujian R021/R022 (digest lines 300-304): pay for similar posts is unified within a county
    (对各县域内类似岗位...待遇水平等予以规范统一), and a rural post's subsidy is capped, in
    principle, at the local urban post subsidy level (原则上以当地城镇公益性岗位补贴水平为限)."""

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The county (or county-level area) the standards apply in."),
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    urban_standard = models.DecimalField(
        _("urban monthly post subsidy standard"), **MONEY, validators=[MinValueValidator(0)]
    )
    rural_cap = models.DecimalField(
        _("rural post cap"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Empty: the urban standard is the cap (Fujian R022)."),
    )
    policy_reference = models.CharField(_("policy reference"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("post subsidy standard")
        verbose_name_plural = _("post subsidy standards")
        ordering = ["region_id", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="poststandard_one_per_county_year"),
            models.CheckConstraint(condition=Q(urban_standard__gt=0), name="poststandard_urban_positive"),
            models.CheckConstraint(
                condition=Q(rural_cap__isnull=True) | Q(rural_cap__lte=F("urban_standard")),
                name="poststandard_rural_cap_within_urban",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}: {self.urban_standard}"

    def clean(self) -> None:
        if (
            self.rural_cap is not None
            and self.urban_standard is not None
            and self.rural_cap > self.urban_standard
        ):
            raise ValidationError(
                {"rural_cap": [_("The rural cap may not exceed the county's urban standard.")]}
            )

    @property
    def rural_limit(self) -> decimal.Decimal:
        """What a rural post may be paid at most a month."""
        return self.rural_cap if self.rural_cap is not None else self.urban_standard


class Post(TrackedModel):
    """A public-welfare post set by a town or village: its employing unit, kind, number of positions
    (headcount), monthly subsidy standard, the program that pays it, its open period and why it was
    set (因事设岗、因需设岗, digest line 623)."""

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Where the post is, down to the village."),
    )
    region_path = _region_path_field()
    employing_unit = models.CharField(_("employing unit"), max_length=24, choices=EmployingUnit.choices)
    employer = models.ForeignKey(
        "funding.Employer",
        verbose_name=_("employer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="posts",
        help_text=_("When the employing unit is an employer."),
    )
    category = models.CharField(_("category"), max_length=24, choices=PostCategory.choices)
    urban_rural = models.CharField(_("urban or rural"), max_length=8, choices=UrbanRural.choices)
    title = models.CharField(_("title"), max_length=200)
    duties = models.TextField(_("duties"), blank=True)
    headcount = models.PositiveIntegerField(
        _("number of positions"), validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    monthly_standard = models.DecimalField(
        _("monthly subsidy standard"), **MONEY, validators=[MinValueValidator(0)]
    )
    program = models.ForeignKey(
        "funding.Program", verbose_name=_("program"), on_delete=models.PROTECT, related_name="posts"
    )
    opened_on = models.DateField(pgettext_lazy("post", "opened on"))
    closed_on = models.DateField(pgettext_lazy("post", "closed on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=PostStatus.choices, default=PostStatus.OPEN)
    justification = models.TextField(
        _("why the post was set"),
        help_text=_("Set for a real need (因事设岗、因需设岗): the work or need the post exists for."),
    )

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("public-welfare post")
        verbose_name_plural = _("public-welfare posts")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(headcount__gte=1), name="post_headcount_positive"),
            models.CheckConstraint(condition=Q(monthly_standard__gt=0), name="post_standard_positive"),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="post_open_period",
            ),
            models.CheckConstraint(
                condition=Q(employing_unit=EmployingUnit.EMPLOYER, employer__isnull=False)
                | Q(employing_unit=EmployingUnit.VILLAGE_COMMITTEE, employer__isnull=True),
                name="post_employer_matches_unit",
            ),
            models.CheckConstraint(
                condition=Q(status=PostStatus.CLOSED, closed_on__isnull=False)
                | (~Q(status=PostStatus.CLOSED) & Q(closed_on__isnull=True)),
                name="post_closed_has_date",
            ),
        ]
        indexes = [
            _scope_index("post_scope_idx"),
            models.Index(fields=["program", "status"], name="post_program_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.closed_on and self.opened_on and self.closed_on < self.opened_on:
            errors.setdefault("closed_on", []).append(_("The post closes before it opens."))
        if self.employing_unit == EmployingUnit.EMPLOYER and self.employer_id is None:
            errors.setdefault("employer", []).append(_("Name the employer."))
        if self.employing_unit == EmployingUnit.VILLAGE_COMMITTEE and self.employer_id is not None:
            errors.setdefault("employer", []).append(
                _("A post employed by the village committee names no employer.")
            )
        if not (self.justification or "").strip():
            errors.setdefault("justification", []).append(
                _("Say why the post was set (因事设岗、因需设岗): inspectors check it.")
            )
        if errors:
            raise ValidationError(errors)


class Assignment(TrackedModel):
    """A person holding a post over a period (上岗 to 离岗), with the labour contract or service
    agreement an inspector checks, whether they are covered by urban employee social insurance, and
    their own payee account (personal data: encrypted, keyed hash, masked)."""

    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.PROTECT, related_name="assignments"
    )
    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary",
        verbose_name=_("holder"),
        on_delete=models.PROTECT,
        related_name="post_assignments",
    )
    # The post's region, copied by the service (a post's region never changes once it has holders):
    # a county's holders are one indexed prefix read (tracker.scope).
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=24, choices=EndReason.choices, blank=True)
    contract_kind = models.CharField(
        _("contract kind"), max_length=24, choices=ContractKind.choices, blank=True
    )
    contract_number = models.CharField(_("contract number"), max_length=64, blank=True)
    contract_signed_on = models.DateField(_("contract signed on"), null=True, blank=True)
    contract_from = models.DateField(_("contract term from"), null=True, blank=True)
    contract_to = models.DateField(_("contract term to"), null=True, blank=True)
    urban_employee_insured = models.BooleanField(
        _("covered by urban employee social insurance"),
        default=False,
        help_text=_(
            "Urban employee social insurance (城镇职工社会保险): some programs pay rural posts only to holders without it."
        ),
    )
    payee_account_kind = models.CharField(
        _("payee account kind"), max_length=24, choices=PayeeAccountKind.choices, blank=True
    )
    payee_account_encrypted = models.TextField(_("payee account (encrypted)"), blank=True)
    payee_account_hash = models.CharField(
        _("payee account (keyed hash)"), max_length=64, blank=True, db_index=True
    )
    payee_account_masked = models.CharField(_("payee account"), max_length=32, blank=True)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset(
        {"payee_account_encrypted", "payee_account_hash", "region_path"}
    )

    class Meta:
        verbose_name = _("post assignment")
        verbose_name_plural = _("post assignments")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="assignment_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True, end_reason="")
                | (Q(end_date__isnull=False) & ~Q(end_reason="")),
                name="assignment_end_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(contract_from__isnull=True)
                | Q(contract_to__isnull=True)
                | Q(contract_to__gte=F("contract_from")),
                name="assignment_contract_term",
            ),
            # One post at a time: the database holds at most one open-ended assignment per person;
            # the service checks ended periods too, under the person's row lock.
            models.UniqueConstraint(
                fields=["beneficiary"],
                condition=Q(end_date__isnull=True),
                name="assignment_one_open_post_per_person",
            ),
        ]
        indexes = [
            _scope_index("assignment_scope_idx"),
            models.Index(fields=["post", "start_date"], name="assignment_post_start_idx"),
            models.Index(fields=["beneficiary", "start_date"], name="assignment_person_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.post.title} — {self.beneficiary.name} ({self.start_date}–{self.end_date or ''})"

    def change_label(self) -> str:
        return f"assignment #{self.pk} post #{self.post_id} {self.start_date}–{self.end_date or ''}"[:255]

    @property
    def contract_signed(self) -> bool:
        return self.contract_signed_on is not None

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors.setdefault("end_date", []).append(_("END_BEFORE_START: the end is before the start."))
        if self.end_date and not self.end_reason:
            errors.setdefault("end_reason", []).append(_("Give the reason the holder left."))
        if self.end_reason and not self.end_date:
            errors.setdefault("end_date", []).append(_("An end reason needs an end date."))
        if self.contract_from and self.contract_to and self.contract_to < self.contract_from:
            errors.setdefault("contract_to", []).append(_("The contract term ends before it starts."))
        contract_given = any(
            (self.contract_number, self.contract_signed_on, self.contract_from, self.contract_to)
        )
        if contract_given and not self.contract_kind:
            errors.setdefault("contract_kind", []).append(
                _("Say whether it is a labour contract or a service agreement.")
            )
        if self.contract_kind and not self.contract_signed_on:
            errors.setdefault("contract_signed_on", []).append(_("Give the day the contract was signed."))
        if bool(self.payee_account_kind) != bool(self.payee_account_masked):
            errors.setdefault("payee_account", []).append(
                _("Give both the kind of payee account and its number.")
            )
        if errors:
            raise ValidationError(errors)


class PersonnelChange(TrackedModel):
    """人员变动: every hire, end and replacement, as an inspector reads it. A change reported more
    than settings.POST_CHANGE_LATE_DAYS days after it took effect is marked late when recorded.
    A reviewer of the township or above approves it (never the clerk who reported it)."""

    kind = models.CharField(_("kind"), max_length=12, choices=PersonnelChangeKind.choices)
    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.PROTECT, related_name="changes")
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    assignment = models.ForeignKey(
        Assignment,
        verbose_name=_("assignment"),
        on_delete=models.PROTECT,
        related_name="changes",
        help_text=_("The assignment begun (hire) or ended (end, replacement)."),
    )
    successor = models.ForeignKey(
        Assignment,
        verbose_name=_("successor's assignment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    effective_on = models.DateField(_("effective on"))
    reported_on = models.DateField(_("reported on"))
    late = models.BooleanField(_("reported late"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=PersonnelChangeStatus.choices,
        default=PersonnelChangeStatus.REPORTED,
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("personnel change")
        verbose_name_plural = _("personnel changes")
        ordering = ["-effective_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=PersonnelChangeKind.REPLACE, successor__isnull=False)
                | (~Q(kind=PersonnelChangeKind.REPLACE) & Q(successor__isnull=True)),
                name="personnelchange_successor_for_replace",
            ),
            models.CheckConstraint(
                condition=Q(status=PersonnelChangeStatus.APPROVED, approved_by__isnull=False)
                | Q(status=PersonnelChangeStatus.REPORTED, approved_by__isnull=True),
                name="personnelchange_approval_consistent",
            ),
        ]
        indexes = [
            _scope_index("personnelchange_scope_idx"),
            models.Index(fields=["effective_on"], name="personnelchange_effective_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.effective_on}"


class Attendance(TrackedModel):
    """One month's attendance of a holder (考勤): days required (the full month's requirement), days
    present and paid leave, as copied from the village's sign-in sheet or check-in records."""

    assignment = models.ForeignKey(
        Assignment, verbose_name=_("assignment"), on_delete=models.PROTECT, related_name="attendance"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    month = models.CharField(_("month"), max_length=7, validators=[validate_month])
    days_required = models.PositiveSmallIntegerField(
        _("days required"), validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    days_present = models.PositiveSmallIntegerField(_("days present"), validators=[MaxValueValidator(31)])
    paid_leave_days = models.PositiveSmallIntegerField(
        _("paid leave days"), default=0, validators=[MaxValueValidator(31)]
    )
    source = models.CharField(_("source"), max_length=16, choices=AttendanceSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["-month", "assignment_id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "month"], name="attendance_one_per_month"),
            models.CheckConstraint(
                condition=Q(days_present__lte=F("days_required") - F("paid_leave_days")),
                name="attendance_within_required",
            ),
            models.CheckConstraint(
                condition=Q(days_required__gte=1, days_required__lte=31), name="attendance_required_range"
            ),
        ]
        indexes = [
            _scope_index("attendance_scope_idx"),
            models.Index(fields=["month", "region_path"], name="attendance_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.month}: {self.days_present}+{self.paid_leave_days}/{self.days_required}"


class AssessmentStandard(TrackedModel):
    """A village's (or township's) refined assessment standard (细化考核标准, digest line 116:
    要求各村...细化考核标准), in force from a date; each assessment names the one it applied."""

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("village or township"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    effective_from = models.DateField(_("effective from"))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("standard"))

    class Meta:
        verbose_name = _("assessment standard")
        verbose_name_plural = _("assessment standards")
        ordering = ["region_id", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.title} ({self.effective_from})"


class Assessment(TrackedModel):
    """A holder's assessment (考核) for a month or a quarter: the rating, who assessed, and the
    standard applied. An unqualified rating stops that period's subsidy."""

    assignment = models.ForeignKey(
        Assignment, verbose_name=_("assignment"), on_delete=models.PROTECT, related_name="assessments"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    period_kind = models.CharField(_("period kind"), max_length=8, choices=AssessmentPeriodKind.choices)
    period = models.CharField(_("period"), max_length=7, help_text=_("YYYY-MM or YYYY-Qn."))
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    rating = models.CharField(_("rating"), max_length=24, choices=Rating.choices)
    standard = models.ForeignKey(
        AssessmentStandard,
        verbose_name=_("standard applied"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assessor"), on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(_("notes"), blank=True)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "period_kind", "period"], name="assessment_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="assessment_period_range"
            ),
        ]
        indexes = [
            _scope_index("assessment_scope_idx"),
            models.Index(fields=["rating", "period_start"], name="assessment_rating_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.period}: {self.get_rating_display()}"


class SubsidyRun(TrackedModel):
    """One monthly post subsidy run over a region (a village up to a province): the payments it
    created through the ledger's batch path and, for every assignment it did not pay, the reason.
    `payments` and `skipped` are what the run decided, kept as it decided it (the payments
    themselves live in the ledger, caused by their assignments)."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.CharField(_("month"), max_length=7, validators=[validate_month])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)
    considered = models.PositiveIntegerField(_("assignments considered"), default=0)
    paid_count = models.PositiveIntegerField(_("payments created"), default=0)
    skipped_count = models.PositiveIntegerField(_("assignments skipped"), default=0)
    already_paid_count = models.PositiveIntegerField(_("already paid"), default=0)
    total = models.DecimalField(_("total"), **MONEY, default=0)
    payments = models.JSONField(_("payments"), default=list, blank=True)
    skipped = models.JSONField(_("skipped assignments"), default=list, blank=True)

    # Each payment has its own change entry; the run's entry keeps its counts, total and reasons (the
    # row hash still covers the list, so an altered list fails verification).
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"payments"})

    class Meta:
        verbose_name = _("post subsidy run")
        verbose_name_plural = _("post subsidy runs")
        ordering = ["-id"]
        indexes = [models.Index(fields=["month"], name="subsidyrun_month_idx")]

    def __str__(self) -> str:
        return f"{self.region} {self.month} #{self.pk}"
