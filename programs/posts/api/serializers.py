"""Shapes of the posts API. Money is a string with 2 decimals; regions and programs are given and shown
by their codes; people by id, name and masked identity number; payee accounts only masked."""

from __future__ import annotations

import decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from beneficiaries.choices import EmploymentStatus
from beneficiaries.models import Beneficiary
from programs.funding.api.serializers import (
    BeneficiaryBriefSerializer,
    ScopedPrimaryKeyRelatedField,
    ScopedSlugRelatedField,
)
from programs.funding.models import Employer, Program
from programs.posts.choices import (
    AssessmentPeriodKind,
    AttendanceSource,
    ContractKind,
    EmployingUnit,
    EndReason,
    PayeeAccountKind,
    PostCategory,
    Rating,
    UrbanRural,
)
from programs.posts.models import (
    Assessment,
    AssessmentStandard,
    Assignment,
    Attendance,
    PersonnelChange,
    Post,
    PostStandard,
    SubsidyRun,
)
from programs.posts.selectors import filled_for_posts, filled_today_annotation
from tracker.api.reads import ReadColumn
from tracker.api.regions import RegionCodeField
from tracker.api.serializers import TrackerModelSerializer, TrackerSerializer

MONEY = {"max_digits": 14, "decimal_places": 2}
CENT = decimal.Decimal("0.01")


# -- county standards ------------------------------------------------------------------------------


class PostStandardSerializer(TrackerModelSerializer):
    region = RegionCodeField()
    region_name = serializers.CharField(source="region.name_zh", read_only=True)
    urban_standard = serializers.DecimalField(**MONEY, min_value=CENT)
    rural_cap = serializers.DecimalField(**MONEY, min_value=CENT, required=False, allow_null=True)

    class Meta:
        model = PostStandard
        fields = [
            "id",
            "region",
            "region_name",
            "year",
            "urban_standard",
            "rural_cap",
            "policy_reference",
            "notes",
            "version",
        ]
        read_only_fields = ["id", "version"]
        # One county and year once: the database refuses a second (one message, one place).
        validators: list[Any] = []


class PostStandardUpdateSerializer(TrackerSerializer):
    urban_standard = serializers.DecimalField(**MONEY, min_value=CENT, required=False)
    rural_cap = serializers.DecimalField(**MONEY, min_value=CENT, required=False, allow_null=True)
    policy_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)


# -- posts -----------------------------------------------------------------------------------------


class EmployerBriefSerializer(TrackerModelSerializer):
    class Meta:
        model = Employer
        fields = ["id", "name", "uscc"]


class PostSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name_zh", read_only=True)
    employer = EmployerBriefSerializer(read_only=True, allow_null=True)
    program = serializers.SlugRelatedField(slug_field="code", read_only=True)
    filled = serializers.SerializerMethodField(help_text=_("Positions held today."))

    class Meta:
        model = Post
        fields = [
            "id",
            "region",
            "region_name",
            "employing_unit",
            "employer",
            "category",
            "urban_rural",
            "title",
            "duties",
            "headcount",
            "filled",
            "monthly_standard",
            "program",
            "opened_on",
            "closed_on",
            "status",
            "justification",
            "version",
        ]
        read_only_fields = fields

    read_filled = ReadColumn(
        ("filled_today",), lambda row: row["filled_today"], annotate=filled_today_annotation
    )

    def get_filled(self, obj: Post) -> int:
        return filled_for_posts([obj.pk]).get(obj.pk, 0)


class PostWriteSerializer(TrackerSerializer):
    """A new post, or the fields of a post to correct (PATCH)."""

    region = RegionCodeField(help_text=_("Region code, down to the village."))
    employing_unit = serializers.ChoiceField(choices=EmployingUnit.choices)
    employer = ScopedPrimaryKeyRelatedField(queryset=Employer.objects.all(), required=False, allow_null=True)
    category = serializers.ChoiceField(choices=PostCategory.choices)
    urban_rural = serializers.ChoiceField(choices=UrbanRural.choices)
    title = serializers.CharField(max_length=200)
    duties = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    headcount = serializers.IntegerField(min_value=1, max_value=100_000)
    monthly_standard = serializers.DecimalField(**MONEY, min_value=CENT)
    program = ScopedSlugRelatedField(slug_field="code", queryset=Program.objects.select_related("region"))
    opened_on = serializers.DateField()
    justification = serializers.CharField(max_length=4000)


