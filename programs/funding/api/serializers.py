"""Shapes of the funding API. Money is a string with 2 decimals; regions, programs and fund sources are
given and shown by their codes."""

from __future__ import annotations

import decimal
from typing import Any

from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from beneficiaries.choices import EmploymentStatus
from beneficiaries.models import Beneficiary
from programs.funding.choices import EmployerSize, Industry, PayeeKind
from programs.funding.models import Employer, FundSource, Payment, Program, TrainingInstitution
from programs.funding.services import PROGRAM_FIELDS
from tracker.api.reads import ReadColumn
from tracker.api.regions import RegionCodeField
from tracker.api.serializers import TrackerModelSerializer, TrackerSerializer
from tracker.periods import Month

MONEY = {"max_digits": 14, "decimal_places": 2}


class FundSourceSerializer(TrackerModelSerializer):
    part_of = serializers.SlugRelatedField(
        slug_field="code", queryset=FundSource.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = FundSource
        fields = ["id", "code", "name_zh", "name_en", "part_of", "note", "version"]
        read_only_fields = ["id", "version"]
        # Uniqueness is checked by the model's full_clean in the service (one message, one place).
        extra_kwargs = {"code": {"validators": []}}


class UpliftsField(serializers.DictField):
    """{designation_code: percent}; percents are stored as strings (e.g. "20")."""

    child = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        values = super().to_internal_value(data)
        return {str(code): format(percent.normalize(), "f") for code, percent in values.items()}

    def to_representation(self, value: Any) -> dict[str, str]:
        return {str(code): str(percent) for code, percent in (value or {}).items()}


class ProgramSerializer(TrackerModelSerializer):
    region = RegionCodeField()
    region_name = serializers.CharField(source="region.name_zh", read_only=True)
    fund_source = serializers.SlugRelatedField(
        slug_field="code", queryset=FundSource.objects.all(), required=False, allow_null=True
    )
    eligible_groups = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=100
    )
    mutually_exclusive_with = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=100
    )
    uplifts = UpliftsField(required=False)
    employer_sizes = serializers.ListField(
        child=serializers.ChoiceField(choices=EmployerSize.choices), required=False, max_length=10
    )
    employer_industries = serializers.ListField(
        child=serializers.ChoiceField(choices=Industry.choices), required=False, max_length=50
    )
    required_employment_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=EmploymentStatus.choices), required=False, max_length=20
    )
    min_contract_months = serializers.IntegerField(
        min_value=1, max_value=120, required=False, allow_null=True
    )
    standard_amount = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    min_amount = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    max_amount = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    annual_budget = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    max_units = serializers.IntegerField(min_value=1, max_value=100000, required=False, allow_null=True)

    class Meta:
        model = Program
        fields = ["id", *PROGRAM_FIELDS, "region_name", "version"]
        read_only_fields = ["id", "version"]
        extra_kwargs = {"code": {"validators": []}}


class ProgramBudgetSerializer(serializers.Serializer):
    program = serializers.CharField()
    year = serializers.IntegerField()
    budget = serializers.DecimalField(**MONEY, allow_null=True)
    committed = serializers.DecimalField(**MONEY)
    paid = serializers.DecimalField(**MONEY)
    reversed = serializers.DecimalField(**MONEY)
    remaining = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text=_(
            "Budget minus committed and paid; null without a budget, or when the program is issued "
            "above your region (the figures then cover your region only)."
        ),
    )


# GB 32100-2015: registration authority and entity type, 6-digit division code, 9-character
# organisation code and a check character, all from the code's alphabet (no I, O, S, V, Z).
USCC_PATTERN = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


