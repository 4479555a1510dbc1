"""Entrepreneurship API: supported entrepreneurs and their guaranteed loans (the interest shares by
level are written with the loan). Each write calls one service (programs.entrepreneurship.services)."""

from __future__ import annotations

from typing import Any

from programs.entrepreneurship import services
from programs.entrepreneurship.api.serializers import (
    EntrepreneurSerializer,
    EntrepreneurWriteSerializer,
    GuaranteedLoanSerializer,
    GuaranteedLoanWriteSerializer,
)
from programs.entrepreneurship.filtersets import EntrepreneurFilterSet, GuaranteedLoanFilterSet
from programs.entrepreneurship.models import Entrepreneur, GuaranteedLoan
from tracker.accounts.choices import Role
from tracker.api.viewsets import TrackerModelViewSet


class EntrepreneurViewSet(TrackerModelViewSet):
    """Supported entrepreneurs: a registry person or another person, whose identity number is kept
    encrypted and shown masked. Clerks record them."""

    queryset = Entrepreneur.objects.select_related("region")
    serializer_class = EntrepreneurSerializer
    write_serializer_class = EntrepreneurWriteSerializer
    filterset_class = EntrepreneurFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK})
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> Entrepreneur:
        return services.entrepreneur_create(actor=self.request.user, **serializer.validated_data)


class GuaranteedLoanViewSet(TrackerModelViewSet):
    """Guaranteed business loans with the interest each level bears (upper-level finance, the district,
    the borrower). Clerks record them."""

    queryset = GuaranteedLoan.objects.select_related("region")
    serializer_class = GuaranteedLoanSerializer
    write_serializer_class = GuaranteedLoanWriteSerializer
    filterset_class = GuaranteedLoanFilterSet
    http_method_names = ["get", "post", "head", "options"]
    write_roles = frozenset({Role.CLERK})
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["id"]

    def perform_create(self, serializer: Any) -> GuaranteedLoan:
        data = dict(serializer.validated_data)
        return services.loan_create(actor=self.request.user, entrepreneur=data.pop("entrepreneur"), **data)
