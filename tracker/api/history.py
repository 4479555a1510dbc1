"""Every record's history: `GET .../{id}/history/` answers its change entries, newest first, scoped
like the record itself."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.reads import plan_for
from tracker.changelog.entries import ChangeEntry


class ChangeEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeEntry
        fields = [
            "id",
            "at",
            "actor_name",
            "request_id",
            "source",
            "action",
            "model",
            "object_id",
            "object_version",
            "region_path",
            "label",
            "changes",
            "reason",
        ]


class HistoryMixin:
    """`GET .../{id}/history/`: the record's change entries, newest first (scoped like the record)."""

    @extend_schema(responses=ChangeEntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=None)
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        entries = ChangeEntry.objects.filter(
            model=instance._meta.label_lower, object_id=str(instance.pk)
        ).order_by("-id")
        plan = plan_for(ChangeEntrySerializer)
        page = self.paginate_queryset(plan.values(entries))  # type: ignore[attr-defined]
        return self.get_paginated_response(plan.rows(page))  # type: ignore[attr-defined]
