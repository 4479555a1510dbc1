from __future__ import annotations

import decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from beneficiaries.models import Beneficiary
from programs.entrepreneurship.choices import EntrepreneurKind
from programs.entrepreneurship.models import Entrepreneur, GuaranteedLoan
from programs.funding.api.serializers import ScopedPrimaryKeyRelatedField
from programs.funding.models import Employer
from tracker.api.regions import RegionCodeField
from tracker.api.serializers import TrackerModelSerializer, TrackerSerializer

MONEY = {"max_digits": 14, "decimal_places": 2}


class EntrepreneurSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Entrepreneur
        fields = [
            "id",
            "beneficiary",
            "name",
            "id_number_masked",
            "kind",
            "region",
            "business",
            "supported_on",
            "notes",
            "version",
        ]
        read_only_fields = fields


class EntrepreneurWriteSerializer(TrackerSerializer):
    """A registry person (`beneficiary`) or another person (`name` and `id_number`)."""

    region = RegionCodeField()
    supported_on = serializers.DateField()
    beneficiary = ScopedPrimaryKeyRelatedField(
        queryset=Beneficiary.objects.all(), required=False, allow_null=True, default=None
    )
    name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    id_number = serializers.CharField(
        max_length=18, required=False, allow_blank=True, default="", write_only=True
    )
    kind = serializers.ChoiceField(choices=EntrepreneurKind.choices, default=EntrepreneurKind.OTHER)
    business = ScopedPrimaryKeyRelatedField(
        queryset=Employer.objects.all(), required=False, allow_null=True, default=None
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("beneficiary") is None and not (attrs.get("name") and attrs.get("id_number")):
            raise serializers.ValidationError(
                {"beneficiary": [_("Give a registry person, or a name and an identity number.")]}
            )
        return attrs


class GuaranteedLoanSerializer(TrackerModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    amount = serializers.DecimalField(**MONEY, read_only=True)

    class Meta:
        model = GuaranteedLoan
        fields = [
            "id",
            "entrepreneur",
            "business",
            "lender",
            "amount",
            "term_months",
            "annual_rate",
            "issued_on",
            "region",
            "version",
        ]
        read_only_fields = fields


class GuaranteedLoanWriteSerializer(TrackerSerializer):
    entrepreneur = ScopedPrimaryKeyRelatedField(queryset=Entrepreneur.objects.all())
    business = ScopedPrimaryKeyRelatedField(
        queryset=Employer.objects.all(), required=False, allow_null=True, default=None
    )
    lender = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(**MONEY, min_value=decimal.Decimal("0.01"))
    term_months = serializers.IntegerField(min_value=1, max_value=120)
    annual_rate = serializers.DecimalField(
        max_digits=6, decimal_places=4, min_value=decimal.Decimal("0"), max_value=decimal.Decimal("0.2")
    )
    issued_on = serializers.DateField()
