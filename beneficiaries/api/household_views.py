"""Households and employment registrations over the API: thin viewsets, each write one service
(beneficiaries.households, beneficiaries.registrations)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from beneficiaries import households, registrations
from beneficiaries.choices import HouseholdRelation, RegistrationKind
from beneficiaries.filtersets import IdFilter, StrictBooleanFilter
from beneficiaries.models import Beneficiary, EmploymentRegistration, Household
from tracker.accounts.choices import Role
from tracker.api.filters import TrackerFilterSet
from tracker.api.reads import PageColumn
from tracker.api.regions import RegionCodeField
from tracker.api.serializers import TrackerModelSerializer, TrackerSerializer
from tracker.api.viewsets import TrackerModelViewSet


class VisiblePersonField(serializers.PrimaryKeyRelatedField):
    """A person the caller can see (one outside their region answers as if it did not exist)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Beneficiary.objects.all())  # the schema's type: the person's id
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return super().get_queryset().visible_to(request.user if request is not None else None)


# -- households ----------------------------------------------------------------------------------------


class HouseholdSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name_zh", read_only=True)
    members = serializers.SerializerMethodField(help_text=_("Members of the household."))
    members_employed = serializers.SerializerMethodField(
        help_text=_("Members in work now (from their current employment status).")
    )

    class Meta:
        model = Household
        fields = [
            "id",
            "number",
            "head_name",
            "region",
            "region_name",
            "address",
            "relocated",
            "relocated_on",
            "zero_employment",
            "zero_employment_identified_on",
            "notes",
            "members",
            "members_employed",
            "version",
        ]
        read_only_fields = fields

    read_members = PageColumn(households.member_counts, default=lambda: 0)
    read_members_employed = PageColumn(
        lambda ids: households.member_counts(ids, employed=True), default=lambda: 0
    )

    def get_members(self, obj: Household) -> int:
        return households.member_counts([obj.pk]).get(obj.pk, 0)

    def get_members_employed(self, obj: Household) -> int:
        return households.member_counts([obj.pk], employed=True).get(obj.pk, 0)


class HouseholdMemberWriteSerializer(TrackerSerializer):
    beneficiary = VisiblePersonField()
    relation = serializers.ChoiceField(choices=HouseholdRelation.choices, default=HouseholdRelation.OTHER)


class HouseholdWriteSerializer(TrackerSerializer):
    number = serializers.CharField(max_length=32)
    region = RegionCodeField()
    head_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    relocated = serializers.BooleanField(required=False, default=False)
    relocated_on = serializers.DateField(required=False, allow_null=True, default=None)
    zero_employment = serializers.BooleanField(required=False, default=False)
    zero_employment_identified_on = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    members = HouseholdMemberWriteSerializer(many=True, required=False, default=list)


class HouseholdPatchSerializer(TrackerSerializer):
    head_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    relocated = serializers.BooleanField(required=False)
    relocated_on = serializers.DateField(required=False, allow_null=True)
    zero_employment = serializers.BooleanField(required=False)
    zero_employment_identified_on = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    members = HouseholdMemberWriteSerializer(many=True, required=False)


class HouseholdFilterSet(TrackerFilterSet):
    relocated = StrictBooleanFilter(field_name="relocated")
    zero_employment = StrictBooleanFilter(field_name="zero_employment")
    number = django_filters.CharFilter(field_name="number", max_length=32, label=_("Household number"))

    class Meta:
        model = Household
        fields = ["within", "relocated", "zero_employment", "number"]


class HouseholdViewSet(TrackerModelViewSet):
    """Households (户) with their members and flags (relocated 易地扶贫搬迁, zero-employment 零就业家庭).
    Clerks create and correct them; members are added by id."""

    queryset = Household.objects.select_related("region")
    serializer_class = HouseholdSerializer
    write_serializer_class = HouseholdWriteSerializer
    filterset_class = HouseholdFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_roles = frozenset({Role.CLERK})
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["id"]

    def get_write_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if self.action == "partial_update":
            kwargs.setdefault("context", self.get_serializer_context())
            return HouseholdPatchSerializer(*args, **kwargs)
        return super().get_write_serializer(*args, **kwargs)

    @extend_schema(request=HouseholdPatchSerializer, responses=HouseholdSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> Household:
        return households.household_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, instance: Household, serializer: Any) -> Household:
        fields = dict(serializer.validated_data)
        members = fields.pop("members", None)
        return households.household_update(
            household=instance, actor=self.request.user, fields=fields, members=members
        )


# -- employment registrations ----------------------------------------------------------------------------


class EmploymentRegistrationSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = EmploymentRegistration
        fields = ["id", "beneficiary", "region", "registered_on", "kind", "employer_name", "note", "version"]
        read_only_fields = fields


class EmploymentRegistrationWriteSerializer(TrackerSerializer):
    beneficiary = VisiblePersonField()
    registered_on = serializers.DateField()
    region = RegionCodeField(required=False, allow_null=True, default=None)
    kind = serializers.ChoiceField(choices=RegistrationKind.choices, default=RegistrationKind.NEW_EMPLOYMENT)
    employer_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EmploymentRegistrationFilterSet(TrackerFilterSet):
    beneficiary = IdFilter(field_name="beneficiary_id")
    kind = django_filters.ChoiceFilter(choices=RegistrationKind.choices)
    registered_from = django_filters.DateFilter(field_name="registered_on", lookup_expr="gte")
    registered_to = django_filters.DateFilter(field_name="registered_on", lookup_expr="lte")

    class Meta:
        model = EmploymentRegistration
        fields = ["within", "beneficiary", "kind", "registered_from", "registered_to"]


class EmploymentRegistrationViewSet(TrackerModelViewSet):
    """Employment registrations (就业登记): events on people, per region and date. Clerks record them."""

    queryset = EmploymentRegistration.objects.select_related("region")
    serializer_class = EmploymentRegistrationSerializer
    write_serializer_class = EmploymentRegistrationWriteSerializer
    filterset_class = EmploymentRegistrationFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK})
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> EmploymentRegistration:
        return registrations.registration_create(actor=self.request.user, **serializer.validated_data)
