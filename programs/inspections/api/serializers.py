"""Shapes of the audit API. Regions by code, people only masked (complainants: masked name and phone),
money as strings."""

from __future__ import annotations

import decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from programs.funding.api.serializers import ScopedSlugRelatedField
from programs.funding.models import Program
from programs.inspections import rules
from programs.inspections.choices import (
    ComplaintCategory,
    ComplaintChannel,
    Concerns,
    ConfirmationMethod,
    FindingSource,
    InspectionMethod,
    ItemResult,
    Received,
    Severity,
)
from programs.inspections.models import (
    CheckRun,
    Complaint,
    Confirmation,
    ConfirmationSample,
    Finding,
    FindingStep,
    Inspection,
    InspectionItem,
)
from tracker.api.reads import ReadColumn
from tracker.api.regions import RegionCodeField
from tracker.api.serializers import TrackerModelSerializer, TrackerSerializer

MONEY = {"max_digits": 14, "decimal_places": 2}
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


# -- inspections -----------------------------------------------------------------------------------


class InspectionSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name_zh", read_only=True)
    inspectors = serializers.ListField(child=serializers.CharField(), read_only=True)
    methods = serializers.ListField(
        child=serializers.ChoiceField(choices=InspectionMethod.choices), read_only=True
    )
    villages = serializers.ListField(child=serializers.CharField(), read_only=True)
    posts = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "region",
            "region_name",
            "title",
            "starts_on",
            "ends_on",
            "first_month",
            "last_month",
            "inspectors",
            "methods",
            "villages",
            "posts",
            "status",
            "summary",
            "created_by",
            "started_at",
            "closed_by",
            "closed_at",
            "version",
        ]
        read_only_fields = fields


class InspectionCreateSerializer(TrackerSerializer):
    """A new inspection: region (down to a township or village), the months of records reviewed, the
    inspectors (usernames; default yourself), methods, and optionally the villages or posts in scope.
    Started at once (items pre-filled) unless `start` is false."""

    region = RegionCodeField()
    title = serializers.CharField(max_length=200)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    first_month = serializers.RegexField(MONTH, max_length=7)
    last_month = serializers.RegexField(MONTH, max_length=7)
    inspectors = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, max_length=50, default=list
    )
    methods = serializers.ListField(
        child=serializers.ChoiceField(choices=InspectionMethod.choices), min_length=1, max_length=4
    )
    villages = serializers.ListField(
        child=serializers.CharField(max_length=12), required=False, max_length=1000, default=list
    )
    posts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        default=list,
    )
    summary = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    start = serializers.BooleanField(required=False, default=True)


class InspectionCloseSerializer(TrackerSerializer):
    summary = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)


class InspectionItemSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name_zh", read_only=True)
    post = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    assignment = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    answered_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    evidence = serializers.JSONField(read_only=True)

    class Meta:
        model = InspectionItem
        fields = [
            "id",
            "region",
            "region_name",
            "code",
            "level",
            "post",
            "assignment",
            "prefilled",
            "evidence",
            "result",
            "note",
            "present",
            "interviewed",
            "rectification_opinion",
            "answered_by",
            "answered_at",
            "version",
        ]
        read_only_fields = fields


class ItemAnswerSerializer(TrackerSerializer):
    id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    result = serializers.ChoiceField(
        choices=ItemResult.choices,
        required=False,
        help_text="passed, failed or not_applicable (pending is refused).",
    )
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    present = serializers.BooleanField(required=False, allow_null=True)
    interviewed = serializers.BooleanField(required=False, allow_null=True)
    rectification_opinion = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    due_on = serializers.DateField(required=False)
    responsible_unit = serializers.CharField(max_length=200, required=False, allow_blank=True)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)


class ItemsAnswerSerializer(TrackerSerializer):
    """The inspector's answers: confirm (or override) each item's result with a note; a failed item
    needs its rectification opinion (整改意见)."""

    items = ItemAnswerSerializer(many=True, allow_empty=False, max_length=5000)


# -- findings --------------------------------------------------------------------------------------


class FindingSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name_zh", read_only=True)
    inspection = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    item = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    check_run = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    evidence = serializers.JSONField(read_only=True)
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    rectified_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    verified_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    waived_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "source",
            "rule",
            "severity",
            "concerns",
            "concerns_id",
            "region",
            "region_name",
            "description",
            "evidence",
            "rectification_required",
            "responsible_unit",
            "due_on",
            "status",
            "inspection",
            "item",
            "check_run",
            "opened_by",
            "opened_at",
            "rectified_by",
            "rectified_at",
            "verified_by",
            "verified_at",
            "waived_by",
            "waived_at",
            "waive_reason",
            "gone_at",
            "version",
        ]
        read_only_fields = fields


class FindingCreateSerializer(TrackerSerializer):
    """A finding recorded by an inspector (compliance-check findings are opened by check runs)."""

    source = serializers.ChoiceField(
        choices=[c for c in FindingSource.choices if c[0] != FindingSource.CHECK],
        default=FindingSource.INSPECTION,
    )
    rule = serializers.RegexField(r"^[A-Za-z0-9_]{1,64}$", max_length=64)
    severity = serializers.ChoiceField(choices=Severity.choices)
    concerns = serializers.ChoiceField(choices=Concerns.choices)
    concerns_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    region = RegionCodeField()
    description = serializers.CharField(max_length=4000)
    rectification_required = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )
    responsible_unit = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    due_on = serializers.DateField(required=False)


class FindingNoteSerializer(TrackerSerializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class FindingStepSerializer(TrackerModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    has_attachment = serializers.SerializerMethodField()

    class Meta:
        model = FindingStep
        fields = [
            "id",
            "finding",
            "verb",
            "note",
            "attachment_name",
            "attachment_type",
            "attachment_size",
            "has_attachment",
            "actor",
            "at",
        ]
        read_only_fields = fields

    read_has_attachment = ReadColumn(("attachment",), lambda row: bool(row["attachment"]))

    def get_has_attachment(self, obj: FindingStep) -> bool:
        return bool(obj.attachment)


class FindingStepCreateSerializer(serializers.Serializer):
    """Evidence for a finding (multipart): a note and an optional PDF, JPEG or PNG attachment."""

    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    attachment = serializers.FileField(required=False, allow_empty_file=False)


# -- complaints ------------------------------------------------------------------------------------


class ComplaintSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    complainant_name = serializers.CharField(source="complainant_name_masked", read_only=True)
    complainant_phone = serializers.CharField(source="complainant_phone_masked", read_only=True)
    finding = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "region",
            "channel",
            "received_on",
            "anonymous",
            "complainant_name",
            "complainant_phone",
            "concerns",
            "concerns_id",
            "subject",
            "category",
            "assigned_unit",
            "due_on",
            "status",
            "outcome",
            "finding",
            "created_by",
            "version",
        ]
        read_only_fields = fields


class ComplaintCreateSerializer(TrackerSerializer):
    region = RegionCodeField()
    channel = serializers.ChoiceField(choices=ComplaintChannel.choices)
    received_on = serializers.DateField()
    anonymous = serializers.BooleanField(required=False, default=False)
    complainant_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    complainant_phone = serializers.RegexField(
        r"^[0-9+\- ]{0,20}$", max_length=20, required=False, allow_blank=True, default=""
    )
    concerns = serializers.ChoiceField(choices=Concerns.choices)
    concerns_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    subject = serializers.CharField(max_length=4000)
    category = serializers.ChoiceField(choices=ComplaintCategory.choices)
    assigned_unit = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    due_on = serializers.DateField(required=False)


class ComplaintMoveSerializer(TrackerSerializer):
    outcome = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class ComplaintResolveSerializer(ComplaintMoveSerializer):
    open_finding = serializers.BooleanField(required=False, default=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, default=Severity.MEDIUM)
    rectification_required = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )


# -- confirmation samples --------------------------------------------------------------------------


def _rate_field(help_text: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=6, decimal_places=4, read_only=True, allow_null=True, help_text=help_text
    )


def _rate_column(numerator: str, denominator: str) -> ReadColumn:
    def value(row: dict[str, Any]) -> str | None:
        found = rules.rate(row[numerator], row[denominator])
        return None if found is None else f"{found:.4f}"

    return ReadColumn((numerator, denominator), value)


class ConfirmationSampleSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    program = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reach_rate = serializers.SerializerMethodField(help_text=_("People reached of the sample."))
    confirmation_rate = serializers.SerializerMethodField(
        help_text=_("Confirmed received in full of the sample.")
    )
    discrepancy_rate = serializers.SerializerMethodField(help_text=_("Discrepancies of the people reached."))

    class Meta:
        model = ConfirmationSample
        fields = [
            "id",
            "region",
            "period_start",
            "period_end",
            "program",
            "seed",
            "paid_by",
            "population",
            "size",
            "confirmed",
            "reached",
            "received_in_full",
            "discrepancies",
            "reach_rate",
            "confirmation_rate",
            "discrepancy_rate",
            "created_by",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    read_reach_rate = _rate_column("reached", "size")
    read_confirmation_rate = _rate_column("received_in_full", "size")
    read_discrepancy_rate = _rate_column("discrepancies", "reached")

    def _rate(self, numerator: int, denominator: int) -> str | None:
        found = rules.rate(numerator, denominator)
        return None if found is None else f"{found:.4f}"

    def get_reach_rate(self, obj: ConfirmationSample) -> str | None:
        return self._rate(obj.reached, obj.size)

    def get_confirmation_rate(self, obj: ConfirmationSample) -> str | None:
        return self._rate(obj.received_in_full, obj.size)

    def get_discrepancy_rate(self, obj: ConfirmationSample) -> str | None:
        return self._rate(obj.discrepancies, obj.reached)


class ConfirmationSampleCreateSerializer(TrackerSerializer):
    """Draw a sample: region, period, optional program, and a size or a rate (0 < rate ≤ 1); give a
    seed to reproduce a draw, else one is chosen and stored."""

    region = RegionCodeField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    program = ScopedSlugRelatedField(
        slug_field="code", queryset=Program.objects.all(), required=False, allow_null=True, default=None
    )
    size = serializers.IntegerField(
        min_value=1, max_value=10_000, required=False, allow_null=True, default=None
    )
    rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=decimal.Decimal("0.0001"),
        max_value=decimal.Decimal("1"),
        required=False,
        allow_null=True,
        default=None,
    )
    seed = serializers.RegexField(r"^[A-Za-z0-9_-]{1,64}$", max_length=64, required=False, default="")


class ConfirmationSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    payment = serializers.PrimaryKeyRelatedField(read_only=True)
    amount = serializers.DecimalField(source="payment.amount", **MONEY, read_only=True)
    beneficiary = serializers.PrimaryKeyRelatedField(source="payment.beneficiary", read_only=True)
    amount_stated = serializers.DecimalField(**MONEY, read_only=True, allow_null=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    finding = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    method = serializers.ChoiceField(choices=ConfirmationMethod.choices, allow_blank=True, read_only=True)
    received = serializers.ChoiceField(choices=Received.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Confirmation
        fields = [
            "id",
            "sample",
            "payment",
            "beneficiary",
            "amount",
            "region",
            "method",
            "reached",
            "received",
            "amount_stated",
            "note",
            "confirmed_by",
            "confirmed_at",
            "finding",
            "version",
        ]
        read_only_fields = fields


class ConfirmationRecordSerializer(TrackerSerializer):
    """What the person said when contacted."""

    method = serializers.ChoiceField(choices=ConfirmationMethod.choices)
    reached = serializers.BooleanField()
    received = serializers.ChoiceField(choices=Received.choices, required=False)
    amount_stated = serializers.DecimalField(
        **MONEY, min_value=decimal.Decimal("0"), required=False, allow_null=True
    )
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)


# -- checks ----------------------------------------------------------------------------------------


class CheckRuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    description_zh = serializers.CharField()
    description_en = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    concerns = serializers.ChoiceField(choices=Concerns.choices)
    app = serializers.CharField()


class CheckRunSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    rules = serializers.ListField(child=serializers.CharField(), read_only=True)
    results = serializers.JSONField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CheckRun
        fields = [
            "id",
            "region",
            "period_start",
            "period_end",
            "rules",
            "results",
            "violations",
            "opened",
            "resolved",
            "created_by",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class CheckRunCreateSerializer(TrackerSerializer):
    """Run the compliance checks over a region's subtree and a period (all rules, or those named);
    `background` runs it as a job (202), as a region above CHECK_RUN_JOB_LEVELS always does."""

    region = RegionCodeField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    rules = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=100, default=list
    )
    background = serializers.BooleanField(required=False, default=False)
