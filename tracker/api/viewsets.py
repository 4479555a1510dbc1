"""The one base viewset: region scope on every queryset, the after-write scope check inside the
transaction, ETag / If-Match optimistic concurrency, and write paths that call services."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.accounts.choices import Role
from tracker.api.exceptions import PreconditionFailed
from tracker.changelog.api.serializers import ChangeEntrySerializer
from tracker.changelog.models import ChangeEntry

OUT_OF_SCOPE = _("The record would lie outside your region; you can only write within your region.")


def etag_for(instance: Any) -> str:
    return f'"{instance._meta.label_lower}:{instance.pk}:{instance.version}"'


def check_if_match(request: Request, instance: Any) -> None:
    """A stale If-Match means someone else changed the record since the client read it: 412."""
    header = request.headers.get("If-Match")
    if not header:
        return
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" not in tags and etag_for(instance) not in tags:
        raise PreconditionFailed()


def ensure_in_scope(user: Any, instance: models.Model) -> None:
    """After a write, inside its transaction: the record must still be visible to its writer, so no
    request can write where it cannot read. Raising rolls the write back."""
    model = type(instance)
    if not model._default_manager.visible_to(user).filter(pk=instance.pk).exists():
        raise PermissionDenied(OUT_OF_SCOPE)


class ScopedViewSetMixin:
    """Scope every queryset to the caller; lock the row for writes."""

    write_roles: frozenset[str] = frozenset({Role.CLERK})
    action_roles: dict[str, set[str]] = {}
    # Serializer used for input when it differs from the output one.
    write_serializer_class: Any = None

    def get_queryset(self) -> models.QuerySet:
        queryset = super().get_queryset()  # type: ignore[misc]
        return queryset.visible_to(self.request.user)  # type: ignore[attr-defined]

    def get_write_serializer(self, *args: Any, **kwargs: Any) -> Any:
        cls = self.write_serializer_class or self.get_serializer_class()  # type: ignore[attr-defined]
        kwargs.setdefault("context", self.get_serializer_context())  # type: ignore[attr-defined]
        return cls(*args, **kwargs)

    def get_object_for_update(self) -> Any:
        """The object, re-read with a row lock inside the caller's transaction."""
        self.queryset_for_update = True
        return self.get_object()  # type: ignore[attr-defined]

    def filter_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        queryset = super().filter_queryset(queryset)  # type: ignore[misc]
        if getattr(self, "queryset_for_update", False):
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    def respond(self, instance: Any, status_code: int = status.HTTP_200_OK) -> Response:
        serializer = self.get_serializer(instance)  # type: ignore[attr-defined]
        response = Response(serializer.data, status=status_code)
        if hasattr(instance, "version"):
            response["ETag"] = etag_for(instance)
        return response


class HistoryMixin:
    """`GET .../{id}/history/`: the record's change entries, newest first (scoped like the record)."""

    @extend_schema(responses=ChangeEntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=None)
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        entries = ChangeEntry.objects.filter(
            model=instance._meta.label_lower, object_id=str(instance.pk)
        ).order_by("-id")
        page = self.paginate_queryset(entries)  # type: ignore[attr-defined]
        return self.get_paginated_response(ChangeEntrySerializer(page, many=True).data)  # type: ignore[attr-defined]


class TrackerReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond(self.get_object())


class TrackerModelViewSet(
    ScopedViewSetMixin,
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Create / update / delete call `perform_create`, `perform_update`, `perform_destroy`, which
    subclasses implement by calling exactly one service. The defaults suit plain reference records:
    validate the model (full_clean) and save, which writes the change entry."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_write_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            instance = self.perform_create(serializer)
            ensure_in_scope(request.user, instance)
        return self.respond(instance, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        with transaction.atomic():
            instance = self.get_object_for_update()
            check_if_match(request, instance)
            serializer = self.get_write_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            instance = self.perform_update(instance, serializer)
            ensure_in_scope(request.user, instance)
        return self.respond(instance)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            instance = self.get_object_for_update()
            check_if_match(request, instance)
            self.perform_destroy(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- defaults, for records with no rules beyond their fields -------------------------------------
    def perform_create(self, serializer: Any) -> Any:
        instance = serializer.Meta.model(**serializer.validated_data)
        instance.full_clean()
        instance.save()
        return instance

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        instance.full_clean()
        instance.save()
        return instance

    def perform_destroy(self, instance: Any) -> None:
        instance.delete()
