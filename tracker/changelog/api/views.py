from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ReadOnlyModelViewSet

from tracker.api.query import query_param
from tracker.api.viewsets import ScopedViewSetMixin
from tracker.changelog.api.serializers import ChangeEntrySerializer, VerifyResultSerializer
from tracker.changelog.filtersets import ChangeEntryFilterSet
from tracker.changelog.models import ChangeEntry
from tracker.changelog.selectors import changes_verify
from tracker.regions.models import Region


class ChangeEntryViewSet(ScopedViewSetMixin, ReadOnlyModelViewSet):
    """The change log, newest first, scoped to the caller's region like everything else."""

    queryset = ChangeEntry.objects.all()
    serializer_class = ChangeEntrySerializer
    filterset_class = ChangeEntryFilterSet
    ordering_fields = ["id"]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        parameters=[OpenApiParameter("within", OpenApiTypes.STR, description="Region code")],
        responses=VerifyResultSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def verify(self, request: Request) -> Response:
        """Re-check the HMAC of every entry in scope and each object's unbroken history."""
        user_path = request.user.scope_path or ""
        path = user_path
        code = query_param(request, "within")
        if code:
            region = Region.objects.visible_to(request.user).filter(code=code).first()
            if region is None or not region.path.startswith(user_path):
                return Response({"ok": True, "checked": 0, "problems": []})
            path = region.path
        return Response(changes_verify(within_path=path or None))

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action == "verify":
            return queryset
        return super().filter_queryset(queryset)
