"""Fund sources, subsidy programs, payees (employers, training institutions) and the payments ledger.

Single-row rules live here (constraints and clean()); every rule that spans records, every state
transition and all money live in services.py, the only door through which payments are written.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError

from beneficiaries.choices import EmploymentStatus
from programs.funding.choices import (
    LIVE_STATUSES,
    EmployerSize,
    Industry,
    InstitutionStatus,
    PayeeKind,
    PaymentStatus,
    ProgramKind,
    Unit,
)
from tracker.changelog.models import TrackedModel, TrackedQuerySet
from tracker.scope import PATH_SEPARATOR

MONEY = {"max_digits": 14, "decimal_places": 2}
PROGRAM_CODE_RE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")


def validate_uscc(value: str) -> None:
    """Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters with a check character."""
    try:
        stdnum_uscc.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("Not a valid unified social credit code (18 characters, GB 32100 check character)."),
            code="invalid_uscc",
        ) from exc


class FundSource(TrackedModel):
    """Where the money comes from (资金来源), e.g. 就业补助资金."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=255)
    part_of = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="parts",
        help_text=_("The fund this one is a use of (e.g. unemployment insurance benefits -> the fund)."),
    )
    note = models.TextField(_("note"), blank=True)

    region_lookup: ClassVar[str] = ""

    class Meta:
        verbose_name = _("fund source")
        verbose_name_plural = _("fund sources")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class ProgramQuerySet(TrackedQuerySet):
    def applicable_to(self, path: str) -> ProgramQuerySet:
        """Programs that apply at a region (issued by it or by an ancestor)."""
        codes = [code for code in path.split(PATH_SEPARATOR) if code]
        return self.filter(region__code__in=codes)


