"""Shapes of the voucher API. Money is a string with 2 decimals, coordinates decimal strings in
degrees; regions, programs and types are given and shown by their codes, vouchers by their code."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from beneficiaries.models import Beneficiary
from programs.funding.api.serializers import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from programs.funding.models import Employer, Program, TrainingInstitution
from programs.vouchers import selectors
from programs.vouchers.choices import ClaimChannel, Datum, SkillLevel
from programs.vouchers.codes import format_code
from programs.vouchers.models import (
    Certificate,
    CheckIn,
    Course,
    CourseSession,
    Voucher,
    VoucherPlan,
    VoucherType,
    WorkerTrainingProfile,
)
from programs.vouchers.services import COURSE_FIELDS, VOUCHER_PLAN_FIELDS, VOUCHER_TYPE_FIELDS
from tracker.api.reads import PageColumn, ReadColumn
from tracker.api.regions import RegionCodeField
from tracker.api.serializers import TrackerModelSerializer, TrackerSerializer

MONEY = {"max_digits": 14, "decimal_places": 2}


class VoucherTypeSerializer(TrackerModelSerializer):
    region = RegionCodeField()
    program = ScopedSlugRelatedField(
        slug_field="code", queryset=Program.objects.select_related("region"), required=False, allow_null=True
    )
    eligible_groups = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=100
    )
    occupations = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, max_length=500
    )
    face_value = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    face_value_cap = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    min_ui_contribution_months = serializers.IntegerField(
        min_value=1, max_value=600, required=False, allow_null=True
    )

    class Meta:
        model = VoucherType
        fields = ["id", *VOUCHER_TYPE_FIELDS, "version"]
        read_only_fields = ["id", "version"]
        extra_kwargs = {"code": {"validators": []}}


class VoucherPlanSerializer(TrackerModelSerializer):
    region = RegionCodeField()
    type = ScopedSlugRelatedField(slug_field="code", queryset=VoucherType.objects.select_related("region"))
    type_name = serializers.CharField(source="type.name_zh", read_only=True)
    planned_count = serializers.IntegerField(
        min_value=0, max_value=100_000_000, required=False, allow_null=True
    )
    cap = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False, allow_null=True)
    progress = serializers.SerializerMethodField(
        help_text=_(
            "issued (cancelled excepted), claimed, completed, redeemed, expired, cancelled, remaining"
        )
    )

    class Meta:
        model = VoucherPlan
        fields = ["id", *VOUCHER_PLAN_FIELDS, "type_name", "progress", "version"]
        read_only_fields = ["id", "version"]
        validators: list[Any] = []  # uniqueness: the model's full_clean in the service

    read_progress = PageColumn(selectors.plans_progress_column, default=dict)

    def get_progress(self, obj: VoucherPlan) -> dict[str, Any]:
        return selectors.plans_progress_column([obj.pk])[obj.pk]


class TrainingInstitutionSerializer(TrackerModelSerializer):
    region = RegionCodeField()

    class Meta:
        model = TrainingInstitution
        fields = ["id", "name", "uscc", "region", "licence", "status", "version"]
        read_only_fields = ["id", "status", "version"]
        extra_kwargs = {"uscc": {"validators": []}}


class InstitutionBriefSerializer(TrackerModelSerializer):
    class Meta:
        model = TrainingInstitution
        fields = ["id", "name", "status"]


class CourseSerializer(TrackerModelSerializer):
    institution = InstitutionBriefSerializer(read_only=True)
    region = serializers.CharField(source="institution.region.code", read_only=True)

    class Meta:
        model = Course
        fields = ["id", *COURSE_FIELDS, "region", "version"]
        read_only_fields = fields


class CourseWriteSerializer(TrackerModelSerializer):
    """A course; the site's position is WGS-84 unless `site_datum` says gcj02 (it is then converted,
    and stored and shown in WGS-84)."""

    institution = ScopedPrimaryKeyRelatedField(queryset=TrainingInstitution.objects.select_related("region"))
    fee = serializers.DecimalField(**MONEY, min_value=0)
    subsidy_standard = serializers.DecimalField(**MONEY, min_value=0)
    site_latitude = serializers.FloatField(min_value=-90, max_value=90)
    site_longitude = serializers.FloatField(min_value=-180, max_value=180)
    site_datum = serializers.ChoiceField(choices=Datum.choices, default=Datum.WGS84, write_only=True)

    class Meta:
        model = Course
        fields = [*COURSE_FIELDS, "site_datum"]


class CourseBriefSerializer(TrackerModelSerializer):
    class Meta:
        model = Course
        fields = ["id", "title", "occupation_code", "occupation_name", "level", "starts_on", "ends_on"]


class CourseSessionSerializer(TrackerModelSerializer):
    course = ScopedPrimaryKeyRelatedField(queryset=Course.objects.select_related("institution"))

    class Meta:
        model = CourseSession
        fields = ["id", "course", "starts_at", "ends_at", "title", "version"]
        read_only_fields = ["id", "version"]


class HolderBriefSerializer(TrackerModelSerializer):
    id_number = serializers.CharField(source="id_number_masked", read_only=True)

    class Meta:
        model = Beneficiary
        fields = ["id", "name", "id_number"]


def _attendance_for_ids(ids: list[int]) -> dict[int, dict[str, Any]]:
    vouchers = list(Voucher.objects.filter(pk__in=ids).only("id", "course_id"))
    return {
        pk: {**att, "rate": None if att["rate"] is None else str(att["rate"])}
        for pk, att in selectors.attendance(vouchers).items()
    }


class VoucherSerializer(TrackerModelSerializer):
    """A voucher as lists and details show it: the holder masked, the course brief, the attendance
    so far, the certificate, the evaluation and the payments it caused."""

    code_display = serializers.SerializerMethodField(help_text=_("The code in groups of four, as printed."))
    type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    type_name = serializers.CharField(source="type.name_zh", read_only=True)
    payee = serializers.CharField(source="type.payee", read_only=True)
    holder = HolderBriefSerializer(read_only=True)
    region = serializers.CharField(source="holder.region.code", read_only=True)
    issued_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    course = CourseBriefSerializer(read_only=True, allow_null=True)
    institution = serializers.CharField(source="course.institution.name", read_only=True, allow_null=True)
    certificate = serializers.SerializerMethodField()
    evaluation = serializers.SerializerMethodField()
    attendance = serializers.SerializerMethodField()
    payments = serializers.SerializerMethodField()

    class Meta:
        model = Voucher
        fields = [
            "id",
            "code",
            "code_display",
            "type",
            "type_name",
            "payee",
            "plan",
            "holder",
            "region",
            "employer",
            "status",
            "issued_at",
            "issued_by",
            "expires_on",
            "claimed_at",
            "claim_channel",
            "course",
            "institution",
            "enrolled_at",
            "completed_at",
            "redeemed_at",
            "cancelled_at",
            "cancel_reason",
            "expired_at",
            "certificate",
            "evaluation",
            "attendance",
            "payments",
            "version",
        ]
        read_only_fields = fields

    read_code_display = ReadColumn(("code",), lambda row: format_code(row["code"]))
    read_certificate = ReadColumn(
        ("certificate__number", "certificate__level", "certificate__issued_on"),
        lambda row: (
            None
            if row["certificate__number"] is None
            else {
                "number": row["certificate__number"],
                "level": row["certificate__level"],
                "issued_on": row["certificate__issued_on"].isoformat(),
            }
        ),
    )
    read_evaluation = ReadColumn(
        ("evaluation__course_rating", "evaluation__institution_rating", "evaluation__comment"),
        lambda row: (
            None
            if row["evaluation__course_rating"] is None
            else {
                "course_rating": row["evaluation__course_rating"],
                "institution_rating": row["evaluation__institution_rating"],
                "comment": row["evaluation__comment"],
            }
        ),
    )
    read_attendance = PageColumn(_attendance_for_ids, default=lambda: None)
    read_payments = PageColumn(selectors.voucher_payments)

    def get_code_display(self, obj: Voucher) -> str:
        return format_code(obj.code)

    def get_certificate(self, obj: Voucher) -> dict[str, Any] | None:
        try:
            certificate = obj.certificate
        except Certificate.DoesNotExist:
            return None
        return {
            "number": certificate.number,
            "level": certificate.level,
            "issued_on": certificate.issued_on.isoformat(),
        }

    def get_evaluation(self, obj: Voucher) -> dict[str, Any] | None:
        try:
            evaluation = obj.evaluation
        except Voucher.evaluation.RelatedObjectDoesNotExist:
            return None
        return {
            "course_rating": evaluation.course_rating,
            "institution_rating": evaluation.institution_rating,
            "comment": evaluation.comment,
        }

    def get_attendance(self, obj: Voucher) -> dict[str, Any] | None:
        return _attendance_for_ids([obj.pk]).get(obj.pk)

    def get_payments(self, obj: Voucher) -> list[dict[str, Any]]:
        return selectors.voucher_payments([obj.pk]).get(obj.pk, [])


class VoucherIssueSerializer(TrackerSerializer):
    plan = ScopedPrimaryKeyRelatedField(queryset=VoucherPlan.objects.select_related("region", "type"))
    holder = ScopedPrimaryKeyRelatedField(queryset=Beneficiary.objects.all())
    employer = ScopedPrimaryKeyRelatedField(queryset=Employer.objects.all(), required=False, allow_null=True)


class VoucherBatchIssueSerializer(TrackerSerializer):
    """To listed people (`holders`, ids) or to everyone matching `filter` (the beneficiary list's
    filters: `within`, `group`, `status`, `willing_to_work`, `active`, `q`...), not both."""

    plan = ScopedPrimaryKeyRelatedField(queryset=VoucherPlan.objects.select_related("region", "type"))
    holders = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), required=False, max_length=10_000
    )
    filter = serializers.DictField(child=serializers.CharField(max_length=200), required=False)
    employer = ScopedPrimaryKeyRelatedField(queryset=Employer.objects.all(), required=False, allow_null=True)
    skip_refused = serializers.BooleanField(
        default=False,
        help_text=_("Issue to the others when some people are refused (default: all or nothing)."),
    )
    dry_run = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("holders" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError({"holders": [_("Give either holders or filter.")]})
        return attrs


class RefusalSerializer(TrackerSerializer):
    index = serializers.IntegerField()
    holder = serializers.IntegerField()
    codes = serializers.ListField(child=serializers.CharField())
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class IssuedBriefSerializer(TrackerSerializer):
    id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField()
    holder = serializers.IntegerField()


class VoucherBatchResultSerializer(TrackerSerializer):
    plan = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    issued_count = serializers.IntegerField()
    issued = IssuedBriefSerializer(many=True)
    refused = RefusalSerializer(many=True)
    remaining = serializers.IntegerField(allow_null=True, help_text=_("What the plan's cap leaves now."))


class ClaimSerializer(TrackerSerializer):
    channel = serializers.ChoiceField(choices=ClaimChannel.choices)
    proof = serializers.CharField(
        max_length=64,
        trim_whitespace=True,
        help_text=_(
            "The electronic social-security card number, or at a counter the last 6 characters of the identity number."
        ),
    )


class EnrollSerializer(TrackerSerializer):
    course = ScopedPrimaryKeyRelatedField(queryset=Course.objects.select_related("institution"))


class MoveSerializer(EnrollSerializer):
    reason = serializers.CharField(max_length=2000)


class CheckInSerializer(TrackerModelSerializer):
    voucher = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "voucher",
            "session",
            "at",
            "latitude",
            "longitude",
            "datum",
            "latitude_wgs84",
            "longitude_wgs84",
            "accuracy_m",
            "device_id",
            "distance_m",
            "accepted",
            "rejection",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class CheckInCreateSerializer(TrackerSerializer):
    session = ScopedPrimaryKeyRelatedField(queryset=CourseSession.objects.select_related("course"))
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    accuracy_m = serializers.FloatField(min_value=0, max_value=100_000, required=False, allow_null=True)
    at = serializers.DateTimeField()
    datum = serializers.ChoiceField(choices=Datum.choices, default=Datum.WGS84)
    device_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")


class CompleteSerializer(TrackerSerializer):
    certificate_number = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    certificate_level = serializers.ChoiceField(
        choices=SkillLevel.choices, required=False, allow_blank=True, default=""
    )
    certificate_issued_on = serializers.DateField(required=False, allow_null=True, default=None)


class EvaluateSerializer(TrackerSerializer):
    course_rating = serializers.IntegerField(min_value=1, max_value=5)
    institution_rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EvaluationSerializer(TrackerSerializer):
    voucher = serializers.CharField(source="voucher.code")
    course_rating = serializers.IntegerField()
    institution_rating = serializers.IntegerField()
    comment = serializers.CharField()
    evaluated_at = serializers.DateTimeField()


class StepPaymentSerializer(TrackerSerializer):
    id = serializers.IntegerField()
    program = serializers.CharField(source="program.code")
    payee_kind = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    status = serializers.CharField()


class StepResultSerializer(TrackerSerializer):
    """A step that paid (enrolment with an advance allowance, redemption): the voucher, the payments
    made, and the allowances a payment rule refused (program code -> messages)."""

    voucher = VoucherSerializer()
    payments = StepPaymentSerializer(many=True)
    allowances_refused = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class CertificateSerializer(TrackerModelSerializer):
    """A certificate looked up by its number: which course, level, date and institution, and the
    holder masked."""

    voucher = serializers.CharField(source="voucher.code", read_only=True)
    holder_name = serializers.SerializerMethodField()
    holder_id_number = serializers.CharField(source="voucher.holder.id_number_masked", read_only=True)
    course = serializers.CharField(source="voucher.course.title", read_only=True)
    occupation_code = serializers.CharField(source="voucher.course.occupation_code", read_only=True)
    occupation_name = serializers.CharField(source="voucher.course.occupation_name", read_only=True)
    institution = serializers.CharField(source="voucher.course.institution.name", read_only=True)

    class Meta:
        model = Certificate
        fields = [
            "id",
            "number",
            "level",
            "issued_on",
            "course",
            "occupation_code",
            "occupation_name",
            "institution",
            "voucher",
            "holder_name",
            "holder_id_number",
        ]
        read_only_fields = fields

    read_holder_name = ReadColumn(
        ("voucher__holder__name",), lambda row: _mask_name(row["voucher__holder__name"])
    )

    def get_holder_name(self, obj: Certificate) -> str:
        return _mask_name(obj.voucher.holder.name)


def _mask_name(name: str) -> str:
    from tracker.pii import mask_name

    return mask_name(name)


class WorkerTrainingProfileSerializer(TrackerModelSerializer):
    beneficiary = serializers.PrimaryKeyRelatedField(read_only=True)
    ui_contribution_months = serializers.IntegerField(min_value=0, max_value=1200)
    ui_months_as_of = serializers.DateField(required=False, allow_null=True)

    class Meta:
        model = WorkerTrainingProfile
        fields = ["beneficiary", "ui_contribution_months", "ui_months_as_of", "notes", "version"]
        read_only_fields = ["beneficiary", "version"]


class SuspendResultSerializer(TrackerSerializer):
    institution = TrainingInstitutionSerializer()
    enrolled_vouchers = VoucherSerializer(many=True)
