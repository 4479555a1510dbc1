"""Shapes of the registry's API. Field names are a contract with REST clients: keep them.

Personal data leaves only masked (`id_number`, `phone`); the full values come from `reveal` alone.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from beneficiaries.choices import (
    DeactivationReason,
    EmploymentStatus,
    FollowUpService,
    Gender,
    StatusSource,
)
from beneficiaries.models import Beneficiary, BeneficiaryGroup, FollowUp, GroupMembership, StatusChange
from tracker.api.reads import GroupConcat, ReadColumn, page_today
from tracker.api.regions import RegionCodeField
from tracker.api.serializers import TrackerModelSerializer, TrackerSerializer


def _groups_today_annotation() -> dict[str, Any]:
    """The codes of the groups the person holds today, in the page's own query (one aggregated
    subquery per row through the membership index; no second query for the page)."""
    from django.db.models import OuterRef, Subquery

    from beneficiaries.selectors import memberships_on

    codes = (
        GroupMembership.objects.filter(memberships_on(timezone.localdate()), beneficiary=OuterRef("pk"))
        .order_by()
        .values("beneficiary")
        .annotate(codes=GroupConcat("group__code", distinct=True))
        .values("codes")
    )
    return {"groups_today": Subquery(codes)}


def _group_codes(row: dict[str, Any]) -> list[str]:
    return sorted(set(row["groups_today"].split(","))) if row["groups_today"] else []


class BeneficiaryGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = BeneficiaryGroup
        fields = ["id", "code", "name_zh", "name_en"]


class BeneficiarySerializer(serializers.ModelSerializer):
    """Output: masked personal data; `groups` are the codes of the groups held today."""

    id_number = serializers.CharField(source="id_number_masked", read_only=True)
    phone = serializers.CharField(source="phone_masked", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    groups = serializers.SerializerMethodField()
    # Blank until a status change / a deactivation is recorded; declared so the schema says so.
    status = serializers.ChoiceField(choices=EmploymentStatus.choices, allow_blank=True, read_only=True)
    deactivation_reason = serializers.ChoiceField(
        choices=DeactivationReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Beneficiary
        fields = [
            "id",
            "name",
            "id_number",
            "gender",
            "birth_date",
            "phone",
            "social_security_card",
            "region",
            "groups",
            "willing_to_work",
            "status",
            "status_verified_on",
            "active",
            "address",
            "notes",
            "registered_at",
            "deactivated_on",
            "deactivation_reason",
            "version",
        ]
        read_only_fields = fields

    read_groups = ReadColumn(("groups_today",), _group_codes, annotate=_groups_today_annotation)

    def get_groups(self, obj: Beneficiary) -> list[str]:
        memberships = getattr(obj, "current_memberships", None)
        if memberships is None:
            from django.utils import timezone

            from beneficiaries.selectors import beneficiary_group_codes_on

            return sorted(beneficiary_group_codes_on(beneficiary=obj, on=timezone.localdate()))
        return sorted({m.group.code for m in memberships})


@extend_schema_field({"type": "string", "minLength": 18, "maxLength": 18, "pattern": "^[0-9]{17}[0-9Xx]$"})
class IdentityNumberField(serializers.Field):
    """An 18-character identity number: the schema states its form, and the service checks the rest
    (check digit, birth date, division code; see beneficiaries.identity), naming each failed check,
    so the field only takes a string of reasonable length (a plain Field: DRF's CharField would
    answer a 15-digit number with its generic length message instead of the service's)."""

    default_error_messages = {"invalid": _("Not a valid string.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [MaxLengthValidator(32)])
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data.strip()

    def to_representation(self, value: Any) -> str:
        return str(value)


class BeneficiaryWriteSerializer(TrackerSerializer):
    """Input for create and PATCH. `gender` and `birth_date` are optional: they are derived from the
    identity number and, when given, must agree with it. `groups` (codes) sets the groups held from
    today; dated memberships go through `.../memberships/`."""

    name = serializers.CharField(max_length=50)
    id_number = IdentityNumberField(help_text=_("18 characters; a final x is stored as X."))
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    birth_date = serializers.DateField(required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    social_security_card = serializers.CharField(max_length=32, required=False, allow_blank=True)
    region = RegionCodeField()
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    willing_to_work = serializers.BooleanField(required=False)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    groups = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, max_length=100, allow_empty=True
    )


class StatusChangeSerializer(TrackerModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=EmploymentStatus.choices)
    source = serializers.ChoiceField(choices=StatusSource.choices)

    class Meta:
        model = StatusChange
        fields = [
            "id",
            "status",
            "effective_on",
            "employer_or_place",
            "source",
            "note",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["id", "recorded_by", "recorded_at"]


class FollowUpSerializer(serializers.ModelSerializer):
    beneficiary_name = serializers.CharField(source="beneficiary.name", read_only=True)
    region = serializers.CharField(source="beneficiary.region.code", read_only=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    service = serializers.ChoiceField(choices=FollowUpService.choices, allow_blank=True, read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "beneficiary",
            "beneficiary_name",
            "region",
            "status_change",
            "opened_on",
            "due_on",
            "status",
            "overdue",
            "service",
            "service_on",
            "service_note",
            "closed_by",
            "version",
        ]
        read_only_fields = fields

    read_overdue = ReadColumn(
        ("status", "due_on"), lambda row: row["status"] == "open" and row["due_on"] < page_today()
    )

    def get_overdue(self, obj: FollowUp) -> bool:
        from django.utils import timezone

        return obj.status == "open" and obj.due_on < timezone.localdate()


class FollowUpServiceSerializer(TrackerSerializer):
    service = serializers.ChoiceField(choices=FollowUpService.choices)
    service_on = serializers.DateField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class MembershipSerializer(TrackerModelSerializer):
    group = serializers.SlugRelatedField(slug_field="code", queryset=BeneficiaryGroup.objects.all())

    class Meta:
        model = GroupMembership
        fields = ["id", "group", "valid_from", "valid_to"]
        read_only_fields = ["id"]


class DeactivateSerializer(TrackerSerializer):
    deactivated_on = serializers.DateField()
    reason = serializers.ChoiceField(choices=DeactivationReason.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RevealRequestSerializer(TrackerSerializer):
    reason = serializers.CharField(max_length=500, help_text=_("Why the full values are needed (logged)."))


class RevealResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    id_number = serializers.CharField()
    phone = serializers.CharField(allow_blank=True)


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class FileSectionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    data = serializers.JSONField()


class BeneficiaryFileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    as_of = serializers.DateField()
    status_as_of = serializers.CharField(allow_blank=True)
    sections = FileSectionSerializer(many=True)


def validated_write_data(serializer: Any) -> tuple[dict[str, Any], list[str] | None]:
    data = dict(serializer.validated_data)
    groups = data.pop("groups", None)
    return data, groups