class CloseSerializer(TrackerSerializer):
    closed_on = serializers.DateField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PostReasonSerializer(TrackerSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# -- holdings --------------------------------------------------------------------------------------


class AssignmentSerializer(TrackerModelSerializer):
    post = serializers.PrimaryKeyRelatedField(read_only=True)
    post_title = serializers.CharField(source="post.title", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    beneficiary = BeneficiaryBriefSerializer(read_only=True)
    payee_account = serializers.CharField(source="payee_account_masked", read_only=True)
    # Blank until the holding ends / a contract or account is recorded: declared so the schema says so.
    end_reason = serializers.ChoiceField(choices=EndReason.choices, allow_blank=True, read_only=True)
    contract_kind = serializers.ChoiceField(choices=ContractKind.choices, allow_blank=True, read_only=True)
    payee_account_kind = serializers.ChoiceField(
        choices=PayeeAccountKind.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Assignment
        fields = [
            "id",
            "post",
            "post_title",
            "region",
            "beneficiary",
            "start_date",
            "end_date",
            "end_reason",
            "contract_kind",
            "contract_number",
            "contract_signed_on",
            "contract_from",
            "contract_to",
            "urban_employee_insured",
            "payee_account_kind",
            "payee_account",
            "version",
        ]
        read_only_fields = fields


class HoldingFieldsSerializer(TrackerSerializer):
    """The contract, insurance and payee account of a holding (all optional)."""

    contract_kind = serializers.ChoiceField(choices=ContractKind.choices, required=False, allow_blank=True)
    contract_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    contract_signed_on = serializers.DateField(required=False, allow_null=True)
    contract_from = serializers.DateField(required=False, allow_null=True)
    contract_to = serializers.DateField(required=False, allow_null=True)
    urban_employee_insured = serializers.BooleanField(required=False)
    payee_account_kind = serializers.ChoiceField(
        choices=PayeeAccountKind.choices, required=False, allow_blank=True
    )
    payee_account = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text=_("The holder's own bank card or social-security-card account number (stored encrypted)."),
    )


class HireSerializer(HoldingFieldsSerializer):
    post = ScopedPrimaryKeyRelatedField(queryset=Post.objects.all())
    beneficiary = ScopedPrimaryKeyRelatedField(queryset=Beneficiary.objects.all())
    start_date = serializers.DateField()
    reported_on = serializers.DateField(
        required=False, help_text=_("Day the hire was reported (default today).")
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EndSerializer(TrackerSerializer):
    end_date = serializers.DateField(help_text=_("The last day in post."))
    end_reason = serializers.ChoiceField(choices=EndReason.choices)
    status = serializers.ChoiceField(
        choices=EmploymentStatus.choices,
        default=EmploymentStatus.UNEMPLOYED,
        help_text=_("The person's employment status from the next day (default unemployed)."),
    )
    reported_on = serializers.DateField(
        required=False, help_text=_("Day the end was reported (default today).")
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReplaceSerializer(EndSerializer, HoldingFieldsSerializer):
    successor = ScopedPrimaryKeyRelatedField(queryset=Beneficiary.objects.all())
    start_date = serializers.DateField(
        required=False, help_text=_("The successor's first day (default the day after the end).")
    )


class ReplacementSerializer(TrackerSerializer):
    ended = AssignmentSerializer()
    successor = AssignmentSerializer()


class PersonnelChangeSerializer(TrackerModelSerializer):
    post = serializers.PrimaryKeyRelatedField(read_only=True)
    post_title = serializers.CharField(source="post.title", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assignment = serializers.PrimaryKeyRelatedField(read_only=True)
    successor = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    beneficiary = BeneficiaryBriefSerializer(source="assignment.beneficiary", read_only=True)
    successor_beneficiary = BeneficiaryBriefSerializer(
        source="successor.beneficiary", read_only=True, allow_null=True
    )
    reported_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = PersonnelChange
        fields = [
            "id",
            "kind",
            "post",
            "post_title",
            "region",
            "assignment",
            "beneficiary",
            "successor",
            "successor_beneficiary",
            "effective_on",
            "reported_on",
            "late",
            "reason",
            "status",
            "reported_by",
            "approved_by",
            "approved_at",
            "version",
        ]
        read_only_fields = fields


# -- attendance and assessments ------------------------------------------------------------------------


class AttendanceSerializer(TrackerModelSerializer):
    assignment = serializers.PrimaryKeyRelatedField(read_only=True)
    post = serializers.PrimaryKeyRelatedField(source="assignment.post", read_only=True)
    beneficiary = BeneficiaryBriefSerializer(source="assignment.beneficiary", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Attendance
        fields = [
            "id",
            "assignment",
            "post",
            "beneficiary",
            "region",
            "month",
            "days_required",
            "days_present",
            "paid_leave_days",
            "source",
            "recorded_by",
            "recorded_at",
            "version",
        ]
        read_only_fields = fields


class AttendanceWriteSerializer(TrackerSerializer):
    assignment = ScopedPrimaryKeyRelatedField(queryset=Assignment.objects.all())
    month = serializers.CharField(max_length=7, help_text=_("YYYY-MM"))
    days_required = serializers.IntegerField(min_value=0, max_value=31)
    days_present = serializers.IntegerField(min_value=0, max_value=31)
    paid_leave_days = serializers.IntegerField(min_value=0, max_value=31, default=0)
    source = serializers.ChoiceField(choices=AttendanceSource.choices, default=AttendanceSource.SIGN_IN_SHEET)


class AttendanceBulkRowSerializer(TrackerSerializer):
    assignment = serializers.IntegerField(min_value=1, max_value=2**62)
    days_required = serializers.IntegerField(min_value=0, max_value=31)
    days_present = serializers.IntegerField(min_value=0, max_value=31)
    paid_leave_days = serializers.IntegerField(min_value=0, max_value=31, default=0)


class AttendanceBulkSerializer(TrackerSerializer):
    month = serializers.CharField(max_length=7, help_text=_("YYYY-MM"))
    source = serializers.ChoiceField(choices=AttendanceSource.choices, default=AttendanceSource.SIGN_IN_SHEET)
    rows = AttendanceBulkRowSerializer(many=True, allow_empty=False, max_length=5000)


class AttendanceBulkResultSerializer(TrackerSerializer):
    month = serializers.CharField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    rows = AttendanceSerializer(many=True)


class AttendanceImportResultSerializer(TrackerSerializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class AssessmentStandardSerializer(TrackerModelSerializer):
    region = RegionCodeField(help_text=_("The village or township (code)."))
    region_name = serializers.CharField(source="region.name_zh", read_only=True)

    class Meta:
        model = AssessmentStandard
        fields = ["id", "region", "region_name", "effective_from", "title", "text", "version"]
        read_only_fields = ["id", "version"]


class AssessmentSerializer(TrackerModelSerializer):
    assignment = serializers.PrimaryKeyRelatedField(read_only=True)
    beneficiary = BeneficiaryBriefSerializer(source="assignment.beneficiary", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    standard = serializers.PrimaryKeyRelatedField(read_only=True)
    standard_title = serializers.CharField(source="standard.title", read_only=True)
    assessor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "assignment",
            "beneficiary",
            "region",
            "period_kind",
            "period",
            "period_start",
            "period_end",
            "rating",
            "standard",
            "standard_title",
            "assessor",
            "notes",
            "version",
        ]
        read_only_fields = fields


class AssessmentWriteSerializer(TrackerSerializer):
    assignment = ScopedPrimaryKeyRelatedField(queryset=Assignment.objects.all())
    period_kind = serializers.ChoiceField(choices=AssessmentPeriodKind.choices)
    period = serializers.CharField(max_length=7, help_text=_("YYYY-MM for a month, YYYY-Qn for a quarter."))
    rating = serializers.ChoiceField(choices=Rating.choices)
    standard = ScopedPrimaryKeyRelatedField(
        queryset=AssessmentStandard.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Default: the standard in force for the post's village or township."),
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# -- subsidy runs ----------------------------------------------------------------------------------


class SubsidyRunSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name_zh", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    dry_run = serializers.SerializerMethodField(help_text=_("A dry run is decided and shown, never stored."))

    class Meta:
        model = SubsidyRun
        fields = [
            "id",
            "region",
            "region_name",
            "month",
            "dry_run",
            "created_by",
            "created_at",
            "considered",
            "paid_count",
            "skipped_count",
            "already_paid_count",
            "total",
            "payments",
            "skipped",
            "version",
        ]
        read_only_fields = fields

    read_dry_run = ReadColumn(("id",), lambda row: False)

    def get_dry_run(self, obj: SubsidyRun) -> bool:
        return obj.pk is None


class SubsidyRunCreateSerializer(TrackerSerializer):
    region = RegionCodeField(help_text=_("The region to pay in (a village up to a province)."))
    month = serializers.CharField(max_length=7, help_text=_("YYYY-MM"))
    dry_run = serializers.BooleanField(default=False, help_text=_("Decide and show the run; write nothing."))
    background = serializers.BooleanField(
        default=False,
        help_text=_("Run as a background job (always so above SUBSIDY_RUN_JOB_THRESHOLD holdings)."),
    )