@extend_schema_field({"type": "string", "minLength": 18, "maxLength": 18, "pattern": USCC_PATTERN})
class UsccField(serializers.Field):
    """A unified social credit code: the schema states its form, and the model checks it (stdnum's
    check character) with one message in one place, so the field only takes a string of at most 18
    characters."""

    default_error_messages = {"invalid": _("Not a valid string.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [MaxLengthValidator(18)])
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data.strip()

    def to_representation(self, value: Any) -> str:
        return str(value)


class EmployerSerializer(TrackerModelSerializer):
    region = RegionCodeField()
    uscc = UsccField(label=_("unified social credit code"))

    class Meta:
        model = Employer
        fields = ["id", "name", "uscc", "region", "size", "industry", "version"]
        read_only_fields = ["id", "version"]


class BeneficiaryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Beneficiary
        fields = ["id", "name", "id_number_masked"]


class PayeeBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField()


class PaymentSerializer(serializers.ModelSerializer):
    program = serializers.SlugRelatedField(slug_field="code", read_only=True)
    program_name = serializers.CharField(source="program.name_zh", read_only=True)
    beneficiary = BeneficiaryBriefSerializer(read_only=True, allow_null=True)
    employer = PayeeBriefSerializer(read_only=True, allow_null=True)
    institution = PayeeBriefSerializer(read_only=True, allow_null=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    fund_source = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    paid_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    cause = serializers.SerializerMethodField()
    reversal = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "program",
            "program_name",
            "payee_kind",
            "beneficiary",
            "employer",
            "institution",
            "region",
            "period_start",
            "period_end",
            "application_date",
            "contract_start",
            "contract_performed_to",
            "quantity",
            "unit_amount",
            "amount",
            "fund_source",
            "status",
            "created_by",
            "created_at",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "paid_by",
            "paid_at",
            "external_reference",
            "reason",
            "rejection_reason",
            "cause",
            "reverses",
            "reversal",
            "version",
        ]
        read_only_fields = fields

    read_cause = ReadColumn(
        ("cause_label", "cause_object_id"),
        lambda row: (
            {"type": row["cause_label"], "id": row["cause_object_id"]} if row["cause_label"] else None
        ),
    )
    read_reversal = ReadColumn(("reversal",), lambda row: row["reversal"])

    def get_cause(self, obj: Payment) -> dict[str, str] | None:
        if not obj.cause_label:
            return None
        return {"type": obj.cause_label, "id": obj.cause_object_id}

    def get_reversal(self, obj: Payment) -> int | None:
        try:
            return obj.reversal.pk
        except Payment.reversal.RelatedObjectDoesNotExist:
            return None


class ScopedRelatedMixin:
    """Offers only the records the caller can see, so a record outside their region answers exactly
    like one that does not exist (the error never reveals its existence)."""

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()  # type: ignore[misc]
        request = self.context.get("request")  # type: ignore[attr-defined]
        return queryset.visible_to(request.user if request is not None else None)


class ScopedSlugRelatedField(ScopedRelatedMixin, serializers.SlugRelatedField):
    pass


class ScopedPrimaryKeyRelatedField(ScopedRelatedMixin, serializers.PrimaryKeyRelatedField):
    pass


class PaymentCreateSerializer(TrackerSerializer):
    """A new payment. The payee is `beneficiary`, `employer` or `institution` as the program's payee
    kind says (an organisation payment may also name the `beneficiary` it is for). The period is
    `period_start`/`period_end` or a `month` (YYYY-MM). `unit_amount` defaults to the program's
    standard for the payee's region, `amount` to unit × quantity; when given they must agree with
    the rules. `application_date` defaults to today; `contract_start` and `contract_performed_to`
    are needed where the program asks for a labour contract performed for some months."""

    # Every reference is looked up within the caller's scope (see ScopedRelatedMixin).
    program = ScopedSlugRelatedField(slug_field="code", queryset=Program.objects.select_related("region"))
    payee_kind = serializers.ChoiceField(choices=PayeeKind.choices, required=False)
    beneficiary = ScopedPrimaryKeyRelatedField(
        queryset=Beneficiary.objects.all(), required=False, allow_null=True
    )
    employer = ScopedPrimaryKeyRelatedField(queryset=Employer.objects.all(), required=False, allow_null=True)
    institution = ScopedPrimaryKeyRelatedField(
        queryset=TrainingInstitution.objects.all(), required=False, allow_null=True
    )
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    month = serializers.CharField(
        required=False, max_length=7, help_text=_("YYYY-MM, instead of the period.")
    )
    application_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("The day the application was received (default: today)."),
    )
    contract_start = serializers.DateField(
        required=False, allow_null=True, help_text=_("Labour contract start, where the program needs one.")
    )
    contract_performed_to = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("The last day up to which the labour contract has actually been performed."),
    )
    quantity = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=decimal.Decimal("0.01"), default=decimal.Decimal(1)
    )
    unit_amount = serializers.DecimalField(
        **MONEY, min_value=decimal.Decimal("0.01"), required=False, allow_null=True
    )
    amount = serializers.DecimalField(
        **MONEY, min_value=decimal.Decimal("0.01"), required=False, allow_null=True
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    submit = serializers.BooleanField(default=False, help_text=_("Submit at once (draft otherwise)."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        month = attrs.pop("month", None)
        if month is not None:
            period = Month.parse(month)  # the domain's month: YYYY-MM, or a field error on "month"
            if "period_start" in attrs or "period_end" in attrs:
                raise serializers.ValidationError({"month": [_("Give a month or a period, not both.")]})
            attrs["period_start"], attrs["period_end"] = period.first_day, period.last_day
        missing = [name for name in ("period_start", "period_end") if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: [_("Give the period (or a month).")] for name in missing}
            )
        if attrs["period_start"] > attrs["period_end"]:
            raise serializers.ValidationError({"period_end": [_("The period ends before it starts.")]})
        start, performed_to = attrs.get("contract_start"), attrs.get("contract_performed_to")
        if start and performed_to and start > performed_to:
            raise serializers.ValidationError(
                {
                    "contract_performed_to": [
                        _("The contract cannot have been performed to a day before it started.")
                    ]
                }
            )
        return attrs


class ReasonSerializer(TrackerSerializer):
    reason = serializers.CharField(max_length=2000)


class MarkPaidSerializer(TrackerSerializer):
    external_reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    paid_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApproveBatchSerializer(TrackerSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), min_length=1, max_length=500
    )