class Program(TrackedModel):
    """A subsidy program (政策项目): its rule, the fund it is paid from and its budget."""

    code = models.CharField(
        _("code"), max_length=64, unique=True, help_text=_("UPPER_SNAKE, prefixed with the region.")
    )
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=255)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("issuing region"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The program applies to this region's whole subtree."),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ProgramKind.choices)
    payee_kind = models.CharField(_("payee kind"), max_length=16, choices=PayeeKind.choices)
    fund_source = models.ForeignKey(
        FundSource,
        verbose_name=_("fund source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="programs",
    )
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices)
    standard_amount = models.DecimalField(
        _("standard amount per unit"), **MONEY, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    min_amount = models.DecimalField(
        _("minimum per unit"), **MONEY, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    max_amount = models.DecimalField(
        _("maximum per unit"), **MONEY, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    max_units = models.PositiveIntegerField(
        _("maximum units per payee"), null=True, blank=True, help_text=_("E.g. 6 months of 以工代训.")
    )
    once_per_person = models.BooleanField(_("once per person"), default=False)
    eligible_groups = models.JSONField(
        _("eligible beneficiary groups"),
        default=list,
        blank=True,
        help_text=_("Codes of beneficiary groups; empty means anyone."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    application_deadline = models.DateField(_("application deadline"), null=True, blank=True)
    payment_deadline = models.DateField(_("payment deadline"), null=True, blank=True)
    annual_budget = models.DecimalField(
        _("annual budget"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Empty means no budget cap."),
    )
    uplifts = models.JSONField(
        _("uplifts by region designation"),
        default=dict,
        blank=True,
        help_text=_(
            'Designation code -> percent the per-unit amount may rise by, e.g. {"national_key_county": "20"}.'
        ),
    )
    mutually_exclusive_with = models.JSONField(
        _("mutually exclusive with"),
        default=list,
        blank=True,
        help_text=_("Codes of programs that may not pay the same person for the same period."),
    )
    employer_sizes = models.JSONField(
        _("employer sizes"),
        default=list,
        blank=True,
        help_text=_("Sizes of employer the program pays (micro, small, medium, large); empty means any."),
    )
    employer_industries = models.JSONField(
        _("employer industries"),
        default=list,
        blank=True,
        help_text=_("Industries of employer the program pays; empty means any."),
    )
    required_employment_statuses = models.JSONField(
        _("required employment statuses"),
        default=list,
        blank=True,
        help_text=_(
            "The person's employment status on the period's first day must be one of these "
            "(e.g. employed_outside_province); empty means any."
        ),
    )
    excludes_prior_work_for_training = models.BooleanField(
        _("excludes people who already had work-for-training"),
        default=False,
        help_text=_(
            "Refuse a person who already has a live payment of another work-for-training program "
            "(已享受过以工代训职业培训补贴政策人员除外)."
        ),
    )
    min_contract_months = models.PositiveSmallIntegerField(
        _("minimum months of labour contract performed"),
        null=True,
        blank=True,
        help_text=_(
            "The payment needs a labour contract actually performed for at least this many months "
            "(e.g. 6); empty means no such condition."
        ),
    )
    rural_posts_exclude_urban_insured = models.BooleanField(
        _("rural posts exclude people with urban employee social insurance"),
        default=False,
        help_text=_(
            "A public-welfare post program whose rural posts are only for people not covered by urban "
            "employee social insurance (Fujian: 未参加城镇职工社会保险的，可享受岗位补贴)."
        ),
    )
    policy_reference = models.CharField(_("policy reference"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    assumption = models.TextField(
        _("assumption"), blank=True, help_text=_("Which values are assumed rather than in the document.")
    )

    objects = ProgramQuerySet.as_manager()
    # A program issued by a region applies to its whole subtree, so a user also sees the programs
    # issued by their region's ancestors (the province's, the country's); they write only their own.
    scope_includes_ancestors: ClassVar[bool] = True

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True)
                | Q(max_amount__isnull=True)
                | Q(min_amount__lte=models.F("max_amount")),
                name="program_min_le_max",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_from__lte=models.F("valid_to")),
                name="program_valid_range",
            ),
            models.CheckConstraint(
                condition=Q(annual_budget__isnull=True) | Q(annual_budget__gte=0),
                name="program_budget_nonneg",
            ),
        ]
        indexes = [models.Index(fields=["region", "kind"], name="program_region_kind_idx")]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"

    def clean(self) -> None:
        from beneficiaries.models import BeneficiaryGroup
        from tracker.regions.models import Designation

        errors: dict[str, list[Any]] = {}
        if not PROGRAM_CODE_RE.fullmatch(self.code or ""):
            errors.setdefault("code", []).append(
                _("Use UPPER_SNAKE: capital letters, digits and underscores.")
            )
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            errors.setdefault("min_amount", []).append(_("The minimum is above the maximum."))
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            errors.setdefault("valid_to", []).append(_("The validity ends before it starts."))
        for name in ("application_deadline", "payment_deadline"):
            value = getattr(self, name)
            if value and self.valid_from and value < self.valid_from:
                errors.setdefault(name, []).append(_("The deadline is before the program starts."))
        if self.unit == Unit.ONE_OFF and self.max_units not in (None, 1):
            errors.setdefault("max_units", []).append(_("A one-off program pays one unit."))

        groups = self.eligible_groups
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            errors.setdefault("eligible_groups", []).append(_("A list of beneficiary group codes."))
        else:
            known = set(BeneficiaryGroup.objects.filter(code__in=groups).values_list("code", flat=True))
            unknown = sorted(set(groups) - known)
            if unknown:
                errors.setdefault("eligible_groups", []).append(
                    _("Unknown beneficiary group codes: %(codes)s") % {"codes": ", ".join(unknown)}
                )

        uplifts = self.uplifts
        if not isinstance(uplifts, dict):
            errors.setdefault("uplifts", []).append(_("A mapping of designation code to percent."))
        else:
            known = set(Designation.objects.filter(code__in=list(uplifts)).values_list("code", flat=True))
            normalised: dict[str, str] = {}
            for code, percent in uplifts.items():
                if code not in known:
                    errors.setdefault("uplifts", []).append(
                        _("Unknown designation code: %(code)s") % {"code": code}
                    )
                    continue
                value = _percent(percent)
                if value is None or not (0 <= value <= 100):
                    errors.setdefault("uplifts", []).append(
                        _(
                            "The uplift for %(code)s must be a percent between 0 and 100 with at most 2 decimals."
                        )
                        % {"code": code}
                    )
                    continue
                normalised[code] = format(value.normalize(), "f")
            if "uplifts" not in errors:
                # Stored as decimal strings, so no binary float ever enters the money arithmetic
                # (a JSON number typed in the admin or passed by a script becomes "20.5").
                self.uplifts = normalised

        exclusive = self.mutually_exclusive_with
        if not isinstance(exclusive, list) or not all(isinstance(c, str) for c in exclusive):
            errors.setdefault("mutually_exclusive_with", []).append(_("A list of program codes."))
        elif exclusive:
            if self.code in exclusive:
                errors.setdefault("mutually_exclusive_with", []).append(_("A program cannot exclude itself."))
            known = set(Program.objects.filter(code__in=exclusive).values_list("code", flat=True))
            unknown = sorted(set(exclusive) - known - {self.code})
            if unknown:
                errors.setdefault("mutually_exclusive_with", []).append(
                    _("Unknown program codes: %(codes)s") % {"codes": ", ".join(unknown)}
                )
        _check_codes(self, "employer_sizes", EmployerSize.values, errors)
        _check_codes(self, "employer_industries", Industry.values, errors)
        if (self.employer_sizes or self.employer_industries) and self.payee_kind != PayeeKind.EMPLOYER:
            errors.setdefault("employer_sizes", []).append(
                _("Only a program that pays employers can name the employers' sizes or industries.")
            )
        _check_codes(self, "required_employment_statuses", EmploymentStatus.values, errors)
        if self.excludes_prior_work_for_training and self.kind != ProgramKind.WORK_FOR_TRAINING:
            errors.setdefault("excludes_prior_work_for_training", []).append(
                _("Only a work-for-training program excludes people who already had work-for-training.")
            )
        if self.rural_posts_exclude_urban_insured and self.kind != ProgramKind.PUBLIC_WELFARE_POST:
            errors.setdefault("rural_posts_exclude_urban_insured", []).append(
                _("Only a public-welfare post program has rural posts.")
            )
        if self.min_contract_months is not None and not (1 <= self.min_contract_months <= 120):
            errors.setdefault("min_contract_months", []).append(_("Between 1 and 120 months."))
        if errors:
            raise ValidationError(errors)

    def uplift_percent(self, designations: set[str]) -> decimal.Decimal:
        """The highest uplift among the designations (uplifts do not stack; see designations.yaml)."""
        best = decimal.Decimal(0)
        for code in designations:
            if code in (self.uplifts or {}):
                best = max(best, decimal.Decimal(str(self.uplifts[code])))
        return best


def _check_codes(program: Program, name: str, allowed: list[str], errors: dict[str, list[Any]]) -> None:
    """A JSON list field of codes: a list of distinct strings, each one of `allowed`."""
    value = getattr(program, name)
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        errors.setdefault(name, []).append(_("A list of codes."))
        return
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        errors.setdefault(name, []).append(_("Unknown codes: %(codes)s") % {"codes": ", ".join(unknown)})
    elif len(set(value)) != len(value):
        errors.setdefault(name, []).append(_("Each code may appear once."))


def _percent(value: Any) -> decimal.Decimal | None:
    """A percent as a finite Decimal with at most 2 decimals, from a string or a JSON number (not a
    boolean); None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, decimal.Decimal)):
        return None
    try:
        number = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        return None
    if not number.is_finite() or number.as_tuple().exponent < -2:
        return None
    return number


class Employer(TrackedModel):
    """An employer (用人单位/企业): pays wages, receives employer-side subsidies."""

    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    size = models.CharField(_("size"), max_length=16, choices=EmployerSize.choices)
    industry = models.CharField(_("industry"), max_length=100, choices=Industry.choices, blank=True)

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        ordering = ["-id"]
        indexes = [models.Index(fields=["name"], name="employer_name_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"

    def clean(self) -> None:
        if self.uscc:
            self.uscc = stdnum_uscc.compact(self.uscc)


class TrainingInstitution(TrackedModel):
    """A training institution (培训机构): training vouchers are redeemed by paying it."""

    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    # The school-running licence (民办学校办学许可证 or the HR bureau's training licence) number, as
    # printed on it; blank for an institution that needs none (e.g. a public vocational school).
    licence = models.CharField(_("training licence number"), max_length=64, blank=True)
    # Changed only by training_institution_suspend / _reinstate (never by a form): a suspended
    # institution takes no new voucher enrolments and no redemptions (programs/vouchers).
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=InstitutionStatus.choices,
        default=InstitutionStatus.ACTIVE,
        editable=False,
    )

    class Meta:
        verbose_name = _("training institution")
        verbose_name_plural = _("training institutions")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"

    def clean(self) -> None:
        if self.uscc:
            self.uscc = stdnum_uscc.compact(self.uscc)


def _live_once(extra: Q) -> Q:
    """Condition of the once-per-person indexes: live payments of once-per-person programs."""
    return Q(once_per_person=True, status__in=LIVE_STATUSES) & extra


def _acting_user(verbose_name: Any) -> models.ForeignKey:
    """Who performed a step of a payment's lifecycle (empty until the step happens)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )


class Payment(TrackedModel):
    """One entry of the subsidy ledger.

    The payee is a person (`beneficiary`), an employer or a training institution, as the program says.
    For an organisation payee, `beneficiary` optionally names the person the payment is for (the
    trainee of a 以工代训 month, a voucher's holder): the per-person rules (eligibility, once per
    person, maximum units, overlapping periods) then apply to that person.

    A paid payment is never edited or deleted; it is reversed by a linked negative entry.
    """

    program = models.ForeignKey(
        Program, verbose_name=_("program"), on_delete=models.PROTECT, related_name="payments"
    )
    payee_kind = models.CharField(_("payee kind"), max_length=16, choices=PayeeKind.choices)
    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary",
        verbose_name=_("beneficiary"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    employer = models.ForeignKey(
        Employer,
        verbose_name=_("employer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    institution = models.ForeignKey(
        TrainingInstitution,
        verbose_name=_("training institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    # The payee's region, copied by the service; and its path, kept by every save, so a county's page
    # goes straight to its rows through the (region_path, id) index (tracker.scope).
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = models.CharField(_("region path"), max_length=255, editable=False, default="")
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    # Entered by the clerk (the day the bureau received the application, 受理日期); the service
    # fills in the day of entry when none is given. Empty only on payments entered before the field
    # existed, for which the rules read the day of entry (created_at) instead.
    application_date = models.DateField(
        _("application date"),
        null=True,
        blank=True,
        help_text=_("The day the application was received; the day of entry when not given."),
    )
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    unit_amount = models.DecimalField(_("unit amount"), **MONEY)
    amount = models.DecimalField(_("amount"), **MONEY)
    fund_source = models.ForeignKey(
        FundSource,
        verbose_name=_("fund source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.DRAFT
    )
    # Copied from the program so the database can enforce once-per-person (a partial unique index).
    once_per_person = models.BooleanField(_("once per person"), default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = _acting_user(_("submitted by"))
    approved_by = _acting_user(_("approved or rejected by"))
    paid_by = _acting_user(_("marked paid by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved or rejected at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    # The labour contract a payment depends on (Gansu's labour-transfer reward: signed and actually
    # performed for 6 months or more), entered by the clerk from the contract and the wage records.
    contract_start = models.DateField(_("labour contract start"), null=True, blank=True)
    contract_performed_to = models.DateField(
        _("labour contract performed to"),
        null=True,
        blank=True,
        help_text=_("The last day up to which the labour contract has actually been performed."),
    )
    external_reference = models.CharField(_("external payment reference"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    # The record that caused the payment (a post assignment, a voucher...): a content type and id,
    # or for records without a model here a label and id. `cause_label` is always filled.
    cause_content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("cause type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cause_object_id = models.CharField(_("cause id"), max_length=64, blank=True)
    cause_label = models.CharField(_("cause"), max_length=100, blank=True)
    cause = GenericForeignKey("cause_content_type", "cause_object_id")
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-id"]
        constraints = [
            # Exactly the payee the kind names; `beneficiary` may accompany an organisation payee as
            # the person the payment is for.
            models.CheckConstraint(
                condition=(
                    Q(
                        payee_kind=PayeeKind.PERSON,
                        beneficiary__isnull=False,
                        employer__isnull=True,
                        institution__isnull=True,
                    )
                    | Q(payee_kind=PayeeKind.EMPLOYER, employer__isnull=False, institution__isnull=True)
                    | Q(payee_kind=PayeeKind.INSTITUTION, institution__isnull=False, employer__isnull=True)
                ),
                name="payment_payee_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")), name="payment_period_range"
            ),
            models.CheckConstraint(
                condition=Q(contract_start__isnull=True)
                | Q(contract_performed_to__isnull=True)
                | Q(contract_start__lte=models.F("contract_performed_to")),
                name="payment_contract_range",
            ),
            # A reversing entry is negative and linked; every other entry is positive and unlinked.
            models.CheckConstraint(
                condition=(
                    Q(status=PaymentStatus.REVERSAL, reverses__isnull=False, amount__lt=0, quantity__lt=0)
                    | (
                        ~Q(status=PaymentStatus.REVERSAL)
                        & Q(reverses__isnull=True, amount__gt=0, quantity__gt=0, unit_amount__gt=0)
                    )
                ),
                name="payment_sign_matches_kind",
            ),
            # Once per person, backed by the database: at most one live payment per program and person
            # (or, without a person, per organisation payee).
            models.UniqueConstraint(
                fields=["program", "beneficiary"],
                condition=_live_once(Q(beneficiary__isnull=False)),
                name="payment_once_per_person",
            ),
            models.UniqueConstraint(
                fields=["program", "employer"],
                condition=_live_once(Q(beneficiary__isnull=True, employer__isnull=False)),
                name="payment_once_per_employer",
            ),
            models.UniqueConstraint(
                fields=["program", "institution"],
                condition=_live_once(Q(beneficiary__isnull=True, institution__isnull=False)),
                name="payment_once_per_institution",
            ),
        ]
        indexes = [
            models.Index(
                fields=["region_path", "id"],
                name="payment_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["program", "status"], name="payment_program_status_idx"),
            models.Index(fields=["program", "beneficiary", "period_start"], name="payment_prog_benef_idx"),
            models.Index(fields=["program", "employer", "period_start"], name="payment_prog_employer_idx"),
            models.Index(fields=["status", "period_start"], name="payment_status_period_idx"),
            models.Index(fields=["cause_label", "cause_object_id"], name="payment_cause_idx"),
        ]

    def __str__(self) -> str:
        """What a clerk calls a payment: program, payee, period and status, e.g.
        `萍乡市公益性岗位补贴 · 周示例 · 2021-05 · 已批准` (select the program and payees with it)."""
        if self.program_id is None:
            return str(_("New payment"))
        payee = self.payee
        payee_name = getattr(payee, "name", None) or "—"
        return " · ".join(
            (self.program.name_zh, payee_name, self.period_label(), str(self.get_status_display()))
        )

    def period_label(self) -> str:
        """`2021-05` for a calendar month, `2021-05-03–2021-05-20` otherwise."""
        start, end = self.period_start, self.period_end
        if start is None or end is None:
            return ""
        next_day = end + dt.timedelta(days=1)
        if start.day == 1 and next_day.day == 1 and (start.year, start.month) == (end.year, end.month):
            return f"{start:%Y-%m}"
        return f"{start.isoformat()}–{end.isoformat()}"

    def change_label(self) -> str:
        return f"payment #{self.pk} {self.amount} {self.status}"[:255]

    @property
    def payee(self) -> Any:
        if self.payee_kind == PayeeKind.EMPLOYER:
            return self.employer
        if self.payee_kind == PayeeKind.INSTITUTION:
            return self.institution
        return self.beneficiary

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.period_start and self.period_end and self.period_start > self.period_end:
            errors.setdefault("period_end", []).append(_("The period ends before it starts."))
        if (
            self.contract_start
            and self.contract_performed_to
            and self.contract_start > self.contract_performed_to
        ):
            errors.setdefault("contract_performed_to", []).append(
                _("The contract cannot have been performed to a day before it started.")
            )
        if errors:
            raise ValidationError(errors)


class Allocation(TrackedModel):
    """Money a fund allocates to a region's program (资金拨付), kept apart from payments: an
    allocation is what a program may spend, a payment is what it spent. A program's budget for a
    year is the sum of its allocations in that year (services.allocation_create keeps
    `Program.annual_budget` equal to it, so the ledger's BUDGET_EXCEEDED rule reads allocations)."""

    fund_source = models.ForeignKey(
        FundSource, verbose_name=_("fund source"), on_delete=models.PROTECT, related_name="allocations"
    )
    program = models.ForeignKey(
        Program, verbose_name=_("program"), on_delete=models.PROTECT, related_name="allocations"
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The region receiving the money: the program's region or one below it."),
    )
    amount = models.DecimalField(
        _("amount"), **MONEY, validators=[MinValueValidator(decimal.Decimal("0.01"))]
    )
    allocated_on = models.DateField(_("allocated on"))
    reference = models.CharField(_("document reference"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["-allocated_on", "-id"]
        indexes = [models.Index(fields=["program", "allocated_on"], name="allocation_program_date_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} {self.allocated_on} {self.amount}"

    def change_label(self) -> str:
        return f"{self.program_id} {self.allocated_on} {self.amount}"
