"""Inspections (督查), findings and their rectification (整改), complaints (投诉举报), sampled payment
confirmation (回访核实) and compliance check runs.

The inspected unit is the village (facts.yaml `inspection_checklist`: 各村); an inspection's items
are pre-filled from the posts data (programs.posts.selectors.inspection_findings) and confirmed or
overridden by the inspector. Findings come from inspection items, compliance checks, complaints and
payment confirmations and move through FINDING_FLOW (services.py).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from programs.inspections.choices import (
    UNRESOLVED_STATUSES,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    Concerns,
    ConfirmationMethod,
    FindingSource,
    FindingStatus,
    InspectionStatus,
    ItemCode,
    ItemLevel,
    ItemResult,
    Received,
    Severity,
)
from tracker.changelog.models import TrackedModel

MONEY = {"max_digits": 14, "decimal_places": 2}


def _scope_index(name: str) -> models.Index:
    return models.Index(
        fields=["region_path", "id"], name=name, opclasses=["varchar_pattern_ops", "int8_ops"]
    )


def _region_path_field() -> models.CharField:
    return models.CharField(_("region path"), max_length=255, editable=False, default="")


def _user(verbose_name: str, *, null: bool = True) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=null,
        blank=null,
        on_delete=models.PROTECT,
        related_name="+",
    )


class Inspection(TrackedModel):
    """An inspection of a region's public-welfare posts, village by village: who inspected, how
    (查阅资料、面对面交流…), which villages or posts, the months of records reviewed, its status and
    summary."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    title = models.CharField(_("title"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    first_month = models.CharField(_("records from (month)"), max_length=7)
    last_month = models.CharField(_("records to (month)"), max_length=7)
    inspectors = models.JSONField(_("inspectors"), default=list, help_text=_("Usernames of inspectors."))
    methods = models.JSONField(_("methods"), default=list)
    villages = models.JSONField(
        _("villages"), default=list, blank=True, help_text=_("Codes of the villages in scope; empty: all.")
    )
    posts = models.JSONField(
        _("posts"), default=list, blank=True, help_text=_("Ids of chosen posts; empty: every post.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=InspectionStatus.choices, default=InspectionStatus.PLANNED
    )
    summary = models.TextField(_("summary"), blank=True)
    created_by = _user(_("created by"), null=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    closed_by = _user(_("closed by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-id"]
        indexes = [_scope_index("inspection_scope_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="inspection_dates",
            ),
            models.CheckConstraint(
                condition=Q(last_month__gte=models.F("first_month")), name="inspection_months"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class InspectionItem(TrackedModel):
    """One item of an inspection in one village: a checklist item for a post or holder, a village-level
    item, or a holder's on-duty check. `prefilled` and `evidence` are what the data said; `result` and
    `note` are the inspector's (confirming or overriding it)."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.PROTECT, related_name="items"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    code = models.CharField(_("item"), max_length=32, choices=ItemCode.choices)
    level = models.CharField(_("level"), max_length=8, choices=ItemLevel.choices)
    post = models.ForeignKey(
        "posts.Post",
        verbose_name=_("post"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignment = models.ForeignKey(
        "posts.Assignment",
        verbose_name=_("holding"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    prefilled = models.CharField(_("pre-filled result"), max_length=16, choices=ItemResult.choices)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    result = models.CharField(
        _("result"), max_length=16, choices=ItemResult.choices, default=ItemResult.PENDING
    )
    note = models.TextField(_("inspector's note"), blank=True)
    present = models.BooleanField(_("present at work when visited"), null=True, blank=True)
    interviewed = models.BooleanField(_("interviewed face to face"), null=True, blank=True)
    rectification_opinion = models.TextField(_("rectification opinion (整改意见)"), blank=True)
    answered_by = _user(_("answered by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("inspection item")
        verbose_name_plural = _("inspection items")
        ordering = ["inspection_id", "region_id", "id"]
        indexes = [
            _scope_index("inspectionitem_scope_idx"),
            models.Index(fields=["inspection", "result"], name="inspectionitem_result_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()} #{self.pk}"


class CheckRun(TrackedModel):
    """One run of the compliance checks over a region's subtree and a period: per rule, violations
    seen, findings opened, already open, and findings that no longer reproduce."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    rules = models.JSONField(_("rules"), default=list, blank=True)
    results = models.JSONField(_("results per rule"), default=dict, blank=True)
    violations = models.PositiveIntegerField(_("violations"), default=0)
    opened = models.PositiveIntegerField(_("findings opened"), default=0)
    resolved = models.PositiveIntegerField(_("no longer reproducing"), default=0)
    created_by = _user(_("run by"), null=False)
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("check run")
        verbose_name_plural = _("check runs")
        ordering = ["-id"]
        indexes = [_scope_index("checkrun_scope_idx")]

    def __str__(self) -> str:
        return f"{self.region} {self.period_start}–{self.period_end} #{self.pk}"


class Complaint(TrackedModel):
    """A complaint or tip-off (投诉举报). The complainant's name and phone are personal data: stored
    encrypted, found through a keyed hash and shown only masked (tracker.pii)."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    channel = models.CharField(_("channel"), max_length=16, choices=ComplaintChannel.choices)
    received_on = models.DateField(_("received on"))
    anonymous = models.BooleanField(_("anonymous"), default=False)
    complainant_name_encrypted = models.TextField(_("complainant (encrypted)"), blank=True)
    complainant_name_masked = models.CharField(_("complainant"), max_length=50, blank=True)
    complainant_phone_encrypted = models.TextField(_("complainant's phone (encrypted)"), blank=True)
    complainant_phone_hash = models.CharField(
        _("complainant's phone (keyed hash)"), max_length=64, blank=True, db_index=True
    )
    complainant_phone_masked = models.CharField(_("complainant's phone"), max_length=20, blank=True)
    concerns = models.CharField(_("concerns"), max_length=24, choices=Concerns.choices)
    concerns_id = models.CharField(_("record concerned (id)"), max_length=64, blank=True)
    subject = models.TextField(_("what it is about"))
    category = models.CharField(_("category"), max_length=24, choices=ComplaintCategory.choices)
    assigned_unit = models.CharField(_("assigned unit"), max_length=200, blank=True)
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=16, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    outcome = models.TextField(_("outcome"), blank=True)
    finding = models.ForeignKey(
        "Finding",
        verbose_name=_("finding"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = _user(_("recorded by"), null=False)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset(
        {"region_path", "complainant_name_encrypted", "complainant_phone_encrypted", "complainant_phone_hash"}
    )

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-id"]
        indexes = [_scope_index("complaint_scope_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(anonymous=False)
                | Q(complainant_name_encrypted="", complainant_phone_encrypted=""),
                name="complaint_anonymous_has_no_complainant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.received_on} #{self.pk}"


class ConfirmationSample(TrackedModel):
    """A reproducible random sample of paid payments to people in a region and period (回访核实): the
    seed is stored, so the same population and seed draw the same payments again."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    program = models.ForeignKey(
        "funding.Program",
        verbose_name=_("program"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    seed = models.CharField(_("seed"), max_length=64)
    paid_by = models.DateTimeField(
        _("payments paid by"), help_text=_("The population is the payments paid by this moment.")
    )
    population = models.PositiveIntegerField(_("paid payments in the population"), default=0)
    size = models.PositiveIntegerField(_("sample size"), default=0)
    confirmed = models.PositiveIntegerField(_("confirmations recorded"), default=0)
    reached = models.PositiveIntegerField(_("people reached"), default=0)
    received_in_full = models.PositiveIntegerField(_("confirmed received in full"), default=0)
    discrepancies = models.PositiveIntegerField(_("discrepancies"), default=0)
    created_by = _user(_("drawn by"), null=False)
    created_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("confirmation sample")
        verbose_name_plural = _("confirmation samples")
        ordering = ["-id"]
        indexes = [_scope_index("confirmationsample_scope_idx")]

    def __str__(self) -> str:
        return f"{self.region} {self.period_start}–{self.period_end} #{self.pk}"


class Confirmation(TrackedModel):
    """One sampled payment and what the person said when contacted."""

    sample = models.ForeignKey(
        ConfirmationSample, verbose_name=_("sample"), on_delete=models.PROTECT, related_name="confirmations"
    )
    payment = models.ForeignKey(
        "funding.Payment", verbose_name=_("payment"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    method = models.CharField(_("method"), max_length=8, choices=ConfirmationMethod.choices, blank=True)
    reached = models.BooleanField(_("reached"), null=True, blank=True)
    received = models.CharField(_("received"), max_length=8, choices=Received.choices, blank=True)
    amount_stated = models.DecimalField(_("amount stated"), **MONEY, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    confirmed_by = _user(_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    finding = models.ForeignKey(
        "Finding",
        verbose_name=_("finding"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("payment confirmation")
        verbose_name_plural = _("payment confirmations")
        ordering = ["sample_id", "id"]
        indexes = [_scope_index("confirmation_scope_idx")]
        constraints = [
            models.UniqueConstraint(fields=["sample", "payment"], name="confirmation_once_per_sample"),
            models.CheckConstraint(
                condition=Q(amount_stated__isnull=True) | Q(amount_stated__gte=0),
                name="confirmation_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sample_id}/{self.payment_id}"


class Finding(TrackedModel):
    """A problem found (an inspection item failed, a compliance check's violation, a complaint found
    true, a payment the person did not receive) and its rectification (整改): open → rectifying →
    rectified → verified; waived with a reason; reopened when verification fails; no longer
    reproduces when a later check run stops seeing it (still verified by an inspector)."""

    source = models.CharField(_("source"), max_length=16, choices=FindingSource.choices)
    rule = models.CharField(_("rule"), max_length=64, db_index=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    concerns = models.CharField(_("concerns"), max_length=24, choices=Concerns.choices)
    concerns_id = models.CharField(_("record concerned (id)"), max_length=64, blank=True)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    description = models.TextField(_("description"))
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    rectification_required = models.TextField(_("rectification required (整改意见)"), blank=True)
    responsible_unit = models.CharField(_("responsible unit"), max_length=200, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=24, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    inspection = models.ForeignKey(
        Inspection,
        verbose_name=_("inspection"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    item = models.ForeignKey(
        InspectionItem,
        verbose_name=_("inspection item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    check_run = models.ForeignKey(
        CheckRun,
        verbose_name=_("opened by check run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    last_seen_run = models.ForeignKey(
        CheckRun,
        verbose_name=_("last seen by check run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_by = _user(_("opened by"), null=False)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    rectifying_by = _user(_("rectification started by"))
    rectifying_at = models.DateTimeField(_("rectification started at"), null=True, blank=True)
    rectified_by = _user(_("rectified by"))
    rectified_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    verified_by = _user(_("verified by"))
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    waived_by = _user(_("waived by"))
    waived_at = models.DateTimeField(_("waived at"), null=True, blank=True)
    waive_reason = models.TextField(_("reason for waiving"), blank=True)
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    gone_at = models.DateTimeField(_("no longer reproducing since"), null=True, blank=True)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-id"]
        indexes = [
            _scope_index("finding_scope_idx"),
            models.Index(fields=["rule", "concerns", "concerns_id"], name="finding_rule_record_idx"),
            models.Index(fields=["status", "due_on"], name="finding_status_due_idx"),
        ]
        constraints = [
            # A check run never opens a second unresolved finding for the same rule and record: the
            # run checks first, the database backs it.
            models.UniqueConstraint(
                fields=["rule", "concerns", "concerns_id"],
                condition=Q(source=FindingSource.CHECK, status__in=UNRESOLVED_STATUSES),
                name="finding_one_unresolved_per_rule_record",
            ),
            models.CheckConstraint(
                condition=~Q(status=FindingStatus.WAIVED) | ~Q(waive_reason=""),
                name="finding_waived_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} #{self.pk}"


class FindingStep(TrackedModel):
    """A step of a finding's rectification with its evidence: the verb (or `note`), a note and an
    optional attachment (size and type limited; served only to users who may see the finding)."""

    finding = models.ForeignKey(
        Finding, verbose_name=_("finding"), on_delete=models.PROTECT, related_name="steps"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = _region_path_field()
    verb = models.CharField(_("step"), max_length=24)
    note = models.TextField(_("note"), blank=True)
    # The file's name in the default storage (MEDIA_ROOT, shared by web and worker machines): kept as
    # plain text, so the change log and the row hash read what the database holds.
    attachment = models.CharField(_("attachment (stored as)"), max_length=255, blank=True)
    attachment_name = models.CharField(_("attachment name"), max_length=200, blank=True)
    attachment_type = models.CharField(_("attachment type"), max_length=100, blank=True)
    attachment_size = models.PositiveIntegerField(
        _("attachment size (bytes)"), default=0, validators=[MinValueValidator(0)]
    )
    actor = _user(_("by"), null=False)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    scope_path_field: ClassVar[str] = "region_path"
    changelog_exclude: ClassVar[frozenset[str]] = frozenset({"region_path"})

    class Meta:
        verbose_name = _("finding step")
        verbose_name_plural = _("finding steps")
        ordering = ["finding_id", "id"]
        indexes = [_scope_index("findingstep_scope_idx")]

    def __str__(self) -> str:
        return f"{self.verb} #{self.pk}"
